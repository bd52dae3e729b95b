"""`edgedeploy limits` end to end: the JSON lists every point, bad input is one line and exit 2, a
resolution-dependent mapping cliff of an ONNX model is found, and (slow) the on-chip parameter cliff of a
built-in family agrees with `check` on real conversions on both sides of it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

PNG = b"\x89PNG\r\n\x1a\n"


def _softmax_model(path: Path, height: int | str, width: int | str) -> Path:
    """conv 1x1 (3 -> 1 channel), flatten, softmax over every pixel: the Edge TPU maps a SOFTMAX of at
    most 16000 elements, so this model maps fully up to 126x126 and not from 127x127."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.full((1, 3, 1, 1), 0.1, dtype=np.float32), "w")
    bias = numpy_helper.from_array(np.zeros(1, dtype=np.float32), "b")
    graph = helper.make_graph(
        [
            helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[1, 1]),
            helper.make_node("Flatten", ["c"], ["f"], axis=1),
            helper.make_node("Softmax", ["f"], ["y"], axis=1),
        ],
        "softmax_map",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, height, width])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, None])],
        [weight, bias],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # what onnxruntime reads (the confirming conversion runs it)
    onnx.save(model, str(path))
    return path


def test_json_lists_every_point_and_the_files_are_written(cli, tmp_path):
    out = tmp_path / "limits"
    result = cli(
        "limits",
        "mobilenet_v2",
        "--alphas",
        "0.5,1.0",
        "-r",
        "96,160",
        "--no-confirm",
        "--json",
        "-o",
        out,
    )
    assert result.code == 0, result
    document = json.loads(result.out)
    assert document["command"] == "limits" and document["schema_version"] == 1
    assert [(p["alpha"], p["height"]) for p in document["points"]] == [
        (0.5, 96),
        (0.5, 160),
        (1.0, 96),
        (1.0, 160),
    ]
    for point in document["points"]:
        facts = point["facts"]
        assert facts["tpu_ops"] == facts["total_ops"] == 69 and facts["mac_share"] == 1.0
        assert {facts[c]["verdict"] for c in ("mapping", "parameters", "activations")} == {"ok"}
        assert facts["latency_ms_low"] < facts["latency_ms"] < facts["latency_ms_high"]
    assert [found["limit_resolution"] for found in document["limits"]] == [160, 160]
    assert document["confirmations"] == [] and document["cliffs"] == []
    assert json.loads((out / "limits.json").read_text())["points"] == document["points"]
    assert (out / "limits.png").read_bytes().startswith(PNG)
    again = cli("limits", "mobilenet_v2", "--alphas", "1.0", "-r", "96", "--no-confirm", "-o", out)
    assert again.code == 1 and "--force" in again.err  # results are not overwritten silently


def test_a_mapping_cliff_with_its_operator_in_an_onnx_model(cli, tmp_path):
    model = _softmax_model(tmp_path / "softmax.onnx", "h", "w")
    result = cli(
        "limits", model, "-r", "96,112,128,160", "--no-confirm", "--json", "-o", tmp_path / "out"
    )
    assert result.code == 0, result
    document = json.loads(result.out)
    verdicts = [(p["height"], p["facts"]["mapping"]["verdict"]) for p in document["points"]]
    assert verdicts == [(96, "ok"), (112, "ok"), (128, "cut"), (160, "cut")]
    (cliff,) = [c for c in document["cliffs"] if c["concern"] == "mapping"]
    assert (cliff["last_ok"], cliff["first"]) == (112, 128) and "SOFTMAX" in cliff["cause"]
    assert document["limits"][0]["limit_resolution"] == 112
    latency = {p["height"]: p["facts"]["latency_ms"] for p in document["points"]}
    # The CPU-side ops past the cut are priced by the estimate's per-op cost model (issue 19), so the
    # cut model has an estimate too.
    assert latency[112] is not None and latency[128] is not None


