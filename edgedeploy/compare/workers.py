"""Conversions (and the check of what they produce) away from the study's own process: ``--jobs N``
worker processes on this machine. ``ray_cluster`` does the same on a Ray cluster.

A job is self-contained and picklable: the item, its cache key and the convert options. Workers write
into the study's cache directly (the cache's commit is safe between processes, see ``cache``); the
study gets back a ``Conversion`` per item and runs the benchmarks itself, serially, after the last
conversion has finished, so no benchmark ever shares the machine with a conversion.

Ctrl-C: the workers ignore SIGINT (the terminal sends it to all of them); the study stops them with
SIGTERM, which each turns into an exception that unwinds its conversion (removing its partial
directory) before the process exits. Finished conversions are already in the cache.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgedeploy.compare.plan import StudyItem
from edgedeploy.exiting import flush_and_exit
from edgedeploy.machine import available_cores
from edgedeploy.targets.contract import MappingSummary

# What one MobileNet-class conversion needs at its peak (MobileNetV2 at 224: 1.2 GB RSS), with margin.
MEMORY_PER_JOB = 2 << 30
RESERVED_MEMORY = 1 << 30  # for the study's own process and everything else on the machine
STOP_GRACE_SECONDS = 15.0


@dataclass(frozen=True)
class ConvertJob:
    item: StudyItem
    key: str
    inputs: dict[str, Any]
    options: Any  # ConvertOptions
    cache_root: Path
    mapped_target: str | None = None  # whose check runs after the conversion


@dataclass
class Conversion:
    """What the convert and check steps gave for one item, wherever they ran."""

    label: str
    seconds: float = 0.0
    hit: bool = False
    report: dict[str, Any] | None = None
    entry: str | None = None  # the cache entry in the study's (local) cache
    error: str | None = None  # the convert step's one-line error
    check: MappingSummary | None = None
    check_error: str | None = None
    check_seconds: float = 0.0
    where: str = ""  # "this process", "worker process 1234", "ray node 10.0.0.5"
    files: dict[str, bytes] = field(
        default_factory=dict, repr=False
    )  # the entry's files, when it ran elsewhere


def available_memory() -> int | None:
    """Bytes of memory available to new work (Linux MemAvailable), or None where it cannot be read."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def default_jobs(cores: int | None = None, memory: int | None = None) -> int:
    """One conversion per usable core, as many as the available memory holds (at least one)."""

    cores = cores if cores is not None else available_cores()
    memory = memory if memory is not None else available_memory()
    by_memory = cores if memory is None else (memory - RESERVED_MEMORY) // MEMORY_PER_JOB
    return max(1, min(cores, int(by_memory)))


def convert_and_check(job: ConvertJob, where: str = "this process") -> Conversion:
    """Convert through the cache, then predict the mapped target's op mapping; failures are in the result."""
    from edgedeploy.compare.cache import ConversionCache
    from edgedeploy.compare.stages import checked, converted, failure_message

    result = Conversion(job.item.label, where=where)
    start = time.perf_counter()
    try:
        report, entry, result.hit = converted(
            job.item, ConversionCache(job.cache_root), job.options, job.key, job.inputs
        )
        result.report, result.entry = report, str(entry)
    except Exception as exc:  # noqa: BLE001 - one model's failure is its row's
        result.error = failure_message(exc)
        return result
    finally:
        result.seconds = round(time.perf_counter() - start, 3)
    if job.mapped_target is None:
        return result
    start = time.perf_counter()
    try:
        result.check = checked(Path(entry) / report["outputs"]["int8_tflite"], job.mapped_target)
    except Exception as exc:  # noqa: BLE001
        result.check_error = failure_message(exc)
    result.check_seconds = round(time.perf_counter() - start, 3)
    return result


class _Stopped(BaseException):
    """Raised in a worker by SIGTERM: unwinds the conversion so its partial directory is removed."""


_busy = False  # a worker is inside a job (else SIGTERM just ends it: there is nothing to unwind)


def _stop(signum, frame) -> None:
    if not _busy:
        os._exit(128 + signal.SIGTERM)
    raise _Stopped()


# Each worker is one conversion on one core: thread pools sized for the whole machine would make the N
# workers fight over the same cores (measured: +35% CPU at --jobs 2 on 2 cores). Read by the frameworks
# when they are first imported, which in a spawned worker happens after this initializer.
WORKER_THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
}


def _init_worker() -> None:
    # Last in, first out: registered before the frameworks load, this ends the worker after their exit
    # handlers and spares the study ~3 s of waiting for their teardown after the last job (``exiting``).
    # Every result has been written to the study through the executor's queue by then.
    atexit.register(flush_and_exit, 0)
    signal.signal(
        signal.SIGINT, signal.SIG_IGN
    )  # Ctrl-C is the study's: it stops the workers itself
    signal.signal(signal.SIGTERM, _stop)
    os.environ.update(WORKER_THREAD_ENV)


def _run_in_worker(job: ConvertJob) -> Conversion:
    global _busy
    _busy = True
    try:
        return convert_and_check(job, where=f"worker process {os.getpid()}")
    except _Stopped:
        os._exit(128 + signal.SIGTERM)  # the conversion has unwound: nothing of it is left behind
    finally:
        _busy = False


def _stop_workers() -> None:
    children = multiprocessing.active_children()
    for child in children:
        child.terminate()
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for child in children:
        child.join(max(0.1, deadline - time.monotonic()))
        if child.is_alive():  # stuck in native code past the grace period
            child.kill()
            child.join(5)


def _expected_work(job: ConvertJob) -> float:
    alpha, size = job.item.alpha or 1.0, job.item.resolution or 224
    return alpha * alpha * size * size


def convert_in_pool(
    jobs: list[ConvertJob], workers: int, on_done: Callable[[Conversion], None]
) -> dict[str, Conversion]:
    """Run every job in ``workers`` spawned processes; ``on_done`` sees each result as it arrives."""
    done: dict[str, Conversion] = {}
    context = multiprocessing.get_context(
        "spawn"
    )  # never fork a process that may hold TensorFlow threads
    pool = concurrent.futures.ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_init_worker
    )
    try:
        # the biggest first (work grows with alpha^2 x resolution^2): the last job to finish is then a small
        # one, and no worker idles while another ends on a big conversion
        futures = {
            pool.submit(_run_in_worker, job): job
            for job in sorted(jobs, key=_expected_work, reverse=True)
        }
        for future in concurrent.futures.as_completed(futures):
            job = futures[future]
            try:
                result = future.result()
            except concurrent.futures.process.BrokenProcessPool as exc:
                result = Conversion(
                    job.item.label, error=f"the conversion's worker process died ({exc})"
                )
            done[job.item.label] = result
            on_done(result)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        _stop_workers()
        raise
    pool.shutdown(wait=True)
    return done
