"""Ctrl-C, once or twice, still ends in the promised line and leaves no partial output.

The first SIGINT raises KeyboardInterrupt as usual; every ``finally`` on the way out then removes the
run's staging files. A second Ctrl-C while that cleanup runs would, by Python's default, raise again
inside the cleanup (a traceback, partial files left) and end the process by the signal; here it only
says that cleanup is under way. A third one quits at once (exit 130), for a cleanup that cannot finish.

The notice goes to the terminal's stderr as it was when the command started: while a conversion stage
runs, descriptor 2 points into the stage's log file. A first Ctrl-C can be lost (Python drops an
exception raised while an object's ``__del__`` runs); so a second one long after the first is a new first.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator

INTERRUPTED = 130
CLEANUP_WINDOW_S = 10.0  # a second Ctrl-C within this long of the first meets a cleanup under way
STILL_CLEANING = (
    b"\ninterrupted again: removing this run's partial output first "
    b"(Ctrl-C once more quits at once and may leave it)\n"
)


class _Handler:
    def __init__(self, terminal: int = 2) -> None:
        self.count = 0
        self.first = 0.0
        self.terminal = terminal

    def __call__(self, signum: int, frame: object) -> None:
        now = time.monotonic()
        if self.count == 0 or now - self.first > CLEANUP_WINDOW_S:
            self.count, self.first = 1, now
            raise KeyboardInterrupt
        self.count += 1
        if self.count == 2:
            with contextlib.suppress(OSError):
                os.write(self.terminal, STILL_CLEANING)
            return
        os._exit(INTERRUPTED)


@contextlib.contextmanager
def interrupt_handling() -> Iterator[_Handler]:
    """Install the handler for the duration of one command (main thread only: signals go there);
    ``count`` of the yielded handler says whether Ctrl-C was pressed."""
    if threading.current_thread() is not threading.main_thread():
        yield _Handler()
        return
    try:
        terminal = os.dup(2)
    except OSError:
        terminal = 2
    handler = _Handler(terminal)
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield handler
    finally:
        signal.signal(signal.SIGINT, previous)
        if terminal != 2:
            os.close(terminal)
