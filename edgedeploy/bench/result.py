"""The result of ``edgedeploy bench``: one cell per model and target variant, plus how it was measured.

``to_dict()`` is the documented JSON schema (``schema: edgedeploy.bench/1``), keeps every latency
sample, and is what ``--compare`` reads back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.console import Console

from edgedeploy.bench.baseline import SCHEMA, Comparison
from edgedeploy.bench.power import PowerReport
from edgedeploy.bench.stats import LatencyStats, RepeatSpread
from edgedeploy.errors import ExitCode

OK, SKIPPED, FAILED = "ok", "skipped", "failed"


@dataclass
class CellResult:
    model: str  # row: the model's name (a compiled twin shares its source's row)
    target: str  # column: the variant label, e.g. "cpu (2 threads)"
    target_name: str  # registry name: "cpu", "coral"
    status: str = OK
    reason: str | None = None
    model_path: str | None = None  # the file that ran on this target
    model_size_bytes: int | None = None
    quantization: str | None = None
    inputs: str | None = None
    load_ms: float | None = None
    first_inference_ms: float | None = None  # on the Edge TPU this includes uploading the model
    warmup_runs: int | None = None
    latency: LatencyStats | None = None  # over all samples of all repeats
    repeats: list[LatencyStats] = field(default_factory=list)
    spread: RepeatSpread | None = None
    capped: bool = False
    fixed_rate: dict[str, Any] | None = None
    power: PowerReport | None = None
    details: dict[str, Any] = field(default_factory=dict)
    samples_ms: list[list[float]] = field(default_factory=list)  # every sample, per repeat

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "target": self.target,
            "target_name": self.target_name,
            "status": self.status,
            "reason": self.reason,
            "model_path": self.model_path,
            "model_size_bytes": self.model_size_bytes,
            "quantization": self.quantization,
            "inputs": self.inputs,
            "load_ms": self.load_ms,
            "first_inference_ms": self.first_inference_ms,
            "warmup_runs": self.warmup_runs,
            "latency": self.latency.to_dict() if self.latency else None,
            "repeats": [r.to_dict() for r in self.repeats],
            "spread": self.spread.to_dict() if self.spread else None,
            "capped_by_max_time": self.capped,
            "fixed_rate": self.fixed_rate,
            "power": self.power.to_dict() if self.power else None,
            "details": self.details,
            "samples_ms": self.samples_ms,
        }


@dataclass
class TargetStatus:
    name: str
    variants: list[str]
    available: bool
    reason: str | None
    details: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "variants": self.variants,
            "available": self.available,
            "reason": self.reason,
            "details": self.details,
        }


@dataclass
class BenchResult:
    environment: dict[str, Any]
    method: dict[str, Any]
    power: dict[str, Any]
    targets: list[TargetStatus]
    models: list[dict[str, Any]]
    cells: list[CellResult]
    warnings: list[str] = field(default_factory=list)
    comparison: Comparison | None = None

    @property
    def measured(self) -> list[CellResult]:
        return [c for c in self.cells if c.status == OK]

    @property
    def exit_code(self) -> ExitCode:
        if not self.measured and not any(t.available for t in self.targets):
            return ExitCode.TARGET_UNAVAILABLE
        if any(c.status == FAILED for c in self.cells):
            return ExitCode.ERROR
        if (
            self.power.get("meter")
            and self.measured
            and any(
                c.power is None or c.power.status != "measured"
                for c in self.cells
                if c.status == "ok"
            )
        ):
            return ExitCode.ERROR  # a meter was asked for and gave nothing: not a success
        if self.comparison is not None and self.comparison.regressions:
            return ExitCode.REGRESSION
        return ExitCode.OK

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "environment": self.environment,
            "method": self.method,
            "power": self.power,
            "targets": [t.to_dict() for t in self.targets],
            "models": self.models,
            "results": [c.to_dict() for c in self.cells],
            "warnings": self.warnings,
            "comparison": self.comparison.to_dict() if self.comparison else None,
            "exit_code": int(self.exit_code),
        }

    def render(self, console: Console) -> None:
        from edgedeploy.bench.render import render_bench

        render_bench(self, console)
