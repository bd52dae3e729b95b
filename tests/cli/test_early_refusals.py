"""Every output is checked before any work starts (issue 20): a directory held by another run, holding
results without --force, read-only or full; every file option of bench; limits, compare, compile. And
labels and power meters are checked before conversion or measurement.

The sentinel: each command runs in a process of its own (forked from a server that imported only what
``python -m edgedeploy`` imports, tests/cli_forks.py) that reports afterwards which frameworks it had
imported. A refusal that came before the work never imported torch (nor LiteRT for bench), and takes
about a second instead of the 10-80 s a model load took before."""

from __future__ import annotations

import fcntl
from pathlib import Path

import pytest
from fs_doubles import unwritable_output

from edgedeploy.errors import ExitCode

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
MODEL = DATA / "edgetpu" / "models" / "split_concat.tflite"
TINY_ONNX = DATA / "fuzz" / "seeds" / "tiny_cnn_hardswish.onnx"  # 10 class scores

# Patches what the file system reports free to $FREE_BYTES (a full disk without filling one), in the
# command's own process before it runs.
_FULL_DISK = """
import os, shutil
real = shutil.disk_usage
shutil.disk_usage = lambda p: real(p)._replace(free=int(os.environ["FREE_BYTES"]))
"""


@pytest.fixture
def run_child(cli_forks):
    """``run_child(cwd, *args)``: the CLI in a process of its own (tests/cli_forks.py), which reports
    afterwards which heavy frameworks it had imported (``modules``)."""

    def run(cwd: Path, *args, free_bytes: int | None = None) -> dict:
        if free_bytes is None:
            return cli_forks(args, cwd=cwd)
        return cli_forks(
            args, cwd=cwd, env_extra={"FREE_BYTES": str(free_bytes)}, prelude=_FULL_DISK
        )

    return run


def _refused_early(result: dict, says: str, code: int = ExitCode.ERROR) -> None:
    assert result["code"] == code, result
    assert says in result["err"], result
    assert result["err"].count("\n") == 1, result  # one line, no stage tick before it
    assert result["modules"] == [], result  # refused before any framework was imported


@pytest.fixture
def results_dir(tmp_path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "mobilenet_v2_int8.tflite").write_bytes(b"an earlier run's result")
    return folder


def test_convert_into_a_directory_in_use(tmp_path, run_child):
    folder = tmp_path / "busy"
    folder.mkdir()
    with open(folder / ".edgedeploy-lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # what a running convert holds
        result = run_child(tmp_path, "convert", "mobilenet_v2", "-o", folder)
    _refused_early(result, "is in use by another edgedeploy run")
    assert sorted(p.name for p in folder.iterdir()) == [".edgedeploy-lock"]


def test_convert_into_a_directory_holding_results(tmp_path, results_dir, run_child):
    result = run_child(tmp_path, "convert", "mobilenet_v2", "-o", results_dir)
    _refused_early(result, "already holds results (mobilenet_v2_int8.tflite)")
    assert (results_dir / "mobilenet_v2_int8.tflite").read_bytes() == b"an earlier run's result"


def test_convert_into_an_unwritable_directory(tmp_path, run_child):
    result = run_child(tmp_path, "convert", "mobilenet_v2", "-o", unwritable_output(tmp_path))
    _refused_early(result, "cannot write to output directory")


def test_convert_onto_a_full_disk(tmp_path, run_child):
    result = run_child(tmp_path, "convert", TINY_ONNX, "-o", tmp_path / "out", free_bytes=1 << 20)
    _refused_early(result, "not enough free space")
    assert not (tmp_path / "out").exists()


def test_wrong_label_count_before_the_conversion(tmp_path, run_child):
    labels = tmp_path / "three.txt"
    labels.write_text("a\nb\nc\n")
    result = run_child(tmp_path, "convert", TINY_ONNX, "--labels", labels, "-o", tmp_path / "o")
    assert result["code"] == ExitCode.USAGE, result
    assert "3 labels for a model with 10 outputs" in result["err"]
    assert "tensorflow" not in result["modules"] and "onnx2tf" not in result["modules"], result
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "option, name", [("--save", "b.json"), ("--csv", "b.csv"), ("--plot", "b.png")]
)
def test_bench_file_options_before_measuring(tmp_path, option, name, run_child):
    target = unwritable_output(tmp_path) / name
    result = run_child(tmp_path, "bench", MODEL, option, target)
    _refused_early(result, f"{option} {target}: cannot write to")
    (tmp_path / "a_dir.json").mkdir()
    result = run_child(tmp_path, "bench", MODEL, "--save", tmp_path / "a_dir.json")
    _refused_early(result, "is a directory; give a file name")


def test_bench_unknown_power_sensor_before_measuring(tmp_path, run_child):
    result = run_child(tmp_path, "bench", MODEL, "--power", "hwmon:ina260")
    _refused_early(result, "--power hwmon:ina260")


def test_limits_compare_compile_outputs(tmp_path, run_child):
    unwritable = unwritable_output(tmp_path)
    for args in (
        ["limits", "mobilenet_v2", "-o", unwritable],
        ["compare", "mobilenet_v2", "-o", unwritable],
        ["compile", MODEL, "-o", unwritable],
    ):
        result = run_child(tmp_path, *args)
        assert result["code"] == ExitCode.ERROR and "cannot write to" in result["err"], result
        assert result["modules"] == [], result


def test_compile_and_limits_into_a_directory_holding_results(tmp_path, results_dir, run_child):
    result = run_child(tmp_path, "compile", MODEL, "-o", results_dir)
    _refused_early(result, "already holds results")
    (results_dir / "limits.json").write_text("{}")
    result = run_child(tmp_path, "limits", "mobilenet_v2", "-o", results_dir)
    _refused_early(result, "already holds limits.json")


@pytest.mark.parametrize(
    ("command", "option", "name"),
    [
        ("bench", "--save", "result.json"),
        ("bench", "--csv", "result.csv"),
        ("limits", "-o", "limits-out"),
    ],
)
def test_an_output_held_by_another_run(tmp_path, command, option, name, run_child):
    """A second bench or limits naming an output another run is writing is refused before any work,
    and the output the other run holds is left to it."""
    from edgedeploy.outputs import held_outputs

    output = tmp_path / name
    model = MODEL if command == "bench" else "mobilenet_v2"
    with held_outputs([output]):  # what the first run holds for as long as it works
        result = run_child(tmp_path, command, model, option, output)
    _refused_early(result, "is in use by another edgedeploy run")
    assert not output.exists()
    assert list(tmp_path.iterdir()) == []  # its lock went with it
