"""Our prediction held against what the real compiler did, per operator type.

The compiler reports counts per (operator type, status), not per operator, so the comparison is by
type: how many of each type we predicted on the Edge TPU / on the CPU, and how many the compiler
mapped / left. Every type where the numbers differ is a disagreement, listed with both sides'
reasons: that list is what improves the rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from edgedeploy.targets.edgetpu.compiler.log import CompilerOutput


@dataclass(frozen=True)
class PredictedOp:
    op: str
    on_tpu: bool
    reason: str = ""  # why not on the TPU, or why it is risky (empty when predicted to map plainly)


@dataclass(frozen=True)
class OpComparison:
    op: str
    predicted_tpu: int
    predicted_cpu: int
    compiler_tpu: int
    compiler_cpu: int
    predicted_reasons: tuple[str, ...] = ()
    compiler_statuses: tuple[str, ...] = ()

    @property
    def agrees(self) -> bool:
        return (self.predicted_tpu, self.predicted_cpu) == (self.compiler_tpu, self.compiler_cpu)

    def explain(self) -> str:
        ours = f"predicted {self.predicted_tpu} on the Edge TPU / {self.predicted_cpu} on the CPU"
        theirs = f"compiler mapped {self.compiler_tpu} / left {self.compiler_cpu} on the CPU"
        why = []
        if self.predicted_reasons:
            why.append("we said: " + "; ".join(self.predicted_reasons))
        if self.compiler_statuses:
            why.append("compiler said: " + "; ".join(self.compiler_statuses))
        return f"{self.op}: {ours}, {theirs}" + (f" ({' | '.join(why)})" if why else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "op": self.op,
            "predicted": {"tpu": self.predicted_tpu, "cpu": self.predicted_cpu},
            "compiler": {"tpu": self.compiler_tpu, "cpu": self.compiler_cpu},
            "agrees": self.agrees,
            "predicted_reasons": list(self.predicted_reasons),
            "compiler_statuses": list(self.compiler_statuses),
        }


@dataclass
class Comparison:
    rows: list[OpComparison] = field(default_factory=list)
    unavailable: str | None = None  # why there is no comparison (no prediction, no operator table)

    @property
    def disagreements(self) -> list[OpComparison]:
        return [row for row in self.rows if not row.agrees]

    def to_dict(self) -> dict[str, Any]:
        return {
            "available": self.unavailable is None,
            "unavailable_reason": self.unavailable,
            "rows": [r.to_dict() for r in self.rows],
            "disagreements": [r.op for r in self.disagreements],
        }


def compare(predicted: Iterable[PredictedOp], compiler: CompilerOutput) -> Comparison:
    if not compiler.operators:
        return Comparison(unavailable="the compiler gave no operator table to compare with")
    ours: dict[str, list[PredictedOp]] = {}
    for prediction in predicted:
        ours.setdefault(prediction.op, []).append(prediction)
    theirs = compiler.op_counts()
    statuses: dict[str, list[str]] = {}
    for row in compiler.operators:
        if not row.mapped:
            statuses.setdefault(row.op, []).append(f"{row.count}x {row.status}")
    rows = []
    for op in sorted(set(ours) | set(theirs)):
        mine = ours.get(op, [])
        reasons = tuple(dict.fromkeys(p.reason for p in mine if p.reason))
        counts = theirs.get(op, {"tpu": 0, "cpu": 0})
        rows.append(
            OpComparison(
                op,
                sum(p.on_tpu for p in mine),
                sum(not p.on_tpu for p in mine),
                counts["tpu"],
                counts["cpu"],
                reasons,
                tuple(statuses.get(op, ())),
            )
        )
    return Comparison(rows=rows)
