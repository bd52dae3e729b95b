"""Ending a process that has loaded TensorFlow or PyTorch without waiting for their teardown.

After the last result is written, the interpreter's finalization still tears both frameworks down: about
3 s here (measured: a process that converted one MobileNet ends 2.8 s after its last line of Python).
Nothing in that teardown is ours, so such a process ends with ``os._exit`` once what was registered with
``atexit`` (Ray's shutdown, temporary directories, logging, multiprocessing's children) has run.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
from typing import NoReturn

FRAMEWORKS = ("tensorflow", "torch")  # the imports whose teardown is worth skipping


def flush_and_exit(code: int) -> NoReturn:
    """End the process now, with what is buffered on stdout and stderr written out."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed pipe (| head) has nothing left to say
            stream.flush()
    os._exit(code)


def end_process(code: int) -> NoReturn:
    """``sys.exit(code)``, minus the frameworks' teardown when one is loaded. Only when no other Python
    thread could still be working: the interpreter would have waited for it, ``os._exit`` would not."""
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if others or not any(name in sys.modules for name in FRAMEWORKS):
        sys.exit(code)
    atexit._run_exitfuncs()  # the handlers, in the order the interpreter would run them
    flush_and_exit(code)
