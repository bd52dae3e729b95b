"""``--compare OLD.json --tolerance 0.3``: the median latency of every model and target against a
saved ``bench --json`` result. The median is compared because it is the statistic least moved by the
odd slow run on a shared machine.

The rule (docs/commands/bench.md, Regressions): a change beyond the tolerance is only a verdict when the two runs' repeats
separate it from noise. Each run has the medians of its repeats; the change counts when every repeat
of one run is slower than every repeat of the other (the two ranges do not overlap) and the change is
larger than either run's own spread between repeats. Then: slower -> "regression" (exit 8), faster ->
"improvement". A change beyond the tolerance that fails that test is "inconclusive: noisy" (exit 0,
with what to do); a change within the tolerance is "within tolerance". With one repeat there is nothing
to judge the noise by, and the tolerance alone decides."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from edgedeploy.errors import InputError, UsageError
from edgedeploy.files import BENCH_RESULT, load_json

SCHEMA = "edgedeploy.bench/1"
# Environment fields that make two results incomparable when they differ.
ENVIRONMENT_KEYS = ("cpu_model", "usable_cores", "governor")
# Method fields that change what a latency means (fixed-rate latencies include cold caches, for one).
METHOD_KEYS = ("fps", "images")


@dataclass(frozen=True)
class Delta:
    model: str
    target: str
    old_p50_ms: float
    new_p50_ms: float
    verdict: str  # "regression" | "improvement" | "within tolerance" | "inconclusive: noisy"
    why: str = ""  # for a noisy verdict: what the repeats showed

    @property
    def ratio(self) -> float:
        return self.new_p50_ms / self.old_p50_ms

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio}


@dataclass
class Comparison:
    baseline: str
    tolerance: float
    deltas: list[Delta] = field(default_factory=list)
    only_new: list[str] = field(default_factory=list)  # measured now, not in the baseline
    only_old: list[str] = field(default_factory=list)  # in the baseline, not measured now
    warnings: list[str] = field(default_factory=list)

    @property
    def regressions(self) -> list[Delta]:
        return [d for d in self.deltas if d.verdict == "regression"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline,
            "tolerance": self.tolerance,
            "deltas": [d.to_dict() for d in self.deltas],
            "regressions": len(self.regressions),
            "only_new": self.only_new,
            "only_old": self.only_old,
            "warnings": self.warnings,
        }


def load_baseline(path: Path) -> dict[str, Any]:
    try:  # a FIFO, /dev/zero, a sparse 8 GiB file or a 100,000-deep array: refused, unread
        data = load_json(Path(path), BENCH_RESULT)
    except InputError as exc:
        raise InputError(f"--compare {exc.message}", exc.hint) from None
    if (
        not isinstance(data, dict)
        or data.get("schema") != SCHEMA
        or not isinstance(data.get("results"), list)
    ):
        raise InputError(
            f"--compare {path}: not a result of edgedeploy bench --json (schema {SCHEMA})"
        )
    for index, cell in enumerate(data["results"]):  # a hand-edited or damaged file: say which entry
        if not isinstance(cell, dict) or not all(
            isinstance(cell.get(key), str) for key in ("model", "target", "status")
        ):
            raise InputError(
                f"--compare {path}: results[{index}] is not a bench result (model, target and status "
                "must be text)"
            )
    for key in ("environment", "method"):
        if not isinstance(data.get(key, {}), dict):
            raise InputError(f"--compare {path}: '{key}' is not an object")
    return data


def _positive(value: Any) -> bool:
    """A latency that can be compared: a finite number above 0 (a saved NaN or Infinity cannot)."""
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


@dataclass(frozen=True)
class CellMedians:
    p50_ms: float  # over every sample
    repeat_p50_ms: tuple[float, ...]  # one per repeat

    @property
    def spread(self) -> float:
        """(max - min) / median of the repeat medians: how far this run moved by itself."""
        values = sorted(self.repeat_p50_ms)
        return (
            (values[-1] - values[0]) / self.p50_ms if len(values) > 1 and self.p50_ms > 0 else 0.0
        )


def _medians_by_cell(results: list[dict[str, Any]]) -> dict[tuple[str, str], CellMedians]:
    table = {}
    for cell in results:
        latency = cell.get("latency")
        if not isinstance(latency, dict):
            latency = {}
        if cell.get("status") == "ok" and _positive(latency.get("p50_ms")):
            listed = cell.get("repeats")
            if not isinstance(listed, list):
                listed = []
            repeats = tuple(
                float(r["p50_ms"])
                for r in listed
                if isinstance(r, dict) and _positive(r.get("p50_ms"))
            )
            table[(cell["model"], cell["target"])] = CellMedians(float(latency["p50_ms"]), repeats)
    return table


def judge(old: CellMedians, new: CellMedians, tolerance: float) -> tuple[str, str]:
    """(verdict, why) for one model and target: the rule in this module's docstring."""
    ratio = new.p50_ms / old.p50_ms
    if 1 / (1 + tolerance) <= ratio <= 1 + tolerance:
        return "within tolerance", ""
    direction = "regression" if ratio > 1 else "improvement"
    if len(old.repeat_p50_ms) < 2 or len(new.repeat_p50_ms) < 2:
        return direction, ""
    slower, faster = (new, old) if ratio > 1 else (old, new)
    separated = min(slower.repeat_p50_ms) > max(faster.repeat_p50_ms)
    change = abs(ratio - 1) if ratio > 1 else abs(1 / ratio - 1)
    noise = max(old.spread, new.spread)
    if separated and change > noise:
        return direction, ""
    return "inconclusive: noisy", (
        f"{change:.0%} change, but the repeats' medians "
        + ("overlap" if not separated else f"moved {noise:.0%} within one run")
        + "; re-run both on a quiet machine or with more --repeats"
    )


def compare(
    current: dict[str, Any], baseline: dict[str, Any], baseline_path: str, tolerance: float
) -> Comparison:
    """Compare two ``to_dict()`` results (the current run and the saved one)."""
    if not tolerance >= 0:
        raise UsageError("--tolerance must be 0 or more (0.3 = 30% slower is a regression)")
    new, old = _medians_by_cell(current["results"]), _medians_by_cell(baseline["results"])
    comparison = Comparison(baseline_path, tolerance)
    for key in sorted(new.keys() & old.keys()):
        verdict, why = judge(old[key], new[key], tolerance)
        comparison.deltas.append(
            Delta(key[0], key[1], old[key].p50_ms, new[key].p50_ms, verdict, why)
        )
    comparison.only_new = [f"{m} on {t}" for m, t in sorted(new.keys() - old.keys())]
    comparison.only_old = [f"{m} on {t}" for m, t in sorted(old.keys() - new.keys())]
    now_env, then_env = current.get("environment", {}), baseline.get("environment", {})
    for name in ENVIRONMENT_KEYS:
        if name in then_env and then_env.get(name) != now_env.get(name):
            comparison.warnings.append(
                f"baseline {name} was {then_env.get(name)!r}, now {now_env.get(name)!r}: "
                "the comparison mixes machines or settings"
            )
    then_method, now_method = baseline.get("method", {}), current.get("method", {})
    for name in METHOD_KEYS:
        if then_method.get(name) != now_method.get(name):
            comparison.warnings.append(
                f"baseline was measured with {name}={then_method.get(name)!r}, this run with "
                f"{name}={now_method.get(name)!r}: latencies are not measured the same way"
            )
    return comparison
