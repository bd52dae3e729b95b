"""Run one external process with a hard wall-clock limit and keep everything it printed.

The Edge TPU compiler forks a child for each compilation; a timeout must kill the whole process
group, not just the parent, or the child goes on writing into the output folder. ``on_timeout``
lets the caller stop what the group does not contain (a Docker container).

What the process prints goes straight into files, not pipes: a process that floods its output
(100 MB and more) costs disk, not memory, can never block on a full pipe, and a grandchild that keeps
a pipe open cannot make us wait past the limit. The caller gets each as text, at most its first
``PARSED_BYTES`` and last ``TAIL_BYTES`` (all a real compiler prints is a few KiB); the files keep all of it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from edgedeploy.errors import OutputError, ToolMissingError

GRACE_S = 3.0  # SIGTERM first, then SIGKILL after this long
PARSED_BYTES = 8 * 1024 * 1024  # of each stream, read back for the parser from its start ...
TAIL_BYTES = 1024 * 1024  # ... and from its end


@dataclass(frozen=True)
class ProcessOutcome:
    argv: list[str]
    returncode: int | None  # None when we killed it; negative: killed by that signal
    stdout: str  # what it printed; past PARSED_BYTES + TAIL_BYTES, the first and the last of it
    stderr: str
    timed_out: bool
    seconds: float
    stdout_bytes: int = 0  # how much it really printed
    stderr_bytes: int = 0

    @property
    def truncated(self) -> bool:
        return max(self.stdout_bytes, self.stderr_bytes) > PARSED_BYTES + TAIL_BYTES

    @property
    def signal_name(self) -> str | None:
        """``SIGSEGV`` when the process died by a signal it did not catch."""
        if self.returncode is None or self.returncode >= 0:
            return None
        try:
            return signal.Signals(-self.returncode).name
        except ValueError:
            return f"signal {-self.returncode}"


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, sig)
        else:  # Windows: no process groups to signal
            proc.kill()


def _stop(proc: subprocess.Popen) -> None:
    """Terminate the group, escalate to SIGKILL, and reap the process."""
    _signal_group(proc, signal.SIGTERM)
    try:
        proc.wait(timeout=GRACE_S)
    except subprocess.TimeoutExpired:
        _signal_group(proc, getattr(signal, "SIGKILL", signal.SIGTERM))
        proc.wait()
    # The leader is gone; children that ignored SIGTERM die with the group's SIGKILL too.
    _signal_group(proc, getattr(signal, "SIGKILL", signal.SIGTERM))


def _read_excerpt(handle: BinaryIO) -> tuple[str, int]:
    """The stream as text: whole when it is small, else its first PARSED_BYTES and its last TAIL_BYTES
    (a flood in the middle cannot hide how the run ended), from a line start on."""
    handle.flush()
    size = os.fstat(handle.fileno()).st_size
    handle.seek(0)
    if size <= PARSED_BYTES + TAIL_BYTES:
        return handle.read().decode("utf-8", errors="replace"), size
    head = handle.read(PARSED_BYTES)
    handle.seek(size - TAIL_BYTES)
    tail = handle.read(TAIL_BYTES)
    tail = tail[tail.find(b"\n") + 1 :]
    return (head + b"\n" + tail).decode("utf-8", errors="replace"), size


@contextlib.contextmanager
def _capture(path: Path | None):
    """The file a stream goes to: ``path`` (kept) or an anonymous temporary file."""
    try:
        handle = open(path, "w+b") if path is not None else tempfile.TemporaryFile()
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    with handle:
        yield handle


def run_bounded(
    argv: Sequence[str],
    timeout: float,
    cwd: Path | None = None,
    on_timeout: Callable[[], None] | None = None,
    stdout_path: Path | None = None,
    stderr_path: Path | None = None,
) -> ProcessOutcome:
    """Run ``argv`` (a list, never a shell string) for at most ``timeout`` seconds; its output goes to
    ``stdout_path`` / ``stderr_path`` when given (kept whole), else to temporary files."""
    argv = [str(a) for a in argv]
    started = time.monotonic()
    with _capture(stdout_path) as out, _capture(stderr_path) as err:
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                cwd=cwd,
                start_new_session=True,
            )
        except OSError as exc:  # not executable, wrong architecture (Exec format error), vanished
            raise ToolMissingError(
                f"cannot run {argv[0]}: {exc.strerror or exc}",
                "the Edge TPU compiler is an x86-64 Linux program",
            ) from exc
        timed_out = False
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            if on_timeout is not None:
                on_timeout()
            _stop(proc)
        except BaseException:  # Ctrl-C: never leave the compiler running behind us
            if on_timeout is not None:
                on_timeout()
            _stop(proc)
            raise
        stdout, stdout_bytes = _read_excerpt(out)
        stderr, stderr_bytes = _read_excerpt(err)
    return ProcessOutcome(
        argv=argv,
        returncode=None if timed_out else proc.returncode,
        stdout=stdout,
        stderr=stderr,
        timed_out=timed_out,
        seconds=time.monotonic() - started,
        stdout_bytes=stdout_bytes,
        stderr_bytes=stderr_bytes,
    )
