"""The study table as data: one list of columns (header + how to show a row) used by the terminal,
report.md and report.html alike, so the three never disagree. results.csv has raw numbers instead."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from edgedeploy.compare.row import NOT_EVALUATED, OK, Row
from edgedeploy.report import fmt_bytes, fmt_count, fmt_ms
from edgedeploy.targets.contract import EstimateBrief, TargetSpec


@dataclass(frozen=True)
class Column:
    header: str
    show: Callable[[Row], str]
    numeric: bool = True


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _mapped_ops(row: Row) -> str:
    m = row.mapping
    if m is None or m.mapped_ops is None:
        return "-"
    return f"{m.mapped_ops}/{m.total_ops}"


def _mapped_macs(row: Row) -> str:
    return _share(row.mapping.mapped_mac_share if row.mapping else None)


def _latency(variant: str) -> Callable[[Row], str]:
    def show(row: Row) -> str:
        cell = row.cell(variant)
        if cell is None:
            return "-"
        if cell.status != OK:
            return cell.status
        spread = (
            f" ±{cell.spread_relative / 2:.0%}"
            if cell.spread_relative is not None and len(cell.repeat_p50_ms) > 1
            else ""
        )
        return f"{fmt_ms(cell.ms('p50_ms'))}{spread}"

    return show


def estimate_of(row: Row) -> EstimateBrief | None:
    """The mapped target's estimated latency for the row's int8 model, when there is one."""
    return row.estimate if row.estimate is not None and row.estimate.estimated else None


def _estimated(row: Row) -> str:
    e = estimate_of(row)
    if e is None:
        return "-"
    return f"{fmt_ms(e.latency_ms)} ({fmt_ms(e.latency_ms_low)}-{fmt_ms(e.latency_ms_high)})"


def _accuracy(key: str) -> Callable[[Row], str]:
    def show(row: Row) -> str:
        if not row.accuracy.evaluated:
            return NOT_EVALUATED
        return f"{getattr(row.accuracy, key):.1%}"

    return show


def status_text(row: Row) -> str:
    if row.status == OK:
        return "ok (cached)" if row.cache.hit else "ok"
    first = row.error
    more = f" (+{len(row.errors) - 1} more)" if len(row.errors) > 1 else ""
    return f"failed at {first.stage}: {first.message}{more}" if first else "failed"


def short_status(row: Row) -> str:
    """The terminal's status cell; the errors themselves are listed under the table."""
    if row.status == OK:
        return "cached" if row.cache.hit else "ok"
    return "FAILED"


def _headers(mapped: TargetSpec | None) -> dict[str, str]:
    """The mapped target's columns: wide header -> narrow header, named by the target itself."""
    if mapped is None:
        return {}
    name, short = mapped.column_name, mapped.short_name
    headers = {
        f"{name} ops (pred.)": f"{short} ops*",
        f"MACs on {short} (pred.)": f"{short} MACs*",
    }
    if mapped.has("estimate"):
        headers[f"{name} ms (estimated, range)"] = f"{short} ms est.†"
    return headers


def columns(variants: list[str], mapped: TargetSpec | None = None) -> list[Column]:
    """The table's columns; ``mapped``: the target whose check (and estimate) the rows carry."""
    headers = list(_headers(mapped))  # none, or the ops and MACs headers and maybe the estimate's
    ops, macs, estimated = (headers[0], headers[1], headers[2:]) if headers else (None, None, [])
    return [
        Column("model", lambda r: r.item.label, numeric=False),
        Column("params", lambda r: fmt_count(r.model.params)),
        Column("MACs", lambda r: fmt_count(r.model.macs)),
        Column("int8 size", lambda r: fmt_bytes(r.model.int8_bytes)),
        *([Column(ops, _mapped_ops), Column(macs, _mapped_macs)] if ops and macs else []),
        *[Column(f"{v} p50 ms", _latency(v)) for v in variants],
        *[Column(header, _estimated) for header in estimated],
        Column("top-1 float", _accuracy("float_top1")),
        Column("top-1 int8", _accuracy("int8_top1")),
        Column("status", status_text, numeric=False),
    ]


