"""Real MobileNet conversions (slow: about a minute each), the acceptance of convert and of the
Edge TPU prediction on what convert produces."""

import json
from pathlib import Path

import pytest

from edgedeploy.errors import ExitCode
from edgedeploy.tflite import read_model

pytestmark = pytest.mark.slow

ALLOWED_V2_OPS = {
    "CONV_2D",
    "DEPTHWISE_CONV_2D",
    "ADD",
    "PAD",
    "MEAN",
    "AVERAGE_POOL_2D",
    "FULLY_CONNECTED",
    "RESHAPE",
    "SOFTMAX",
}


def report_of(out: Path) -> dict:
    return json.loads((out / "report.json").read_text())


def int8_path(out: Path) -> Path:
    return out / report_of(out)["outputs"]["int8_tflite"]


def test_mobilenet_v2_224_is_a_lean_full_int8_model(convert_builtin):
    out = convert_builtin("mobilenet_v2")
    graph = read_model(int8_path(out))
    assert [t.dtype for t in graph.inputs + graph.outputs] == ["int8", "int8"]
    assert graph.inputs[0].shape == (1, 224, 224, 3)
    assert not [t.name for t in graph.tensors if t.dtype.startswith("float")]
    histogram = graph.op_histogram()
    assert "TRANSPOSE" not in histogram
    assert set(histogram) <= ALLOWED_V2_OPS, histogram
    assert (
        histogram["CONV_2D"] == 35 and histogram["DEPTHWISE_CONV_2D"] == 17
    )  # MobileNetV2's 52 convolutions


@pytest.mark.parametrize("name", ["mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large"])
def test_float_tflite_matches_pytorch_at_224(convert_builtin, name):
    fidelity = report_of(convert_builtin(name))["fidelity"]
    assert fidelity["measured"] and fidelity["images"] >= 1
    diff = fidelity["pytorch_vs_float_tflite_max_abs_diff"]
    assert diff < 1e-4
    # Random-init MobileNetV3 logits are small: hold the difference to the output's scale as well.
    assert diff < 1e-3 * fidelity["output_max_abs"]


def test_stock_mobilenet_v3_keeps_hard_swish_and_hard_sigmoid(convert_builtin):
    histogram = report_of(convert_builtin("mobilenet_v3_small"))["int8"]["op_histogram"]
    assert histogram.get("HARD_SWISH", 0) > 0 and histogram.get("RELU_0_TO_1", 0) > 0


def test_fix_activations_keeps_the_math_and_removes_unmapped_activations(convert_builtin):
    fixed = report_of(convert_builtin("mobilenet_v3_small", "--fix-activations"))
    stock = report_of(convert_builtin("mobilenet_v3_small"))
    assert (
        fixed["stages"][[s["name"] for s in fixed["stages"]].index("fix-activations")]["replaced"][
            "HardSwish"
        ]
        > 0
    )
    fidelity = fixed["fidelity"]
    # The original PyTorch model (with nn.Hardswish) against the float TFLite of the rewritten graph.
    assert fidelity["pytorch_vs_float_tflite_max_abs_diff"] < 1e-4
    assert fidelity["pytorch_vs_float_tflite_max_abs_diff"] < 1e-3 * fidelity["output_max_abs"]
    assert not fixed["int8"]["unmapped_activation_ops"]
    assert (
        "HARD_SWISH" not in fixed["int8"]["op_histogram"]
        and "RELU_0_TO_1" not in fixed["int8"]["op_histogram"]
    )
    assert fixed["int8"]["ops"] > stock["int8"]["ops"]  # one fused op became ADD + MUL + MUL


@pytest.mark.parametrize(
    "name", ["mobilenet_v2", "mobilenet_v3_small_minimal", "mobilenet_edgetpu"]
)
def test_edgetpu_friendly_builtins_are_predicted_fully_mapped(convert_builtin, name):
    prediction = report_of(convert_builtin(name))["edgetpu"]["prediction"]
    summary = prediction["summary"]
    assert summary["cpu_ops"] == 0 and summary["tpu_ops"] == summary["total_ops"] > 0, prediction[
        "verdict"
    ]
    assert summary["first_cut_op"] is None
    assert not [f for f in prediction["findings"] if f["kind"] in ("hard-swish", "squeeze-excite")]


def test_stock_mobilenet_v3_is_predicted_cut_at_its_first_hard_swish(convert_builtin):
    out = convert_builtin("mobilenet_v3_small")
    prediction = report_of(out)["edgetpu"]["prediction"]
    graph = read_model(int8_path(out))
    first_hard_swish = next(op.index for op in graph.ops if op.opcode == "HARD_SWISH")
    assert prediction["summary"]["first_cut_op"] == first_hard_swish
    assert prediction["summary"]["cpu_ops"] > prediction["summary"]["tpu_ops"]
    kinds = {f["kind"] for f in prediction["findings"]}
    assert {"hard-swish", "squeeze-excite"} <= kinds
    hard_swish = next(f for f in prediction["findings"] if f["kind"] == "hard-swish")
    assert (
        hard_swish["count"] == graph.op_histogram()["HARD_SWISH"]
        and "--fix-activations" in hard_swish["fix"]
    )


def test_fixed_mobilenet_v3_reports_no_unsupported_activation(convert_builtin):
    prediction = report_of(convert_builtin("mobilenet_v3_small", "--fix-activations"))["edgetpu"][
        "prediction"
    ]
    activations = [
        f for f in prediction["findings"] if f["kind"] in ("hard-swish", "swish", "hard-sigmoid")
    ]
    # The rewritten hard-swish is still recognised, as information: same math, every op supported.
    assert activations and all(f["severity"] == "info" for f in activations), activations
    assert not [op for op in prediction["ops"] if op["op"] in ("HARD_SWISH", "RELU_0_TO_1")]
    assert not [
        op
        for op in prediction["ops"]
        if op["verdict"] == "cpu" and op["reason"] == "unsupported-op"
    ]


def test_builtin_without_a_compiler_keeps_int8_and_prediction_and_exits_5(
    tmp_path, cli, no_docker, monkeypatch
):
    monkeypatch.setenv(
        "PATH", str(no_docker)
    )  # no edgetpu_compiler, and a Docker engine that does not answer
    monkeypatch.delenv("EDGEDEPLOY_EDGETPU_COMPILER", raising=False)
    out = tmp_path / "out"
    result = cli(
        "convert",
        "--target",
        "edgetpu",
        "mobilenet_v3_small_minimal",
        "--alpha",
        "0.25",
        "-r",
        "64",
        "-o",
        str(out),
    )
    assert result.code == ExitCode.TOOL_MISSING, result
    assert "no edge tpu compiler found" in result.out.lower() and "edgetpu-compiler" in result.out
    report = report_of(out)
    assert report["edgetpu"]["compile"]["status"] == "not-run"
    assert report["edgetpu"]["prediction"]["summary"]["cpu_ops"] == 0
    assert (out / report["outputs"]["int8_tflite"]).is_file() and not list(
        out.glob("*_edgetpu.tflite")
    )
