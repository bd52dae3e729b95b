"""Files a bench run can write: ``--csv`` (one row per model and target, summary columns) and
``--save`` (the full JSON, every sample, for ``--compare`` later). Written atomically."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from edgedeploy.outputs import atomic_write_text
from edgedeploy.report import envelope_json

LATENCY_COLUMNS = (
    "count",
    "mean_ms",
    "std_ms",
    "min_ms",
    "p50_ms",
    "p90_ms",
    "p99_ms",
    "max_ms",
    "fps",
)
POWER_COLUMNS = (
    "idle_w",
    "active_w",
    "energy_per_inference_mj",
    "energy_above_idle_per_inference_mj",
)
COLUMNS = (
    (
        "model",
        "target",
        "status",
        "reason",
        "model_path",
        "model_size_bytes",
        "quantization",
        "load_ms",
        "first_inference_ms",
    )
    + LATENCY_COLUMNS
    + (
        "repeats",
        "spread_relative",
        "capped_by_max_time",
        "target_fps",
        "achieved_fps",
        "dropped_frames",
        "power_status",
    )
    + POWER_COLUMNS
)


def csv_row(cell: dict[str, Any]) -> dict[str, Any]:
    latency, power, rate = (
        cell.get("latency") or {},
        cell.get("power") or {},
        cell.get("fixed_rate") or {},
    )
    row = {key: cell.get(key) for key in COLUMNS if key in cell}
    row.update({key: latency.get(key) for key in LATENCY_COLUMNS})
    row.update({key: power.get(key) for key in POWER_COLUMNS})
    row.update(
        repeats=len(cell.get("repeats") or []),
        spread_relative=(cell.get("spread") or {}).get("relative"),
        target_fps=rate.get("target_fps"),
        achieved_fps=rate.get("achieved_fps"),
        dropped_frames=rate.get("dropped_frames"),
        power_status=power.get("status"),
    )
    return row


def to_csv(data: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for cell in data["results"]:
        writer.writerow(
            {key: "" if value is None else value for key, value in csv_row(cell).items()}
        )
    return buffer.getvalue()


def write_csv(data: dict[str, Any], path: Path) -> None:
    atomic_write_text(path, to_csv(data))


def write_json(data: dict[str, Any], path: Path) -> None:
    atomic_write_text(path, envelope_json("bench", data))
