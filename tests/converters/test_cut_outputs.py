"""--outputs cuts a detector's graph before its post-processing; check names that post-processing
and where to cut. A YOLO-style ONNX head (fast) and torchvision's SSDLite with its NMS (slow)."""

from __future__ import annotations

import json

import pytest
from detectors import ssdlite_onnx, yolo_head_onnx

from edgedeploy.errors import ExitCode


@pytest.fixture(scope="module")
def yolo(tmp_path_factory):
    return yolo_head_onnx(tmp_path_factory.mktemp("yolo") / "yolo.onnx")


def test_check_names_the_post_processing_and_the_cut(cli, yolo):
    result = cli("check", yolo, "--json")
    data = json.loads(result.out)
    post = data["details"]["post_processing"]
    assert post["cut_before"] == ["head"]
    assert post["ops"]["Exp"] == 1 and post["ops"]["Sigmoid"] == 2
    (finding,) = [f for f in data["findings"] if f["kind"] == "post-processing"]
    assert "--outputs head" in finding["fix"] and "Exp x1" in finding["consequence"]
    text = " ".join(cli("check", yolo).out.split())
    assert "detection post-processing" in text and "--outputs head" in text


def test_a_classifier_has_no_post_processing_finding(cli, tmp_path):
    from tiny_models import export_onnx, tiny_cnn

    onnx = export_onnx(tiny_cnn(), tmp_path / "tiny.onnx")
    data = json.loads(cli("check", onnx, "--json").out)
    assert data["details"]["post_processing"] is None
    assert not [f for f in data["findings"] if f["kind"] == "post-processing"]


@pytest.mark.slow
def test_convert_cuts_the_yolo_head_before_decoding(cli, yolo, tmp_path):
    result = cli("convert", yolo, "--outputs", "head", "-o", tmp_path / "out", "--no-compile",
                 "--json")  # fmt: skip
    assert result.code == ExitCode.OK, result
    report = json.loads(result.out)
    stage = next(s for s in report["stages"] if s["name"] == "cut-outputs")
    assert stage["outputs"] == ["head"] and stage["dropped_ops"]["Exp"] == 1
    (output,) = report["int8"]["outputs"]
    assert output["shape"] == [1, 8, 8, 24] and output["dtype"] == "int8"
    assert "EXP" not in report["int8"]["op_histogram"]
    assert any(n.startswith("--outputs: graph cut at 1 tensor(s)") for n in report["notes"])
    assert report["fidelity"]["int8_vs_float_tflite"]["cosine_similarity"] > 0.98


def test_an_unknown_output_name_is_refused_in_one_line(cli, yolo, tmp_path):
    result = cli("convert", yolo, "--outputs", "haed", "-o", tmp_path / "out", "--no-compile")
    assert result.code == ExitCode.USAGE, result
    assert "no tensor named 'haed'" in result.err and "head" in result.err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_ssdlite_cut_before_box_decoding_and_nms_converts(cli, tmp_path):
    onnx = ssdlite_onnx(tmp_path / "ssdlite.onnx")
    post = json.loads(cli("check", onnx, "--json").out)["details"]["post_processing"]
    assert {"NonMaxSuppression", "Exp"} <= set(post["ops"]) or "TopK" in post["ops"]
    heads = post["cut_before"]
    assert len(heads) == 12 and all("head" in name for name in heads)  # 6 levels x (class, box)
    out = tmp_path / "out"
    result = cli("convert", onnx, "--outputs", ",".join(heads), "-o", out, "--no-compile", "--json")
    assert result.code == ExitCode.OK, result
    report = json.loads(result.out)
    assert len(report["int8"]["outputs"]) == 12
    assert all(o["dtype"] == "int8" for o in report["int8"]["outputs"])
    dropped = next(s for s in report["stages"] if s["name"] == "cut-outputs")["dropped_ops"]
    assert "Exp" in dropped  # the box decoding stayed behind
    assert len(report["fidelity"]["outputs"]) == 12
    sidecar = json.loads((out / "ssdlite_int8.json").read_text())
    assert len(sidecar["outputs"]) == 12
