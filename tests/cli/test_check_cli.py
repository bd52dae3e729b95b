"""`edgedeploy check` through the CLI: exit codes, --json schema, one-line errors for bad input."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgedeploy.errors import ExitCode

REQUIRED_OP_KEYS = {
    "index",
    "op",
    "verdict",
    "reason",
    "detail",
    "caused_by",
    "version",
    "inputs",
    "outputs",
}
REQUIRED_SUMMARY_KEYS = {
    "tpu_ops",
    "cpu_ops",
    "risky_ops",
    "total_ops",
    "tpu_mac_share",
    "param_bytes_tpu",
    "on_chip_cache_bytes",
    "params_stream",
}


def _json(result):
    assert result.err == "" or "note:" in result.err, result
    return json.loads(result.out)


def test_fully_mapped_model_exits_0_with_the_documented_schema(cli, edgetpu_models):
    result = cli("check", "--json", edgetpu_models / "mobilenet_v1_0.25_128_quant.tflite")
    assert result.code == ExitCode.OK, result
    data = _json(result)
    assert data["kind"] == "tflite" and data["exit_code"] == 0
    assert REQUIRED_SUMMARY_KEYS <= set(data["summary"])
    assert data["summary"]["tpu_ops"] == 31 and data["summary"]["cpu_ops"] == 0
    assert all(REQUIRED_OP_KEYS <= set(op) for op in data["ops"]) and len(data["ops"]) == 31
    assert isinstance(data["findings"], list)


def test_fallback_exits_with_the_ops_on_cpu_code(cli, edgetpu_models):
    result = cli("check", edgetpu_models / "deeplabv3_mnv2_dm05_pascal_quant.tflite")
    assert result.code == ExitCode.OPS_ON_CPU, result
    assert "cut at op 64 (RESIZE_BILINEAR" in result.out
    assert "downstream-of-cpu-op (op 64)" in result.out  # only non-TPU ops are listed by default
    listed = cli("check", "--all-ops", edgetpu_models / "deeplabv3_mnv2_dm05_pascal_quant.tflite")
    assert "DEPTHWISE_CONV_2D" in listed.out


def test_compiled_model_through_the_cli(cli, edgetpu_models):
    data = _json(
        cli("check", "--json", edgetpu_models / "deeplabv3_mnv2_dm05_pascal_quant_edgetpu.tflite")
    )
    assert data["kind"] == "compiled" and data["details"]["prediction_agrees"] is True
    assert data["summary"]["on_chip_used_bytes"] > 0 and data["summary"]["off_chip_bytes"] == 0
    assert data["exit_code"] == ExitCode.OPS_ON_CPU


@pytest.mark.parametrize(
    "name,code",
    [
        ("jveitchmichaelis_edgetpu-yolo__export_md__yolov5s-224_sa_c16.txt", ExitCode.OPS_ON_CPU),
        ("system-software-lab_nrf20__mnist7_edgetpu_c15.log", ExitCode.OK),
        ("google-coral_edgetpu_829__dynamic_tensors_fail_c16.txt", ExitCode.COMPILER_FAILED),
        ("google-coral_edgetpu_222__model_not_quantized_c14.txt", ExitCode.COMPILER_FAILED),
    ],
)
def test_compiler_outputs_become_reports(cli, compiler_logs, name, code):
    result = cli("check", "--json", compiler_logs / name)
    assert result.code == code, result
    data = _json(result)
    assert data["kind"] == "compiler-log"
    parsed = data["details"]["compiler_output"]
    if parsed["tpu_ops"] is not None:
        assert data["summary"]["tpu_ops"] == parsed["tpu_ops"]


def test_every_compiler_log_gives_a_report_not_an_exception(cli, compiler_logs):
    for path in sorted(compiler_logs.glob("*_c1*.*")):
        result = cli("check", "--json", path)
        assert result.code in (ExitCode.OK, ExitCode.OPS_ON_CPU, ExitCode.COMPILER_FAILED), result
        assert _json(result)["verdict"]


def _bad_inputs(tmp_path, edgetpu_models, compiler_logs):
    real = (edgetpu_models / "mobilenet_v1_0.25_128_quant.tflite").read_bytes()
    rng = random.Random(7)
    files = {
        "empty.tflite": b"",
        "truncated.tflite": real[: len(real) // 3],
        "random.tflite": bytes(rng.randrange(256) for _ in range(5000)),
        "empty.onnx": b"",
        "random.onnx": bytes(rng.randrange(256) for _ in range(5000)),
        "notes.txt": (compiler_logs / "INDEX.md").read_bytes(),
        "binary.bin": bytes(rng.randrange(256) for _ in range(300)),
    }
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    return [tmp_path / name for name in files] + [tmp_path / "missing.tflite", tmp_path]


def test_bad_input_is_one_line_and_the_unreadable_code(
    cli, tmp_path, edgetpu_models, compiler_logs
):
    for path in _bad_inputs(tmp_path, edgetpu_models, compiler_logs):
        result = cli("check", path)
        assert result.code == ExitCode.UNREADABLE_INPUT, (path.name, result)
        assert result.out == "" and "Traceback" not in result.err, path.name
        assert result.err.count("error:") == 1 and str(path) in result.err.replace("\n", ""), (
            path.name
        )


def test_bad_option_values_are_usage_errors(cli, edgetpu_models):
    model = edgetpu_models / "split_concat.tflite"
    assert cli("check", "--compiler-version", "12", model).code == ExitCode.USAGE
    assert cli("check", "--min-runtime", "99", model).code == ExitCode.USAGE


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_cli_on_mutated_models_never_shows_a_traceback(cli, tmp_path, edgetpu_models, data):
    sources = sorted(edgetpu_models.glob("*.tflite"))
    original = bytearray(data.draw(st.sampled_from(sources)).read_bytes())
    for _ in range(data.draw(st.integers(1, 12))):
        at = data.draw(st.integers(0, min(len(original) - 1, 4096)))
        original[at] = data.draw(st.integers(0, 255))
    path = tmp_path / "mutated.tflite"
    path.write_bytes(bytes(original))
    result = cli("check", "--json", path)
    assert result.code in (ExitCode.OK, ExitCode.OPS_ON_CPU, ExitCode.UNREADABLE_INPUT), result
    assert "Traceback" not in result.err and "unexpected failure" not in result.err
    if result.code != ExitCode.UNREADABLE_INPUT:
        json.loads(result.out)
