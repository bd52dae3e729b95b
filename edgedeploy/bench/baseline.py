"""``--compare OLD.json --tolerance 0.3``: the median latency of every model and target against a
saved ``bench --json`` result. Slower by more than the tolerance is a regression (its own exit code,
for CI); faster by as much is reported as an improvement. The median is compared because it is the
statistic least moved by the odd slow run on a shared machine."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from edgedeploy.errors import InputError, UsageError

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
    verdict: str  # "regression" | "improvement" | "within tolerance"

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
        return {"baseline": self.baseline, "tolerance": self.tolerance, "deltas": [d.to_dict() for d in self.deltas],
                "regressions": len(self.regressions), "only_new": self.only_new, "only_old": self.only_old,
                "warnings": self.warnings}


def load_baseline(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError as exc:
        raise InputError(f"--compare {path}: no such file") from exc
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"--compare {path}: not a readable JSON file ({exc})") from exc
    if not isinstance(data, dict) or data.get("schema") != SCHEMA or not isinstance(data.get("results"), list):
        raise InputError(f"--compare {path}: not a result of edgedeploy bench --json (schema {SCHEMA})")
    return data


def _p50_by_cell(results: list[dict[str, Any]]) -> dict[tuple[str, str], float]:
    table = {}
    for cell in results:
        latency = cell.get("latency") or {}
        if cell.get("status") == "ok" and isinstance(latency.get("p50_ms"), (int, float)) and latency["p50_ms"] > 0:
            table[(cell["model"], cell["target"])] = float(latency["p50_ms"])
    return table


def compare(current: dict[str, Any], baseline: dict[str, Any], baseline_path: str, tolerance: float) -> Comparison:
    """Compare two ``to_dict()`` results (the current run and the saved one)."""
    if not tolerance >= 0:
        raise UsageError("--tolerance must be 0 or more (0.3 = 30% slower is a regression)")
    new, old = _p50_by_cell(current["results"]), _p50_by_cell(baseline["results"])
    comparison = Comparison(baseline_path, tolerance)
    for key in sorted(new.keys() & old.keys()):
        ratio = new[key] / old[key]
        verdict = ("regression" if ratio > 1 + tolerance else
                   "improvement" if ratio < 1 / (1 + tolerance) else "within tolerance")
        comparison.deltas.append(Delta(key[0], key[1], old[key], new[key], verdict))
    comparison.only_new = [f"{m} on {t}" for m, t in sorted(new.keys() - old.keys())]
    comparison.only_old = [f"{m} on {t}" for m, t in sorted(old.keys() - new.keys())]
    now_env, then_env = current.get("environment", {}), baseline.get("environment", {})
    for key in ENVIRONMENT_KEYS:
        if key in then_env and then_env.get(key) != now_env.get(key):
            comparison.warnings.append(f"baseline {key} was {then_env.get(key)!r}, now {now_env.get(key)!r}: "
                                       "the comparison mixes machines or settings")
    then_method, now_method = baseline.get("method", {}), current.get("method", {})
    for key in METHOD_KEYS:
        if then_method.get(key) != now_method.get(key):
            comparison.warnings.append(f"baseline was measured with {key}={then_method.get(key)!r}, this run with "
                                       f"{key}={now_method.get(key)!r}: latencies are not measured the same way")
    return comparison
