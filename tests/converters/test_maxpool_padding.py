"""A padded MaxPool after a ReLU gets an explicit zero Pad (same outputs); any other input keeps its pads."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

from edgedeploy.converters.maxpool_padding import rewrite_graph


def _pool_model(producer: str):
    nodes = [
        helper.make_node(producer, ["x"], ["y"]),
        helper.make_node(
            "MaxPool", ["y"], ["z"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]
        ),
    ]
    graph = helper.make_graph(
        nodes,
        "pool",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 8, 8])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 2, 4, 4])],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


def _run(model, x):
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


def test_a_pool_after_relu_is_padded_with_zeros_and_answers_the_same():
    model = _pool_model("Relu")
    x = np.random.default_rng(0).standard_normal((1, 2, 8, 8)).astype(np.float32)
    before = _run(model, x)
    assert rewrite_graph(model) == 1
    onnx.checker.check_model(model)
    assert [n.op_type for n in model.graph.node] == ["Relu", "Pad", "MaxPool"]
    pool = model.graph.node[2]
    assert list(next(a for a in pool.attribute if a.name == "pads").ints) == [0, 0, 0, 0]
    np.testing.assert_array_equal(_run(model, x), before)


def test_a_pool_whose_input_may_be_negative_keeps_its_pads():
    model = _pool_model("Tanh")
    assert rewrite_graph(model) == 0
    assert [n.op_type for n in model.graph.node] == ["Tanh", "MaxPool"]
