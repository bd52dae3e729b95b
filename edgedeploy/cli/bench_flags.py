"""Measurement options shared by `edgedeploy bench` and `edgedeploy compare`: one method, one definition."""

from __future__ import annotations

import typer

from edgedeploy.errors import UsageError
from edgedeploy.machine import available_cores

MIN_RUNS = typer.Option(50, "--min-runs", help="At least this many timed runs per repeat.")
MIN_TIME = typer.Option(1.0, "--min-time", help="At least this many seconds per repeat.")
MAX_TIME = typer.Option(150.0, "--max-time", help="At most this many seconds per repeat.")
REPEATS = typer.Option(3, "--repeats", help="Repeat the measurement to show run-to-run spread.")


def thread_counts(text: str | None) -> tuple[int, ...] | None:
    """'4', '1,4' or 'all' -> thread counts, in order, without repeats; None when not given."""

    if text is None:
        return None
    counts = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        if part == "all":
            counts.append(available_cores())
        elif part.isdigit() and int(part) > 0:
            counts.append(int(part))
        else:
            raise UsageError(f"--threads {text!r}: give thread counts like 4 or 1,4 (or 'all')")
    return tuple(dict.fromkeys(counts)) or None
