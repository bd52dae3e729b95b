"""Built-ins with random weights are reproducible: weights seeded from the name, alpha and resolution
(--seed to change), the same command writes the same int8 bytes; the export check's tolerance follows
the outputs' scale."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from edgedeploy.converters.torch_to_onnx import agreement_tolerance
from edgedeploy.errors import ExitCode, UsageError
from edgedeploy.models import build_model


def _weights(model) -> dict[str, np.ndarray]:
    return {k: v.numpy().copy() for k, v in model.module.state_dict().items()}


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_random_weights_depend_only_on_name_alpha_resolution_and_seed():
    import torch

    first = _weights(build_model("mobilenet_v3_small", 0.5, 96))
    torch.manual_seed(1234)  # the caller's generator state must not matter
    torch.rand(10)
    again = build_model("mobilenet_v3_small", 0.5, 96)
    assert _same(first, _weights(again)) and again.details["seed"] >= 0
    assert not _same(first, _weights(build_model("mobilenet_v3_small", 0.5, 128)))
    seeded = build_model("mobilenet_v3_small", 0.5, 96, seed=7)
    assert seeded.details["seed"] == 7 and not _same(first, _weights(seeded))
    assert _same(_weights(seeded), _weights(build_model("mobilenet_v3_small", 0.5, 96, seed=7)))


def test_seed_with_weights_is_refused(tmp_path):
    with pytest.raises(UsageError, match="--seed sets random weights"):
        build_model("mobilenet_v2", 0.35, 96, weights=tmp_path / "w.pth", seed=1)


def test_the_export_tolerance_follows_the_outputs_scale():
    assert agreement_tolerance(np.array([0.5, -0.2])) == pytest.approx(1e-3)  # small outputs: 1e-3
    assert agreement_tolerance(np.array([400.0, -3.0])) == pytest.approx(0.4)
    assert agreement_tolerance(np.array([], dtype=np.float32)) == pytest.approx(1e-3)


def _convert(cli, out, *extra):
    result = cli(
        "convert", "mobilenet_v2", "--alpha", "0.35", "-r", "96", "-o", out, "--no-compile",
        "--json", *extra,
    )  # fmt: skip
    assert result.code == ExitCode.OK, result
    report = json.loads(result.out)
    int8 = out / report["outputs"]["int8_tflite"]
    return hashlib.sha256(int8.read_bytes()).hexdigest(), report


@pytest.mark.slow
def test_the_same_command_writes_the_same_int8_bytes(cli, tmp_path):
    first, report = _convert(cli, tmp_path / "a")
    second, _ = _convert(cli, tmp_path / "b")
    assert first == second
    assert report["model_details"]["weights"] == "random" and "seed" in report["model_details"]
    # --seed changing the weights is held by the fast test above, without a third conversion
