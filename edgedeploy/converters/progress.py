"""A live line per stage (spinner while it runs, time when done) on the terminal's stderr.

The display writes to its own duplicate of the stderr descriptor: while a stage runs, descriptor 2
is redirected into a log file to catch TensorFlow's C++ chatter, and the display must not follow it.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
from collections.abc import Iterator

from rich.console import Console

from edgedeploy.errors import ExitCode

_SAID_BY_THE_ERROR = (ExitCode.USAGE, ExitCode.UNREADABLE_INPUT)


class StageTimer:
    seconds: float = 0.0
    outcome: str | None = (
        None  # set by the stage when it ended without doing its work ("not run: ...")
    )


def private_stderr():
    """A duplicate of the stderr descriptor, unaffected when descriptor 2 is redirected into a log."""
    try:
        return os.fdopen(os.dup(sys.stderr.fileno()), "w", buffering=1)
    except (AttributeError, OSError, io.UnsupportedOperation, ValueError):
        return sys.stderr  # captured (tests, notebooks): no descriptor to duplicate


class StageProgress:
    def __init__(self) -> None:
        self._stream = private_stderr()
        self.console = Console(file=self._stream, highlight=False)

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[StageTimer]:
        timer = StageTimer()
        start = time.perf_counter()
        try:
            with self.console.status(f"[bold]{name}[/bold] ...", spinner="dots"):
                yield timer
        except BaseException as exc:
            timer.seconds = time.perf_counter() - start
            # Bad input or a bad option is said by the error line alone: one line, no stage line.
            if getattr(exc, "exit_code", None) not in _SAID_BY_THE_ERROR:
                self.console.print(f"[red]x[/red] {name:<22} failed after {timer.seconds:.1f} s")
            raise
        timer.seconds = time.perf_counter() - start
        if timer.outcome:
            self.console.print(f"[yellow]-[/yellow] {name:<22} {timer.outcome}")
        else:
            self.console.print(f"[green]v[/green] {name:<22} {timer.seconds:6.1f} s")

    def close(self) -> None:
        if self._stream is not sys.stderr:
            self._stream.close()
