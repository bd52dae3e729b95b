"""Where the int8 model departs from float: the float32 and the int8 TFLite (quantized from the same frozen
graph, so their tensors share names) run the same photos with every intermediate tensor kept. Tensors are
matched by name and shape, int8 ones dequantized with their own scale and zero point, and compared op by
op in execution order; the first op whose output falls below the cosine threshold is where int8 diverges.
What usually fixes it is read from the model itself (per-tensor weights, an outlier-stretched range, an
activation that quantizes badly) and from how it was calibrated."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgedeploy.errors import InputError
from edgedeploy.tflite import read_model
from edgedeploy.verify.inputs import dequantize, quantize

MAX_IMAGES = 8  # enough photos to see a divergence; each keeps every tensor of two models in memory
OUTLIER_RATIO = (
    8.0  # max |x| this many times the 99.9th percentile: the int8 steps are spent on a few values
)
BAD_ACTIVATIONS = {
    "HARD_SWISH": "--fix-activations rewrites hard-swish into ADD, RELU6 and MUL (same math)",
    "RELU_0_TO_1": "--fix-activations rewrites hard-sigmoid into ADD, RELU6 and MUL (same math)",
    "LEAKY_RELU": "ReLU or ReLU6 instead of leaky ReLU (also unmapped on the Edge TPU)",
}
WEIGHTED = ("CONV_2D", "DEPTHWISE_CONV_2D")
CLIPPED = (
    0.05  # data beyond the int8 range by more than this share of the range: calibration missed it
)


@dataclass
class LayerRow:
    op_index: int
    op: str
    tensor: str
    shape: tuple[int, ...]
    cosine: float  # mean over the photos
    max_abs_diff: float
    float_max_abs: float
    outlier_ratio: float  # max |x| / 99.9th percentile of |x| in the float tensor
    float_range: tuple[float, float]  # min and max of the float tensor over the photos
    int8_range: tuple[
        float, float
    ]  # what the int8 tensor can represent: (-128 - zp) * scale .. (127 - zp) * scale

    def to_dict(self) -> dict[str, Any]:
        return {
            "op_index": self.op_index,
            "op": self.op,
            "tensor": self.tensor,
            "shape": list(self.shape),
            "cosine_similarity": self.cosine,
            "max_abs_diff": self.max_abs_diff,
            "float_max_abs": self.float_max_abs,
            "outlier_ratio": self.outlier_ratio,
            "float_range": list(self.float_range),
            "int8_range": list(self.int8_range),
        }


def _interpreter(path: Path):
    """LiteRT's built-in kernels only: a delegate would fuse ops and hide the intermediate tensors."""
    from edgedeploy.targets.litert import InterpreterLoadError, create_interpreter

    try:
        interpreter, _ = create_interpreter(
            path, threads=1, xnnpack=False, preserve_all_tensors=True
        )
    except InterpreterLoadError as exc:
        raise InputError(
            f"{Path(path).name}: LiteRT cannot load it for the layer comparison ({exc})"
        ) from exc
    return interpreter


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    denominator = float(np.linalg.norm(a) * np.linalg.norm(b))
    if denominator == 0:
        return 1.0 if not np.any(a) and not np.any(b) else 0.0
    return float(np.dot(a, b) / denominator)


def _pairs(float_it: Any, int8_it: Any) -> list[tuple[int, str, dict, dict]]:
    by_name = {t["name"]: t for t in float_it.get_tensor_details()}
    int8_tensors = {t["index"]: t for t in int8_it.get_tensor_details()}
    found: list[tuple[int, str, dict, dict]] = []
    for op in int8_it._get_ops_details():
        for index in op["outputs"]:
            mine = int8_tensors.get(index)
            if not mine:
                continue
            theirs = by_name.get(mine["name"])
            if theirs is not None and tuple(theirs["shape"]) == tuple(mine["shape"]):
                found.append((op["index"], op["op_name"], mine, theirs))
    return found


def _representable(detail: dict) -> tuple[float, float]:
    scale, zero = detail["quantization"]
    if not scale:
        return (float("-inf"), float("inf"))
    info = np.iinfo(detail["dtype"])
    return (float((info.min - zero) * scale), float((info.max - zero) * scale))


