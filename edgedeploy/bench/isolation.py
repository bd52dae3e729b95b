"""Native code cannot take the benchmark down: each (model, target) cell loads and runs in a worker process.

The LiteRT interpreter and the Edge TPU delegate are C++: a model the flatbuffer verifier lets through
can still crash a kernel (SIGSEGV), libedgetpu built against another TensorFlow Lite aborts or faults,
a USB Accelerator that resets mid-run leaves ``invoke()`` waiting forever. In a worker, any of these
ends one cell with one line (what happened, while doing what, the likely cause); the other cells and
targets of the run still report, and the parent never maps the model or the library itself.

The whole measurement (load, first inference, warm-up, repeats) runs in the worker, so the timed loop
is exactly the in-process one: the only addition inside it is one increment of a shared counter per
inference, the heartbeat by which the parent tells a hung ``invoke()`` from a slow one
(``--invoke-timeout``). Messages cross a pipe only between phases, never per inference.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import signal
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgedeploy.errors import EdgedeployError
from edgedeploy.worker import describe_death, error_message, raise_error

STARTUP_TIMEOUT_S = 120.0  # a fresh interpreter importing the runtime on a loaded machine
POLL_S = 0.2  # how often the parent looks at the worker; it sleeps in between, off the cores the worker uses
DEFAULT_INVOKE_TIMEOUT_S = 60.0


@dataclass
class CellRun:
    """What one cell measured, as the worker reports it."""

    load_seconds: float
    details: dict[str, Any]
    first_inference_ms: float
    warmup_runs: int
    repeats: list[Any]  # harness.Measurement, one per repeat


class _Heartbeat:
    """The number of inferences started, in memory both processes see; written by the worker only."""

    def __init__(self, value: Any):
        self.value = value

    def wrap(self, invoke: Callable[[], None]) -> Callable[[], None]:
        counter = self.value

        def beating() -> None:
            counter.value += 1
            invoke()

        return beating


def measure_loaded(
    loaded: Any,
    frames: list[list[Any]],
    plan: Any,
    on_phase: Callable[[str], None],
    before_measuring: Callable[[], Any],
    heartbeat: _Heartbeat | None = None,
) -> CellRun:
    """First inference, warm-up and the repeats on a loaded model: the same steps in a worker and in-process.
    ``before_measuring`` runs right before the repeats and returns a context (the power recording)."""
    from edgedeploy.bench.harness import measure, measure_fixed_rate, warm_up

    loaded.set_inputs(frames[0])
    feed = None
    if len(frames) > 1:
        cycle = itertools.cycle(frames)
        feed = lambda: loaded.set_inputs(next(cycle))  # noqa: E731 - the loop's hot path
    invoke = heartbeat.wrap(loaded.invoke) if heartbeat is not None else loaded.invoke
    on_phase("running the first inference")
    start = time.perf_counter_ns()
    invoke()  # the first inference: on the Edge TPU it uploads the model, so it is never a sample
    first_ms = (time.perf_counter_ns() - start) / 1e6
    on_phase("warming up")
    warmup_runs = len(warm_up(invoke, plan, feed))
    run = measure_fixed_rate if plan.fps else measure
    with before_measuring():
        on_phase("measuring")
        repeats = [run(invoke, plan, feed) for _ in range(plan.repeats)]
    return CellRun(loaded.load_seconds, loaded.details, first_ms, warmup_runs, repeats)


def _worker(
    conn: Any,
    beat: Any,
    log_path: str,
    target: Any,
    variant: Any,
    model: Any,
    frames: list,
    plan: Any,
) -> None:
    """The worker process: Ctrl-C is the parent's to handle; native chatter goes to a log the parent reads."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError):
        log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(log, 2)
    loaded = None

    @contextlib.contextmanager
    def released_by_parent():
        conn.send(("ready",))
        conn.recv()  # the parent has started what it records around the repeats
        yield

    with contextlib.suppress(ImportError):
        # Imported while the parent still counts the worker's start (STARTUP_TIMEOUT_S): a cold import on a
        # busy machine takes seconds and is no hung load.
        import ai_edge_litert.interpreter  # noqa: F401
    try:
        conn.send(("phase", "loading the model"))
        loaded = target.load(model, variant)
        conn.send(("phase", "preparing the inputs"))
        run = measure_loaded(
            loaded,
            frames,
            plan,
            lambda phase: conn.send(("phase", phase)),
            released_by_parent,
            _Heartbeat(beat),
        )
        conn.send(("done", run))
    except Exception as exc:  # noqa: BLE001 - reported in the cell; the worker's traceback would reach no one
        conn.send(error_message(exc))
    finally:
        if loaded is not None:
            loaded.close()
        conn.close()


class WorkerFailure(EdgedeployError):
    """The worker crashed, hung or could not start: the cell fails with this line, the run goes on."""


def _last_native_line(path: Path) -> str | None:
    try:
        with path.open("rb") as handle:
            handle.seek(max(0, path.stat().st_size - 4096))
            lines = [
                line.strip()
                for line in handle.read().decode("utf-8", "replace").splitlines()
                if line.strip()
            ]
    except OSError:
        return None
    useful = [line for line in lines if not line.startswith("INFO:")]
    return useful[-1][:200] if useful else None


