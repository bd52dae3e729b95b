"""The int8 graph convert produces is pinned: the operators, their options, every tensor's shape, dtype
and quantization parameters, and the constants' bytes are those recorded in
tests/data/int8_graph_pins.json (written by tests/int8_pins.py before the TensorFlow -> TFLite stage
was made faster). A speed-up of the conversion must not change the model."""

import json

import pytest
from int8_pins import CASES, PINS_FILE, convert_case, graph_signature

pytestmark = pytest.mark.slow


def first_difference(expected, actual, where: str = "") -> str | None:
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted(set(expected) | set(actual)):
            found = first_difference(expected.get(key), actual.get(key), f"{where}.{key}")
            if found:
                return found
        return None
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return f"{where}: {len(expected)} entries pinned, {len(actual)} now"
        for index, (e, a) in enumerate(zip(expected, actual)):
            found = first_difference(e, a, f"{where}[{index}]")
            if found:
                return found
        return None
    return None if expected == actual else f"{where}: pinned {expected!r}, now {actual!r}"


def test_first_difference_names_the_place():
    assert first_difference({"ops": [{"op": "ADD"}]}, {"ops": [{"op": "ADD"}]}) is None
    assert (
        first_difference({"ops": [{"op": "ADD"}]}, {"ops": [{"op": "MUL"}]})
        == ".ops[0].op: pinned 'ADD', now 'MUL'"
    )
    assert "2 entries pinned, 1 now" in first_difference({"ops": [1, 2]}, {"ops": [1]})


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_int8_graph_is_the_pinned_one(case, tmp_path):
    pinned = json.loads(PINS_FILE.read_text())[case[0]]
    actual = graph_signature(convert_case(case, tmp_path / case[0]))
    assert [op["op"] for op in actual["ops"]] == [op["op"] for op in pinned["ops"]]
    assert first_difference(pinned, actual) is None, first_difference(pinned, actual)
