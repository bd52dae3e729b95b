"""Readers run in time linear in their input and in memory a small multiple of it (issue 15): a 100 MB
compiler-output line, long runs of spaces, a 2^31 vector length, a 3 GiB file given to check, a FIFO,
and ``--json`` that is strict JSON whatever the model's names hold."""

from __future__ import annotations

import json
import os
import struct
import time
import tracemalloc

import pytest
from fuzzing import REGRESSIONS, hot_positions, strict_json

from edgedeploy.errors import ExitCode, InputError
from edgedeploy.targets.edgetpu.compiler.log import MAX_TABLE_ROWS, parse_compiler_output
from edgedeploy.tflite import parse_model

HEADER = "Edge TPU Compiler version 16.0.384591198\n"


def _seconds(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


@pytest.mark.parametrize(
    "make",
    [
        lambda n: (
            HEADER + "Operator  Count  Status\nCONV_2D  1  Operation is" + " " * n + "x\n"
        ),  # lazy-pattern backtracking
        lambda n: HEADER + "Input model: a" + " " * n + "b.tflite\n",
        lambda n: HEADER + "out_dir " * (n // 8) + "\n",  # one flag name after another on one line
        lambda n: HEADER + "Compilation " + "x " * (n // 2) + "\n",
    ],
)
def test_parsing_time_grows_linearly(make):
    """Twice the input takes about twice the time, not four times (64k spaces took 27 s before)."""
    small, large = make(1 << 19), make(1 << 21)
    parse_compiler_output(small)  # warm the pattern cache
    t_small = min(_seconds(lambda: parse_compiler_output(small)) for _ in range(3))
    t_large = min(_seconds(lambda: parse_compiler_output(large)) for _ in range(3))
    assert t_large < 0.5 or t_large < 8 * max(t_small, 1e-3), (
        t_small,
        t_large,
    )  # 4x the input; quadratic would be 16x


def test_a_100_mb_line_and_a_million_lines():
    line = HEADER + "x" * 100_000_000 + "\n"
    assert _seconds(lambda: parse_compiler_output(line)) < 10
    many = HEADER + "Mapped to Edge TPU\n" * 1_000_000
    assert _seconds(lambda: parse_compiler_output(many)) < 15


def test_memory_stays_a_small_multiple_of_the_input():
    text = HEADER + "".join(
        f"noise line {i} with some words\n" for i in range(150_000)
    )  # ~4.9 MB, as in the issue
    tracemalloc.start()
    parse_compiler_output(text)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 3 * len(text), f"{peak / 2**20:.0f} MiB for {len(text) / 2**20:.1f} MiB of text"


def test_an_endless_operator_table_is_not_compiler_output(tmp_path, cli):
    table = (
        HEADER
        + "Operator  Count  Status\n"
        + "CONV_2D  1  Mapped to Edge TPU\n" * (MAX_TABLE_ROWS + 5)
    )
    output = parse_compiler_output(table)
    assert (
        not output.recognised
        and f"past {MAX_TABLE_ROWS} rows (line {MAX_TABLE_ROWS + 3})" in output.failure.message
    )
    path = tmp_path / "huge.txt"
    path.write_text(table)
    result = cli("check", "--json", path)
    assert result.code == ExitCode.UNREADABLE_INPUT and "no compiler prints that many" in result.err


def test_a_vector_length_of_2_to_the_31_is_refused_at_once(edgetpu_models):
    data = bytearray((edgetpu_models / "split_concat.tflite").read_bytes())
    lengths = [at for at, size in hot_positions(bytes(data), parse_model) if size == 4]
    refused = 0
    for at in lengths:
        mutated = bytearray(data)
        mutated[at : at + 4] = struct.pack("<I", 2**31)
        started = time.perf_counter()
        try:
            parse_model(bytes(mutated))
        except InputError as exc:
            assert "\n" not in exc.message
            refused += 1
        assert time.perf_counter() - started < 1
    assert refused > len(lengths) // 2


def test_check_refuses_a_huge_text_file_unread(tmp_path, cli):
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as handle:
        handle.truncate(3 * 2**30)  # sparse: 3 GiB that takes no disk
    tracemalloc.start()
    result = cli("check", huge)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert (
        result.code == ExitCode.UNREADABLE_INPUT
        and "3072.0 MiB, more than Edge TPU compiler output can be" in result.err
    )
    assert peak < 50 * 2**20


@pytest.mark.parametrize("command", [["check"], ["bench", "--threads", "1"]])
def test_a_fifo_is_refused_not_read(tmp_path, cli, command):
    fifo = tmp_path / "model.tflite"
    os.mkfifo(fifo)
    started = time.monotonic()
    result = cli(*command, fifo)
    assert time.monotonic() - started < 10
    assert result.code == ExitCode.UNREADABLE_INPUT and "is a FIFO (named pipe)" in result.err


def test_json_output_is_the_model_text_as_it_is(cli):
    """An op type that reads ":smiley:" stays that text (the terminal library made it an emoji before)."""
    result = cli("check", "--json", REGRESSIONS / "onnx" / "op_type_emoji_code.onnx")
    report = strict_json(result.out)
    assert any(op["op"] == ":smiley: " for op in report["ops"])


def test_json_output_of_a_name_that_is_not_utf8(tmp_path, cli, edgetpu_models):
    """A tensor name with bytes that are not UTF-8: the JSON is still complete and strict."""
    data = bytearray((edgetpu_models / "split_concat.tflite").read_bytes())
    at = data.find(b"concat")
    data[at : at + 2] = b"\xed\xa0"  # the start of an encoded surrogate
    path = tmp_path / "odd_names.tflite"
    path.write_bytes(bytes(data))
    result = cli("check", "--json", "--all-ops", path)
    assert result.code == ExitCode.OK, (
        result
    )  # split_concat maps whole; the odd name changes nothing
    strict_json(result.out)


def test_a_prediction_failure_never_costs_a_compile_that_worked(
    fake_compiler, compiler_logs, cli, tmp_path
):
    """A model the predictor refuses (an empty resize) compiled anyway: the compile's outputs are kept."""
    model = tmp_path / "resize.tflite"
    model.write_bytes((REGRESSIONS / "tflite" / "resize_empty_map.tflite").read_bytes())
    fake_compiler.use(stdout=next(compiler_logs.glob("*yolov5s-224_sa_c16.txt")))
    out = tmp_path / "out"
    result = cli("compile", model, "-o", out, "--json")
    assert result.code == ExitCode.OPS_ON_CPU, result
    (entry,) = json.loads(result.out)["models"]
    assert "resizes a 0x4 map" in entry["prediction_note"]
    assert (out / "resize_edgetpu.tflite").is_file()
