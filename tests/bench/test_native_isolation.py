"""Native code cannot take bench down (issue 15): each cell loads and runs in a worker process, so a
segfault, an abort or a hung inference fails that cell with one line (what, while doing what, the likely
cause) and the other cells of the run still report; a damaged runtime library is the Edge TPU target's
unavailability reason, not a SIGBUS of the whole run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bench_models import QUICK_BENCH
from fuzzing import REGRESSIONS
from native_doubles import FailingRuntime, TellingRuntime

from edgedeploy.bench.harness import MeasurePlan
from edgedeploy.bench.runner import BenchRequest, run_bench
from edgedeploy.errors import ExitCode, TargetUnavailableError
from edgedeploy.targets.contract import TargetOptions
from edgedeploy.targets.edgetpu.device.library import probe_library
from edgedeploy.targets.registry import create_runtime

QUICK = MeasurePlan(min_runs=5, min_time_s=0, warmup_runs=1, warmup_time_s=0, repeats=1)
MNV1 = "mobilenet_v1_0.25_128_quant.tflite"


def _bench(models, factory, invoke_timeout: float = 60.0):
    request = BenchRequest(
        models=tuple(models),
        targets=("cpu", "failing"),
        target_options=TargetOptions(threads=(1,)),
        plan=QUICK,
        invoke_timeout=invoke_timeout,
    )
    return run_bench(request, target_factory=factory)


def _with(how: str):
    def factory(name, options):
        return FailingRuntime(how) if name == "failing" else create_runtime(name, options)

    return factory


@pytest.fixture(autouse=True)
def failing_target():
    """``failing`` names the double in --target: registered for each test, as any extra target is."""
    from edgedeploy.targets import registry
    from edgedeploy.targets.contract import TargetSpec

    registry.register(
        TargetSpec(
            name="failing",
            summary="test double",
            runtime=lambda options: FailingRuntime("segfault-on-load"),
        )
    )
    yield
    registry.unregister("failing")


@pytest.mark.parametrize(
    "how, phase, signal_name",
    [
        ("segfault-on-load", "loading the model", "SIGSEGV"),
        ("abort-on-load", "loading the model", "SIGABRT"),
        (
            "segfault-on-invoke",
            "measuring",
            "SIGSEGV",
        ),  # the 5th inference: after the first and the warm-up
    ],
)
def test_a_crash_fails_its_cell_and_the_cpu_still_reports(how, phase, signal_name, edgetpu_models):
    result = _bench([edgetpu_models / MNV1], _with(how))
    cpu, failing = result.cells
    assert cpu.status == "ok" and cpu.latency.count == 5
    assert failing.status == "failed"
    assert f"the runtime crashed ({signal_name}) while {phase}" in failing.reason, failing.reason
    assert "\n" not in failing.reason
    assert result.exit_code == ExitCode.ERROR
    assert cpu.details["isolation"] == "worker process"


def test_each_cell_runs_in_a_fresh_process_of_its_own(edgetpu_models):
    """Cells fork from a server that imported the runtime; none shares a process (or its memory) with
    another cell or with bench itself."""
    models = [edgetpu_models / MNV1, edgetpu_models / "split_concat.tflite"]
    request = BenchRequest(models=tuple(models), targets=("failing",), plan=QUICK)
    result = run_bench(request, target_factory=lambda name, options: TellingRuntime())
    assert [c.status for c in result.cells] == ["ok", "ok"]
    pids = [c.details["pid"] for c in result.cells]
    assert len(set(pids)) == 2 and os.getpid() not in pids
    assert [c.details["earlier_loads"] for c in result.cells] == [0, 0]
    assert all(c.details["isolation"] == "worker process" for c in result.cells)


def test_a_hung_inference_is_stopped_by_the_invoke_timeout(edgetpu_models):
    started = time.monotonic()
    result = _bench([edgetpu_models / MNV1], _with("hang-on-invoke"), invoke_timeout=1.0)
    assert time.monotonic() - started < 30
    cpu, failing = result.cells
    assert cpu.status == "ok"
    assert (
        "did not return from one inference (while measuring) within --invoke-timeout 1 s"
        in failing.reason
    )


def test_a_hung_load_is_stopped_too(edgetpu_models):
    result = _bench([edgetpu_models / MNV1], _with("hang-on-load"), invoke_timeout=1.0)
    assert "did not load the model within --invoke-timeout 1 s" in result.cells[1].reason


def test_models_that_crash_the_litert_runtime_fail_only_their_cells(edgetpu_models):
    """Models edgedeploy's reader accepts but on which LiteRT's kernels crash (kept from the fuzz campaign)."""
    crashers = sorted((REGRESSIONS / "native").glob("*.tflite"))
    assert crashers
    request = BenchRequest(
        models=(*crashers, edgetpu_models / MNV1),
        targets=("cpu",),
        target_options=TargetOptions(threads=(1,)),
        plan=QUICK,
    )
    result = run_bench(request)
    *bad, good = result.cells
    assert good.status == "ok" and good.latency.count == 5
    for cell in bad:
        assert cell.status == "failed" and "the runtime crashed (SIGSEGV)" in cell.reason, (
            cell.model,
            cell.reason,
        )


def test_bench_cli_survives_a_crashing_model(edgetpu_models, tmp_path, cli):
    crasher = shutil.copy(
        sorted((REGRESSIONS / "native").glob("*.tflite"))[0], tmp_path / "crasher.tflite"
    )
    result = cli(
        "bench",
        "--threads",
        "1",
        *QUICK_BENCH,
        "--json",
        crasher,
        edgetpu_models / MNV1,
    )
    assert result.code == ExitCode.ERROR, result
    import json

    cells = {c["model"]: c for c in json.loads(result.out)["results"]}
    assert cells["crasher"]["status"] == "failed" and "SIGSEGV" in cells["crasher"]["reason"]
    assert cells[MNV1.removesuffix(".tflite")]["status"] == "ok"


def _library_with_big_data(folder: Path) -> Path:
    """A libedgetpu stand-in with 1 MiB of initialized data: truncated, the loader maps past the end of the
    file and dies by SIGBUS, as a half-copied or half-upgraded libedgetpu does."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build the library double")
    source = folder / "big.c"
    source.write_text(
        'static char data[1 << 20] = {1};\nconst char* edgetpu_version(void) { return data[7] ? "" : '
        '"BuildLabel(x), RuntimeVersion(14)"; }\nvoid* tflite_plugin_create_delegate(void) { return 0; }\n'
    )
    whole = folder / "whole.so"
    subprocess.run(
        [compiler, "-shared", "-fPIC", "-o", str(whole), str(source)],
        check=True,
        capture_output=True,
    )
    truncated = folder / "libedgetpu.so.1"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    return truncated


def test_a_truncated_runtime_library_is_a_reason_not_a_sigbus(tmp_path):
    library = _library_with_big_data(tmp_path)
    probe = subprocess.run(
        [sys.executable, "-c", f"import ctypes; ctypes.CDLL({str(library)!r})"], capture_output=True
    )
    assert probe.returncode == -7, "the double should kill a process that loads it (SIGBUS)"
    with pytest.raises(
        TargetUnavailableError,
        match="crashed the process doing it .SIGBUS: a file the runtime had mapped",
    ):
        probe_library(str(library))


def test_bench_with_a_truncated_library_still_measures_the_cpu(tmp_path, edgetpu_models, cli):
    library = _library_with_big_data(tmp_path)
    result = cli(
        "bench",
        "-t",
        "cpu,edgetpu",
        "--edgetpu-lib",
        library,
        "--threads",
        "1",
        *QUICK_BENCH,
        edgetpu_models / MNV1,
    )
    assert result.code == ExitCode.OK, result
    assert "SIGBUS" in result.out and "skipped" in result.out
