"""The full `edgedeploy compile` path against the compiler double replaying EVERY real compiler output
in tests/data/edgetpu/compiler_logs: the compiler is found on PATH, run, its output kept, parsed and
reported, and the exit code and files on disk are what that output means."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from edgedeploy.errors import ExitCode
from edgedeploy.outputs import STAGING_PREFIX

MODEL = "mobilenet_v1_0.25_128_quant"
# A real .txt stdout that defers to the .log file ("See the operation log file"): the stdout paired
# with each recorded .log, which the double writes as <stem>_edgetpu.log.
STDOUT_FOR_LOGS = "google-coral_edgetpu_433__partial_no_s_flag_c16.txt"


@dataclass(frozen=True)
class Expect:
    failure: str | None = None  # failure code, or None when it compiled
    tpu: int | None = None
    cpu: int | None = None
    version: str | None = None


# Figures as the recorded outputs print them (INDEX.md describes each file).
EXPECTED = {
    "yolov3-tiny_c15.txt": Expect(tpu=2, cpu=34, version="15.0.340273435"),
    "yolov5s-224_sa_c16.txt": Expect(tpu=289, cpu=5, version="16.0.384591198"),
    "partial_search_delegate_c16.txt": Expect(tpu=246, cpu=0, version="16.0.384591198"),
    "partial_no_s_flag_c16.txt": Expect(tpu=1, cpu=190, version="16.0.384591198"),
    "fragment_unspecified_limitation_c14.txt": Expect(tpu=0, cpu=2),
    "model_not_quantized_c14.txt": Expect(failure="not-quantized", version="14.1.317412892"),
    "large_activation_fail_c16.txt": Expect(failure="large-activations", version="16.0.384591198"),
    "dynamic_tensors_fail_c16.txt": Expect(failure="dynamic-tensors", version="16.0.384591198"),
    "search_delegate_internal_error_c16.txt": Expect(
        failure="internal-error", version="16.0.384591198"
    ),
    "tiny_yolo_edgetpu_c14.log": Expect(tpu=1, cpu=190),  # counts from the paired stdout
    "mnist7_edgetpu_c15.log": Expect(tpu=1, cpu=190),
}


def _expectation(name: str) -> Expect:
    matches = [e for suffix, e in EXPECTED.items() if name.endswith(suffix)]
    assert len(matches) == 1, f"no expectation for compiler output {name}: add it to EXPECTED"
    return matches[0]


def _table_rows(text: str) -> list[tuple[str, int, str]]:
    """The recorded operator table, read straight from the text (an oracle independent of the parser)."""
    rows = re.findall(r"^([A-Z0-9_]+)\s+(\d+)\s+(\S.*?)\s*$", text, flags=re.MULTILINE)
    return [(op, int(count), status) for op, count, status in rows]


def test_every_recorded_output_has_an_expectation(compiler_logs: Path) -> None:
    names = sorted(p.name for p in compiler_logs.iterdir() if p.suffix in (".txt", ".log"))
    assert len(names) >= 11
    for name in names:
        _expectation(name)


@pytest.mark.parametrize("suffix", sorted(EXPECTED))
def test_compile_replays_real_output(
    suffix, compiler_logs, edgetpu_models, fake_compiler, cli, tmp_path
):
    recorded = next(p for p in compiler_logs.iterdir() if p.name.endswith(suffix))
    expect = _expectation(recorded.name)
    stdout_file = compiler_logs / STDOUT_FOR_LOGS if recorded.suffix == ".log" else recorded
    fake_compiler.use(
        stdout=stdout_file,
        log=recorded if recorded.suffix == ".log" else None,
        compiled=edgetpu_models / f"{MODEL}_edgetpu.tflite",
    )
    out = tmp_path / "out"

    result = cli("compile", edgetpu_models / f"{MODEL}.tflite", "--output-dir", out)

    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    compiled = out / f"{MODEL}_edgetpu.tflite"
    # the compiler's own output is kept byte for byte
    assert (out / "edgetpu_compiler.stdout.txt").read_bytes() == stdout_file.read_bytes()
    assert not [p for p in out.iterdir() if p.name.startswith(STAGING_PREFIX)]
    assert report["compiler"]["found_by"] == "PATH"
    assert report["compiler_command"][1:3] == ["-s", "-o"]
    if expect.failure:
        assert result.code == ExitCode.COMPILER_FAILED, result
        assert report["status"] == "failed" and report["failure"]["code"] == expect.failure
        assert not compiled.exists()  # never a compiled model from a failed run
        assert "compilation failed" in result.out and expect.failure in result.out
    else:
        assert result.code == (ExitCode.OPS_ON_CPU if expect.cpu else ExitCode.OK), result
        assert report["status"] == "compiled"
        assert compiled.read_bytes() == (edgetpu_models / f"{MODEL}_edgetpu.tflite").read_bytes()
        summary = report["models"][0]["summary"]
        assert (summary["tpu_ops"], summary["cpu_ops"]) == (expect.tpu, expect.cpu)
        assert f"{expect.tpu} on the Edge TPU, {expect.cpu} on the CPU" in " ".join(
            result.out.split()
        )
    if expect.version:
        assert report["compiler"]["version"] == expect.version
    # per-operator statuses: from the stdout table, or from the .log when stdout has none
    table_source = recorded if recorded.suffix == ".log" or not expect.failure else None
    if table_source is not None and _table_rows(table_source.read_text(encoding="utf-8")):
        want = _table_rows(table_source.read_text(encoding="utf-8"))
        got = [
            (r["op"], r["count"], r["status"])
            for r in report["models"][0]["compiler_output"]["operators"]
        ]
        assert got == want
        flat = " ".join(result.out.split())
        for op, _, _status in want:
            assert op in flat
    if recorded.suffix == ".log":
        assert (out / f"{MODEL}_edgetpu.log").read_bytes() == recorded.read_bytes()


def test_off_chip_parameters_are_warned_about(
    compiler_logs, edgetpu_models, fake_compiler, cli, tmp_path
):
    recorded = next(compiler_logs.glob("*yolov5s-224_sa_c16.txt"))
    fake_compiler.use(stdout=recorded)
    result = cli("compile", edgetpu_models / f"{MODEL}.tflite", "-o", tmp_path / "out", "--json")
    report = json.loads(result.out)
    model = report["models"][0]
    assert model["summary"]["off_chip_bytes"] == round(1.70 * 1024 * 1024)
    assert model["summary"]["subgraphs"] == 2
    assert any("streamed from the host on every inference" in w for w in model["warnings"])


def test_a_crashing_compiler_is_reported_by_its_last_line_not_the_traceback_header():
    from edgedeploy.targets.edgetpu.compiler.log import parse_compiler_output
    from edgedeploy.targets.edgetpu.compiler.outcome import classify
    from edgedeploy.targets.edgetpu.compiler.process import ProcessOutcome

    stderr = (
        'Traceback (most recent call last):\n  File "/usr/bin/edgetpu_compiler", line 3, in <module>\n'
        "    main()\nMemoryError: cannot allocate 2147483648 bytes\n"
    )
    outcome = ProcessOutcome(
        argv=["edgetpu_compiler"],
        returncode=1,
        stdout="",
        stderr=stderr,
        timed_out=False,
        seconds=0.1,
    )
    failure = classify(outcome, parse_compiler_output(stderr), {}, 60)
    assert failure.code == "exit-status" and failure.reason.endswith(
        "MemoryError: cannot allocate 2147483648 bytes"
    )
