"""Latency statistics: one pure function from raw samples, the same for every target and every use.

Percentiles use linear interpolation between closest ranks (numpy's default), std is the sample
standard deviation, FPS is single-stream throughput (1000 / mean latency in ms).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

NS_PER_MS = 1e6
# Run-to-run spread of the median (max - min over the median of repeats) -> how far to trust a difference.
NOISE_LEVELS = (
    (0.02, "steady"),
    (0.05, "some noise"),
    (0.15, "noisy"),
    (float("inf"), "very noisy"),
)


@dataclass(frozen=True)
class LatencyStats:
    count: int
    mean_ms: float
    std_ms: float
    min_ms: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    fps: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize(samples_ns: Sequence[int]) -> LatencyStats:
    """Statistics of latency samples given in nanoseconds."""
    if len(samples_ns) == 0:
        raise ValueError("no latency samples to summarize")
    ms = np.asarray(samples_ns, dtype=np.float64) / NS_PER_MS
    p50, p90, p99 = np.percentile(ms, [50, 90, 99])
    mean = float(ms.mean())
    return LatencyStats(
        count=int(ms.size),
        mean_ms=mean,
        std_ms=float(ms.std(ddof=1)) if ms.size > 1 else 0.0,
        min_ms=float(ms.min()),
        p50_ms=float(p50),
        p90_ms=float(p90),
        p99_ms=float(p99),
        max_ms=float(ms.max()),
        fps=1000.0 / mean if mean > 0 else float("inf"),
    )


@dataclass(frozen=True)
class RepeatSpread:
    """How much the median moved between repeats of the same measurement."""

    p50_ms: tuple[float, ...]
    relative: float  # (max - min) / median of the per-repeat medians; 0 with one repeat

    @property
    def level(self) -> str:
        if len(self.p50_ms) < 2:
            return "unknown (one repeat)"
        return next(label for limit, label in NOISE_LEVELS if self.relative < limit)

    def to_dict(self) -> dict[str, Any]:
        return {"p50_ms": list(self.p50_ms), "relative": self.relative, "level": self.level}


def repeat_spread(repeats: Sequence[LatencyStats]) -> RepeatSpread:
    medians = tuple(stat.p50_ms for stat in repeats)
    if len(medians) < 2:
        return RepeatSpread(medians, 0.0)
    center = float(np.median(medians))
    return RepeatSpread(medians, (max(medians) - min(medians)) / center if center > 0 else 0.0)
