"""Common architectures beyond MobileNets convert to a faithful full-int8 model (random weights, small
inputs to keep CI short). timm's resnet18 once stopped at fidelity with "failed to create XNNPACK
runtime": its stem MaxPool's padding (onnx2tf pads with -3.4e38) gave the int8 pool a scale of ~1e36."""

from __future__ import annotations

import json

import pytest

from edgedeploy.errors import ExitCode

# (timm name, input size): the smallest size each architecture takes without changing its graph's kinds of op
ARCHITECTURES = [
    ("resnet18", 96),
    ("resnet50", 64),
    ("inception_v3", 75),  # its stem needs at least 75x75
    ("efficientnet_es", 64),
]


@pytest.mark.slow
@pytest.mark.parametrize("name,size", ARCHITECTURES)
def test_timm_architecture_converts_faithfully(cli, tmp_path, name, size):
    import timm
    import torch

    torch.manual_seed(0)
    model = timm.create_model(name, pretrained=False).eval()
    onnx = tmp_path / f"{name}.onnx"
    torch.onnx.export(
        model, torch.randn(1, 3, size, size), str(onnx), opset_version=13, dynamo=False
    )
    result = cli("convert", onnx, "-o", tmp_path / "out", "--no-compile", "--json")
    assert result.code == ExitCode.OK, result
    report = json.loads(result.out)
    fidelity = report["fidelity"]
    assert fidelity["measured"], fidelity
    assert fidelity["int8_vs_float_tflite"]["cosine_similarity"] > 0.95, fidelity
    if (
        name != "inception_v3"
    ):  # its random-weight outputs reach ~1e8: float32 sums drift ~25% there
        relative = fidelity["onnx_vs_float_tflite_max_abs_diff"] / max(
            1, fidelity["output_max_abs"]
        )
        assert relative < 1e-3, fidelity
    if name.startswith("resnet"):  # the stem's padded MaxPool follows a ReLU: padded with zeros
        stage = next(s for s in report["stages"] if s["name"] == "onnx-to-tensorflow")
        assert stage["maxpools_padded_with_zero"] == 1
