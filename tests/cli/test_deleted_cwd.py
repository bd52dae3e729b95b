"""A deleted working directory (issue 20): absolute paths work (the fork server of bench and torch's
library loader both call getcwd), a relative path is one line saying the directory was deleted (exit 1),
and a native library's message is never the only output."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from edgedeploy.errors import ExitCode

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "tests" / "data" / "edgetpu" / "models" / "split_concat.tflite"


def in_deleted_cwd(*args, timeout: float = 120) -> subprocess.CompletedProcess:
    """``edgedeploy ARGS`` started in a directory removed just before (``cd D && rmdir D && exec``)."""
    folder = tempfile.mkdtemp(prefix="edgedeploy-gone-")
    command = " ".join(
        ["cd", folder, "&&", "rmdir", folder, "&&", "exec", sys.executable, "-m", "edgedeploy"]
        + [f"'{a}'" for a in map(str, args)]
    )
    return subprocess.run(
        ["/bin/sh", "-c", command],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_targets_works():
    done = in_deleted_cwd("targets", "cpu")
    assert done.returncode == ExitCode.OK, done
    assert "No such file or directory" not in done.stderr


def test_bench_with_an_absolute_path_works():
    done = in_deleted_cwd(
        "bench", MODEL, "--threads", "1", "--min-runs", "3", "--min-time", "0.01", "--repeats", "1"
    )
    assert done.returncode == ExitCode.OK, done
    assert "split_concat" in done.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["check", "m.tflite"],
        ["bench", "m.tflite"],
        ["estimate", "m.onnx"],
        ["convert", "mobilenet_v2", "--no-compile"],  # its default output folder is relative
        ["bench", MODEL, "--save", "b.json"],
        ["compile", MODEL, "-o", "out"],
    ],
)
def test_a_relative_path_is_one_line(cli_forks, args):
    """The run is its own process, forked from a server that imported the CLI (tests/cli_forks.py),
    whose working directory is removed just before the command starts; the two tests above start a
    fresh interpreter in a removed directory."""
    folder = tempfile.mkdtemp(prefix="edgedeploy-gone-")
    result = cli_forks(args, cwd=Path(folder), prelude=f"import os; os.rmdir({folder!r})")
    assert not Path(folder).exists()
    done = subprocess.CompletedProcess(args, result["code"], result["out"], result["err"])
    assert done.returncode == ExitCode.ERROR, done
    assert done.stderr.startswith("error: the current directory was deleted"), done
    assert done.stderr.count("\n") == 1 and "oneMKL" not in done.stderr


@pytest.mark.slow
def test_convert_with_an_absolute_output_works(tmp_path):
    done = in_deleted_cwd(
        "convert",
        "mobilenet_v2",
        "--alpha",
        "0.35",
        "-r",
        "96",
        "--no-compile",
        "-o",
        tmp_path / "o",
        timeout=600,
    )
    assert done.returncode == ExitCode.OK, done
    assert (tmp_path / "o" / "mobilenet_v2_0.35_96_int8.tflite").is_file()