@pytest.mark.parametrize(
    "args, says",
    [
        (["mobilenet_v2", "-r", "224..96"], "empty"),
        (["mobilenet_v2", "-r", "16"], "out of range"),
        (["mobilenet_v2", "-r", "16..128"], "out of range"),
        (["mobilenet_v2", "--alphas", "3.0"], "alpha"),
        (["mobilenet_v2", "--target", "cpu"], "cannot find size limits"),
        (["mobilenet_v2", "--host", "nowhere"], "unknown host"),
        (["mobilenet_vv2"], "unknown model"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli, tmp_path, args, says):
    result = cli("limits", *args, "--no-confirm", "-o", tmp_path / "out")
    assert result.code == 2, result
    assert says in result.err and len(result.err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_a_fixed_size_onnx_is_analysed_at_its_own_size_only(cli, tmp_path):
    model = _softmax_model(tmp_path / "fixed.onnx", 64, 64)
    other = cli("limits", model, "-r", "96", "--no-confirm", "-o", tmp_path / "a")
    assert (
        other.code == 2
        and "fixed input size 64x64" in other.err
        and len(other.err.strip().splitlines()) == 1
    )
    alphas = cli("limits", model, "--alphas", "0.5", "--no-confirm", "-o", tmp_path / "b")
    assert alphas.code == 2 and "--alphas" in alphas.err
    own = cli("limits", model, "--no-confirm", "--json", "-o", tmp_path / "c")
    assert own.code == 0, own
    assert [(p["height"], p["width"]) for p in json.loads(own.out)["points"]] == [(64, 64)]


@pytest.mark.slow
def test_on_chip_cliff_agrees_with_check_on_real_conversions_on_both_sides(tmp_path):
    """MobileNetV2 at alpha 1.25 keeps its parameters on chip, at 1.75 they stream: limits finds the cliff
    from shapes, converts the limit and the first point past it, and check on those conversions agrees."""
    from edgedeploy.limits.run import run_limits
    from edgedeploy.targets.registry import call_capability

    result = run_limits("mobilenet_v2", alphas="1.25,1.75", resolutions="96", output_dir=tmp_path)
    (cliff,) = [c for c in result.cliffs if c.concern == "parameters"]
    assert (cliff.axis, cliff.last_ok, cliff.first, cliff.verdict) == (
        "alpha",
        1.25,
        1.75,
        "streams",
    )
    assert [(c.size.alpha, c.role) for c in result.confirmations] == [
        (1.25, "limit"),
        (1.75, "past"),
    ]
    on_chip, streams = result.confirmations
    for confirmation in result.confirmations:
        assert confirmation.error is None and confirmation.agrees, confirmation.differences
    assert (
        on_chip.converted.parameters.verdict == "ok"
        and streams.converted.parameters.verdict == "streams"
    )
    reports = [
        call_capability("edgetpu", "check", next(Path(c.folder).glob("*_int8.tflite")))
        for c in result.confirmations
    ]
    assert [r.summary.params_stream for r in reports] == [False, True]
    assert [any(f.kind == "parameter-cache" for f in r.findings) for r in reports] == [False, True]
    assert [r.summary.cpu_ops for r in reports] == [0, 0]


def test_a_conversion_that_disagrees_is_said_and_its_truth_replaces_the_forecast(
    tmp_path, monkeypatch, edgetpu_models
):
    """The conversion is stood in for by Google's MobileNetV2: nothing like the forecast of the model asked
    about, so the confirmation must list the differences and the converted facts must replace the forecast."""
    import shutil

    from edgedeploy.limits import confirm as confirming
    from edgedeploy.limits.run import run_limits

    def converted(source, size, folder, target, force):
        folder.mkdir(parents=True)
        model = shutil.copy(
            edgetpu_models / "tf2_mobilenet_v2_1.0_224_ptq.tflite", folder / "m_int8.tflite"
        )
        return Path(model), {"status": "not-run", "reason": "no compiler in this test"}

    monkeypatch.setattr(confirming, "_convert", converted)
    model = _softmax_model(tmp_path / "softmax.onnx", "h", "w")
    result = run_limits(str(model), resolutions="96,128", output_dir=tmp_path / "out")
    assert [(c.size.height, c.role, c.agrees) for c in result.confirmations] == [
        (96, "limit", False),
        (128, "past", False),
    ]
    assert any(
        line.startswith("total ops: forecast 3, converted")
        for line in result.confirmations[0].differences
    )
    assert [p.origin for p in result.points] == ["converted", "converted"]
    assert result.points[0].facts.total_ops == result.confirmations[0].converted.total_ops
    assert result.notes and "replace the forecast" in result.notes[0]
    document = json.loads((tmp_path / "out" / "limits.json").read_text())
    assert [c["agrees"] for c in document["confirmations"]] == [False, False]
