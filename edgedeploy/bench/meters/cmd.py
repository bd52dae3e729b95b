"""cmd: a user command that prints a reading with its unit, e.g. a USB power meter's or a lab
supply's CLI. ``W``/``mW`` are instantaneous power; ``J``/``mJ``/``Wh``/``mWh`` a cumulative energy
counter. The last value with a unit in the output is taken. An output that is one bare number and nothing
else is watts (what most meter scripts print); any other reading without a unit is refused rather than
guessed."""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Callable

from edgedeploy.bench.meters.base import (
    ENERGY,
    POWER,
    CounterUnwrapper,
    MeterError,
    MeterKind,
    MeterUnavailable,
)

UNITS: dict[str, tuple[MeterKind, float]] = {
    "W": (POWER, 1.0),
    "mW": (POWER, 1e-3),
    "uW": (POWER, 1e-6),
    "µW": (POWER, 1e-6),
    "J": (ENERGY, 1.0),
    "mJ": (ENERGY, 1e-3),
    "uJ": (ENERGY, 1e-6),
    "µJ": (ENERGY, 1e-6),
    "Wh": (ENERGY, 3600.0),
    "mWh": (ENERGY, 3.6),
}
READING = re.compile(
    r"(?<![\w.])([-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*(mWh|Wh|mW|uW|µW|W|mJ|uJ|µJ|J)(?![A-Za-z])"
)
BARE_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
TIMEOUT_S = 10.0
Runner = Callable[[list[str]], subprocess.CompletedProcess]


def parse_reading(text: str) -> tuple[MeterKind, float]:
    """("power", watts) or ("energy", joules) from the command's output."""
    found = READING.findall(text)
    if not found and BARE_NUMBER.fullmatch(text.strip()):
        return POWER, float(text.strip())  # documented: a bare number is watts
    if not found:
        shown = text.strip().splitlines()[-1][:80] if text.strip() else "nothing"
        raise MeterError(
            f"the power command printed no value with a unit (W, mW, J, mJ, Wh, mWh); it printed: {shown!r}"
        )
    value, unit = found[-1]
    kind, factor = UNITS[unit]
    return kind, float(value) * factor


def _run(argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)


class CmdMeter:
    name = "cmd"
    interval_s = 0.5  # a process per reading; meters behind such commands rarely update faster

    def __init__(self, argv: list[str], runner: Runner = _run):
        self.argv, self._runner = argv, runner
        self.description = f"cmd {shlex.join(argv)}"
        try:
            self.kind, first = self._reading()
        except MeterError as exc:
            raise MeterUnavailable(str(exc)) from exc
        # Energy readings keep microjoule resolution through the counter logic (resets are handled).
        self._counter = CounterUnwrapper(round(first * 1e6), None) if self.kind == ENERGY else None

    @classmethod
    def open(cls, command: str | None, runner: Runner = _run) -> "CmdMeter":
        argv = shlex.split(command or "")
        if not argv:
            raise MeterUnavailable("cmd meter needs a command: --power 'cmd:my-meter --read'")
        return cls(argv, runner)

    def _reading(self) -> tuple[MeterKind, float]:
        try:
            done = self._runner(self.argv)
        except FileNotFoundError as exc:
            raise MeterError(f"power command not found: {self.argv[0]}") from exc
        except subprocess.TimeoutExpired as exc:
            raise MeterError(
                f"power command took more than {TIMEOUT_S:g} s: {shlex.join(self.argv)}"
            ) from exc
        except OSError as exc:
            raise MeterError(f"power command failed to start: {exc}") from exc
        if done.returncode != 0:
            said = (done.stderr or done.stdout or "").strip().splitlines()
            raise MeterError(
                f"power command exited with {done.returncode}"
                + (f": {said[-1][:120]}" if said else "")
            )
        return parse_reading(done.stdout)

    def read(self) -> float:
        kind, value = self._reading()
        if kind != self.kind:
            raise MeterError(f"the power command switched from {self.kind} to {kind} readings")
        if self._counter is not None:
            return self._counter.update(round(value * 1e6)) / 1e6
        return value
