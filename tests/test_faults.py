"""Faults lose nothing and leave nothing behind (issue 15): one run per output directory, a run removes
only what it wrote, Ctrl-C once or twice ends in the promised line with nothing half-written, a full or
read-only output, a compiler that hangs, floods its output or dies by a signal, and ``| head -1``."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from compiler_double import process_gone
from fs_doubles import unwritable_output

from edgedeploy.errors import ExitCode, OutputError
from edgedeploy.outputs import LOCK_NAME, STAGING_PREFIX, staged_directory

MNV1 = "mobilenet_v1_0.25_128_quant"
INTERRUPTED = "interrupted; no partial output was kept"

# A second edgedeploy process holding an output directory: it says "ready", waits for a line on stdin,
# then writes its result (or, on SIGINT, stops as any run does).
HOLDER = textwrap.dedent("""
    import signal, sys, time
    from pathlib import Path
    # Ctrl-C raises KeyboardInterrupt as in a terminal, even when pytest runs as a background job
    # (started with SIGINT ignored, which a child Python then keeps).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from edgedeploy.outputs import staged_directory
    with staged_directory(Path(sys.argv[1]), force=False) as stage:
        print("ready", flush=True)
        sys.stdin.readline()
        (stage / "result-of-the-first-run.txt").write_text("kept")
""")


def _hold(directory: Path) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(directory)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "ready", holder.stderr.read()
    return holder


def _left_behind(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_a_second_run_into_the_same_directory_stops_before_writing(tmp_path):
    out = tmp_path / "out"
    first = _hold(out)
    try:
        with (
            pytest.raises(
                OutputError,
                match=rf"in use by another edgedeploy run \(pid {first.pid}\); nothing was written",
            ),
            staged_directory(out, force=True) as stage,
        ):
            (stage / "must-not-appear.txt").write_text("x")
        first.communicate("go\n", timeout=30)
    finally:
        first.kill()
    assert first.returncode == 0
    assert _left_behind(out) == [
        "result-of-the-first-run.txt"
    ]  # the first run's result, nothing of the second


def test_an_interrupted_first_run_removes_only_its_own_files(tmp_path):
    """The lost-results case of the issue: a run that created the folder is stopped while another writer
    put files there; the stopped run removes its staging only, never the folder with the other's files."""
    out = tmp_path / "out"
    first = _hold(out)
    (out / "written-meanwhile.txt").write_text("someone else's")
    first.send_signal(signal.SIGINT)
    first.wait(timeout=30)
    assert first.returncode != 0
    assert _left_behind(out) == ["written-meanwhile.txt"]


def test_an_interrupted_run_that_created_the_folder_leaves_no_folder(tmp_path):
    out = tmp_path / "new" / "out"
    first = _hold(out)
    assert any(
        name.startswith(STAGING_PREFIX) for name in _left_behind(out)
    ) and LOCK_NAME in _left_behind(out)
    first.send_signal(signal.SIGINT)
    first.wait(timeout=30)
    assert not out.exists()


def test_results_that_appear_during_a_run_are_not_overwritten(tmp_path):
    out = tmp_path / "out"
    with (
        pytest.raises(OutputError, match="received other results while this run was working"),
        staged_directory(out, force=False) as stage,
    ):
        (stage / "report.json").write_text("ours")
        (out / "report.json").write_text("theirs, written by another tool meanwhile")
    assert (out / "report.json").read_text().startswith("theirs")
    assert _left_behind(out) == ["report.json"]


