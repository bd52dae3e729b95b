"""Several outputs in fidelity: which reference output (ONNX Runtime, PyTorch, Keras) is which TFLite
output, and the worst agreement across them.

onnx2tf turns an NCHW output into NHWC and the TFLite converter may order outputs its own way, so the
pairs are found by shape (an NCHW reference also tried as NHWC), each reference used once, in order.
"""

from __future__ import annotations

import numpy as np

Batches = list[list[np.ndarray]]  # per image, per output (each as the model gave it, not flattened)


def _as(reference: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | None:
    if reference.shape == shape:
        return reference
    if reference.ndim == 4 and reference.transpose(0, 2, 3, 1).shape == shape:
        return reference.transpose(0, 2, 3, 1)
    if [d for d in reference.shape if d != 1] == [d for d in shape if d != 1]:
        return reference.reshape(shape)
    return None


def pair(reference: list[np.ndarray], tflite_shapes: list[tuple[int, ...]]) -> list[int | None]:
    """For each TFLite output, the index of the reference output it is (None when none fits)."""
    used: set[int] = set()
    found: list[int | None] = []
    for shape in tflite_shapes:
        match = next(
            (i for i, r in enumerate(reference) if i not in used and _as(r, shape) is not None),
            None,
        )
        if match is not None:
            used.add(match)
        found.append(match)
    return found


def max_abs(reference: Batches, tflite: Batches) -> float | None:
    """Largest |reference - TFLite| over every image and every output paired by shape."""
    shapes = [tuple(o.shape) for o in tflite[0]]
    found = pair(reference[0], shapes)
    pairs = [i for i in found if i is not None]
    if len(pairs) < len(found):
        return None
    worst = 0.0
    for ref_image, tfl_image in zip(reference, tflite):
        for j, i in enumerate(pairs):
            aligned = _as(ref_image[i], shapes[j])
            worst = max(worst, float(np.max(np.abs(aligned - tfl_image[j]))))
    return worst


def worst(per_output: list[dict[str, float]]) -> dict[str, float]:
    """Each metric's lowest value across the outputs (one output: its own values)."""
    return {key: min(m[key] for m in per_output) for key in per_output[0]}
