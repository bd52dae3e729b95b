"""Every reader checks what it is given before it reads (edgedeploy/files.py): special files are refused at
once naming what they are, every kind of file has a size cap, JSON has a nesting limit; and every
command's peak memory on every refused input stays under 200 MB (issue 20).

The memory is the command's own peak RSS: each command is its own process, forked from a server that
imported the CLI once (tests/cli_forks.py: what ``python -m edgedeploy`` imports, so the peak counts it
too), and ``wait4`` gives that process's peak alone. Each run has a timeout, so a reader that blocks on
a FIFO fails the test instead of hanging it."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest

from edgedeploy.errors import ExitCode, InputError
from edgedeploy.files import (
    BENCH_RESULT,
    COMPILER_LOG,
    MAX_JSON_DEPTH,
    ONNX,
    SIDECAR,
    TFLITE,
    check_input,
    load_json,
    parse_json,
    read_input,
)

DATA = Path(__file__).resolve().parents[1] / "data"
MODEL = DATA / "edgetpu" / "models" / "split_concat.tflite"
PHOTOS = Path(__file__).resolve().parents[2] / "edgedeploy" / "data" / "images"
SIDECAR_MODEL = DATA / "fuzz" / "seeds" / "tiny_cnn_hardswish_int8.tflite"
PEAK_RSS_MB = 200
TIMEOUT_S = 60


@pytest.fixture(scope="module")
def special(tmp_path_factory) -> Path:
    """One folder of every input the third reliability campaign found breaking a reader."""
    folder = tmp_path_factory.mktemp("special")
    for name in ("big.tflite", "big.onnx", "big_edgetpu.tflite", "big.json"):
        with (folder / name).open("wb") as handle:
            handle.truncate(8 * 2**30)  # sparse: 8 GiB that take no disk
    head = MODEL.read_bytes()
    for name in ("padded.tflite", "compiler_output.txt"):  # a real model's header, padded to 8 GiB
        with (folder / name).open("wb") as handle:
            handle.write(head)
            handle.truncate(8 * 2**30)
    (folder / "zero.json").symlink_to("/dev/zero")
    (folder / "zero.tflite").symlink_to("/dev/zero")
    (folder / "loop.tflite").symlink_to("loop.tflite")
    (folder / "loop.json").symlink_to("loop.json")
    for name in ("fifo.onnx", "fifo.json", "fifo.tflite"):
        os.mkfifo(folder / name)
    (folder / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    # A model whose sidecar is nested 100,000 deep, and one whose sidecar is /dev/zero.
    (folder / "deep").mkdir()
    (folder / "deep" / SIDECAR_MODEL.name).write_bytes(SIDECAR_MODEL.read_bytes())
    (folder / "deep" / "tiny_cnn_hardswish_int8.json").write_text(
        '{"kind": "io-sidecar", "files": ' + "[" * 100_000 + "]" * 100_000 + "}"
    )
    (folder / "huge").mkdir()
    (folder / "huge" / SIDECAR_MODEL.name).write_bytes(SIDECAR_MODEL.read_bytes())
    with (folder / "huge" / "tiny_cnn_hardswish_int8.json").open("wb") as handle:
        handle.truncate(8 * 2**30)
    return folder


CASES = [
    (["check", "big.tflite"], "8192.0 MiB, more than a TFLite model can be (at most 2 GiB)"),
    (["check", "--json", "big.tflite"], "more than a TFLite model can be"),
    (["check", "big.onnx"], "more than an ONNX model can be (at most 2 GiB)"),
    (["check", "big_edgetpu.tflite"], "more than a TFLite model can be"),
    (["check", "compiler_output.txt"], "more than a TFLite model can be (at most 2 GiB)"),
    (["check", "zero.tflite"], "is a character device"),
    (["check", "loop.tflite"], "is a symlink loop"),
    (["estimate", "big.tflite"], "more than a TFLite model can be"),
    (["estimate", "big.onnx"], "more than an ONNX model can be"),
    (["estimate", "fifo.onnx"], "is a FIFO (named pipe)"),
    (["estimate", "--json", "fifo.onnx"], "is a FIFO (named pipe)"),
    (["estimate", "big_edgetpu.tflite"], "more than a TFLite model can be"),
    (["targets", "--model", "big_edgetpu.tflite"], "more than a TFLite model can be"),
    (["targets", "--model", "fifo.tflite"], "is a FIFO (named pipe)"),
    (["bench", "padded.tflite"], "more than a TFLite model can be"),
    (["bench", "loop.tflite"], "is a symlink loop"),
    (["bench", "fifo.tflite"], "is a FIFO (named pipe)"),
    (["bench", MODEL, "--compare", "zero.json"], "--compare zero.json is a character device"),
    (["bench", MODEL, "--compare", "fifo.json"], "--compare fifo.json is a FIFO (named pipe)"),
    (["bench", MODEL, "--compare", "big.json"], "more than a saved bench result can be"),
    (["bench", MODEL, "--compare", "loop.json"], "is a symlink loop"),
    (["bench", MODEL, "--compare", "deep.json"], f"nested deeper than {MAX_JSON_DEPTH} levels"),
    (["bench", "deep/" + SIDECAR_MODEL.name, "--images", PHOTOS], "nested deeper than"),
    (["bench", "huge/" + SIDECAR_MODEL.name, "--images", PHOTOS], "more than an I/O sidecar can"),
    (["compile", "fifo.tflite", "-o", "out"], "is a FIFO (named pipe)"),
    (["compile", "padded.tflite", "-o", "out"], "more than a TFLite model can be"),
    (["convert", "fifo.onnx", "-o", "out"], "is a FIFO (named pipe)"),
    (["convert", "big.onnx", "-o", "out"], "more than an ONNX model can be"),
    (["limits", "big.onnx", "-o", "out"], "more than an ONNX model can be"),
    (["limits", "fifo.onnx", "-o", "out"], "is a FIFO (named pipe)"),
    (["compare", "big.onnx", "-o", "out"], "more than an ONNX model can be"),
    (["compare", "fifo.onnx", "-o", "out"], "is a FIFO (named pipe)"),
    (["compare", "mobilenet_v2", "--weights", "zero.json", "-o", "out"], "is a character device"),
    (["convert", "mobilenet_v2", "--labels", "zero.json", "-o", "out"], "is a character device"),
]


@pytest.mark.parametrize("args, says", CASES, ids=[" ".join(map(str, a[0]))[-50:] for a in CASES])
def test_refused_at_once_in_bounded_memory(cli_forks, special, args, says):
    result = cli_forks(args, cwd=special, timeout=TIMEOUT_S)
    assert result["code"] == ExitCode.UNREADABLE_INPUT, result
    assert says in result["err"] and result["err"].count("\n") == 1, result
    assert result["rss_mb"] < PEAK_RSS_MB, result
    assert not (special / "out").exists()


def test_verify_refuses_a_deep_sidecar(cli_forks, special):
    args = ["verify", "deep/" + SIDECAR_MODEL.name, "--images", PHOTOS]
    result = cli_forks(args, cwd=special, timeout=TIMEOUT_S)
    assert result["code"] == ExitCode.UNREADABLE_INPUT and "nested deeper than" in result["err"]
    assert result["rss_mb"] < PEAK_RSS_MB, result


# ---- the one check, in-process ----------------------------------------------------------------------


def test_each_kind_of_special_file_is_named(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "folder").mkdir()
    (tmp_path / "loop").symlink_to("loop")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(tmp_path / "sock"))
    try:
        expected = {
            "pipe": "is a FIFO (named pipe), not a TFLite model",
            "folder": "is a directory, not a TFLite model",
            "loop": "is a symlink loop, not a TFLite model",
            "sock": "is a socket, not a TFLite model",
            "missing": "no such file",
        }
        for name, says in expected.items():
            with pytest.raises(InputError) as caught:
                check_input(tmp_path / name, TFLITE)
            assert says in caught.value.message and caught.value.exit_code == 4
    finally:
        server.close()
    with pytest.raises(InputError, match="is a character device"):
        check_input(Path("/dev/null"), SIDECAR)
    blocks = [p for p in Path("/dev").iterdir() if p.is_block_device()]
    if blocks:  # containers often have none
        with pytest.raises(InputError, match="is a block device"):
            check_input(blocks[0], ONNX)


def test_caps_are_what_the_formats_allow(tmp_path):
    assert TFLITE.cap == ONNX.cap == 2 * 2**30
    log = tmp_path / "out.txt"
    with log.open("wb") as handle:
        handle.truncate(COMPILER_LOG.cap + 1)
    with pytest.raises(InputError, match="more than Edge TPU compiler output can be"):
        read_input(log, COMPILER_LOG)
    log.write_bytes(b"x" * COMPILER_LOG.cap)
    assert len(read_input(log, COMPILER_LOG)) == COMPILER_LOG.cap  # the cap itself is allowed


def test_json_nesting_limit(tmp_path):
    at_limit = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert parse_json(at_limit, "x", "y") == parse_json(at_limit, "x", "y")
    for depth in (MAX_JSON_DEPTH + 1, 5_000, 100_000):
        path = tmp_path / f"deep{depth}.json"
        path.write_text('{"a": ' + "[" * depth + "]" * depth + "}")
        with pytest.raises(InputError, match=f"nested deeper than {MAX_JSON_DEPTH}"):
            load_json(path, BENCH_RESULT)


def test_a_regular_file_is_read_and_a_mode_is_kept(tmp_path):
    path = tmp_path / "m.tflite"
    path.write_bytes(MODEL.read_bytes())
    assert check_input(path, TFLITE) == MODEL.stat().st_size
    assert stat.S_ISREG(os.stat(path).st_mode)
