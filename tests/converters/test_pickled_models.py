"""torch.save(model) files: refused without --trust-pickle (unpickling runs code: said, with how to export
instead), converted with it; a state dict in a .pt file points at --weights."""

from __future__ import annotations

import json

import pytest
import torch
from tiny_models import tiny_cnn

from edgedeploy.errors import ExitCode


@pytest.fixture
def pickled(tmp_path):
    path = tmp_path / "whole.pt"
    torch.save(tiny_cnn(), path)
    return path


def test_a_pickled_model_is_refused_without_trust_and_says_how_to_export(cli, pickled, tmp_path):
    result = cli("convert", pickled, "--input-shape", "1,3,32,32", "-o", tmp_path / "out")
    assert result.code == ExitCode.UNREADABLE_INPUT, result
    said = " ".join(result.err.split())
    assert "whole pickled model (torch.save(model))" in said and "runs code" in said
    assert "--trust-pickle" in said
    for way in ("torch.jit.trace", "torch.export", "torch.onnx.export"):
        assert way in said
    assert not (tmp_path / "out").exists()


def test_trusting_it_still_needs_an_input_shape(cli, pickled, tmp_path):
    result = cli("convert", pickled, "--trust-pickle", "-o", tmp_path / "out")
    assert result.code == ExitCode.USAGE, result
    assert "--input-shape" in result.err


def test_a_state_dict_in_a_pt_file_points_at_weights(cli, tmp_path):
    path = tmp_path / "weights.pth"
    torch.save(tiny_cnn().state_dict(), path)
    result = cli("convert", path, "--trust-pickle", "--input-shape", "1,3,32,32")
    assert result.code == ExitCode.UNREADABLE_INPUT, result
    assert "holds a state dict" in result.err and "--weights" in result.err


@pytest.mark.slow
def test_a_trusted_pickled_model_converts(cli, pickled, tmp_path):
    result = cli(
        "convert", pickled, "--trust-pickle", "--input-shape", "1,3,32,32",
        "-o", tmp_path / "out", "--no-compile", "--json",
    )  # fmt: skip
    assert result.code == ExitCode.OK, result
    report = json.loads(result.out)
    assert report["model_details"]["source"].startswith("pickled module (--trust-pickle)")
    assert report["fidelity"]["int8_vs_float_tflite"]["cosine_similarity"] > 0.95
    assert report["fidelity"]["pytorch_vs_onnx_max_abs_diff"] < 1e-4
