"""Optional pass (--raw-input): ONNX -> ONNX with the normalization moved inside the model, so that its input
is the camera's RGB pixels as they come.

Requires: an OnnxModel whose preprocessing has a per-channel mean and std. Ensures: the same model taking
pixels / 255 (in [0, 1]), with ``x * (1/std) + (-mean/std)`` (one Mul, one Add on per-channel constants) in
front of the original graph. The int8 conversion then gives its uint8 input the scale 1/255 and zero point
0, so the uint8 input value *is* the pixel: the host only resizes and crops, no float work on the device
side. The Mul and Add are ordinary int8 ops broadcasting a constant, which the Edge TPU maps.

The calibration and held-back images are re-expressed in the new input's units (exact pixel values
k/255); one calibration image gets one pixel 0 and one pixel 255, because a camera can deliver both and
the converter takes the input's range from what calibration saw: [0, 1] exactly is what makes the scale
1/255 and the zero point 0. A PyTorch source is wrapped the same way (normalization in front), so that
fidelity compares PyTorch, the new ONNX and the TFLite models on the same pixels.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from edgedeploy.converters.artifacts import OnnxModel, Preprocessing
from edgedeploy.converters.context import StageContext
from edgedeploy.errors import ConversionError
from edgedeploy.onnx_reader import load_onnx

NAME = "raw-input"
REQUIRES = OnnxModel
ENSURES = OnnxModel
PREFIX = "edgedeploy_raw_input"


def prepend_normalization(model, input_name: str, mean: np.ndarray, std: np.ndarray) -> None:
    """In place: the graph input keeps its name and now holds pixels / 255; its readers get (x - mean) / std."""
    from onnx import helper, numpy_helper

    graph = model.graph
    normalized = f"{PREFIX}_normalized"
    for node in graph.node:
        node.input[:] = [normalized if name == input_name else name for name in node.input]
    for output in graph.output:
        if output.name == input_name:
            raise ConversionError(f"--raw-input: the input {input_name!r} is also a graph output")
    shape = (1, mean.size, 1, 1)
    graph.initializer.extend(
        [
            numpy_helper.from_array(
                (1.0 / std).astype(np.float32).reshape(shape), f"{PREFIX}_scale"
            ),
            numpy_helper.from_array(
                (-mean / std).astype(np.float32).reshape(shape), f"{PREFIX}_bias"
            ),
        ]
    )
    front = [
        helper.make_node(
            "Mul", [input_name, f"{PREFIX}_scale"], [f"{PREFIX}_scaled"], name=f"{PREFIX}_mul"
        ),
        helper.make_node(
            "Add", [f"{PREFIX}_scaled", f"{PREFIX}_bias"], [normalized], name=f"{PREFIX}_add"
        ),
    ]
    nodes = front + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)


def as_pixels(batches: list[np.ndarray], prep: Preprocessing) -> list[np.ndarray]:
    """Normalized NHWC batches back to pixels / 255, rounded to the exact pixel values they came from."""
    mean, std = np.asarray(prep.mean, np.float32), np.asarray(prep.std, np.float32)
    return [
        (np.clip(np.round((b * std + mean) * 255), 0, 255) / 255).astype(np.float32)
        for b in batches
    ]


def run(model: OnnxModel, context: StageContext) -> OnnxModel:
    import onnx

    prep = model.preprocessing
    channels = model.input_shape[1]
    if len(prep.mean) != channels or len(prep.std) != channels:
        raise ConversionError(
            f"--raw-input: the preprocessing has {len(prep.mean)} channel means for a "
            f"{channels}-channel input"
        )
    proto = load_onnx(model.path)
    prepend_normalization(
        proto, model.input_name, np.asarray(prep.mean, np.float64), np.asarray(prep.std, np.float64)
    )
    path = model.path.with_name(model.path.stem + "_raw_input.onnx")
    onnx.save(proto, str(path))

    images = context.images
    calibration = as_pixels(images.calibration, prep)
    if calibration:
        calibration[0] = calibration[0].copy()
        calibration[0][0, 0, 0, :], calibration[0][0, 0, 1, :] = (
            0.0,
            1.0,
        )  # the full pixel range, 0 and 255
    context.images = dataclasses.replace(
        images, calibration=calibration, held_back=as_pixels(images.held_back, prep)
    )
    context.record(NAME, normalization_in_model={"mean": list(prep.mean), "std": list(prep.std)})
    pixels = dataclasses.replace(
        prep,
        mean=(0.0,) * channels,
        std=(1.0,) * channels,
        origin=f"--raw-input: pixels / 255 in; the model normalizes with {prep.origin}",
    )
    torch_model = model.torch_model
    if torch_model is not None:  # fidelity still compares PyTorch, now fed the same [0, 1] pixels
        torch_model = dataclasses.replace(torch_model, module=normalizing(torch_model.module, prep))
    return dataclasses.replace(model, path=path, preprocessing=pixels, torch_model=torch_model)


def normalizing(module, prep: Preprocessing):
    """``module`` taking pixels / 255 instead of normalized input: (x - mean) / std in front, as in the ONNX."""
    import torch

    class Normalizing(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = module
            self.register_buffer(
                "mean", torch.tensor(prep.mean, dtype=torch.float32).reshape(1, -1, 1, 1)
            )
            self.register_buffer(
                "std", torch.tensor(prep.std, dtype=torch.float32).reshape(1, -1, 1, 1)
            )

        def forward(self, x):
            return self.inner((x - self.mean) / self.std)

    return Normalizing().eval()
