"""`edgedeploy compile` when the compiler is missing, is not a compiler or misbehaves (prints nothing,
prints garbage, claims a model it did not write, hangs, is too old for a flag): one clear line and a
distinct exit code each time, never a traceback and never a half-written compiled model."""

from __future__ import annotations

import json
import shutil
import time

import pytest
from compiler_double import COMPILE_MODEL, YOLOV5_LOG, install_script, process_gone

from edgedeploy.errors import ExitCode


def test_compiler_path_that_is_not_executable(compile_model, cli, tmp_path, no_docker):
    fake = tmp_path / "edgetpu_compiler"
    fake.write_text("#!/bin/sh\necho hi\n")
    fake.chmod(0o644)
    result = cli("compile", compile_model, "-o", tmp_path / "out", "--compiler", fake)
    assert result.code == ExitCode.TOOL_MISSING
    assert "is not executable" in result.err and str(fake) in result.err
    assert not (tmp_path / "out").exists()
    assert "Traceback" not in result.out + result.err


@pytest.mark.parametrize("what", ["missing", "directory", "bare-name"])
def test_compiler_path_that_is_not_a_compiler(what, compile_model, cli, tmp_path, no_docker):
    value = {
        "missing": str(tmp_path / "nope" / "edgetpu_compiler"),
        "directory": str(tmp_path),
        "bare-name": "edgetpu_compiler_not_installed_anywhere",
    }[what]
    result = cli("compile", compile_model, "-o", tmp_path / "out", "--compiler", value)
    assert result.code == ExitCode.TOOL_MISSING, result
    assert value in result.err
    assert "Traceback" not in result.out + result.err


def test_compiler_binary_for_another_architecture(compile_model, cli, tmp_path, no_docker):
    binary = tmp_path / "edgetpu_compiler"
    binary.write_bytes(
        b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + b"\x02\x00\xb7\x00" + b"\x00" * 100
    )  # arm64 header
    binary.chmod(0o755)
    result = cli("compile", compile_model, "-o", tmp_path / "out", "--compiler", binary)
    assert result.code == ExitCode.TOOL_MISSING, result
    assert "cannot run" in result.err
    assert "Traceback" not in result.out + result.err


def test_compiler_that_prints_nothing(fake_compiler, compile_model, cli, tmp_path):
    fake_compiler.use(mode="silent")
    out = tmp_path / "out"
    result = cli("compile", compile_model, "-o", out)
    assert result.code == ExitCode.COMPILER_FAILED, result
    assert "printed nothing" in result.out
    # Without --json too, the failure is one line on stderr (issue 20: stderr was empty).
    assert (
        result.err.startswith("error: Edge TPU compilation failed") and result.err.count("\n") == 1
    )
    assert not list(out.glob("*_edgetpu.tflite"))
    report = json.loads((out / "report.json").read_text())
    assert report["failure"]["code"] == "empty-output" and report["compiler"]["version"] is None


def test_garbage_output_is_a_compiler_failure(fake_compiler, compile_model, cli, tmp_path):
    garbage = tmp_path / "garbage.txt"
    garbage.write_text("Segmentation fault (core dumped)\n\x00\x01 nonsense\n")
    fake_compiler.use(stdout=garbage, exit=0)  # exit 0 and a model written: still not a success
    out = tmp_path / "out"
    result = cli("compile", compile_model, "-o", out, "--json")
    assert result.code == ExitCode.COMPILER_FAILED, result
    assert json.loads(result.out)["failure"]["code"] == "unrecognised-output"
    assert not list(out.glob("*_edgetpu.tflite"))
    assert "compilation failed" in result.err