def _both_accuracies(row: Row) -> str:
    if not row.accuracy.evaluated:
        return NOT_EVALUATED
    return f"{row.accuracy.float_top1:.1%} / {row.accuracy.int8_top1:.1%}"


def terminal_columns(variants: list[str], mapped: TargetSpec | None = None) -> list[Column]:
    """The same table, narrower: short headers, both accuracies in one column, errors listed below it."""
    wide = {c.header: c for c in columns(variants, mapped)}
    short = {"int8 size": "int8", **_headers(mapped)}
    kept = [
        Column(short.get(h, h), c.show, c.numeric)
        for h, c in wide.items()
        if h not in ("top-1 float", "top-1 int8", "status")
    ]
    return kept + [
        Column("top-1 float / int8", _both_accuracies),
        Column("status", short_status, numeric=False),
    ]


ESTIMATE_NOTE = (
    "estimated by edgedeploy estimate for its default host profile (named in results.csv), not "
    "measured; the range is the method's own validation error"
)
LATENCY_NOTE = (
    "latency: median (p50) of every timed run of the int8 model; ± is half the spread of the "
    "repeats' medians (run-to-run noise)"
)


def csv_name(variant: str) -> str:
    """A column-name prefix a spreadsheet or pandas takes without quoting: "cpu (2 threads)" -> "cpu_2_threads"."""
    return re.sub(r"[^a-z0-9]+", "_", variant.lower()).strip("_")


def csv_records(
    rows: list[Row], variants: list[str], mapped: TargetSpec | None = None
) -> list[dict[str, Any]]:
    """One flat record per row with raw numbers (ms, bytes, fractions) for spreadsheets; the mapped
    target's columns are prefixed with its name."""
    records = []
    for row in rows:
        acc = row.accuracy
        record = {
            "model": row.item.label,
            "spec": row.item.spec.text,
            "alpha": row.item.alpha,
            "resolution": row.model.resolution or row.item.resolution,
            "weights": row.item.weights_kind,
            "status": row.status,
            "error": status_text(row) if row.status != OK else "",
            "params": row.model.params,
            "macs": row.model.macs,
            "int8_bytes": row.model.int8_bytes,
            "float32_bytes": row.model.float32_bytes,
        }
        if mapped is not None:
            m, name = row.mapping, mapped.name
            record.update(
                {
                    f"{name}_total_ops": m.total_ops if m else None,
                    f"{name}_mapped_ops": m.mapped_ops if m else None,
                    f"{name}_cpu_ops": m.cpu_ops if m else None,
                    f"{name}_mac_share": m.mapped_mac_share if m else None,
                    f"{name}_first_cut_op": m.first_cut_op if m else None,
                }
            )
            if mapped.has("estimate"):
                estimate = estimate_of(row)
                record.update(
                    {
                        f"{name}_estimated_{key}": getattr(estimate, key, None)
                        for key in ("latency_ms", "latency_ms_low", "latency_ms_high", "host")
                    }
                )
        for variant in variants:
            cell, prefix = row.cell(variant), csv_name(variant)
            for stat in ("p50_ms", "p90_ms", "mean_ms", "min_ms", "max_ms"):
                record[f"{prefix}_{stat}"] = cell.ms(stat) if cell else None
            record[f"{prefix}_spread"] = cell.spread_relative if cell else None
            record[f"{prefix}_status"] = cell.status if cell else None
        # numeric columns hold numbers or nothing; why there is none is a column of its own
        record.update(
            float_top1=acc.float_top1,
            int8_top1=acc.int8_top1,
            accuracy_status="evaluated" if acc.evaluated else (acc.reason or NOT_EVALUATED),
            eval_images=acc.images,
            cache_hit=row.cache.hit,
        )
        records.append(record)
    return records
