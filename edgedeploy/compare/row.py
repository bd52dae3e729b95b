"""One row of the study: what convert, check, bench and eval found for one model x alpha x resolution,
or the stage that failed and its error. Every number in a row was measured, counted or parsed here;
what was not measured is None plus a reason, never a placeholder number."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from edgedeploy.bench.result import CellResult
from edgedeploy.bench.stats import LatencyStats
from edgedeploy.compare.accuracy import Accuracy
from edgedeploy.compare.plan import StudyItem
from edgedeploy.targets.contract import EstimateBrief, MappingSummary

OK, FAILED = "ok", "failed"
NOT_EVALUATED = "not evaluated"


@dataclass
class ModelFacts:
    """What the study knows of a row's model, from its conversion's report (the cache's JSON edge):
    every field None until the model converted."""

    name: str | None = None
    params: int | None = None
    params_counted_on: str | None = None  # pytorch model | onnx initializers
    macs: float | None = None
    macs_counted_on: str | None = None  # pytorch model | int8 tflite graph
    resolution: int | None = None
    int8_file: str | None = None
    float32_file: str | None = None
    int8_bytes: int | None = None
    float32_bytes: int | None = None
    int8_ops: int | None = None
    op_histogram: dict[str, int] | None = None
    preprocessing: dict[str, Any] | None = None  # the int8 model's sidecar preprocessing (JSON)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) if self.int8_file else {}


@dataclass
class CacheInfo:
    """Where a row's conversion lives in the study's cache, and whether this run made it."""

    key: str = ""
    dir: str = ""
    hit: bool | None = None  # None: the conversion did not finish
    converted_in: str | None = None  # where a worker or Ray node converted it

    def to_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"key": self.key, "dir": self.dir, "hit": self.hit}
        return found | ({"converted_in": self.converted_in} if self.converted_in else {})


@dataclass(frozen=True)
class StageError:
    """One stage of a row that failed, in one line."""

    stage: str  # convert | check | estimate | bench | eval
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"stage": self.stage, "message": self.message}


@dataclass
class LatencyCell:
    """The int8 model on one target variant (``cpu (2 threads)``), from the bench harness."""

    target: str  # registry name: cpu, coral
    variant: str  # bench's column label
    status: str  # ok | skipped | failed (bench's words)
    reason: str | None = None
    stats: LatencyStats | None = None  # over every timed run of every repeat
    repeat_p50_ms: list[float] = field(default_factory=list)
    spread_relative: float | None = None  # (max - min) / median of the repeats' medians
    spread_level: str | None = None
    samples_ms: list[float] = field(default_factory=list)  # every timed run of every repeat
    load_average_1min: float | None = (
        None  # the machine's load just before this bench: noise context
    )
    inputs: str | None = None  # what was fed, as bench describes it ("random int8 data (seed 0)")

    def ms(self, statistic: str) -> float | None:
        """``p50_ms``, ``p90_ms``, ``mean_ms``, ... of the cell; None when it was not measured."""
        return getattr(self.stats, statistic) if self.stats else None

    @classmethod
    def from_bench(cls, cell: CellResult, load: float | None = None) -> "LatencyCell":
        spread = cell.spread
        return cls(
            target=cell.target_name,
            variant=cell.target,
            status=cell.status,
            reason=cell.reason,
            stats=cell.latency,
            repeat_p50_ms=list(spread.p50_ms) if spread else [],
            spread_relative=spread.relative if spread else None,
            spread_level=spread.level if spread else None,
            samples_ms=[s for repeat in cell.samples_ms for s in repeat],
            load_average_1min=load,
            inputs=cell.inputs,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "variant": self.variant,
            "status": self.status,
            "reason": self.reason,
            "latency": self.stats.to_dict() if self.stats else None,
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
    errors: list[StageError] = field(default_factory=list)  # in order
    cache: CacheInfo = field(default_factory=CacheInfo)
    seconds: dict[str, float] = field(default_factory=dict)  # per stage, this run
    model: ModelFacts = field(default_factory=ModelFacts)
    # The mapped target's predicted mapping (its check capability) and latency estimate (its estimate
    # capability's brief, read once), when a requested target has a check.
    mapping: MappingSummary | None = None
    estimate: EstimateBrief | None = None
    latency: list[LatencyCell] = field(default_factory=list)
    accuracy: Accuracy = field(
        default_factory=lambda: Accuracy.not_evaluated("no --eval folder given")
    )

    @property
    def status(self) -> str:
        return FAILED if self.errors else OK

    @property
    def error(self) -> StageError | None:
        """The first failure (later stages may have failed too; all are in ``errors``)."""
        return self.errors[0] if self.errors else None

    def fail(self, stage: str, message: str) -> None:
        self.errors.append(StageError(stage, message))

    def cell(self, variant: str) -> LatencyCell | None:
        return next((c for c in self.latency if c.variant == variant), None)

    def best_cell(self, target: str) -> LatencyCell | None:
        """The fastest measured variant of ``target`` (by p90) for this row."""
        measured = [c for c in self.latency if c.target == target and c.status == OK and c.stats]
        return min(measured, key=lambda c: c.ms("p90_ms") or 0.0) if measured else None

    def to_dict(self) -> dict[str, Any]:
        item = self.item
        return {
            "label": item.label,
            "spec": item.spec.text,
            "builtin": item.spec.builtin,
            "file": str(item.spec.path) if item.spec.path else None,
            "alpha": item.alpha,
            "resolution": item.resolution or self.model.resolution,
            "weights": item.weights_kind,
            "status": self.status,
            "errors": [e.to_dict() for e in self.errors],
            "cache": self.cache.to_dict(),
            "seconds": self.seconds,
            "model": self.model.to_dict(),
            "mapping": None if self.mapping is None else self.mapping.to_dict(),
            "estimate": None if self.estimate is None else self.estimate.to_dict(),
            "latency": [c.to_dict() for c in self.latency],
            "accuracy": self.accuracy.to_dict(),
        }
