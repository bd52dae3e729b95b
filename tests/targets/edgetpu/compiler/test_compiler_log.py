"""The compiler-output parser against every real compiler output in tests/data/edgetpu/compiler_logs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgedeploy.targets.edgetpu.compiler.log import (
    STATUS_REASONS,
    CompilerOutput,
    parse_compiler_log_file,
    parse_compiler_output,
)

# What each fatal output must be reported as (the file names say what the source showed).
EXPECTED_FAILURES = {
    "dynamic_tensors_fail": "dynamic-tensors",
    "large_activation_fail": "large-activations",
    "model_not_quantized": "not-quantized",
    "internal_error": "internal-error",
}


def _index_kinds(compiler_logs: Path) -> dict[str, str]:
    """File name -> Kind column of INDEX.md ("complete stdout (-s)", "partial", "fragment", ...)."""
    kinds = {}
    for line in (compiler_logs / "INDEX.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0].startswith("`") and cells[0].endswith("`"):
            kinds[cells[0].strip("`")] = cells[1]
    return kinds


def _log_files(compiler_logs: Path) -> list[Path]:
    files = sorted(p for p in compiler_logs.iterdir() if p.suffix in (".txt", ".log"))
    assert len(files) >= 10, "the recorded compiler outputs in tests/data are missing"
    return files


def _parse_file(path: Path) -> CompilerOutput:
    text = path.read_text()
    return parse_compiler_log_file(text) if path.suffix == ".log" else parse_compiler_output(text)


def test_index_lists_every_file(compiler_logs):
    assert set(_index_kinds(compiler_logs)) == {p.name for p in _log_files(compiler_logs)}


def test_every_file_parses_and_is_recognised(compiler_logs):
    for path in _log_files(compiler_logs):
        out = _parse_file(path)
        assert out.recognised, path.name
        assert out.failure is None or out.failure.code not in (
            "unrecognised-output",
            "empty-output",
        ), path.name
        json.dumps(out.to_dict())  # plain JSON data
        major = re.search(r"_c(\d+)\.", path.name).group(1)
        if "Edge TPU Compiler version" in path.read_text():
            assert out.compiler_major == int(major), path.name


def test_invariants_hold_on_every_complete_output(compiler_logs):
    """docs/edgetpu.md section 7: rows sum to the total; Mapped rows sum to the Edge TPU count."""
    checked = 0
    for name, kind in _index_kinds(compiler_logs).items():
        if not kind.startswith("complete"):
            continue
        out = _parse_file(compiler_logs / name)
        assert out.invariant_problems() == [], name
        if out.operators and out.succeeded is not False:
            checked += 1
            assert sum(r.count for r in out.operators) == out.total_ops, name
            assert sum(r.count for r in out.operators if r.mapped) == out.tpu_ops, name
            assert out.tpu_ops + out.cpu_ops == out.total_ops, name
    assert checked >= 4


def test_counts_agree_with_the_printed_paragraph(compiler_logs):
    for path in _log_files(compiler_logs):
        text, out = path.read_text(), _parse_file(path)
        if match := re.search(
            r"will run on Edge TPU: (\d+)\s+.*will run on CPU: (\d+)", text, re.S
        ):
            assert (out.tpu_ops, out.cpu_ops) == (int(match.group(1)), int(match.group(2))), (
                path.name
            )


def test_all_mapped_output_without_the_paragraph_puts_every_op_on_the_tpu(compiler_logs):
    out = _parse_file(compiler_logs / "WongKinYiu_yolov7_1672__partial_search_delegate_c16.txt")
    assert out.succeeded is True and out.failure is None
    assert out.tpu_ops == out.total_ops == 246 and out.cpu_ops == 0
    assert out.search_step == 10 and [a.ops for a in out.search_attempts] == [246]
    assert out.search_attempts[0].outcome == "succeeded"
    # the source was cut inside the table: the parser must say the table is incomplete, not hide it
    assert any("operator table sums to" in n for n in out.notes)


@pytest.mark.parametrize("fragment,code", sorted(EXPECTED_FAILURES.items()))
def test_fatal_outputs_become_a_failure_reason(compiler_logs, fragment, code):
    (path,) = [p for p in _log_files(compiler_logs) if fragment in p.name]
    out = _parse_file(path)
    assert out.failure is not None and out.failure.code == code
    assert out.succeeded is not True
    for part in out.failure.message.split(" / "):  # the compiler's own words, verbatim
        assert part in path.read_text()


def test_search_attempts_and_intermediate_tensors(compiler_logs):
    out = _parse_file(
        compiler_logs / "google-coral_edgetpu_778__search_delegate_internal_error_c16.txt"
    )
    assert [(a.ops, a.outcome, a.failure) for a in out.search_attempts] == [
        (43, "failed", "internal-error"),
        (42, "unknown", None),
    ]
    assert out.search_attempts[1].intermediate_tensors == [
        "PartitionedCall:01",
        "PartitionedCall:1",
    ]
    assert out.succeeded is None and any("ends during" in n for n in out.notes)


def test_sizes_statuses_and_paths_from_a_full_stdout(compiler_logs):
    path = compiler_logs / "jveitchmichaelis_edgetpu-yolo__export_md__yolov5s-224_sa_c16.txt"
    out = _parse_file(path)
    assert out.off_chip_bytes == round(1.70 * 2**20) and out.on_chip_remaining_bytes == 0
    assert out.subgraphs == 2 and out.compile_ms == 3173
    assert out.log_path == "yolov5s-int8-224_edgetpu.log"
    assert out.op_counts()["CONCATENATION"] == {"tpu": 17, "cpu": 1}
    assert {r.reason for r in out.operators} == {"mapped", "unspecified-limitation"}


def test_every_status_string_in_the_logs_has_a_stable_code(compiler_logs):
    seen = set()
    for path in _log_files(compiler_logs):
        for row in _parse_file(path).operators:
            assert row.reason != "unknown-status", (path.name, row.status)
            seen.add(row.reason)
    assert {"downstream-of-cpu-op", "unsupported-op", "op-version-too-new"} <= seen
    assert len({code for _, code in STATUS_REASONS}) == len(STATUS_REASONS)


def test_log_file_header_and_table(compiler_logs):
    out = parse_compiler_log_file(
        (
            compiler_logs / "rajansaini691_retinanet-model-tflite__tiny_yolo_edgetpu_c14.log"
        ).read_text()
    )
    assert out.source == "log" and out.input_model == "tiny_yolo.tflite"
    assert out.output_model == "tiny_yolo_edgetpu.tflite"
    assert out.op_counts()["QUANTIZE"] == {"tpu": 2, "cpu": 2}
    assert out.succeeded is None  # the .log format does not say


def test_log_text_fills_in_a_table_missing_from_stdout(compiler_logs):
    stdout = (compiler_logs / "google-coral_edgetpu_433__partial_no_s_flag_c16.txt").read_text()
    assert parse_compiler_output(stdout).operators == []
    log = (compiler_logs / "system-software-lab_nrf20__mnist7_edgetpu_c15.log").read_text()
    out = parse_compiler_output(stdout, log_text=log)
    assert sum(r.count for r in out.operators) == 8
    assert out.invariant_problems()  # this log is from another model: the mismatch is reported


def test_log_format_passed_as_stdout_is_recognised(compiler_logs):
    text = (compiler_logs / "system-software-lab_nrf20__mnist7_edgetpu_c15.log").read_text()
    assert parse_compiler_output(text).source == "log"


@pytest.mark.parametrize(
    "text,code",
    [
        ("", "empty-output"),
        ("  \n\n", "empty-output"),
        ("hello world\nthis is a shopping list\n", "unrecognised-output"),
        ("\x00\x01\x02 TFL3 \xff", "unrecognised-output"),
    ],
)
def test_garbage_is_reported_as_unrecognised(text, code):
    out = parse_compiler_output(text)
    assert not out.recognised and out.failure.code == code and out.succeeded is None
    assert not parse_compiler_log_file(text).recognised


def test_every_prefix_of_every_output_parses(compiler_logs):
    """Truncated captures (a killed compiler, a cut-off paste) never raise."""
    for path in _log_files(compiler_logs):
        lines = path.read_text().splitlines(keepends=True)
        for end in range(len(lines) + 1):
            out = parse_compiler_output("".join(lines[:end]))
            json.dumps(out.to_dict())


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_arbitrary_text_never_raises(text):
    out = parse_compiler_output(text)
    assert isinstance(out.to_dict(), dict)
    parse_compiler_log_file(text)