def test_a_failed_final_move_takes_back_what_it_moved_and_keeps_earlier_results(
    tmp_path, monkeypatch
):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("an earlier run's result")
    real_replace, calls = os.replace, []

    def failing_replace(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device", str(dst))
        real_replace(src, dst)

    monkeypatch.setattr("edgedeploy.outputs.os.replace", failing_replace)
    with (
        pytest.raises(OutputError, match="No space left on device"),
        staged_directory(out, force=True) as stage,
    ):
        (stage / "a.txt").write_text("1")
        (stage / "b.txt").write_text("2")
    assert _left_behind(out) == ["old.txt"]


def test_not_enough_free_space_stops_a_conversion_before_it_starts(tmp_path, cli, monkeypatch):
    import shutil

    from edgedeploy.converters import pipeline

    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(
        "edgedeploy.outputs.shutil.disk_usage", lambda path: usage._replace(free=1024)
    )
    started = []
    monkeypatch.setattr(pipeline, "run_stages", lambda *args: started.append(1))
    onnx = Path(__file__).parent / "data" / "fuzz" / "seeds" / "tiny_cnn_hardswish.onnx"
    result = cli("convert", onnx, "--no-compile", "-o", tmp_path / "out")
    assert result.code == ExitCode.ERROR, result
    assert "not enough free space" in result.err and "MiB free" in result.err
    assert not started and not (tmp_path / "out").exists()


def test_a_read_only_output_is_refused_before_any_work(tmp_path, cli):
    target = unwritable_output(tmp_path)
    onnx = Path(__file__).parent / "data" / "fuzz" / "seeds" / "tiny_cnn_hardswish.onnx"
    result = cli("convert", onnx, "--no-compile", "-o", target)
    assert (
        result.code == ExitCode.ERROR
        and "cannot write" in result.err
        and "Traceback" not in result.err
    )


def test_a_write_error_is_one_line(cli, tmp_path, monkeypatch, edgetpu_models):
    """An OSError the library did not wrap (a disk that fills up between checks) is still one clear line."""

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "x.csv"))

    monkeypatch.setattr("edgedeploy.bench.export.to_csv", full)
    result = cli(
        "bench",
        "--threads",
        "1",
        "--min-runs",
        "2",
        "--min-time",
        "0",
        "--repeats",
        "1",
        "--warmup-time",
        "0",
        "--csv",
        tmp_path / "x.csv",
        edgetpu_models / "split_concat.tflite",
    )
    assert result.code == ExitCode.ERROR, result
    assert "no space left on the device writing" in result.err and "Traceback" not in result.err


# ---- the compiler ------------------------------------------------------------------------------------


@pytest.fixture
def model(edgetpu_models, tmp_path) -> Path:
    path = tmp_path / f"{MNV1}.tflite"
    path.write_bytes((edgetpu_models / f"{MNV1}.tflite").read_bytes())
    return path


def test_a_compiler_killed_by_a_signal_keeps_its_output_and_no_model(
    fake_compiler, model, cli, tmp_path
):
    fake_compiler.use(mode="crash")
    out = tmp_path / "out"
    result = cli("compile", model, "-o", out)
    assert result.code == ExitCode.COMPILER_FAILED, result
    said = " ".join(result.out.split())
    assert "killed by SIGSEGV" in said and "out of memory" in said
    assert not list(out.glob("*_edgetpu.tflite"))
    assert (
        "Started a compilation timeout timer" in (out / "edgetpu_compiler.stdout.txt").read_text()
    )
    assert json.loads((out / "report.json").read_text())["failure"]["code"] == "killed-by-signal"


def test_a_compiler_that_floods_its_output(fake_compiler, compiler_logs, model, cli, tmp_path):
    fake_compiler.use(stdout=next(compiler_logs.glob("*yolov5s-224_sa_c16.txt")), mode="flood")
    out = tmp_path / "out"
    started = time.monotonic()
    result = cli("compile", model, "-o", out)
    assert time.monotonic() - started < 60
    assert result.code == ExitCode.OPS_ON_CPU, (
        result
    )  # the real result sits after the flood, in the tail
    assert (out / "edgetpu_compiler.stdout.txt").stat().st_size > 100 * 1024 * 1024  # kept whole
    assert "the compiler printed 100 MiB" in " ".join(result.out.split())


def test_a_garbage_model_from_the_compiler_is_a_failed_compile(
    fake_compiler, compiler_logs, model, cli, tmp_path
):
    fake_compiler.use(
        stdout=next(compiler_logs.glob("*yolov5s-224_sa_c16.txt")), mode="garbage-model"
    )
    out = tmp_path / "out"
    result = cli("compile", model, "-o", out)
    assert result.code == ExitCode.COMPILER_FAILED, result
    said = " ".join(result.out.split())  # the terminal wraps lines
    assert "bad-output-model" in said and "not a readable model" in said
    assert not list(out.glob("*_edgetpu.tflite"))


