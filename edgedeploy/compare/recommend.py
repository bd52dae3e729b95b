"""``--recommend``: name the best model of the study under the user's constraints, and say why.

Definition of "best" (also printed with every recommendation):

1. Candidates are the rows that converted, checked and (when a latency limit is given) have a latency
   on the recommendation target. For an accelerator with a check (the mapped target) a model must
   also be predicted to map every op: an op that falls back to the CPU drags everything after it
   onto the host.
2. Constraints: ``--max-latency-ms`` bounds the p90 latency (MLPerf single-stream's statistic) of the
   fastest measured variant of the target. Without a device the mapped target has no measurement; its
   latency is then its ``estimate`` capability's (the upper end of its range, so a model is not kept on the strength
   of an optimistic guess) and every sentence that uses it says "estimated". ``--max-size-mb`` bounds
   the int8 file size in MiB (2^20 bytes). A ruled-out model lists every limit it breaks.
3. Among the candidates, the best is the one with the highest int8 top-1 accuracy when every candidate
   was evaluated (``--eval``). Without accuracy for all of them, the one with the most MACs stands in
   for "most capable" (within a MobileNet family more width and resolution buy accuracy); this is a
   proxy and the recommendation says so. Ties go to the lower p90 latency, then the smaller file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from edgedeploy.compare.row import OK, Row

MIB = 2**20
DEFINITION = (
    "best = highest int8 top-1 accuracy among the models that meet the constraints when all were "
    "evaluated; otherwise the most MACs (a stand-in for capacity, not a measured accuracy); "
    "ties: lower p90 latency, then smaller file"
)


@dataclass(frozen=True)
class Constraints:
    target: str
    max_latency_ms: float | None = None
    max_size_mb: float | None = None  # MiB of the int8 .tflite file

    def describe(self) -> str:
        parts = [f"target {self.target}"]
        if self.max_latency_ms is not None:
            parts.append(f"p90 latency <= {self.max_latency_ms:g} ms")
        if self.max_size_mb is not None:
            parts.append(f"int8 file <= {self.max_size_mb:g} MiB")
        return ", ".join(parts)


@dataclass
class Recommendation:
    constraints: Constraints
    chosen: str | None = None
    why: list[str] = field(default_factory=list)
    ranked_by: str = ""
    runner_up: str | None = None
    ruled_out: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        c = self.constraints
        return {
            "target": c.target,
            "max_latency_ms": c.max_latency_ms,
            "max_size_mb": c.max_size_mb,
            "definition": DEFINITION,
            "chosen": self.chosen,
            "why": self.why,
            "ranked_by": self.ranked_by,
            "runner_up": self.runner_up,
            "ruled_out": self.ruled_out,
        }


@dataclass(frozen=True)
class Latency:
    p90_ms: float
    p50_ms: float | None
    where: str  # the variant measured, or "estimated for <host>"
    estimated: bool


def _heading(target: str) -> str:
    from edgedeploy.targets.registry import get_target

    return get_target(target).column_name


def _latency(row: Row, target: str) -> Latency | None:
    """The measured p90 on ``target``; without a measurement on the mapped target, the estimate's
    upper end."""
    cell = row.best_cell(target)
    if cell is not None and cell.stats is not None:  # best_cell returns measured cells only
        return Latency(cell.stats.p90_ms, cell.stats.p50_ms, cell.variant, False)
    mapped_here = row.mapping is not None and row.mapping.target == target
    estimate = row.estimate if mapped_here else None
    if estimate is not None and estimate.latency_ms_high is not None:
        return Latency(
            estimate.latency_ms_high,
            estimate.latency_ms,
            f"upper end of the estimate for {estimate.host}",
            True,
        )
    return None


def _broken_limits(row: Row, c: Constraints, target_reason: str | None) -> list[str]:
    """Every reason ``row`` cannot be recommended under ``c``; empty when it is a candidate."""
    if row.status != OK:
        return [f"failed at {row.error.stage if row.error else 'an unknown stage'}"]
    broken = []
    m = row.mapping
    if m is not None and m.target == c.target and m.cpu_ops:
        broken.append(f"{m.cpu_ops} of {m.total_ops} ops predicted to fall back to the CPU")
    latency = _latency(row, c.target)
    if c.max_latency_ms is not None:
        if latency is None:
            broken.append(
                f"latency not measured on {c.target}"
                + (f" ({target_reason})" if target_reason else "")
            )
        elif latency.p90_ms > c.max_latency_ms:
            where = f"estimated ({latency.where})" if latency.estimated else f"on {latency.where}"
            broken.append(f"p90 {latency.p90_ms:.3g} ms {where} > {c.max_latency_ms:g} ms")
    size = row.model.int8_bytes or 0  # set once the row converted (status OK)
    if c.max_size_mb is not None and size > c.max_size_mb * MIB:
        broken.append(f"int8 file {size / MIB:.2f} MiB > {c.max_size_mb:g} MiB")
    return broken


def _sort_key(row: Row, target: str, by_accuracy: bool) -> tuple:
    latency = _latency(row, target)
    merit = (row.accuracy.int8_top1 or 0.0) if by_accuracy else (row.model.macs or 0)
    return (-merit, latency.p90_ms if latency else float("inf"), row.model.int8_bytes or 0)


def _reasons(row: Row, c: Constraints, by_accuracy: bool, count: int) -> list[str]:
    why = []
    if by_accuracy:
        why.append(
            f"highest int8 top-1 ({row.accuracy.int8_top1:.1%} on {row.accuracy.images} images; "
            f"float {row.accuracy.float_top1:.1%}) of the {count} models that meet the constraints"
        )
    else:
        why.append(
            f"most MACs ({(row.model.macs or 0) / 1e6:.1f} M) of the {count} models that meet the constraints; "
            "accuracy was not evaluated for all of them, so MACs stand in for capacity (run with --eval "
            "and real weights for a measured ranking)"
        )
    latency = _latency(row, c.target)
    limit = f" (limit {c.max_latency_ms:g} ms)" if c.max_latency_ms is not None else ""
    if latency is not None and not latency.estimated:
        why.append(
            f"p90 latency {latency.p90_ms:.3g} ms, median {latency.p50_ms:.3g} ms on {latency.where}{limit}"
        )
    elif latency is not None:
        why.append(
            f"latency estimated, not measured: {latency.p50_ms:.3g} ms, at most {latency.p90_ms:.3g} ms "
            f"({latency.where}){limit}"
        )
    else:
        why.append(f"latency on {c.target} was not measured here")
    limit = f" (limit {c.max_size_mb:g} MiB)" if c.max_size_mb is not None else ""
    why.append(f"int8 file {(row.model.int8_bytes or 0) / MIB:.2f} MiB{limit}")
    if row.mapping is not None:
        m = row.mapping
        why.append(
            f"{_heading(m.target)} (predicted): {m.mapped_ops} of {m.total_ops} ops, "
            f"{(m.mapped_mac_share or 0):.0%} of MACs"
        )
    return why


def recommend(
    rows: list[Row], constraints: Constraints, target_reason: str | None = None
) -> Recommendation:
    result = Recommendation(constraints)
    candidates = []
    for row in rows:
        broken = _broken_limits(row, constraints, target_reason)
        if not broken:
            candidates.append(row)
        else:
            result.ruled_out.append({"model": row.item.label, "reason": "; ".join(broken)})
    if not candidates:
        result.why = [f"no model of the study meets {constraints.describe()}"]
        return result
    by_accuracy = all(r.accuracy.evaluated for r in candidates)
    result.ranked_by = "int8 top-1 accuracy" if by_accuracy else "MACs (accuracy not evaluated)"
    ranked = sorted(candidates, key=lambda r: _sort_key(r, constraints.target, by_accuracy))
    result.chosen = ranked[0].item.label
    result.runner_up = ranked[1].item.label if len(ranked) > 1 else None
    result.why = _reasons(ranked[0], constraints, by_accuracy, len(candidates))
    return result
