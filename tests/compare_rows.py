"""Compare rows with chosen facts, for the tests of what compare decides and writes from them (the
recommendation, report.md, the overview plot) without converting or measuring anything."""

from __future__ import annotations

from edgedeploy.bench.stats import LatencyStats
from edgedeploy.compare.accuracy import Accuracy
from edgedeploy.compare.plan import build_plan
from edgedeploy.compare.row import LatencyCell, ModelFacts, Row
from edgedeploy.compare.specs import parse_spec
from edgedeploy.targets.contract import MappingSummary


def study_method(specs: list[str], resolution: int, targets: list[str]) -> dict:
    """The method a study records in results.json (what report.md's Method section is written from):
    random inputs and weights, one quick repeat."""
    return {
        "specs": specs,
        "resolutions": [resolution],
        "targets": targets,
        "calibration": "photos",
        "bench_plan": {
            "warmup_runs": 1,
            "warmup_time_s": 0.5,
            "repeats": 1,
            "min_runs": 3,
            "min_time_s": 0,
            "max_time_s": 10,
        },
        "bench_input": "random",
        "weights": "random",
        "cache_dir": "cache",
        "jobs": 1,
    }


def latency_stats(p50: float, p90: float) -> LatencyStats:
    return LatencyStats(10, p50, 0.0, p50, p50, p90, p90, p90, 1000 / p50)


def study_row(
    label: str,
    macs: float,
    size: int,
    p90: float | None = None,
    cpu_ops: int = 0,
    top1: float | None = None,
    failed: bool = False,
    target: str = "cpu",
) -> Row:
    """A compare row of a built-in (mobilenet_v2's plan item, renamed ``label``) with the given facts:
    mapped by a prediction with ``cpu_ops`` of 60 ops on the CPU, a measured p90 on ``target``, a top-1."""
    item = build_plan([parse_spec("mobilenet_v2")], (None,), [], False)[0]
    row = Row(item.__class__(label, item.spec, 1.0, 224))
    row.model = ModelFacts(macs=macs, int8_bytes=size, params=macs // 100)
    row.mapping = MappingSummary(
        "edgetpu", "predicted", "", 60, 60 - cpu_ops, cpu_ops, 0, 1.0, macs, None, None
    )
    if p90 is not None:
        row.latency = [
            LatencyCell(target, f"{target} x", "ok", stats=latency_stats(p50=p90 * 0.9, p90=p90))
        ]
    if top1 is not None:
        row.accuracy = Accuracy(True, images=50, float_top1=top1 + 0.01, int8_top1=top1)
    if failed:
        row.fail("convert", "boom")
    return row
