"""The live display of a study: which model and stage is running, how many are done, and an estimate
of the time left computed from the items finished so far.

The estimate separates conversion time from the rest (check, bench, eval), because a cached item
skips the conversion: remaining = (items still to convert x mean conversion time so far) + (items
left x mean time of the other stages so far). Until one item of each kind finished there is no basis,
and the display says so rather than guessing.

The display writes to its own duplicate of the stderr descriptor: conversions redirect descriptor 2
into a log file (TensorFlow's C++ chatter), and the display must stay on the terminal meanwhile.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from edgedeploy.converters.progress import private_stderr


@dataclass
class Timing:
    """Seconds spent per finished item: conversion (0 when cached) and everything else."""

    convert: list[float] = field(default_factory=list)
    other: list[float] = field(default_factory=list)


def estimate_remaining(timing: Timing, to_convert: int, left: int) -> float | None:
    """Seconds left, or None while there is nothing to base it on."""
    if left == 0:
        return 0.0
    if not timing.other or (to_convert and not timing.convert):
        return None
    convert = sum(timing.convert) / len(timing.convert) if timing.convert else 0.0
    return to_convert * convert + left * sum(timing.other) / len(timing.other)


def describe_remaining(seconds: float | None) -> str:
    if seconds is None:
        return "time left: estimated after the first model"
    if seconds < 90:
        return f"~{seconds:.0f} s left (estimate)"
    return f"~{seconds / 60:.0f} min left (estimate)"


class StudyProgress:
    """``with StudyProgress(total, to_convert) as p: p.start_item(label, cached); p.stage("bench") ...``"""

    def __init__(self, total: int, to_convert: int, clock: Callable[[], float] = time.monotonic):
        self._stream = private_stderr()
        self.console = Console(file=self._stream, highlight=False)
        self.timing, self.clock = Timing(), clock
        self.to_convert, self.left = to_convert, total
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(bar_width=20),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("[dim]{task.fields[eta]}"),
            console=self.console,
            transient=True,
        )
        self._task = self._progress.add_task("starting", total=total, eta=describe_remaining(None))
        self._item, self._started, self._cached = "", 0.0, False

    def __enter__(self) -> "StudyProgress":
        self._progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self._progress.stop()
        if self._stream is not sys.stderr:
            self._stream.close()

    def start_conversions(self, count: int, where: str) -> None:
        """Conversions run elsewhere first (worker processes, Ray); rows are then benched here."""
        self._converting, self._converted, self._where = count, 0, where
        self._progress.update(self._task, description=self._conversion_text())

    def _conversion_text(self) -> str:
        return (
            f"[bold]converting[/bold] {self._converted} of {self._converting} done "
            f"[dim]({escape(self._where)}; benchmarks start when all are done)[/dim]"
        )

    def conversion_done(self, label: str, seconds: float, error: str | None) -> None:
        self._converted += 1
        self.to_convert = max(0, self.to_convert - 1)
        if error:
            line = f"[red]x[/red] {escape(label)}: conversion failed: {escape(error)}"
        else:
            self.timing.convert.append(seconds)
            line = f"[green]v[/green] {escape(label)}: converted in {seconds:.1f} s"
        self._progress.update(self._task, description=self._conversion_text())
        self._progress.console.print(line, highlight=False)

    def start_item(self, label: str, cached: bool) -> None:
        self._item, self._started, self._cached = label, self.clock(), cached
        self.stage("convert (cached)" if cached else "convert")

    def stage(self, name: str, detail: str = "") -> None:
        text = f"[bold]{escape(self._item)}[/bold] · {escape(name)}" + (
            f" [dim]{escape(detail)}[/dim]" if detail else ""
        )
        self._progress.update(self._task, description=text)

    def finish_item(self, convert_seconds: float, converted: bool, outcome: str) -> None:
        total = self.clock() - self._started
        if converted:
            self.timing.convert.append(convert_seconds)
        self.timing.other.append(max(0.0, total - convert_seconds))
        self.to_convert -= 0 if self._cached else 1
        self.left -= 1
        remaining = estimate_remaining(self.timing, max(self.to_convert, 0), self.left)
        self._progress.update(self._task, advance=1, eta=describe_remaining(remaining))
        self._progress.console.print(outcome, highlight=False)
