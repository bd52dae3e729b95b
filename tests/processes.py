"""What the tests that start process trees (workers, Ray nodes) check is left when they end."""

from __future__ import annotations

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
