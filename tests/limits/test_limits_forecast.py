"""The fast analysis of `edgedeploy limits` forecasts the int8 TFLite graph from ONNX shapes: held here to
what real conversions of the built-ins produced (op by op, with versions and shapes), and to the Edge TPU
analysis `check` made of them (tests/data/limits/converted.json)."""

from __future__ import annotations

import json
from functools import cache

import pytest

from edgedeploy.limits.forecast import forecast
from edgedeploy.limits.source import ScanSource
from edgedeploy.targets.edgetpu.predict.analysis import analyse
from edgedeploy.targets.edgetpu.predict.rules import load_rules
from tests.conftest import DATA

RECORDED = json.loads((DATA / "limits" / "converted.json").read_text())["conversions"]
# Two families add no op kind the others lack: checked with the slow tests, to keep the fast ones lean.
EXTRA = {"mobilenet_edgetpu", "mobilenet_v3_large_minimal"}
CASES = [
    pytest.param(
        r,
        marks=[pytest.mark.slow] if r["model"] in EXTRA else [],
        id=f"{r['model']}_{r['alpha']}_{r['resolution']}",
    )
    for r in RECORDED
]
CLASSIFIER_BIAS = (
    1000 * 4
)  # int32 bias of the 1000-class classifier: the converter drops it when it is all zero


@cache
def _skeleton(model: str, alpha: float):
    return ScanSource(model, True).skeleton(alpha)


@pytest.mark.parametrize("recorded", CASES)
def test_forecast_is_the_graph_the_converter_wrote(recorded):
    skeleton = _skeleton(recorded["model"], recorded["alpha"])
    size = recorded["resolution"]
    predicted = forecast(skeleton.at_size(size, size), skeleton.image.name)
    graph = predicted.graph
    assert predicted.gaps == []
    ops = [[op.opcode, op.version, list(graph.tensors[op.outputs[0]].shape)] for op in graph.ops]
    assert ops == recorded["ops"]
    summary = analyse(graph, load_rules(), "forecast").summary
    for key, value in recorded["summary"].items():
        if key == "param_bytes_tpu":
            assert 0 <= getattr(summary, key) - value <= CLASSIFIER_BIAS, key
        else:
            assert getattr(summary, key) == value, key


def test_odd_and_even_sizes_differ_as_the_converter_does():
    """Even sizes at stride 2 need TensorFlow's SAME padding fixed with a PAD op; odd ones do not."""
    skeleton = _skeleton("mobilenet_v2", 1.0)
    even = forecast(skeleton.at_size(96, 96), "input").graph.op_histogram()
    odd = forecast(skeleton.at_size(97, 97), "input").graph.op_histogram()
    assert even.get("PAD", 0) == 5 and odd.get("PAD", 0) == 0
    assert {k: v for k, v in even.items() if k != "PAD"} == odd
