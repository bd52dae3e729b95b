"""The compile stage as the convert pipeline uses it, the locate order, and prediction vs compiler."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from compiler_double import install_script

from edgedeploy.errors import ExitCode, ToolMissingError, UsageError
from edgedeploy.targets.edgetpu.compiler.compare import PredictedOp, compare
from edgedeploy.targets.edgetpu.compiler.locate import COMPILER_ENV, locate_compiler
from edgedeploy.targets.edgetpu.compiler.log import parse_compiler_output
from edgedeploy.targets.edgetpu.compiler.options import CompileOptions
from edgedeploy.targets.edgetpu.convert import COMPILE_STAGE, EdgeTpuConvertStep, options_from
from edgedeploy.targets.registry import get_target

MODEL = "mobilenet_v1_0.25_128_quant"


def _int8(edgetpu_models: Path) -> Path:
    return edgetpu_models / f"{MODEL}.tflite"


def test_the_step_is_what_the_registry_gives_convert():
    step = get_target("coral", "convert_step").convert_step()
    assert (
        isinstance(step, EdgeTpuConvertStep)
        and step.compile_stage_name == COMPILE_STAGE == "edgetpu-compile"
    )


def test_step_compiles_and_returns_the_report(
    fake_compiler, compiler_logs, edgetpu_models, tmp_path
):
    fake_compiler.use(
        stdout=next(compiler_logs.glob("*yolov5s-224_sa_c16.txt")),
        compiled=edgetpu_models / f"{MODEL}_edgetpu.tflite",
    )
    outcome = EdgeTpuConvertStep().compile(
        _int8(edgetpu_models), tmp_path / "work", {"multiple_subgraphs": True, "min_runtime": 13}
    )
    assert outcome.status == "compiled" and outcome.exit_code == ExitCode.OK
    assert outcome.data["model"] == f"{MODEL}_edgetpu.tflite"
    names = {p.name for p in outcome.files}
    assert {
        f"{MODEL}_edgetpu.tflite",
        f"{MODEL}_edgetpu.log",
        "edgetpu_compiler.stdout.txt",
    } <= names
    assert all(p.parent == (tmp_path / "work").resolve() and p.is_file() for p in outcome.files)
    report = outcome.data["report"]
    assert report["status"] == "compiled" and report["exit_code"] == ExitCode.OPS_ON_CPU
    assert fake_compiler.compile_calls()[0][3:6] == ["-m", "13", "-a"]
    assert any("streamed from the host" in n for n in outcome.notes)


def test_step_failure_keeps_the_logs_and_no_model(
    fake_compiler, compiler_logs, edgetpu_models, tmp_path
):
    fake_compiler.use(stdout=next(compiler_logs.glob("*dynamic_tensors_fail_c16.txt")))
    outcome = EdgeTpuConvertStep().compile(_int8(edgetpu_models), tmp_path / "work", {})
    assert outcome.status == "failed" and outcome.exit_code == ExitCode.COMPILER_FAILED
    assert "static-sized tensors" in outcome.data["reason"]
    assert outcome.data["report"]["failure"]["code"] == "dynamic-tensors"
    assert not [p for p in outcome.files if p.suffix == ".tflite"]
    assert not list((tmp_path / "work").glob("*_edgetpu.tflite"))
    assert (tmp_path / "work" / "edgetpu_compiler.stdout.txt") in outcome.files


def test_step_without_a_compiler(edgetpu_models, tmp_path, no_docker, monkeypatch):
    monkeypatch.setenv("PATH", str(no_docker))
    monkeypatch.delenv(COMPILER_ENV, raising=False)
    outcome = EdgeTpuConvertStep().compile(_int8(edgetpu_models), tmp_path / "work", {})
    assert outcome.status == "not-run" and outcome.exit_code == ExitCode.TOOL_MISSING
    assert (
        "edgetpu-compiler" in outcome.data["how_to_get_it"]
        and "docker build" in outcome.data["how_to_get_it"]
    )


def test_step_skipped_with_no_compile(edgetpu_models, tmp_path):
    outcome = EdgeTpuConvertStep().compile(
        _int8(edgetpu_models), tmp_path / "work", {}, enabled=False
    )
    assert outcome.status == "skipped" and outcome.exit_code == ExitCode.OK and not outcome.files


def test_unknown_compiler_options_are_refused():
    with pytest.raises(UsageError, match="unknown compiler option"):
        options_from({"segmnets": 2})
    assert options_from({"intermediate_tensors": ["a", "b"]}).intermediate_tensors == ("a", "b")


def test_locate_order(tmp_path, monkeypatch, no_docker):
    first = install_script(tmp_path / "a", "edgetpu_compiler", "print('a')\n")
    second = install_script(tmp_path / "b", "my_compiler", "print('b')\n")
    third = install_script(tmp_path / "c", "edgetpu_compiler", "print('c')\n")
    monkeypatch.setenv("PATH", os.pathsep.join([str(third.parent), str(no_docker)]))
    env = {COMPILER_ENV: str(second)}
    assert locate_compiler(str(first), env).executable == first.resolve()
    assert locate_compiler(None, env).found_by == COMPILER_ENV
    assert locate_compiler(None, {}).executable == third
    with pytest.raises(
        ToolMissingError, match="no such file"
    ):  # an explicit choice never falls through
        locate_compiler(None, {COMPILER_ENV: str(tmp_path / "gone")})


def test_comparison_lists_every_disagreeing_operator(compiler_logs):
    compiler = parse_compiler_output(next(compiler_logs.glob("*yolov3-tiny_c15.txt")).read_text())
    predicted = (
        [PredictedOp("CONV_2D", True)] * 13
        + [PredictedOp("LEAKY_RELU", False, "cpu: unsupported-op")] * 11
        + [PredictedOp("MAX_POOL_2D", True)] * 6
        + [PredictedOp("QUANTIZE", True)] * 4
        + [PredictedOp("RESIZE_NEAREST_NEIGHBOR", True)]
        + [PredictedOp("CONCATENATION", True)]
    )
    comparison = compare(predicted, compiler)
    rows = {r.op: r for r in comparison.rows}
    assert rows["LEAKY_RELU"].agrees  # 11 on the CPU on both sides
    assert (rows["CONV_2D"].compiler_tpu, rows["CONV_2D"].compiler_cpu) == (1, 12)
    assert {r.op for r in comparison.disagreements} == {
        "CONV_2D",
        "MAX_POOL_2D",
        "QUANTIZE",
        "RESIZE_NEAREST_NEIGHBOR",
        "CONCATENATION",
    }
    resize = rows["RESIZE_NEAREST_NEIGHBOR"].explain()
    assert "predicted 1 on the Edge TPU" in resize and "Operation version not supported" in resize


def test_no_comparison_without_an_operator_table(compiler_logs):
    compiler = parse_compiler_output(
        next(compiler_logs.glob("*partial_no_s_flag_c16.txt")).read_text()
    )
    comparison = compare([PredictedOp("CONV_2D", True)], compiler)
    assert comparison.unavailable and comparison.rows == []


def test_comparison_agrees_when_the_prediction_matches(compiler_logs):
    compiler = parse_compiler_output(
        next(compiler_logs.glob("*yolov5s-224_sa_c16.txt")).read_text()
    )
    predicted = [
        PredictedOp(row.op, row.mapped, "" if row.mapped else "cpu-op")
        for row in compiler.operators
        for _ in range(row.count)
    ]
    comparison = compare(predicted, compiler)
    assert comparison.rows and comparison.disagreements == []


def test_compile_sets_prediction_beside_the_compiler(
    fake_compiler, compiler_logs, edgetpu_models, tmp_path
):
    """The real predictor on a real model vs a real compiler table: every op type whose counts differ
    is listed (the model and the recorded table are not a pair, so there are disagreements)."""
    from edgedeploy.targets.edgetpu.check import check_model
    from edgedeploy.targets.edgetpu.compiler.compile import compile_models

    recorded = next(compiler_logs.glob("*yolov3-tiny_c15.txt"))
    fake_compiler.use(stdout=recorded)
    model = edgetpu_models / "deeplabv3_mnv2_dm05_pascal_quant.tflite"
    report = compile_models(
        [model], tmp_path / "out", CompileOptions(min_runtime=13), predict=check_model
    )
    comparison = report.models[0].comparison
    assert comparison is not None and comparison.unavailable is None
    ours = check_model(model, compiler_version=15, min_runtime=13).op_counts()
    theirs = parse_compiler_output(recorded.read_text()).op_counts()
    zero = {"tpu": 0, "cpu": 0}
    differing = {op for op in set(ours) | set(theirs) if ours.get(op, zero) != theirs.get(op, zero)}
    assert differing and {r.op for r in comparison.disagreements} == differing
    listed = report.to_dict()["models"][0]["prediction_vs_compiler"]["disagreements"]
    assert set(listed) == differing
