"""Where the estimate shows up besides `edgedeploy estimate`: bench's skipped Edge TPU row, check's
report, and compare's columns and plot panel - always labelled estimated, never as a measurement."""

from __future__ import annotations

import json

import pytest
from bench_models import QUICK_BENCH

from edgedeploy.errors import ExitCode
from edgedeploy.targets.contract import MappingSummary
from edgedeploy.targets.registry import get_target

QUICK = (*QUICK_BENCH, "--threads", "1")


def _latency_model(test_data, folder: str, name: str):
    return next((test_data / "edgetpu/latency/models").glob(f"{folder}*")) / name


def test_bench_keeps_the_skipped_row_and_adds_the_estimate(cli, test_data):
    rps = _latency_model(test_data, "rps", "rps.tflite")
    result = cli("bench", "--json", "-t", "cpu,coral", *QUICK, rps)
    assert result.code == ExitCode.OK, result
    cells = json.loads(result.out)["results"]
    tpu = next(c for c in cells if c["target_name"] == "edgetpu")
    if tpu["status"] != "skipped":
        pytest.skip("an Edge TPU is attached here: the row is measured, not estimated")
    estimate = tpu["details"]["estimate"]
    assert (
        tpu["latency"] is None
        and estimate["label"] == "estimated"
        and estimate["host"] == "x86-usb3"
    )
    assert estimate["latency_ms_low"] < estimate["latency_ms"] < estimate["latency_ms_high"]
    assert next(c for c in cells if c["target_name"] == "cpu")["details"].get("estimate") is None
    text = " ".join(cli("bench", "-t", "cpu,coral", *QUICK, rps).out.split())
    assert "skipped" in text and "est." in text and "estimated (not measured)" in text


def test_check_prints_the_estimate_and_the_cpu_side_cost(cli, test_data):
    deeplab = _latency_model(test_data, "deeplabv3", "deeplabv3_mnv2_dm05_pascal_quant.tflite")
    result = cli("check", deeplab)
    assert result.code == ExitCode.OPS_ON_CPU, result
    text = " ".join(result.out.split())
    assert "Edge TPU latency on x86-usb3, estimated (not measured):" in text
    assert "ops 64-71 on the CPU: about" in text
    data = json.loads(cli("check", "--json", deeplab).out)
    assert data["estimate"]["label"] == "estimated" and data["estimate"]["cpu_ops_ms"] > 0
    assert json.loads(cli("check", "--json", "--no-estimate", deeplab).out)["estimate"] is None


def test_check_of_a_model_that_will_not_compile_says_why_there_is_no_estimate(cli, tiny_models):
    data = json.loads(cli("check", "--json", tiny_models["dynamic_batch"]).out)
    assert data["estimate"]["error"] and "no latency estimate" in data["estimate"]["lines"][0]


def _row(label: str, estimate: dict | None):
    from edgedeploy.compare.plan import build_plan
    from edgedeploy.compare.row import ModelFacts, Row
    from edgedeploy.compare.specs import parse_spec
    from edgedeploy.targets.contract import EstimateBrief

    item = build_plan([parse_spec("mobilenet_v2")], (None,), [], False)[0]
    row = Row(item.__class__(label, item.spec, 1.0, 224))
    row.model = ModelFacts(macs=300e6, int8_bytes=2**22, params=3_500_000)
    row.mapping = MappingSummary("edgetpu", "predicted", "", 60, 60, 0, 0, 1.0, 300e6, None, None)
    row.estimate = (
        None if estimate is None else EstimateBrief.from_brief(estimate)
    )  # as compare reads it
    return row


def test_compare_columns_csv_and_panel_show_the_estimate_with_its_range():
    from edgedeploy.compare.plots import overview_png
    from edgedeploy.compare.tables import columns, csv_records, terminal_columns

    estimate = {
        "label": "estimated",
        "latency_ms": 2.5,
        "latency_ms_low": 2.0,
        "latency_ms_high": 3.1,
        "host": "x86-usb3",
    }
    rows = [_row("a", estimate), _row("b", {"label": "estimated", "error": "no compiled package"})]
    edgetpu = get_target("edgetpu")
    wide = {c.header: c for c in columns([], edgetpu)}
    assert wide["Edge TPU ms (estimated, range)"].show(rows[0]) == "2.50 (2.00-3.10)"
    assert wide["Edge TPU ms (estimated, range)"].show(rows[1]) == "-"
    assert any(c.header == "TPU ms est.†" for c in terminal_columns([], edgetpu))
    record = csv_records(rows, [], edgetpu)[0]
    assert (
        record["edgetpu_estimated_latency_ms"],
        record["edgetpu_estimated_latency_ms_high"],
    ) == (2.5, 3.1)
    assert overview_png(rows, [], "test", edgetpu).startswith(b"\x89PNG")


def test_estimate_panel_draws_the_range_as_whiskers():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from edgedeploy.compare.plots import estimate_panel

    ax = Figure().subplots()
    estimate_panel(
        ax,
        [
            _row(
                "a",
                {
                    "latency_ms": 2.5,
                    "latency_ms_low": 2.0,
                    "latency_ms_high": 3.1,
                    "host": "x86-usb3",
                },
            )
        ],
        get_target("edgetpu"),
    )
    assert "estimated" in ax.get_title() and [t.get_text() for t in ax.get_yticklabels()] == ["a"]
    assert len(ax.patches) == 1 and ax.patches[0].get_width() == 2.5
    empty = Figure().subplots()
    estimate_panel(empty, [_row("a", None)], get_target("edgetpu"))
    assert [t.get_text() for t in empty.texts] == ["no model was estimated"]
