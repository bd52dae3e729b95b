"""One row of the study: what convert, check, bench and eval found for one model x alpha x resolution,
or the stage that failed and its error. Every number in a row was measured, counted or parsed here;
what was not measured is None plus a reason, never a placeholder number."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from edgedeploy.compare.plan import StudyItem
from edgedeploy.targets.contract import MappingSummary

OK, FAILED = "ok", "failed"
NOT_EVALUATED = "not evaluated"


@dataclass
class LatencyCell:
    """The int8 model on one target variant (``cpu (2 threads)``), from the bench harness."""

    target: str  # registry name: cpu, coral
    variant: str  # bench's column label
    status: str  # ok | skipped | failed (bench's words)
    reason: str | None = None
    stats: dict[str, Any] | None = (
        None  # bench's LatencyStats: p50_ms, p90_ms, mean_ms, min_ms, max_ms, ...
    )
    repeat_p50_ms: list[float] = field(default_factory=list)
    spread_relative: float | None = None  # (max - min) / median of the repeats' medians
    spread_level: str | None = None
    samples_ms: list[float] = field(default_factory=list)  # every timed run of every repeat
    load_average_1min: float | None = (
        None  # the machine's load just before this bench: noise context
    )
    inputs: str | None = None  # what was fed, as bench describes it ("random int8 data (seed 0)")

    def ms(self, statistic: str) -> float | None:
        return self.stats.get(statistic) if self.stats else None

    @classmethod
    def from_bench(cls, cell: dict[str, Any], load: float | None = None) -> "LatencyCell":
        spread = cell.get("spread") or {}
        return cls(
            target=cell["target_name"],
            variant=cell["target"],
            status=cell["status"],
            reason=cell.get("reason"),
            stats=cell.get("latency"),
            repeat_p50_ms=list(spread.get("p50_ms") or []),
            spread_relative=spread.get("relative"),
            spread_level=spread.get("level"),
            samples_ms=[s for repeat in cell.get("samples_ms") or [] for s in repeat],
            load_average_1min=load,
            inputs=cell.get("inputs"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "variant": self.variant,
            "status": self.status,
            "reason": self.reason,
            "latency": self.stats,
            "repeat_p50_ms": self.repeat_p50_ms,
            "spread_relative": self.spread_relative,
            "spread_level": self.spread_level,
            "load_average_1min": self.load_average_1min,
            "inputs": self.inputs,
            "samples_ms": self.samples_ms,
        }


@dataclass
class Row:
    item: StudyItem
    errors: list[dict[str, str]] = field(
        default_factory=list
    )  # [{"stage": ..., "message": ...}], in order
    cache: dict[str, Any] = field(default_factory=dict)  # key, hit, dir
    seconds: dict[str, float] = field(default_factory=dict)  # per stage, this run
    model: dict[str, Any] = field(default_factory=dict)  # params, macs (counted), files and sizes
    # The mapped target's predicted mapping (its check capability) and latency estimate (its estimate
    # capability's brief: the JSON edge of another command), when a requested target has a check.
    mapping: MappingSummary | None = None
    estimate: dict[str, Any] | None = None
    latency: list[LatencyCell] = field(default_factory=list)
    accuracy: dict[str, Any] = field(
        default_factory=lambda: {"evaluated": False, "reason": "no --eval folder given"}
    )

    @property
    def status(self) -> str:
        return FAILED if self.errors else OK

    @property
    def error(self) -> dict[str, str] | None:
        """The first failure (later stages may have failed too; all are in ``errors``)."""
        return self.errors[0] if self.errors else None

    def fail(self, stage: str, message: str) -> None:
        self.errors.append({"stage": stage, "message": message})

    def cell(self, variant: str) -> LatencyCell | None:
        return next((c for c in self.latency if c.variant == variant), None)

    def best_cell(self, target: str) -> LatencyCell | None:
        """The fastest measured variant of ``target`` (by p90) for this row."""
        measured = [c for c in self.latency if c.target == target and c.status == OK and c.stats]
        return min(measured, key=lambda c: c.stats["p90_ms"]) if measured else None

    def to_dict(self) -> dict[str, Any]:
        item = self.item
        return {
            "label": item.label,
            "spec": item.spec.text,
            "builtin": item.spec.builtin,
            "file": str(item.spec.path) if item.spec.path else None,
            "alpha": item.alpha,
            "resolution": item.resolution or self.model.get("resolution"),
            "weights": item.weights_kind,
            "status": self.status,
            "errors": self.errors,
            "cache": self.cache,
            "seconds": self.seconds,
            "model": self.model,
            "mapping": None if self.mapping is None else self.mapping.to_dict(),
            "estimate": self.estimate,
            "latency": [c.to_dict() for c in self.latency],
            "accuracy": self.accuracy,
        }
