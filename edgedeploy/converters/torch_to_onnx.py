"""Stage 1: PyTorch -> ONNX.

Requires: a TorchModel in eval mode with a static batch-1 NCHW input.
Ensures: an ONNX file at the requested opset (>= 13), constant-folded, one input named "input", that
onnxruntime runs and that agrees with PyTorch on a real image (else ConversionError).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from edgedeploy.converters.artifacts import OnnxModel, TorchModel
from edgedeploy.converters.context import StageContext
from edgedeploy.errors import ConversionError, UsageError, first_line

NAME = "pytorch-to-onnx"
REQUIRES = TorchModel
ENSURES = OnnxModel
MIN_OPSET, MAX_OPSET = 13, 20
# Both run float32 on the same CPU: differences beyond this share of the outputs' scale (their largest
# magnitude, at least 1) mean a broken export, not rounding. Relative, because random weights can give
# outputs near 400, where float32 rounding alone reaches an absolute 1e-3.
AGREEMENT_TOLERANCE = 1e-3


def run_onnxruntime_all(path: Path, batch: np.ndarray) -> list[np.ndarray]:
    """Every output of the ONNX model for one NCHW batch, in the graph's output order."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return [
        np.asarray(o, np.float32) for o in session.run(None, {session.get_inputs()[0].name: batch})
    ]


def run_onnxruntime(path: Path, batch: np.ndarray) -> np.ndarray:
    return run_onnxruntime_all(path, batch)[0]


def agreement_tolerance(reference: np.ndarray) -> float:
    scale = float(np.max(np.abs(reference))) if reference.size else 0.0
    return AGREEMENT_TOLERANCE * max(1.0, scale)


def run(model: TorchModel, context: StageContext) -> OnnxModel:
    import torch

    opset = context.options.opset
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise UsageError(f"--opset {opset} is not supported: choose {MIN_OPSET}..{MAX_OPSET}")
    path = context.workdir / f"{model.name}.onnx"
    example = torch.from_numpy(context.sample_nchw(model.input_shape))
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the legacy exporter's deprecation notice is expected
            # dynamo=False: torch 2.14's default dynamo exporter forces opset 18 and external data files.
            # PRESERVE: every source is already in eval mode, and a torch.export module refuses train().
            torch.onnx.export(
                model.module,
                (example,),
                str(path),
                opset_version=opset,
                dynamo=False,
                do_constant_folding=True,
                input_names=["input"],
                output_names=["output"],
                training=torch.onnx.TrainingMode.PRESERVE,
            )
    except Exception as exc:
        first = first_line(exc)
        raise ConversionError(f"PyTorch -> ONNX export failed: {first}") from exc
    with torch.no_grad():
        expected = model.module(example)
    if isinstance(expected, dict):
        expected = list(expected.values())
    expected = [
        e.numpy() for e in (expected if isinstance(expected, (tuple, list)) else [expected])
    ]
    got = run_onnxruntime_all(path, example.numpy())
    if len(got) != len(expected) or any(g.shape != e.shape for g, e in zip(got, expected)):
        raise ConversionError(
            f"the ONNX export has outputs {[list(g.shape) for g in got]} where PyTorch gives "
            f"{[list(e.shape) for e in expected]}"
        )
    diff = max(float(np.max(np.abs(g - e))) if e.size else 0.0 for g, e in zip(got, expected))
    tolerance = max(agreement_tolerance(e) for e in expected)
    context.record(NAME, onnx_vs_pytorch_max_abs_diff=diff, tolerance=tolerance, opset=opset)
    if not diff <= tolerance:
        raise ConversionError(
            f"ONNX and PyTorch disagree after export (max abs diff {diff:.3g}, more than "
            f"{tolerance:.3g} = {AGREEMENT_TOLERANCE:g} x the outputs' scale)"
        )
    return OnnxModel(
        path=path,
        input_name="input",
        input_shape=model.input_shape,
        opset=opset,
        name=model.name,
        preprocessing=model.preprocessing,
        torch_model=model,
    )
