"""Every field of an I/O sidecar is checked for its type, a finite number and an allowed value before
anything trusts it (issue 20): an impossible value is exit 4 naming the field, never a ``nan`` in
verify's table and a "departs from float" exit 8."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from edgedeploy.deploy import sidecar
from edgedeploy.errors import ExitCode, InputError

DATA = Path(__file__).resolve().parents[1] / "data"
SEEDS = DATA / "fuzz" / "seeds"
MODEL = SEEDS / "tiny_cnn_hardswish_int8.tflite"
DOCUMENT = json.loads((SEEDS / "tiny_cnn_hardswish_int8.json").read_text())
NAN, INF = float("nan"), float("inf")


def _with_labels(doc: dict) -> dict:
    doc["labels"] = {
        "source": "labels.txt",
        "offset": 0,
        "count": 10,
        "offset_note": "output N is line N of the file",
        "names": [f"class {i}" for i in range(10)],
    }
    return doc


def _set(doc: dict, path: tuple, value) -> dict:
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


BAD_FIELDS = [
    (
        ("preprocessing", "normalize", "mean", 1),
        -INF,
        "'preprocessing.normalize.mean[1]' is not a finite number",
    ),
    (
        ("preprocessing", "normalize", "mean", 0),
        NAN,
        "'preprocessing.normalize.mean[0]' is not a finite number",
    ),
    (
        ("preprocessing", "normalize", "std", 2),
        INF,
        "'preprocessing.normalize.std[2]' is not a finite number",
    ),
    (
        ("preprocessing", "normalize", "std", 2),
        "1",
        "'preprocessing.normalize.std[2]' must be a number",
    ),
    (("outputs", 0, "dequantize"), NAN, "'outputs[0].dequantize' is NaN"),
    (("outputs", 0, "scale"), NAN, "'outputs[0].scale' is not a finite number"),
    (("outputs", 0, "activation"), "relu", "'outputs[0].activation' is \"relu\""),
    (("input", "scale"), -INF, "'input.scale' is not a finite number"),
    (("input", "scale"), -0.5, "'input.scale' must be positive"),
    (("labels", "offset"), NAN, "'labels.offset' is not a finite number"),
    (("labels", "offset"), 1.5, "'labels.offset' must be int"),
    (("labels", "count"), 9, "'labels.count' is 9 but labels.names holds 10"),
    (("labels", "names", 3), None, "'labels.names[3]' must be str"),
    (("preprocessing", "crop", "mode"), None, "'preprocessing.crop.mode' must be str, not null"),
    (
        ("preprocessing", "crop", "mode"),
        "left",
        "'preprocessing.crop.mode' is \"left\", not one of center",
    ),
    (("preprocessing", "normalize", "units"), "x", "'preprocessing.normalize.units' is \"x\""),
    (
        ("preprocessing", "resize", "interpolation"),
        "cubic-ish",
        "'preprocessing.resize.interpolation'",
    ),
    (
        ("preprocessing", "resize", "short_side"),
        NAN,
        "'preprocessing.resize.short_side' must be int",
    ),
    (("preprocessing", "normalize", "origin"), 3, "'preprocessing.normalize.origin' must be str"),
    (("files", "onnx"), 1, "'files.onnx' must be str"),
]


@pytest.mark.parametrize(
    "path, value, says",
    BAD_FIELDS,
    ids=[".".join(map(str, c[0])) + "=" + repr(c[1]) for c in BAD_FIELDS],
)
def test_an_impossible_value_is_an_input_error_naming_the_field(tmp_path, path, value, says):
    shutil.copy(MODEL, tmp_path / MODEL.name)
    doc = _set(_with_labels(json.loads(json.dumps(DOCUMENT))), path, value)
    (tmp_path / "tiny_cnn_hardswish_int8.json").write_text(
        json.dumps(doc)
    )  # NaN/Infinity as JSON writes them
    with pytest.raises(InputError) as raised:
        sidecar.load_for(tmp_path / MODEL.name)
    assert says in raised.value.message, raised.value.message
    assert raised.value.exit_code == ExitCode.UNREADABLE_INPUT and "\n" not in raised.value.message


def test_the_written_document_and_its_labels_are_accepted(tmp_path):
    shutil.copy(MODEL, tmp_path / MODEL.name)
    doc = _with_labels(json.loads(json.dumps(DOCUMENT)))
    (tmp_path / "tiny_cnn_hardswish_int8.json").write_text(json.dumps(doc))
    loaded, _ = sidecar.load_for(tmp_path / MODEL.name)
    assert (
        loaded.labels["names"][3] == "class 3" and loaded.preprocessing.interpolation == "bilinear"
    )
    again = sidecar.parse(json.loads(json.dumps(loaded.to_dict())), tmp_path / "x.json")
    assert again == loaded


def test_the_campaigns_sidecar_is_refused_naming_mean_1(cli, tmp_path):
    """The reproducer: convert's sidecar of mobilenet_v2 with mean[1] = -Infinity (kept in tests/data)."""
    kept = DATA / "fuzz" / "regressions" / "issue20" / "sidecar_mean_minus_inf_int8.json"
    with pytest.raises(
        InputError, match=r"'preprocessing.normalize.mean\[1\]' is not a finite number"
    ):
        sidecar.read(kept)


def test_verify_says_the_field_not_a_departure(cli, tmp_path, photo_dir):
    for name in ("tiny_cnn_hardswish_int8.tflite", "tiny_cnn_hardswish.onnx"):
        shutil.copy(SEEDS / name, tmp_path / name)
    doc = _set(json.loads(json.dumps(DOCUMENT)), ("preprocessing", "normalize", "mean", 1), -INF)
    (tmp_path / "tiny_cnn_hardswish_int8.json").write_text(json.dumps(doc))
    result = cli("verify", tmp_path / MODEL.name, "--images", photo_dir)
    assert result.code == ExitCode.UNREADABLE_INPUT, result
    assert "'preprocessing.normalize.mean[1]' is not a finite number (-inf)" in result.err
    assert result.err.count("\n") == 1 and "nan" not in result.out
