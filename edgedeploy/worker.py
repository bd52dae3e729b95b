"""Run native code where its crash is not ours: a function in a fresh worker process, with a deadline.

Loading a shared library (``ctypes.CDLL`` on a truncated ``.so`` dies by SIGBUS inside the dynamic
loader) or asking a driver about its devices can take the whole process down or never return. Done in
a spawned worker, that becomes ``WorkerCrashed`` / ``WorkerHung`` with the signal and its likely cause,
and the caller turns it into its own one-line error. edgedeploy's own errors raised in the worker come
back as the same class with the same message.

Spawned, never forked: the parent may hold threads and native state that a fork would copy half-done.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import signal
from collections.abc import Callable
from typing import Any

from edgedeploy.errors import EdgedeployError, ExitCode

# What a signal that ended a worker most likely means, for the one line the user sees.
LIKELY_CAUSES = {
    "SIGSEGV": "a memory fault in native code: the model is damaged in a way edgedeploy's checks do not catch, or "
    "the accelerator's runtime library was built for another TensorFlow Lite than this interpreter",
    "SIGABRT": "the native runtime aborted on an internal check",
    "SIGBUS": "a file the runtime had mapped is truncated or changed under it (the model or the runtime library)",
    "SIGILL": "the runtime uses CPU instructions this machine does not have (a build for a newer CPU)",
    "SIGFPE": "an arithmetic fault in a kernel (a damaged model: a zero size or scale)",
    "SIGKILL": "it was killed from outside, most often by the kernel's out-of-memory killer (see dmesg)",
}


class WorkerCrashed(EdgedeployError):
    """The worker died by a signal (or exited without answering)."""

    def __init__(self, message: str, signal_name: str | None):
        super().__init__(message)
        self.signal_name = signal_name


class WorkerHung(EdgedeployError):
    """The worker did not answer within its deadline and was killed."""


def signal_name(exitcode: int | None) -> str | None:
    """``SIGSEGV`` for a process that died by that signal; None for a normal exit."""
    if exitcode is None or exitcode >= 0:
        return None
    try:
        return signal.Signals(-exitcode).name
    except ValueError:
        return f"signal {-exitcode}"


def describe_death(exitcode: int | None) -> tuple[str | None, str]:
    """(signal name, what it most likely means) of a worker's exit code."""
    name = signal_name(exitcode)
    if name is None:
        return None, f"it exited with status {exitcode} without answering"
    return name, LIKELY_CAUSES.get(name, f"killed by {name}")


def error_message(exc: BaseException) -> tuple:
    """An exception as plain data a pipe can carry back (edgedeploy's own errors keep their class)."""
    if isinstance(exc, EdgedeployError):
        return (
            "error",
            type(exc).__module__,
            type(exc).__name__,
            exc.message,
            exc.hint,
            int(exc.exit_code),
        )
    return ("error", "", "", f"{type(exc).__name__}: {exc}", None, int(ExitCode.ERROR))


def raise_error(message: tuple) -> None:
    """Raise, in the parent, the error a worker reported with ``error_message``."""
    _, module, name, text, hint, code = message
    cls: type[EdgedeployError] = EdgedeployError
    if module.startswith("edgedeploy."):
        with contextlib.suppress(ImportError, AttributeError):
            found = getattr(importlib.import_module(module), name)
            if isinstance(found, type) and issubclass(found, EdgedeployError):
                cls = found
    try:
        error = cls(text, hint)
    except TypeError:  # a subclass with its own constructor: the base class carries the same line
        error = EdgedeployError(text, hint)
    error.exit_code = ExitCode(code) if code in ExitCode._value2member_map_ else ExitCode.ERROR
    raise error


def _run(conn: Any, function: Callable[..., Any], args: tuple) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    try:
        conn.send(("ok", function(*args)))
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent as one line
        conn.send(error_message(exc))
    finally:
        conn.close()


def call_in_worker(function: Callable[..., Any], *args: Any, timeout: float, what: str) -> Any:
    """``function(*args)`` in a spawned process (both must pickle); its result, or its edgedeploy error.
    ``what`` names the job in WorkerCrashed / WorkerHung ("loading the Edge TPU runtime library")."""
    context = multiprocessing.get_context("spawn")
    parent_end, worker_end = context.Pipe(duplex=False)
    proc = context.Process(
        target=_run, args=(worker_end, function, args), daemon=True, name=f"edgedeploy: {what}"
    )
    try:
        proc.start()
        worker_end.close()
        if not parent_end.poll(timeout):
            raise WorkerHung(f"{what} did not finish within {timeout:g} s and was stopped")
        try:
            message = parent_end.recv()
        except (EOFError, OSError):
            proc.join(5)
            name, cause = describe_death(proc.exitcode)
            raise WorkerCrashed(
                f"{what} crashed the process doing it ({name or 'no signal'}: {cause})", name
            ) from None
        if message[0] == "ok":
            return message[1]
        raise_error(message)
    finally:
        if proc.pid is not None:  # started (a start that failed has nothing to stop)
            if proc.is_alive():
                proc.kill()
            proc.join(5)
        parent_end.close()
