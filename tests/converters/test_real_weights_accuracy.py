"""int8 accuracy with real weights: torchvision's ImageNet MobileNetV2 (mobilenet_v2-b0353104.pth),
converted by edgedeploy, answers like its float model on real photos; and convert warns when the
held-back fidelity is below the thresholds verify uses."""

from __future__ import annotations

import json

import numpy as np
import pytest
from tiny_models import export_onnx, tiny_cnn

from edgedeploy.errors import ExitCode
from edgedeploy.thresholds import MIN_COSINE, MIN_TOP1

# What the shipped photos show, as ImageNet-1k indices torchvision's MobileNetV2 (float) gives them
EXPECTED_FLOAT_TOP1 = {
    "parrot.jpg": 88,
    "hot_dog.jpg": 934,
    "sunflower.jpg": 985,
}  # macaw, hotdog, daisy


@pytest.fixture(scope="session")
def real_mobilenet_v2(tmp_path_factory, torchvision_mobilenet_v2_weights):
    """The conversion of torchvision's real weights, once per session (~1 min)."""
    from edgedeploy.cli.app import run

    out = tmp_path_factory.mktemp("real-mnv2") / "out"
    code = run(
        ["convert", "mobilenet_v2", "--weights", str(torchvision_mobilenet_v2_weights),
         "-o", str(out), "--no-compile"]
    )  # fmt: skip
    assert code == ExitCode.OK
    return out


@pytest.mark.slow
def test_real_weights_keep_their_accuracy_in_int8(real_mobilenet_v2, photo_dir, cli):
    report = json.loads((real_mobilenet_v2 / "report.json").read_text())
    assert report["model_details"]["network"] == "torchvision.models.mobilenet_v2"
    # Measured here (5 calibration photos): held-back cosine 0.990, top-1 100%; all 8 photos 0.988, 100%.
    held_back = report["fidelity"]["int8_vs_float_tflite"]
    assert held_back["top1_agreement"] == 1.0 and held_back["cosine_similarity"] >= 0.98, held_back
    below = held_back["cosine_similarity"] < MIN_COSINE or held_back["top1_agreement"] < MIN_TOP1
    assert bool(report["fidelity"].get("warnings")) == below  # warned exactly when below verify's
    # every shipped photo (calibration ones too): float vs int8 through verify's own comparison
    result = cli(
        "verify", real_mobilenet_v2 / "mobilenet_v2_1.0_224_int8.tflite", "--images", photo_dir,
        "--target", "cpu", "--json",
    )  # fmt: skip
    assert result.code in (ExitCode.OK, ExitCode.REGRESSION), result
    (output,) = json.loads(result.out)["outputs"]
    cpu = output["vs_float"]["cpu"]
    assert cpu["top1_agreement"] == 1.0 and cpu["cosine_similarity"] >= 0.98, cpu


@pytest.mark.slow
def test_the_float_model_recognises_the_photos(real_mobilenet_v2, photo_dir):
    """The weights really are ImageNet's (not loaded wrongly, not preprocessed wrongly)."""
    from edgedeploy.converters.fidelity import run_tflite
    from edgedeploy.images import Preprocessing, load_image

    report = json.loads((real_mobilenet_v2 / "report.json").read_text())
    prep = Preprocessing.from_dict(report["preprocessing"])
    for name, expected in EXPECTED_FLOAT_TOP1.items():
        (scores,) = run_tflite(
            real_mobilenet_v2 / "mobilenet_v2_1.0_224_float32.tflite",
            [load_image(photo_dir / name, prep)[None]],
        )
        assert int(np.argmax(scores)) == expected, name


@pytest.mark.slow
def test_convert_warns_when_held_back_fidelity_is_below_verifys_thresholds(cli, tmp_path):
    """The tiny hard-swish CNN calibrated on one photo: top-1 agreement 85.7% on the 7 held back."""
    onnx = export_onnx(tiny_cnn(hard_swish=True), tmp_path / "hs.onnx")
    out = tmp_path / "out"
    result = cli("convert", onnx, "-o", out, "--no-compile", "--calibration-count", "1")
    assert result.code == ExitCode.OK, result
    said = " ".join(result.err.split())
    assert "warning: int8 departs from float on the 7 held-back image(s): top-1 agreement" in said
    command = f"edgedeploy verify {out / 'hs_int8.tflite'} --images DIR --layers"
    assert command.replace(" ", "") in "".join(said.split())  # a long path wraps anywhere
    report = json.loads((out / "report.json").read_text())
    (warning,) = report["fidelity"]["warnings"]
    assert "< 90%" in warning and any(warning in n for n in report["notes"])
