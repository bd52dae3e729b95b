"""A row's latency estimate is a typed EstimateBrief, read once from the target's brief: compare's JSON
keeps the brief's document as it was, and the table, CSV and recommendation read the typed fields."""

from __future__ import annotations

import csv
import io
import json

import pytest
from compare_rows import study_method

from edgedeploy.compare.export import to_csv, to_markdown
from edgedeploy.compare.plan import build_plan
from edgedeploy.compare.result import CompareResult
from edgedeploy.compare.row import ModelFacts, Row
from edgedeploy.compare.specs import parse_spec
from edgedeploy.compare.stages import estimated
from edgedeploy.targets.contract import EstimateBrief, MappingSummary
from edgedeploy.targets.registry import DEFAULT_TARGET, call_capability

METHOD = study_method(["mobilenet_v1"], 128, ["cpu", DEFAULT_TARGET])


@pytest.fixture
def model(edgetpu_models):
    return edgetpu_models / "mobilenet_v1_0.25_128_quant.tflite"


def test_the_brief_is_typed_and_reads_back_from_its_json(model):
    typed = call_capability(DEFAULT_TARGET, "estimate", model).brief()
    assert isinstance(typed, EstimateBrief)
    assert typed.estimated and typed.latency_ms_low <= typed.latency_ms <= typed.latency_ms_high
    saved = json.loads(json.dumps(typed.to_dict()))  # as results.json keeps it
    assert saved["label"] == "estimated" and saved["host"] == typed.host
    assert saved["lines"] == list(typed.lines) and saved["clock"] == typed.details["clock"]
    assert EstimateBrief.from_brief(saved) == typed
    assert estimated(model, DEFAULT_TARGET) == typed  # what compare's stage keeps


def test_a_failed_estimate_keeps_its_error_and_no_number():
    failed = EstimateBrief.failed("not a full-int8 model")
    assert not failed.estimated and failed.to_dict() == {
        "label": "estimated",
        "error": "not a full-int8 model",
    }
    assert EstimateBrief.from_brief(failed.to_dict()) == EstimateBrief(
        error="not a full-int8 model"
    )


def test_tables_and_csv_read_the_typed_estimate(model, tmp_path):
    item = build_plan([parse_spec("mobilenet_v2")], (None,), [], False)[0]
    row = Row(item.__class__("mnv1", item.spec, 0.25, 128))
    row.model = ModelFacts(macs=14e6, int8_bytes=model.stat().st_size, params=0)
    row.mapping = MappingSummary(
        DEFAULT_TARGET, "predicted", "maps", 31, 31, 0, 0, 1.0, 14, None, False
    )
    row.estimate = EstimateBrief(1.5, 1.2, 1.9, "x86-usb3", details={"clock": "max"})
    targets = [
        {"name": n, "available": True, "reason": None, "variants": []} for n in METHOD["targets"]
    ]
    result = CompareResult([row], targets, METHOD, tmp_path)
    assert "| 1.50 (1.20-1.90) |" in to_markdown(result)
    (record,) = csv.DictReader(io.StringIO(to_csv(result)))
    prefix = result.mapped.name
    assert float(record[f"{prefix}_estimated_latency_ms_high"]) == 1.9
    assert record[f"{prefix}_estimated_host"] == "x86-usb3"
    assert row.to_dict()["estimate"]["clock"] == "max"  # the target's own facts stay in the JSON
