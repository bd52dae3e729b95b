"""Ctrl-C, once or twice, still ends in the promised line and leaves no partial output.

The first SIGINT raises KeyboardInterrupt as usual; every ``finally`` on the way out then removes the
run's staging files. A second Ctrl-C while that cleanup runs would, by Python's default, raise again
inside the cleanup (a traceback, partial files left) and end the process by the signal; here it only
says that cleanup is under way. A third one quits at once (exit 130), for a cleanup that cannot finish.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator

INTERRUPTED = 130
STILL_CLEANING = (b"\ninterrupted again: removing this run's partial output first "
                  b"(Ctrl-C once more quits at once and may leave it)\n")


class _Handler:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, signum: int, frame: object) -> None:
        self.count += 1
        if self.count == 1:
            raise KeyboardInterrupt
        if self.count == 2:
            os.write(2, STILL_CLEANING)
            return
        os._exit(INTERRUPTED)


@contextlib.contextmanager
def interrupt_handling() -> Iterator[None]:
    """Install the handler for the duration of one command (main thread only: signals go there)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, _Handler())
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