def _row(
    op_index: int, op: str, detail: dict, slot: list[tuple[float, float, np.ndarray]]
) -> LayerRow:
    values = np.concatenate([v for _, _, v in slot])
    magnitudes = np.abs(values)
    p999, peak = float(np.percentile(magnitudes, 99.9)), float(magnitudes.max())
    return LayerRow(
        op_index,
        op,
        detail["name"],
        tuple(int(d) for d in detail["shape"]),
        float(np.mean([c for c, _, _ in slot])),
        max(d for _, d, _ in slot),
        peak,
        peak / p999 if p999 > 0 else 1.0,
        (float(values.min()), float(values.max())),
        _representable(detail),
    )


def compare_layers(float_path: Path, int8_path: Path, batches: list[np.ndarray]) -> list[LayerRow]:
    """One row for the model input (op index -1: its quantization alone), then one per int8 op output that
    has a float twin, in execution order."""
    float_it, int8_it = _interpreter(float_path), _interpreter(int8_path)
    pairs = _pairs(float_it, int8_it)
    (f_in,), (i_in,) = float_it.get_input_details(), int8_it.get_input_details()
    inputs: list[tuple[float, float, np.ndarray]] = []
    samples: list[list[tuple[float, float, np.ndarray]]] = [[] for _ in pairs]
    for batch in batches[:MAX_IMAGES]:
        data = quantize(batch, np.dtype(i_in["dtype"]).name, *i_in["quantization"])
        seen = dequantize(data, *i_in["quantization"]).reshape(-1)
        real_in = batch.astype(np.float32).reshape(-1)
        inputs.append((_cosine(real_in, seen), float(np.max(np.abs(real_in - seen))), real_in))
        float_it.set_tensor(f_in["index"], batch.astype(np.float32))
        int8_it.set_tensor(i_in["index"], data)
        float_it.invoke()
        int8_it.invoke()
        for slot, (_, _, mine, theirs) in zip(samples, pairs):
            real = float_it.get_tensor(theirs["index"]).astype(np.float32).reshape(-1)
            approx = dequantize(int8_it.get_tensor(mine["index"]), *mine["quantization"]).reshape(
                -1
            )
            slot.append((_cosine(real, approx), float(np.max(np.abs(real - approx))), real))
    rows = [_row(-1, "INPUT", i_in, inputs)] if inputs else []
    return rows + [
        _row(op_index, op, mine, slot) for (op_index, op, mine, _), slot in zip(pairs, samples)
    ]


def first_divergence(rows: list[LayerRow], min_cosine: float) -> LayerRow | None:
    return next((row for row in rows if row.cosine < min_cosine), None)


def advice(row: LayerRow, int8_path: Path, calibration_images: int | None) -> list[str]:
    """What usually fixes a divergence at ``row``, the evidence found in the model first."""
    graph = read_model(int8_path)
    fixes = []
    (low, high), (seen_low, seen_high) = row.int8_range, row.float_range
    if max(low - seen_low, seen_high - high, 0.0) > CLIPPED * (high - low):
        fixes.append(
            f"a calibration range that covers the data: the photos give {seen_low:.3g}..{seen_high:.3g} here "
            f"but int8 represents only {low:.3g}..{high:.3g}, so the rest is clipped"
        )
    per_tensor = [
        op.index
        for op in graph.ops[: row.op_index + 1]
        if op.opcode in WEIGHTED
        and len(op.inputs) > 1
        and len(graph.tensors[op.inputs[1]].scale) == 1
        and graph.tensors[op.inputs[1]].shape[-1 if op.opcode == "DEPTHWISE_CONV_2D" else 0] > 1
    ]
    if per_tensor:
        fixes.append(
            f"per-channel weights: {len(per_tensor)} convolution(s) up to op {row.op_index} have one weight "
            "scale for all channels; convert without --per-tensor"
        )
    if row.op in BAD_ACTIVATIONS:
        fixes.append(
            f"a different activation: {row.op} quantizes poorly; {BAD_ACTIVATIONS[row.op]}"
        )
    if row.outlier_ratio >= OUTLIER_RATIO:
        fixes.append(
            f"a bounded activation: a few values stretch this tensor's int8 range (max |x| {row.float_max_abs:.3g}, "
            f"{row.outlier_ratio:.0f}x its 99.9th percentile), so most values get few of the 256 steps; "
            "ReLU6 instead of ReLU (or no activation) keeps the range tight"
        )
    said = f" (this model: {calibration_images})" if calibration_images else ""
    fixes.append(
        "more or better calibration images: --calibration DIR with 100-500 photos like the ones the model "
        f"will see{said}"
    )
    return fixes
