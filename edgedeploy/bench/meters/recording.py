"""Recording a meter over a stretch of time: an idle baseline, or the measured inference runs.

A background thread reads the meter every ``interval_s`` (RAPL needs that anyway to catch counter
wrap-around). Energy meters give joules as last minus first reading; power meters are integrated
with the trapezoid rule. The thread sleeps between readings, so it barely competes with inference.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from edgedeploy.bench.meters.base import ENERGY, Meter, MeterError


@dataclass(frozen=True)
class EnergyWindow:
    seconds: float
    joules: float
    readings: int

    @property
    def watts(self) -> float:
        return self.joules / self.seconds if self.seconds > 0 else float("nan")


def integrate(kind: str, readings: list[tuple[float, float]]) -> EnergyWindow:
    """Joules over (time s, value) readings: a counter's increase, or the trapezoid rule on watts."""
    if len(readings) < 2:
        raise MeterError("the run was too short for two meter readings; raise --min-time")
    seconds = readings[-1][0] - readings[0][0]
    if kind == ENERGY:
        joules = readings[-1][1] - readings[0][1]
    else:
        joules = sum(
            (t1 - t0) * (w0 + w1) / 2 for (t0, w0), (t1, w1) in zip(readings, readings[1:])
        )
    return EnergyWindow(seconds, joules, len(readings))


class PowerRecorder:
    """``with PowerRecorder(meter) as rec: ...`` then ``rec.window()`` (MeterError if a reading failed)."""

    def __init__(self, meter: Meter, clock: Callable[[], float] = time.perf_counter):
        self.meter, self._clock = meter, clock
        self._readings: list[tuple[float, float]] = []
        self._error: MeterError | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _take(self) -> bool:
        try:
            self._readings.append((self._clock(), self.meter.read()))
            return True
        except MeterError as exc:
            self._error = self._error or exc
            return False

    def _loop(self) -> None:
        while not self._stop.wait(self.meter.interval_s) and self._take():
            pass

    def __enter__(self) -> "PowerRecorder":
        if self._take():
            self._thread = threading.Thread(target=self._loop, name="edgedeploy-power", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            if self._error is None:
                self._take()

    def window(self) -> EnergyWindow:
        if self._error is not None:
            raise self._error
        return integrate(self.meter.kind, self._readings)


def measure_idle(
    meter: Meter, seconds: float, sleep: Callable[[float], None] = time.sleep
) -> EnergyWindow:
    with PowerRecorder(meter) as recorder:
        sleep(seconds)
    return recorder.window()
