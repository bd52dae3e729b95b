"""``pip install edgedeploy`` (no extras) is the device side: every command that needs no conversion runs
without PyTorch, TensorFlow, onnx2tf, timm or matplotlib; a command that needs them stops at once with
exit 2 and the exact install line, never an ImportError."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from bench_models import QUICK_BENCH
from device_side import BLOCKED, device_side_env
from tiny_models import export_onnx, tiny_cnn

from edgedeploy.errors import ExitCode


@pytest.fixture(scope="module")
def tiny_onnx(tmp_path_factory):
    return export_onnx(tiny_cnn(), tmp_path_factory.mktemp("onnx") / "tiny.onnx")


@pytest.fixture(scope="module")
def device_env(tmp_path_factory) -> dict[str, str]:
    return device_side_env(tmp_path_factory.mktemp("blocker"))


@pytest.fixture
def device(cli_forks, device_env, tmp_path):
    """``device(*args)``: edgedeploy ARGS as a process of its own, forked from a server started in the
    device-side environment (tests/cli_forks.py; the blocker is loaded at the server's start-up)."""
    work = tmp_path / "work"
    work.mkdir()

    def run(*args) -> subprocess.CompletedProcess:
        done = cli_forks(args, cwd=work, server_env=device_env, timeout=300)
        return subprocess.CompletedProcess(args, done["code"], done["out"], done["err"])

    return run


def _no_traceback(result) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert "ImportError" not in result.stderr and "ModuleNotFoundError" not in result.stderr


def test_the_blocker_really_blocks(tmp_path):
    """Without this the other tests could pass for the wrong reason (the stack imported after all)."""
    import subprocess
    import sys

    env = device_side_env(tmp_path / "blocker")
    for name in BLOCKED:
        probe = subprocess.run(
            [sys.executable, "-c", f"import {name}"], env=env, capture_output=True, text=True
        )
        assert probe.returncode != 0 and "ModuleNotFoundError" in probe.stderr, name


def test_commands_without_conversion_work_on_the_device_side(device, edgetpu_models, tmp_path):
    int8 = edgetpu_models / "mobilenet_v1_0.25_128_quant.tflite"
    compiled = edgetpu_models / "mobilenet_v1_0.25_128_quant_edgetpu.tflite"
    runs = {
        "help": device("--help"),
        "models": device("models"),
        "targets cpu": device("targets", "cpu"),
        "check int8": device("check", int8),
        "check compiled": device("check", compiled),
        "estimate": device("estimate", int8),
        "bench": device("bench", *QUICK_BENCH, int8),
    }
    for what, result in runs.items():
        assert result.returncode == ExitCode.OK, (what, result.stdout[-1500:], result.stderr)
        _no_traceback(result)
    assert "mobilenet_v2" in runs["models"].stdout
    assert "mobilenet_v1_0.25_128_quant" in runs["bench"].stdout


def test_compile_reaches_the_compiler_lookup_on_the_device_side(device, edgetpu_models, tmp_path):
    """No compiler here: exit 5 from the compiler lookup proves the command itself imported and ran."""
    result = device(
        "compile",
        edgetpu_models / "mobilenet_v1_0.25_128_quant.tflite",
        "--compiler",
        tmp_path / "no-such-edgetpu_compiler",
        "-o",
        tmp_path / "out",
    )
    assert result.returncode == ExitCode.TOOL_MISSING, result.stderr
    _no_traceback(result)


@pytest.mark.parametrize(
    ("args", "extra"),
    [
        (("convert", "mobilenet_v2"), "convert"),
        (("compare", "mobilenet_v2"), "convert"),
        (("limits", "mobilenet_v2"), "convert"),
        (("models", "--alpha", "0.5"), "convert"),
        (("bench", "--plot", "b.png", "MODEL"), "plots"),
        (("check", "ONNX"), "convert"),
        (("estimate", "ONNX"), "convert"),
    ],
)
def test_a_command_that_needs_an_extra_names_the_install_line(
    device, edgetpu_models, tiny_onnx, args, extra
):
    given = {"MODEL": edgetpu_models / "mobilenet_v1_0.25_128_quant.tflite", "ONNX": tiny_onnx}
    args = [str(given.get(a, a)) for a in args]
    result = device(*args)
    assert result.returncode == ExitCode.USAGE, (args, result.stderr)
    assert f"pip install 'edgedeploy[{extra}]'" in result.stderr, result.stderr
    assert result.stderr.startswith(f"error: {args[0]}"), result.stderr  # names the command
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr  # one line, before any work
    assert "measuring" not in result.stderr
    _no_traceback(result)


@pytest.mark.slow  # converts the tiny model once (deploy_fixtures)
def test_verify_int8_against_its_onnx_on_the_device_side(
    device, tiny_deployed, photo_dir, tmp_path
):
    """The float reference is the ONNX beside the model, run by ONNX Runtime (a device-side
    dependency); the tiny model is converted in this (full) process, verified in the device-side one."""
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("parrot.jpg", "owl.jpg"):
        shutil.copy(photo_dir / name, photos / name)
    result = device(
        "verify",
        tiny_deployed / "tiny_int8.tflite",
        "--images",
        photos,
        "--json",
        "--edgetpu-lib",
        tmp_path / "no-such-libedgetpu.so.1",
    )
    _no_traceback(result)
    assert result.returncode == ExitCode.OK, (result.stdout[-1500:], result.stderr)
    assert '"tiny.onnx"' in result.stdout  # the float column ran from the ONNX file
