"""Every command rendered at 80 columns (COLUMNS=80, output to a pipe or a file, as a user's narrow
terminal or a log gets it): names never broken mid-word, headers whole, commands to copy on one line, no ``<bool>`` in
help, and nothing wider than 80 columns except a command or fix kept whole on purpose."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from bench_models import QUICK_BENCH
from rich.console import Console

from edgedeploy.cli.app import app
from edgedeploy.errors import ExitCode
from edgedeploy.models.registry import BUILTINS

REPO = Path(__file__).resolve().parents[2]
WIDTH = 80
# A line may pass 80 columns only when it is kept whole on purpose so it can be copied: a command on a
# line of its own, a fix (often a command), or an error (one line, as the CLI contract says).
WHOLE_ON_PURPOSE = re.compile(r"^\s*(edgedeploy |fix: |error: )")
# A command to copy broken at the line end: "... details per operator: edgedeploy check" with its path
# on the next line, or a quoted 'edgedeploy bench' whose options went on. (A line that is only a
# command, like an example "edgedeploy models", is whole.)
COMMAND_CUT = re.compile(r"(\bedgedeploy|\S.*\bedgedeploy [a-z]+|'edgedeploy [^']*)$")
NO_DEVICE = ("--edgetpu-lib", "/nonexistent/libedgetpu.so.1")  # the Edge TPU cannot run, surely


def at_80(*args, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "edgedeploy", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={**os.environ, "COLUMNS": str(WIDTH), "PYTHONPATH": str(REPO)},
    )


@pytest.fixture
def narrow(cli_forks):
    """``narrow(*args, cwd=...)``: edgedeploy ARGS at 80 columns, each run a process of its own forked
    from a server started with COLUMNS=80 (tests/cli_forks.py): a CompletedProcess like ``at_80``'s."""
    server_env = {**os.environ, "COLUMNS": str(WIDTH), "PYTHONPATH": str(REPO)}

    def run(*args, cwd: Path) -> subprocess.CompletedProcess:
        done = cli_forks(args, cwd=cwd, server_env=server_env, timeout=300)
        return subprocess.CompletedProcess(args, done["code"], done["out"], done["err"])

    return run


def layout_problems(text: str) -> list[str]:
    problems = []
    for line in text.splitlines():
        line = line.rstrip()
        inner = line.strip("│┃ ")  # the text inside a help box
        if len(line) > WIDTH and not WHOLE_ON_PURPOSE.match(line):
            problems.append(f"wider than {WIDTH}: {line}")
        if COMMAND_CUT.search(inner):
            problems.append(f"command cut at the line end: {line}")
    return problems


def assert_laid_out(result: subprocess.CompletedProcess, *whole: str) -> None:
    text = result.stdout + result.stderr
    assert not layout_problems(text), layout_problems(text)
    lines = text.splitlines()
    for word in whole:  # names and headers, each whole on some line
        assert any(word in line for line in lines), (word, text)


def test_help_of_every_command(narrow, tmp_path):
    for name in ["", *(info.name for info in app.registered_commands)]:
        result = narrow(*([name] if name else []), "--help", cwd=tmp_path)
        assert result.returncode == ExitCode.OK, (name, result.stderr)
        assert "<bool>" not in result.stdout and "BOOLEAN" not in result.stdout, name
        assert_laid_out(result)


def test_models_has_whole_headers_and_names(narrow, tmp_path):
    result = narrow("models", cwd=tmp_path)
    assert result.returncode == ExitCode.OK, result.stderr
    header = next(line for line in result.stdout.splitlines() if line.startswith("name"))
    assert header.split() == ["name", "alpha", "input", "params", "MACs", "alphas", "pretrained"]
    assert_laid_out(result, *BUILTINS)


