"""The one measuring loop for every target (TFLite benchmark_model / MLPerf single-stream method).

Warm-up: at least ``warmup_runs`` and ``warmup_time_s``. Then each repeat runs at least ``min_runs``
and ``min_time_s``, capped by ``max_time_s``, keeping every sample. Only ``invoke()`` is inside the
timed region; feeding the next input (``feed``) is outside it. The clock and sleep are injectable so
the stopping rules are tested exactly.

Fixed-rate mode (``fps``) models a camera with a one-frame buffer: frame k is due at start + k/fps;
the loop sleeps until the next frame is due, and when an inference overruns, the frames that arrived
meanwhile are dropped except the newest, which is processed at once.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from edgedeploy.errors import UsageError

Clock = Callable[[], int]  # nanoseconds


@dataclass(frozen=True)
class MeasurePlan:
    min_runs: int = 50
    min_time_s: float = 1.0
    max_time_s: float = 150.0
    warmup_runs: int = 1
    warmup_time_s: float = 0.5
    repeats: int = 3
    fps: float | None = None  # fixed-rate mode when set

    def validate(self) -> "MeasurePlan":
        checks = [
            (self.min_runs >= 1, "--min-runs must be 1 or more"),
            (self.min_time_s >= 0, "--min-time must be 0 or more seconds"),
            (self.max_time_s > 0, "--max-time must be more than 0 seconds"),
            (self.max_time_s >= self.min_time_s, "--max-time must not be below --min-time"),
            (
                self.warmup_runs >= 1,
                "--warmup-runs must be 1 or more (the first run is never measured)",
            ),
            (self.warmup_time_s >= 0, "--warmup-time must be 0 or more seconds"),
            (self.repeats >= 1, "--repeats must be 1 or more"),
            (
                self.fps is None or (math.isfinite(self.fps) and self.fps > 0),
                "--fps must be a frame rate above 0 (e.g. --fps 30)",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise UsageError(message)
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Measurement:
    """One repeat: every latency sample (ns) and how the run ended."""

    samples_ns: list[int] = field(default_factory=list)
    wall_ns: int = 0
    capped: bool = False  # --max-time ended it before --min-runs and --min-time were met
    target_fps: float | None = None
    dropped_frames: int = 0

    @property
    def achieved_fps(self) -> float:
        return len(self.samples_ns) * 1e9 / self.wall_ns if self.wall_ns else 0.0


def _timed(invoke: Callable[[], None], clock: Clock) -> tuple[int, int]:
    start = clock()
    invoke()
    return start, clock()


def warm_up(
    invoke: Callable[[], None],
    plan: MeasurePlan,
    feed: Callable[[], None] | None = None,
    clock: Clock = time.perf_counter_ns,
) -> list[int]:
    samples: list[int] = []
    end = clock() + int(plan.warmup_time_s * 1e9)
    while True:
        if feed is not None:
            feed()
        start, stop = _timed(invoke, clock)
        samples.append(stop - start)
        if len(samples) >= plan.warmup_runs and stop >= end:
            return samples


def measure(
    invoke: Callable[[], None],
    plan: MeasurePlan,
    feed: Callable[[], None] | None = None,
    clock: Clock = time.perf_counter_ns,
) -> Measurement:
    """Back-to-back inference until min runs and min time are both met, or max time is reached."""
    samples: list[int] = []
    append = samples.append
    begin = clock()
    min_end, max_end = begin + int(plan.min_time_s * 1e9), begin + int(plan.max_time_s * 1e9)
    min_runs = plan.min_runs
    while True:
        if feed is not None:
            feed()
        start = clock()
        invoke()
        stop = clock()
        append(stop - start)
        if (len(samples) >= min_runs and stop >= min_end) or stop >= max_end:
            break
    met = len(samples) >= min_runs and stop >= min_end
    return Measurement(samples, stop - begin, capped=not met)


def measure_fixed_rate(
    invoke: Callable[[], None],
    plan: MeasurePlan,
    feed: Callable[[], None] | None = None,
    clock: Clock = time.perf_counter_ns,
    sleep: Callable[[float], None] = time.sleep,
) -> Measurement:
    """Invoke at ``plan.fps`` frames per second; the same stopping rules count processed frames."""
    assert plan.fps is not None
    period = 1e9 / plan.fps
    result = Measurement(target_fps=plan.fps)
    begin = clock()
    min_end, max_end = begin + int(plan.min_time_s * 1e9), begin + int(plan.max_time_s * 1e9)
    frame = 0
    while True:
        due = begin + int(frame * period)
        now = clock()
        if now < due:
            sleep((due - now) / 1e9)
        if feed is not None:
            feed()
        start, stop = _timed(invoke, clock)
        result.samples_ns.append(stop - start)
        newest = int((stop - begin) // period)  # the newest frame the camera has delivered by now
        following = max(frame + 1, newest)
        result.dropped_frames += following - frame - 1
        frame = following
        if (len(result.samples_ns) >= plan.min_runs and stop >= min_end) or stop >= max_end:
            break
    # The run lasts until the next frame would have been due (or the last inference ended, if later).
    result.wall_ns = max(stop, begin + int(frame * period)) - begin
    result.capped = not (len(result.samples_ns) >= plan.min_runs and stop >= min_end)
    return result
