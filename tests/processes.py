"""What the tests that start process trees (workers, Ray nodes) check is left when they end."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path


def session_processes(sid: int) -> list[int]:
    """Processes still alive in the session ``sid`` (a study and its workers, a Ray node and its
    children), zombies excluded."""
    alive = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid and fields[0] != "Z":
                alive.append(int(entry.name))
    return alive


def stop_session(leader: subprocess.Popen) -> None:
    """Stop what a test started - ``leader`` (a Ray head or node started in its own session) and every
    process of its session - by id: TERM, then KILL for whatever is still there after 20 s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in session_processes(leader.pid):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 20
        while session_processes(leader.pid) and time.monotonic() < deadline:
            time.sleep(0.5)
    leader.wait(10)