def test_targets_doctor_reads_as_blocks(narrow, tmp_path):
    result = narrow("targets", *NO_DEVICE, cwd=tmp_path)
    assert result.returncode == ExitCode.OK, result.stderr  # the CPU runs
    assert_laid_out(result, "cpu: can run here", "edgetpu (alias coral): cannot run here")
    fixes = [line for line in result.stdout.splitlines() if line.strip().startswith("fix:")]
    assert fixes  # each fix on a line of its own, never broken (it is often a command)


def test_check_estimate_and_bench_of_long_names(narrow, edgetpu_models, tmp_path):
    deeplab = edgetpu_models / "deeplabv3_mnv2_dm05_pascal_quant.tflite"
    long_name = tmp_path / "mobilenet_v1_0.25_128_quant_with_a_long_name.tflite"
    long_name.write_bytes((edgetpu_models / "mobilenet_v1_0.25_128_quant.tflite").read_bytes())
    for args, code, names in (
        (("check", deeplab), ExitCode.OPS_ON_CPU, ("uint8[1,513,513,21]",)),
        (("check", deeplab.with_name(deeplab.stem + "_edgetpu.tflite")), ExitCode.OPS_ON_CPU, ()),
        (("estimate", deeplab), ExitCode.OK, ("edgedeploy check",)),
        (("bench", *QUICK_BENCH, long_name), ExitCode.OK, (long_name.stem,)),
    ):
        result = narrow(*args, cwd=tmp_path)
        assert result.returncode == code, (args, result.stderr)
        assert_laid_out(result, *names)


def test_compare_table_keeps_model_names_whole():
    from edgedeploy.bench.stats import summarize
    from edgedeploy.compare.plan import build_plan
    from edgedeploy.compare.result import CompareResult
    from edgedeploy.compare.row import LatencyCell, ModelFacts, Row
    from edgedeploy.compare.specs import parse_spec

    item = build_plan([parse_spec("mobilenet_v2")], (None,), [], False)[0]
    names = ("mobilenet_v3_small_0.25_96", "mobilenet_edgetpu_v2_xs_1.0_224", "tiny")
    rows = []
    for label in names:
        row = Row(item.__class__(label, item.spec, 1.0, 224))
        row.model = ModelFacts(macs=56e6, int8_bytes=2**21, params=2_500_000)
        row.latency = [
            LatencyCell("cpu", "cpu (2 threads)", "ok", stats=summarize([3_200_000] * 5))
        ]
        rows.append(row)
    targets = [{"name": "cpu", "available": True, "variants": ["cpu (2 threads)"]}]
    console = Console(width=WIDTH, force_terminal=False, record=True)
    CompareResult(rows, targets, {}, Path("study")).render(console)
    text = console.export_text()
    assert not layout_problems(text), layout_problems(text)
    for name in names:  # in each of the packed tables, whole
        assert (
            sum(
                re.search(rf"(^|\s){re.escape(name)}(\s|$)", line) is not None
                for line in text.splitlines()
            )
            >= 2
        ), (name, text)
    assert "'edgedeploy bench --power'" in text  # a quoted command inside a sentence, whole


@pytest.mark.slow
def test_convert_and_verify(tiny_deployed, photo_dir, tmp_path):
    onnx = tiny_deployed.parent / "tiny.onnx"
    converted = at_80(
        "convert",
        onnx,
        "-o",
        tmp_path / "out",
        "--no-compile",
        "--calibration-count",
        "5",
        cwd=tmp_path,
    )
    assert converted.returncode == ExitCode.OK, converted.stderr
    assert_laid_out(converted)
    lines = converted.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if "details per operator:" in line)
    assert lines[at + 1].strip() == f"edgedeploy check {tmp_path / 'out' / 'tiny_int8.tflite'}"
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "owl.jpg").write_bytes((photo_dir / "owl.jpg").read_bytes())
    verified = at_80(
        "verify",
        tiny_deployed / "tiny_int8.tflite",
        "--images",
        photos,
        *NO_DEVICE,
        cwd=tmp_path,
    )
    assert verified.returncode == ExitCode.OK, verified.stderr
    assert_laid_out(verified)