class _Watch:
    """The parent's side: messages, the heartbeat, and the deadlines of each phase."""

    def __init__(self, proc: Any, conn: Any, beat: Any, invoke_timeout: float, period_s: float):
        self.proc, self.conn, self.beat = proc, conn, beat
        self.invoke_timeout, self.period_s = invoke_timeout, period_s
        self.phase = "starting the worker"
        self.seen_beats, self.since = 0, time.monotonic()

    def _allowed(self) -> float:
        if self.phase == "starting the worker":
            return max(STARTUP_TIMEOUT_S, self.invoke_timeout)
        if self.phase in ("warming up", "measuring"):
            return (
                self.invoke_timeout + self.period_s
            )  # fixed-rate mode sleeps up to one frame between runs
        return self.invoke_timeout

    def next_message(self) -> tuple:
        while True:
            if self.conn.poll(POLL_S):
                try:
                    message = self.conn.recv()
                except (EOFError, OSError):  # the worker's end closed: it exited or was killed
                    return ("died",)
                self.since = time.monotonic()
                if message[0] == "phase":
                    self.phase = message[1]
                    continue
                return message
            if not self.proc.is_alive() and not self.conn.poll(0):
                return ("died",)
            beats = self.beat.value
            if beats != self.seen_beats:
                self.seen_beats, self.since = beats, time.monotonic()
            elif time.monotonic() - self.since > self._allowed():
                return ("hung",)


# What a worker needs before its first message; "__main__" as with spawn, so a runtime class defined in the
# caller's script can still be rebuilt in the worker.
WORKER_PRELOAD = ["__main__", "edgedeploy.bench.isolation", "ai_edge_litert.interpreter"]


def _worker_context() -> Any:
    """Workers fork from multiprocessing's fork server, a process started once from a fresh interpreter that
    imports WORKER_PRELOAD and nothing else (never a model, a device or the parent's threads): each cell
    still gets a process of its own, for ~0.4 s less than a fresh interpreter importing the runtime.
    Without a fork server (Windows), a fresh interpreter per cell."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(
        WORKER_PRELOAD
    )  # read when the server starts, with the first cell
    return context


def run_in_worker(
    target: Any,
    variant: Any,
    model: Any,
    frames: list,
    plan: Any,
    recording: Callable[[], Any],
    invoke_timeout: float = DEFAULT_INVOKE_TIMEOUT_S,
) -> tuple[CellRun, Any]:
    """Measure one cell in a worker process: (what it measured, what ``recording()`` yielded around the
    repeats). WorkerFailure (one line) when the worker crashes or hangs."""
    context = _worker_context()
    parent_end, worker_end = context.Pipe()
    beat = context.Value("Q", 0, lock=False)
    handle, name = tempfile.mkstemp(prefix="edgedeploy-worker-", suffix=".log")
    os.close(handle)  # the worker opens it as its stderr; here it is only read after a crash
    log = Path(name)
    proc = context.Process(
        target=_worker,
        args=(worker_end, beat, str(log), target, variant, model, frames, plan),
        daemon=True,
        name=f"edgedeploy bench {variant.label}",
    )
    period = 1.0 / plan.fps if plan.fps else 0.0
    watch = _Watch(proc, parent_end, beat, invoke_timeout, period)
    record = contextlib.ExitStack()
    recorder = None
    try:
        proc.start()
        worker_end.close()
        while True:
            message = watch.next_message()
            if message[0] == "ready":
                recorder = record.enter_context(recording())
                parent_end.send(("go",))
            elif message[0] == "done":
                record.close()
                return message[1], recorder
            elif message[0] == "error":
                raise_error(message)
            else:
                raise _failure(message[0], watch.phase, proc, invoke_timeout, log)
    finally:
        record.close()
        if proc.pid is not None:  # started (a start that failed has nothing to stop)
            if proc.is_alive():
                proc.kill()
            proc.join(5)
        parent_end.close()
        with contextlib.suppress(OSError):
            log.unlink()


def _failure(kind: str, phase: str, proc: Any, invoke_timeout: float, log: Path) -> WorkerFailure:
    if kind == "hung":
        what = (
            "did not load the model"
            if phase in ("loading the model", "starting the worker")
            else f"did not return from one inference (while {phase})"
        )
        return WorkerFailure(
            f"the runtime {what} within --invoke-timeout {invoke_timeout:g} s and was stopped",
            "a device that stopped answering (a USB reset) hangs like this; re-plug it and "
            "check edgedeploy targets, or raise --invoke-timeout for a very slow model",
        )
    proc.join(5)
    name, cause = describe_death(proc.exitcode)
    native = _last_native_line(log)
    said = f"; it said: {native}" if native else ""
    if name is None:
        return WorkerFailure(f"the benchmark worker stopped while {phase}: {cause}{said}")
    return WorkerFailure(f"the runtime crashed ({name}) while {phase}: {cause}{said}")
