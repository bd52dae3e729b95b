"""The ONNX pre-conversion lint on graphs built with onnx.helper."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgedeploy.errors import ExitCode, InputError
from edgedeploy.targets.edgetpu.check import check_model


def _conv(name, inp, out, cin, cout, k):
    weight = numpy_helper.from_array(np.ones((cout, cin, k, k), np.float32), f"{name}_w")
    node = helper.make_node(
        "Conv", [inp, weight.name], [out], name=name, kernel_shape=[k, k], pads=[k // 2] * 4
    )
    return node, weight


def _save(tmp_path, nodes, inits, batch="N", name="m.onnx"):
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 8, 16, 16])],
        [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, None)],
        initializer=inits,
    )
    path = tmp_path / name
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def _mobilenet_v3_block(tmp_path, batch="N"):
    c1, w1 = _conv("c1", "x", "a", 8, 8, 5)
    nodes = [
        c1,
        helper.make_node("HardSwish", ["a"], ["h"]),
        helper.make_node("GlobalAveragePool", ["h"], ["p"]),
    ]
    c2, w2 = _conv("c2", "p", "q", 8, 4, 1)
    c3, w3 = _conv("c3", "r", "s", 4, 8, 1)
    nodes += [
        c2,
        helper.make_node("Relu", ["q"], ["r"]),
        c3,
        helper.make_node("HardSigmoid", ["s"], ["g"]),
        helper.make_node("Mul", ["h", "g"], ["y"]),
    ]
    return _save(tmp_path, nodes, [w1, w2, w3], batch)


def test_lint_finds_hard_swish_se_5x5_and_dynamic_batch(tmp_path):
    report = check_model(_mobilenet_v3_block(tmp_path))
    kinds = {f.kind: f for f in report.findings}
    assert report.kind == "onnx"
    assert kinds["hard-swish"].ops == [1] and kinds["hard-swish"].severity == "error"
    assert "--fix-activations" in kinds["hard-swish"].fix
    # HardSwish is node 1 of 8; every later node reads its output, directly or not
    assert kinds["hard-swish"].consequence.endswith("7 of 8 nodes depend on it")
    assert kinds["hard-sigmoid"].ops == [6]
    assert kinds["squeeze-excite"].ops == [7] and kinds["squeeze-excite"].severity == "warning"
    assert kinds["kernel-5x5"].ops == [0] and kinds["kernel-5x5"].severity == "info"
    # only the batch is dynamic: convert fixes it to 1, so check says so as a note, not an error
    assert kinds["dynamic-batch"].severity == "info" and "dynamic-shape" not in kinds
    assert not report.summary.compile_fails
    assert report.exit_code == ExitCode.OPS_ON_CPU  # the hard-swish still falls back
    assert report.details["opset"] == 17


def _relu_model(tmp_path, dims):
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    )
    path = tmp_path / "relu.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def test_a_dynamic_batch_alone_is_a_note_and_exit_0(tmp_path):
    report = check_model(_relu_model(tmp_path, ["N", 3, 16, 16]))
    assert [f.kind for f in report.findings] == [
        "dynamic-batch"
    ] and report.exit_code == ExitCode.OK


def test_other_dynamic_dimensions_are_still_errors(tmp_path):
    report = check_model(_relu_model(tmp_path, [1, 3, "H", "W"]))
    assert [f.kind for f in report.findings] == ["dynamic-shape"] and report.summary.compile_fails
    assert report.exit_code == ExitCode.OPS_ON_CPU


def test_swish_forms(tmp_path):
    c1, w1 = _conv("c1", "x", "a", 8, 8, 3)
    nodes = [
        c1,
        helper.make_node("Sigmoid", ["a"], ["s"]),
        helper.make_node("Mul", ["a", "s"], ["b"]),
        helper.make_node("HardSigmoid", ["b"], ["h"]),
        helper.make_node("Mul", ["h", "b"], ["y"]),
    ]
    report = check_model(_save(tmp_path, nodes, [w1], batch=1))
    by_kind = {}
    for f in report.findings:
        by_kind.setdefault(f.kind, []).append(f)
    assert by_kind["swish"][0].ops == [2] and by_kind["swish"][0].severity == "info"
    assert any(f.ops == [4] and f.severity == "error" for f in by_kind["hard-swish"])


def test_batch_above_one_is_flagged(tmp_path):
    report = check_model(_mobilenet_v3_block(tmp_path, batch=4))
    assert any(f.kind == "batch" for f in report.findings)


def test_clean_static_graph_passes(tmp_path):
    c1, w1 = _conv("c1", "x", "a", 8, 8, 3)
    path = _save(tmp_path, [c1, helper.make_node("Relu", ["a"], ["y"])], [w1], batch=1)
    report = check_model(path)
    assert report.findings == [] and report.exit_code == ExitCode.OK
    assert "no Edge TPU problem found" in report.verdict


@pytest.mark.parametrize("content", [b"", b"\x08\x07garbage" * 10, bytes(range(256)) * 4])
def test_unreadable_onnx_is_input_error(tmp_path, content):
    path = tmp_path / "bad.onnx"
    path.write_bytes(content)
    with pytest.raises(InputError):
        check_model(path)


def test_truncated_onnx_is_input_error(tmp_path):
    data = _mobilenet_v3_block(tmp_path).read_bytes()
    path = tmp_path / "cut.onnx"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError):
        check_model(path)