def test_a_version_line_without_a_dot(fake_compiler, compiler_logs, model, cli, tmp_path):
    """``Edge TPU Compiler version 16 (build x)``: the compile's result and logs are kept (it was exit 1)."""
    recorded = next(compiler_logs.glob("*yolov5s-224_sa_c16.txt")).read_text()
    odd = tmp_path / "odd.txt"
    odd.write_text(recorded.replace("version 16.0.384591198", "version 16 (build x)"))
    fake_compiler.use(stdout=odd)
    out = tmp_path / "out"
    result = cli("compile", model, "-o", out)
    assert result.code == ExitCode.OPS_ON_CPU, result
    assert (out / f"{MNV1}_edgetpu.tflite").is_file() and (
        out / "edgetpu_compiler.stdout.txt"
    ).is_file()


def _interrupt(args: list[str], ready: Path, times: int, env: dict) -> subprocess.CompletedProcess:
    """Run edgedeploy, wait until ``ready`` exists (the fake compiler's pid file: the run is mid-compile),
    press Ctrl-C ``times`` times, and return how the run ended."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "edgedeploy", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 120
    while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    for _ in range(times):
        proc.send_signal(signal.SIGINT)
        time.sleep(0.05)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def _gone(pid: int) -> bool:
    return process_gone(pid, 10)


@pytest.mark.parametrize("times", [1, 2])
def test_ctrl_c_during_compile(times, fake_compiler, model, tmp_path):
    pids = tmp_path / "pids"
    fake_compiler.use(mode="hang", pidfile=pids)
    out = tmp_path / "out"
    ended = _interrupt(["compile", str(model), "-o", str(out)], pids, times, dict(os.environ))
    assert ended.returncode == ExitCode.INTERRUPTED, ended.stderr
    assert INTERRUPTED in ended.stderr and "Traceback" not in ended.stderr
    assert not out.exists()  # it created the folder: nothing of it is left
    for pid in map(int, pids.read_text().split()):
        assert _gone(pid), f"compiler process {pid} survived Ctrl-C"


@pytest.mark.slow
@pytest.mark.parametrize("times", [1, 2])
def test_ctrl_c_during_convert(times, fake_compiler, tmp_path):
    pids = tmp_path / "pids"
    fake_compiler.use(mode="hang", pidfile=pids)
    onnx = Path(__file__).parent / "data" / "fuzz" / "seeds" / "tiny_cnn_hardswish.onnx"
    out = tmp_path / "converted"
    out.mkdir()
    (out / "notes.txt").write_text("the user's own file, there before")
    ended = _interrupt(
        ["convert", str(onnx), "--target", "edgetpu", "-o", str(out), "--force"],
        pids,
        times,
        dict(os.environ),
    )
    assert ended.returncode == ExitCode.INTERRUPTED, ended.stderr
    assert INTERRUPTED in ended.stderr and "Traceback" not in ended.stderr
    assert _left_behind(out) == ["notes.txt"]


def test_a_closed_pipe_ends_quietly(edgetpu_models):
    """``edgedeploy check --all-ops big.tflite | head -1``: exit 0 and nothing on stderr."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "edgedeploy",
            "check",
            "--all-ops",
            str(edgetpu_models / "tf2_mobilenet_v2_1.0_224_ptq.tflite"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.readline()
    proc.stdout.close()
    assert proc.wait(timeout=60) == 0
    assert proc.stderr.read() == b""


def test_a_damaged_model_never_reaches_the_compiler(fake_compiler, cli, tmp_path):
    from fuzzing import REGRESSIONS

    damaged = tmp_path / "damaged.tflite"
    damaged.write_bytes(
        (REGRESSIONS / "tflite" / "split_concat_scale_minus_inf.tflite").read_bytes()
    )
    result = cli("compile", damaged, "-o", tmp_path / "out")
    assert result.code == ExitCode.UNREADABLE_INPUT and "quantization scale -inf" in result.err, (
        result
    )
    assert fake_compiler.compile_calls() == [] and not (tmp_path / "out").exists()
