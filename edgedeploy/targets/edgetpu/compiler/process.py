"""Run one external process with a hard wall-clock limit and keep everything it printed.

The Edge TPU compiler forks a child for each compilation; a timeout must kill the whole process
group, not just the parent, or the child goes on writing into the output folder. ``on_timeout``
lets the caller stop what the group does not contain (a Docker container).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from edgedeploy.errors import ToolMissingError

GRACE_S = 3.0  # SIGTERM first, then SIGKILL after this long


@dataclass(frozen=True)
class ProcessOutcome:
    argv: list[str]
    returncode: int | None  # None when we killed it
    stdout: str
    stderr: str
    timed_out: bool
    seconds: float


def _decode(data: bytes | None) -> str:
    return (data or b"").decode("utf-8", errors="replace")


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, sig)
        else:  # Windows: no process groups to signal
            proc.kill()


def _stop(proc: subprocess.Popen) -> tuple[bytes, bytes]:
    """Terminate the group, escalate to SIGKILL, and collect what was printed before the end."""
    _signal_group(proc, signal.SIGTERM)
    try:
        return proc.communicate(timeout=GRACE_S)
    except subprocess.TimeoutExpired:
        _signal_group(proc, getattr(signal, "SIGKILL", signal.SIGTERM))
    try:
        return proc.communicate(timeout=GRACE_S)
    except subprocess.TimeoutExpired:  # something outside the group still holds the pipes open
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        proc.wait()
        return b"", b""


def run_bounded(argv: Sequence[str], timeout: float, cwd: Path | None = None,
                on_timeout: Callable[[], None] | None = None) -> ProcessOutcome:
    """Run ``argv`` (a list, never a shell string) for at most ``timeout`` seconds."""
    argv = [str(a) for a in argv]
    started = time.monotonic()
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                cwd=cwd, start_new_session=True)
    except OSError as exc:  # not executable, wrong architecture (Exec format error), vanished
        raise ToolMissingError(f"cannot run {argv[0]}: {exc.strerror or exc}",
                               "the Edge TPU compiler is an x86-64 Linux program") from exc
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        if on_timeout is not None:
            on_timeout()
        out, err = _stop(proc)
    except BaseException:  # Ctrl-C: never leave the compiler running behind us
        if on_timeout is not None:
            on_timeout()
        _stop(proc)
        raise
    return ProcessOutcome(argv=argv, returncode=None if timed_out else proc.returncode, stdout=_decode(out),
                          stderr=_decode(err), timed_out=timed_out, seconds=time.monotonic() - started)
