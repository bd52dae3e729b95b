"""Detector models for the --outputs / post-processing tests: torchvision's SSDLite (random weights)
with its decoding and NMS in the graph, and a YOLO-style ONNX head built node by node."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np


def ssdlite_onnx(path: Path, size: int = 320) -> Path:
    """torchvision's ssdlite320_mobilenet_v3_large, random weights, exported from a normalized NCHW
    batch (its transform left out) through head, anchors, box decoding and NMS."""
    import torch
    import torchvision
    from torchvision.models.detection.image_list import ImageList

    torch.manual_seed(0)
    ssd = torchvision.models.detection.ssdlite320_mobilenet_v3_large(
        weights=None, weights_backbone=None
    ).eval()

    class Detector(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.ssd = ssd

        def forward(self, x):
            features = list(self.ssd.backbone(x).values())
            head = self.ssd.head(features)
            anchors = self.ssd.anchor_generator(ImageList(x, [(size, size)]), features)
            found = self.ssd.postprocess_detections(head, anchors, [(size, size)])[0]
            return found["boxes"], found["scores"], found["labels"]

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Detector().eval(),
            torch.rand(1, 3, size, size),
            str(path),
            opset_version=17,
            dynamo=False,
        )
    return path


def yolo_head_onnx(path: Path, size: int = 64) -> Path:
    """A YOLO-style head: conv backbone, one 1x1 conv predicting (x, y, w, h, obj, 3 classes) for 3
    anchors, then decoding as YOLO exports do it (sigmoid, grid offsets, exp * anchors, concat)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    cells, anchors, values = size // 8, 3, 8

    def weight(name, *shape):
        return numpy_helper.from_array(rng.normal(0, 0.2, shape).astype(np.float32), name)

    inits = [
        weight("w1", 16, 3, 3, 3), weight("w2", 32, 16, 3, 3), weight("w3", 32, 32, 3, 3),
        weight("w_head", anchors * values, 32, 1, 1),
        numpy_helper.from_array(np.array([1, anchors, values, cells, cells], np.int64), "shape5"),
        numpy_helper.from_array(
            np.stack(np.meshgrid(np.arange(cells), np.arange(cells)), -1)
            .reshape(1, 1, cells, cells, 2).astype(np.float32), "grid"),
        numpy_helper.from_array(rng.uniform(10, 40, (1, anchors, 1, 1, 2)).astype(np.float32), "wh_anchor"),
        numpy_helper.from_array(np.array(8.0, np.float32), "stride"),
        numpy_helper.from_array(np.array([2, 2, 4], np.int64), "split"),
        numpy_helper.from_array(np.array([1, -1, values], np.int64), "flat"),
    ]  # fmt: skip
    nodes = [
        helper.make_node("Conv", ["images", "w1"], ["c1"], strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("Conv", ["r2", "w3"], ["c3"], strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c3"], ["r3"]),
        helper.make_node("Conv", ["r3", "w_head"], ["head"]),
        helper.make_node("Reshape", ["head", "shape5"], ["h5"]),
        helper.make_node("Transpose", ["h5"], ["p"], perm=[0, 1, 3, 4, 2]),
        helper.make_node("Split", ["p", "split"], ["xy", "wh", "conf"], axis=4),
        helper.make_node("Sigmoid", ["xy"], ["xy_s"]),
        helper.make_node("Add", ["xy_s", "grid"], ["xy_g"]),
        helper.make_node("Mul", ["xy_g", "stride"], ["xy_px"]),
        helper.make_node("Exp", ["wh"], ["wh_e"]),
        helper.make_node("Mul", ["wh_e", "wh_anchor"], ["wh_px"]),
        helper.make_node("Sigmoid", ["conf"], ["conf_s"]),
        helper.make_node("Concat", ["xy_px", "wh_px", "conf_s"], ["decoded"], axis=4),
        helper.make_node("Reshape", ["decoded", "flat"], ["detections"]),
    ]
    graph = helper.make_graph(
        nodes,
        "yolo_head",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("detections", TensorProto.FLOAT, [1, None, values])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path
