"""onnx2tf's three onnx-simplifier passes, run in one child process: the same file as three runs of the
``onnxsim`` command (what onnx2tf itself runs), and models onnx2tf simplifies again are left to it."""

import shutil
import subprocess
import sys

import pytest
from tiny_models import export_onnx, tiny_cnn

from edgedeploy.converters.onnx_simplify import PASSES, needs_onnx2tf, simplify_in_place


def test_one_child_makes_the_file_three_onnxsim_commands_make(tmp_path):
    original = export_onnx(tiny_cnn(hard_swish=True), tmp_path / "model.onnx")
    theirs, ours = tmp_path / "theirs.onnx", tmp_path / "ours.onnx"
    shutil.copyfile(original, theirs)
    shutil.copyfile(original, ours)
    # onnx2tf's call is the `onnxsim` console script; its module entry point is the same code and
    # needs no PATH (the test runs with this interpreter, activated venv or not).
    command = [sys.executable, "-m", "onnxsim", str(theirs), str(theirs)]
    for _ in range(PASSES):
        subprocess.check_output(command, stderr=subprocess.PIPE)
    assert simplify_in_place(ours) is True
    assert ours.read_bytes() == theirs.read_bytes()
    assert (
        ours.read_bytes() != original.read_bytes()
    )  # it did simplify (BatchNorm folded into the conv)
    assert not list(tmp_path.glob("*.partial"))


def test_a_file_onnxsim_cannot_read_is_left_as_it_was(tmp_path):
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not an onnx model")
    assert simplify_in_place(broken) is True  # it ran (and failed): onnx2tf must not try again
    assert broken.read_bytes() == b"not an onnx model"


def test_a_child_that_cannot_start_leaves_the_passes_to_onnx2tf(tmp_path, monkeypatch):
    import sys

    model = export_onnx(tiny_cnn(), tmp_path / "model.onnx")
    before = model.read_bytes()
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-such-python"))
    assert simplify_in_place(model) is False
    monkeypatch.setattr(sys, "executable", "/bin/false")  # starts, exits 1 before any pass
    assert simplify_in_place(model) is False
    assert model.read_bytes() == before


@pytest.mark.parametrize("op, expected", [("Einsum", True), ("OneHot", True), ("Relu", False)])
def test_models_onnx2tf_simplifies_again_are_left_to_it(tmp_path, op, expected):
    import onnx
    from onnx import TensorProto, helper

    inputs = {"Einsum": ["x", "x"], "OneHot": ["x", "x", "x"], "Relu": ["x"]}[op]
    attributes = {"equation": "ij,ij->ij"} if op == "Einsum" else {}
    graph = helper.make_graph(
        [helper.make_node(op, inputs, ["y"], **attributes)],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    )
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph), str(path))
    assert needs_onnx2tf(path) is expected
