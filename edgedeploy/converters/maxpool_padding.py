"""A padded MaxPool whose input cannot be negative gets its padding as an explicit zero Pad.

onnx2tf turns a MaxPool with ONNX pads TensorFlow cannot express (timm's resnet stem: k3 s2 p1) into
``tf.pad`` with the dtype's minimum (-3.4e38) then a VALID pool. Int8 MAX_POOL_2D shares one scale
between input and output, so the calibrated range becomes [-3.4e38, max]: a scale of ~1e36, every
activation after it quantized to zero, and an ADD whose scale ratio XNNPACK refuses ("failed to create
XNNPACK runtime") and LiteRT's own kernel aborts on. When the pool's input comes from a ReLU (or a Clip
with min >= 0) padding with 0 gives the same maximum, and 0 is already in the range: same math, sane int8.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgedeploy.onnx_reader import load_onnx

NONNEGATIVE_PRODUCERS = {"Relu", "Sigmoid"}


def _nonnegative(producer, initializers: dict[str, np.ndarray]) -> bool:
    if producer is None:
        return False
    if producer.op_type in NONNEGATIVE_PRODUCERS:
        return True
    if producer.op_type != "Clip":
        return False
    low = next((a.f for a in producer.attribute if a.name == "min"), None)
    if len(producer.input) > 1 and producer.input[1] in initializers:
        low = float(initializers[producer.input[1]].reshape(-1)[0])
    return low is not None and low >= 0


def _attribute(node, name: str, default):
    from onnx import helper

    found = next((a for a in node.attribute if a.name == name), None)
    return helper.get_attribute_value(found) if found is not None else default


def rewrite_graph(model) -> int:
    """Rewrite in place; returns how many MaxPools got an explicit zero Pad."""
    from onnx import helper, numpy_helper

    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    if opset < 11:  # Pad takes its pads as an input from opset 11 on
        return 0
    graph = model.graph
    initializers = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    producers = {out: node for node in graph.node for out in node.output}
    nodes, rewritten = [], 0
    for node in graph.node:
        pads = list(_attribute(node, "pads", []))
        eligible = (
            node.op_type == "MaxPool"
            and any(pads)
            and len(pads) == 4
            and _attribute(node, "auto_pad", b"NOTSET") in (b"NOTSET", "NOTSET")
            and not _attribute(node, "ceil_mode", 0)
            and _nonnegative(producers.get(node.input[0]), initializers)
        )
        if not eligible:
            nodes.append(node)
            continue
        rewritten += 1
        top, left, bottom, right = pads
        pads_name = f"edgedeploy_maxpool_pads_{rewritten}"
        padded = f"edgedeploy_maxpool_padded_{rewritten}"
        graph.initializer.append(
            numpy_helper.from_array(
                np.array([0, 0, top, left, 0, 0, bottom, right], dtype=np.int64), pads_name
            )
        )
        nodes.append(
            helper.make_node(
                "Pad", [node.input[0], pads_name], [padded], name=f"{node.name}_zero_pad"
            )
        )
        node.input[0] = padded
        for attribute in node.attribute:
            if attribute.name == "pads":
                del attribute.ints[:]
                attribute.ints.extend([0, 0, 0, 0])
        nodes.append(node)
    if rewritten:
        del graph.node[:]
        graph.node.extend(nodes)
    return rewritten


def pad_maxpools_in_place(path: Path) -> int:
    import onnx

    model = load_onnx(path)
    rewritten = rewrite_graph(model)
    if rewritten:
        onnx.save(model, str(path))
    return rewritten
