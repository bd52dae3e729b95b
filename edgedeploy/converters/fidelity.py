"""How faithful each step was, measured on held-back images (never the calibration images):
max abs difference PyTorch vs ONNX vs float TFLite, and int8 vs float TFLite cosine similarity and
top-1 / top-5 agreement. A comparison that cannot be made says why instead of showing a number."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgedeploy.converters import fidelity_outputs
from edgedeploy.converters.artifacts import OnnxModel, TensorFlowModel, TFLiteModel
from edgedeploy.converters.fidelity_outputs import Batches
from edgedeploy.errors import ConversionError
from edgedeploy.thresholds import departures


@dataclass
class TFLiteRun:
    """Real-valued outputs of a TFLite model: per batch, per model output (in the model's shape), in
    the model's output order; ``xnnpack_refused`` says why LiteRT's built-in kernels ran it."""

    outputs: list[list[np.ndarray]]
    output_names: list[str]
    xnnpack_refused: str | None = None


def run_tflite_outputs(path: Path, batches: list[np.ndarray]) -> TFLiteRun:
    """Every output for NHWC float batches; int8 models get quantized input, dequantized outputs."""
    from edgedeploy.targets.litert import InterpreterLoadError, create_interpreter

    try:
        interpreter, log = create_interpreter(Path(path), threads=1)
    except InterpreterLoadError as exc:
        raise ConversionError(f"LiteRT cannot run {Path(path).name}: {exc}") from exc
    (inp,), outs = interpreter.get_input_details(), interpreter.get_output_details()
    results = []
    for batch in batches:
        data = batch
        if inp["dtype"] != np.float32:
            scale, zero = inp["quantization"]
            info = np.iinfo(inp["dtype"])
            data = np.clip(np.round(batch / scale + zero), info.min, info.max).astype(inp["dtype"])
        interpreter.set_tensor(inp["index"], data)
        interpreter.invoke()
        per_output = []
        for out in outs:
            raw = interpreter.get_tensor(out["index"])
            if out["dtype"] != np.float32:
                scale, zero = out["quantization"]
                raw = (raw.astype(np.float32) - zero) * scale
            per_output.append(raw.astype(np.float32))
        results.append(per_output)
    return TFLiteRun(results, [o["name"] for o in outs], log.xnnpack_refused)


def run_tflite(path: Path, batches: list[np.ndarray]) -> list[np.ndarray]:
    """One flat real-valued array per batch (all outputs end to end, in the model's order)."""
    run = run_tflite_outputs(path, batches)
    return [np.concatenate([o.reshape(-1) for o in per_output]) for per_output in run.outputs]


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    denominator = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(np.dot(a, b) / denominator) if denominator > 0 else float("nan")


def _topk_overlap(a: np.ndarray, b: np.ndarray, k: int) -> float:
    k = min(k, a.size)
    return len(set(np.argsort(-a)[:k]) & set(np.argsort(-b)[:k])) / k


def agreement(reference: list[np.ndarray], candidate: list[np.ndarray]) -> dict[str, float]:
    """Mean cosine similarity; top-1 = share of images whose argmax matches; top-5 = mean share of the
    reference's top-5 classes that are also in the candidate's top-5."""
    reference = [r.reshape(-1) for r in reference]
    candidate = [c.reshape(-1) for c in candidate]
    return {
        "cosine_similarity": float(np.mean([_cosine(r, c) for r, c in zip(reference, candidate)])),
        "top1_agreement": float(
            np.mean([int(np.argmax(r) == np.argmax(c)) for r, c in zip(reference, candidate)])
        ),
        "top5_agreement": float(
            np.mean([_topk_overlap(r, c, 5) for r, c in zip(reference, candidate)])
        ),
    }


def _kernels(float_run: TFLiteRun, int8_run: TFLiteRun) -> dict[str, str]:
    """Which LiteRT kernels ran each TFLite model, and XNNPACK's reason where it refused the graph."""
    found = {}
    for which, run in (("float32", float_run), ("int8", int8_run)):
        found[which] = (
            f"LiteRT's built-in kernels: XNNPACK could not prepare the graph ({run.xnnpack_refused})"
            if run.xnnpack_refused
            else "XNNPACK"
        )
    return found


def _as_list(outputs: Any) -> list[np.ndarray]:
    if isinstance(outputs, dict):
        outputs = list(outputs.values())
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return [np.asarray(o.detach() if hasattr(o, "detach") else o, np.float32) for o in outputs]


def _references(
    onnx_model: OnnxModel | None, keras: TensorFlowModel | None, held_back: list[np.ndarray]
) -> dict[str, Batches]:
    """The float models before TFLite, each as per image, per output: ONNX, PyTorch or Keras."""
    found: dict[str, Batches] = {}
    if onnx_model is None:
        if keras is None:  # the pipeline passes the Keras model whenever there is no ONNX one
            raise TypeError("fidelity needs the ONNX model or the Keras model it came from")
        found["keras"] = [_as_list(keras.keras_model(b)) for b in held_back]
        return found
    from edgedeploy.converters.torch_to_onnx import run_onnxruntime_all

    nchw = [np.ascontiguousarray(b.transpose(0, 3, 1, 2)) for b in held_back]
    found["onnx"] = [run_onnxruntime_all(onnx_model.path, b) for b in nchw]
    if onnx_model.torch_model is not None:
        import torch

        with torch.no_grad():
            found["pytorch"] = [
                _as_list(onnx_model.torch_model.module(torch.from_numpy(b))) for b in nchw
            ]
    return found


def measure(
    onnx_model: OnnxModel | None,
    int8: TFLiteModel,
    held_back: list[np.ndarray],
    keras: TensorFlowModel | None = None,
) -> dict[str, Any]:
    if not held_back:
        return {
            "measured": False,
            "reason": "no held-back images: every image was used for calibration "
            "(lower --calibration-count or add images)",
        }
    float_run = run_tflite_outputs(int8.float_reference.path, held_back)
    int8_run = run_tflite_outputs(int8.path, held_back)
    per_output: list[dict[str, Any]] = [
        {
            "name": name,
            "shape": list(float_run.outputs[0][j].shape),
            "int8_vs_float_tflite": agreement(
                [b[j] for b in float_run.outputs], [b[j] for b in int8_run.outputs]
            ),
        }
        for j, name in enumerate(float_run.output_names)
    ]
    result: dict[str, Any] = {
        "measured": True,
        "images": len(held_back),
        "kernels": _kernels(float_run, int8_run),
    }
    references = _references(onnx_model, keras, held_back)
    for name, outputs in references.items():
        result[f"{name}_vs_float_tflite_max_abs_diff"] = fidelity_outputs.max_abs(
            outputs, float_run.outputs
        )
    if "onnx" in references and "pytorch" in references:
        result["pytorch_vs_onnx_max_abs_diff"] = fidelity_outputs.max_abs(
            references["pytorch"], references["onnx"]
        )
    if "pytorch" not in references:
        source = (
            "an ONNX file (or --outputs cut the graph)"
            if onnx_model is not None
            else "a Keras/TensorFlow model"
        )
        result["pytorch"] = f"not applicable: the input was {source}"
    result["output_max_abs"] = float(
        max(np.max(np.abs(o)) for image in float_run.outputs for o in image)
    )
    # several outputs: each one's agreement, and the worst of them at the top (what warnings use)
    result["int8_vs_float_tflite"] = fidelity_outputs.worst(
        [o["int8_vs_float_tflite"] for o in per_output]
    )
    if len(per_output) > 1:
        result["outputs"] = per_output
    return result


def warnings(measured: dict[str, Any], int8: dict[str, Any], model: Path) -> list[str]:
    """The held-back fidelity below the thresholds verify uses, said before anyone deploys the model.
    Top-1 counts only for a class-score output (one output of shape [1, N], N > 1), as in verify."""
    if not measured.get("measured"):
        return []
    agreement_found = measured["int8_vs_float_tflite"]
    outputs = int8.get("outputs", [])
    shape = outputs[0]["shape"] if len(outputs) == 1 else []
    class_scores = len(shape) == 2 and shape[0] == 1 and shape[1] > 1
    below = departures(
        agreement_found["cosine_similarity"], agreement_found["top1_agreement"], class_scores
    )
    if not below:
        return []
    return [
        f"int8 departs from float on the {measured['images']} held-back image(s): "
        f"{', '.join(below)} (the thresholds verify uses); see where it diverges: edgedeploy "
        f"verify {model} --images DIR --layers"
    ]