def test_success_claimed_but_no_model_written(
    fake_compiler, compiler_logs, compile_model, cli, tmp_path, monkeypatch
):
    # a compiler that prints success and exits 0 but writes into the wrong place
    fake_compiler.use(stdout=next(compiler_logs.glob(YOLOV5_LOG)))
    monkeypatch.setenv("FAKE_EDGETPU_MODE", "replay")
    wrapper = install_script(
        tmp_path / "wrap",
        "edgetpu_compiler",
        "import os, sys\nargv = sys.argv[1:]\nif '-o' in argv:\n"
        f"    argv[argv.index('-o') + 1] = {str(tmp_path / 'elsewhere')!r}\n"
        f"os.makedirs({str(tmp_path / 'elsewhere')!r}, exist_ok=True)\n"
        f"os.execv({str(fake_compiler.path)!r}, [{str(fake_compiler.path)!r}] + argv)\n",
    )
    result = cli("compile", compile_model, "-o", tmp_path / "out", "--compiler", wrapper)
    assert result.code == ExitCode.COMPILER_FAILED, result
    assert f"wrote no {COMPILE_MODEL}_edgetpu.tflite" in result.out


def test_compiler_16_flags_on_an_older_compiler(
    fake_compiler, compiler_logs, compile_model, cli, tmp_path
):
    fake_compiler.use(
        stdout=next(compiler_logs.glob("*yolov3-tiny_c15.txt"))
    )  # prints version 15.0
    result = cli("compile", compile_model, "-o", tmp_path / "out", "--search-delegate")
    assert result.code == ExitCode.USAGE, result
    assert "need Edge TPU compiler 16" in result.err and "15.0.340273435" in result.err
    assert fake_compiler.compile_calls() == []


def test_hang_is_stopped_by_our_timeout(fake_compiler, compile_model, cli, tmp_path):
    pidfile = tmp_path / "pids"
    fake_compiler.use(mode="hang", pidfile=pidfile)
    out = tmp_path / "out"
    started = time.monotonic()
    result = cli("compile", compile_model, "-o", out, "--timeout", "1.5")
    assert time.monotonic() - started < 15
    assert result.code == ExitCode.COMPILER_FAILED, result
    assert "did not finish within 1.5 s" in result.out
    assert not list(out.glob("*_edgetpu.tflite"))  # the double had half-written one in staging
    assert (
        "Started a compilation timeout timer" in (out / "edgetpu_compiler.stdout.txt").read_text()
    )
    report = json.loads((out / "report.json").read_text())
    assert report["timed_out"] is True and report["returncode"] is None
    for pid in map(int, pidfile.read_text().split()):  # the compiler AND its child are gone
        assert _gone(pid), f"process {pid} survived the timeout"


def _gone(pid: int) -> bool:
    return process_gone(pid, 5)


def test_no_compiler_anywhere(compile_model, cli, tmp_path, no_docker, monkeypatch):
    monkeypatch.setenv("PATH", str(no_docker))  # nothing but a docker whose engine does not answer
    monkeypatch.delenv("EDGEDEPLOY_EDGETPU_COMPILER", raising=False)
    out = tmp_path / "out"
    result = cli("compile", compile_model, "-o", out)
    assert result.code == ExitCode.TOOL_MISSING, result
    message = " ".join(result.err.split())
    assert "no Edge TPU compiler found" in message
    assert "edgetpu_compiler is not on PATH" in message and "EDGEDEPLOY_EDGETPU_COMPILER" in message
    assert "Docker engine does not answer" in message
    assert "docker build --platform linux/amd64 -f docker/Dockerfile -t edgedeploy:" in message
    assert not out.exists()
    assert "Traceback" not in result.out + result.err


def test_compiler_from_the_environment_variable(
    fake_compiler, compiler_logs, compile_model, cli, tmp_path, monkeypatch
):
    fake_compiler.use(stdout=next(compiler_logs.glob(YOLOV5_LOG)))
    elsewhere = tmp_path / "not-on-path"
    elsewhere.mkdir()
    moved = elsewhere / "my_compiler"
    shutil.copy2(fake_compiler.path, moved)
    fake_compiler.path.unlink()  # no longer on PATH
    monkeypatch.setenv("EDGEDEPLOY_EDGETPU_COMPILER", str(moved))
    result = cli("compile", compile_model, "-o", tmp_path / "out", "--json")
    assert result.code == ExitCode.OPS_ON_CPU, result
    assert json.loads(result.out)["compiler"] == {
        "found_by": "EDGEDEPLOY_EDGETPU_COMPILER",
        "executable": str(moved),
        "docker": None,
        "image": None,
        "version": "16.0.384591198",
    }
