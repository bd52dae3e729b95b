"""Power and energy of a benchmark: idle baseline once before the runs, then per model and target the
average active power, energy per inference (total and above idle), and with ``--fps`` the average
power at that frame rate. Without a usable meter every figure is "not measured" with the reason."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from edgedeploy.bench.meters import (
    METER_SYNTAX,
    EnergyWindow,
    Meter,
    MeterError,
    MeterUnavailable,
    PowerRecorder,
    measure_idle,
    open_meter,
)

NOT_MEASURED = "not measured"


@dataclass(frozen=True)
class PowerReport:
    status: str  # "measured" | "not measured"
    reason: str | None = None
    meter: str | None = None
    idle_w: float | None = None
    active_w: float | None = (
        None  # average over the measured runs (at --fps F: the power at that rate)
    )
    seconds: float | None = None
    inferences: int | None = None
    energy_per_inference_mj: float | None = None
    energy_above_idle_per_inference_mj: float | None = None
    at_fps: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def power_report(
    window: EnergyWindow, idle_w: float, inferences: int, meter: str, at_fps: float | None
) -> PowerReport:
    """Pure arithmetic on measured numbers: nothing here is modelled or estimated."""
    per_inference = window.joules / inferences * 1e3
    above_idle = (window.joules - idle_w * window.seconds) / inferences * 1e3
    return PowerReport(
        "measured",
        meter=meter,
        idle_w=idle_w,
        active_w=window.watts,
        seconds=window.seconds,
        inferences=inferences,
        energy_per_inference_mj=per_inference,
        energy_above_idle_per_inference_mj=above_idle,
        at_fps=at_fps,
    )


class PowerSession:
    """The meter for a whole bench run (or the reason there is none) and its idle baseline."""

    def __init__(
        self, spec: str | None, idle_seconds: float, opener: Callable[[str], Meter] = open_meter
    ):
        self.spec, self.idle_seconds = spec, idle_seconds
        self.meter: Meter | None = None
        self.idle: EnergyWindow | None = None
        self.reason: str | None = None
        if spec is None:
            self.reason = f"no power meter given (--power {METER_SYNTAX})"
            return
        try:
            self.meter = opener(spec)
        except MeterUnavailable as exc:
            self.reason = f"{spec}: {exc}"

    def _usable_meter(self) -> Meter | None:
        """The meter while it can be read: opened, and no step has failed since."""
        return self.meter if self.reason is None else None

    @property
    def active(self) -> bool:
        return self._usable_meter() is not None

    def measure_baseline(self) -> None:
        meter = self._usable_meter()
        if meter is None:
            return
        try:
            self.idle = measure_idle(meter, self.idle_seconds)
        except MeterError as exc:
            self.reason = f"idle baseline failed: {exc}"

    @contextlib.contextmanager
    def recording(self) -> Iterator[PowerRecorder | None]:
        meter = self._usable_meter()
        if meter is None:
            yield None
            return
        with PowerRecorder(meter) as recorder:
            yield recorder

    def report(
        self, recorder: PowerRecorder | None, inferences: int, at_fps: float | None
    ) -> PowerReport:
        # A recorder exists only while the meter was usable (``recording``), so the meter is set.
        if recorder is None or self.idle is None or self.meter is None:
            return PowerReport(NOT_MEASURED, reason=self.reason or "no idle baseline")
        try:
            window = recorder.window()
        except MeterError as exc:
            return PowerReport(NOT_MEASURED, reason=str(exc), meter=self.meter.description)
        return power_report(window, self.idle.watts, inferences, self.meter.description, at_fps)

    def to_dict(self) -> dict[str, Any]:
        return {
            "meter": self.spec,
            "description": self.meter.description if self.meter else None,
            "status": "measured" if self.active and self.idle else NOT_MEASURED,
            "reason": self.reason,
            "idle_w": self.idle.watts if self.idle else None,
            "idle_seconds": self.idle.seconds if self.idle else None,
        }
