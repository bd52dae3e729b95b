"""`edgedeploy compare --recommend`: the rules that pick one model from the study's rows (within the
size, latency and mapping limits; accuracy first when every row has it; the Edge TPU's estimate when
there is no device, said so)."""

from __future__ import annotations

from compare_rows import study_row

from edgedeploy.compare.recommend import Constraints, recommend
from edgedeploy.targets.contract import EstimateBrief


def test_recommend_without_accuracy_takes_the_most_macs_within_limits():
    rows = [
        study_row("small", 50e6, 2**20, p90=3.0),
        study_row("big", 300e6, 4 * 2**20, p90=12.0),
        study_row("mid", 150e6, 3 * 2**20, p90=7.0),
        study_row("broken", 0, 0, failed=True),
    ]
    rec = recommend(rows, Constraints("cpu", max_latency_ms=10, max_size_mb=3.5))
    assert rec.chosen == "mid" and rec.runner_up == "small" and "MACs" in rec.ranked_by
    assert any("p90 latency 7 ms" in why for why in rec.why) and any(
        "stand in" in why for why in rec.why
    )
    assert {r["model"]: r["reason"] for r in rec.ruled_out} == {
        "big": "p90 12 ms on cpu x > 10 ms; int8 file 4.00 MiB > 3.5 MiB",  # every limit it breaks
        "broken": "failed at convert",
    }


def test_recommend_with_accuracy_for_all_prefers_accuracy_then_latency():
    rows = [
        study_row("a", 300e6, 2**20, p90=5.0, top1=0.70),
        study_row("b", 50e6, 2**20, p90=2.0, top1=0.72),
        study_row("c", 40e6, 2**20, p90=1.0, top1=0.72),
    ]
    rec = recommend(rows, Constraints("cpu"))
    assert (
        rec.chosen == "c" and rec.ranked_by == "int8 top-1 accuracy"
    )  # tie on accuracy: lower latency
    assert rec.why[0].startswith("highest int8 top-1 (72.0%")


def test_recommend_for_coral_needs_full_mapping_and_a_measurement_when_latency_is_bounded():
    rows = [study_row("v3", 60e6, 2**20, cpu_ops=40), study_row("minimal", 50e6, 2**20)]
    rec = recommend(rows, Constraints("edgetpu"))
    assert rec.chosen == "minimal" and rec.ruled_out == [
        {"model": "v3", "reason": "40 of 60 ops predicted to fall back to the CPU"}
    ]
    assert any("not measured here" in why for why in rec.why)
    bounded = recommend(
        rows, Constraints("edgetpu", max_latency_ms=5), target_reason="no Edge TPU found"
    )
    assert bounded.chosen is None and "no model of the study meets" in bounded.why[0]
    assert bounded.ruled_out[1]["reason"] == "latency not measured on edgetpu (no Edge TPU found)"


def test_recommend_for_the_edge_tpu_without_a_device_uses_the_estimate_and_says_so():
    rows = [
        study_row("v3", 60e6, 2**20, cpu_ops=40),
        study_row("minimal", 50e6, 2**20),
        study_row("wide", 90e6, 6 * 2**20),
    ]
    for row, (mid, high) in zip(rows, ((9.0, 12.0), (2.0, 2.6), (3.0, 3.9))):
        row.estimate = EstimateBrief(mid, mid * 0.8, high, "x86-usb3")
    rec = recommend(
        rows,
        Constraints("edgetpu", max_latency_ms=3.0, max_size_mb=4),
        target_reason="no Edge TPU found",
    )
    assert rec.chosen == "minimal"
    assert any(
        why.startswith("latency estimated, not measured: 2 ms, at most 2.6 ms") for why in rec.why
    )
    reasons = {r["model"]: r["reason"] for r in rec.ruled_out}
    assert reasons["v3"] == (
        "40 of 60 ops predicted to fall back to the CPU; "
        "p90 12 ms estimated (upper end of the estimate for x86-usb3) > 3 ms"
    )
    assert reasons["wide"] == (
        "p90 3.9 ms estimated (upper end of the estimate for x86-usb3) > 3 ms; "
        "int8 file 6.00 MiB > 4 MiB"
    )
