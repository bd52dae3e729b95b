"""Every command's --json, and every JSON file edgedeploy writes, starts with one envelope:
schema_version, command, edgedeploy_version, then the command's payload (edgedeploy/docs/json-output.md)."""

from __future__ import annotations

import json

import pytest
from bench_models import QUICK_BENCH, float_add_model

from edgedeploy import __version__
from edgedeploy.errors import ExitCode

HEADER = ["schema_version", "command", "edgedeploy_version"]
QUICK = (*QUICK_BENCH, "--threads", "1")


def _enveloped(text: str, command: str) -> dict:
    data = json.loads(text)
    assert list(data)[:3] == HEADER, list(data)[:5]
    assert data["command"] == command and data["edgedeploy_version"] == __version__
    assert isinstance(data["schema_version"], int) and data["schema_version"] >= 1
    return data


def test_check_and_targets(cli, edgetpu_models):
    check = cli("check", "--json", edgetpu_models / "mobilenet_v1_0.25_128_quant.tflite")
    assert check.code == ExitCode.OK
    assert _enveloped(check.out, "check")["kind"] == "tflite"  # the payload follows the header
    assert "targets" in _enveloped(cli("targets", "--json").out, "targets")


def test_bench_output_and_saved_file(cli, tmp_path):
    model = float_add_model(tmp_path / "add.tflite")
    saved = tmp_path / "base.json"
    result = cli("bench", "--json", "--save", saved, *QUICK, model)
    assert result.code == ExitCode.OK, result
    assert _enveloped(result.out, "bench")["results"][0]["status"] == "ok"
    _enveloped(saved.read_text(), "bench")
    # A saved envelope reads back as a baseline; a tolerance of 1000x (timing noise on a shared
    # machine is far below it) pins the verdict to "no regression".
    again = cli("bench", "--compare", saved, "--tolerance", "1000", *QUICK, model)
    assert again.code == ExitCode.OK, again


def test_compile_output_and_report_file(
    cli, fake_compiler, compiler_logs, edgetpu_models, tmp_path
):
    model = edgetpu_models / "mobilenet_v1_0.25_128_quant.tflite"
    fake_compiler.use(
        stdout=next(compiler_logs.glob("*yolov5s-224_sa_c16.txt")),
        compiled=edgetpu_models / "mobilenet_v1_0.25_128_quant_edgetpu.tflite",
    )
    result = cli("compile", "--json", "-o", tmp_path / "out", model)
    # the replayed compiler output (yolov5s, 16 compiler-made segments) leaves ops on the CPU: exit 3
    assert result.code == ExitCode.OPS_ON_CPU, result
    assert _enveloped(result.out, "compile")["status"] == "compiled"
    assert _enveloped((tmp_path / "out" / "report.json").read_text(), "compile")["compiler_command"]


@pytest.mark.slow
def test_models_listing(cli):
    assert _enveloped(cli("models", "--json", "--resolution", "96").out, "models")


def test_the_docs_help_points_at_are_in_the_installed_package(cli):
    from importlib import resources

    text = " ".join(cli("check", "--help").out.replace("│", " ").split())
    assert "docs/check-schema.md in the installed edgedeploy package" in text
    docs = resources.files("edgedeploy").joinpath("docs")
    assert docs.joinpath("check-schema.md").is_file() and docs.joinpath("json-output.md").is_file()
