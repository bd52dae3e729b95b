"""What the produced TFLite models contain: the facts the report and the acceptance rely on
(int8 in/out, no float tensors, no TRANSPOSE, the op histogram), read from the file itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edgedeploy.tflite import Tensor, read_model

# Activation ops the Edge TPU never maps: after --fix-activations none may be left.
UNMAPPED_ACTIVATIONS = ("HARD_SWISH", "RELU_0_TO_1")


def _io(tensor: Tensor) -> dict[str, Any]:
    return {
        "name": tensor.name,
        "shape": list(tensor.shape),
        "dtype": tensor.dtype,
        "scale": tensor.scale[0] if len(tensor.scale) == 1 else tensor.scale,
        "zero_point": tensor.zero_point[0] if len(tensor.zero_point) == 1 else tensor.zero_point,
    }


def describe(path: Path) -> dict[str, Any]:
    graph = read_model(path)
    used_tensors = {t for op in graph.ops for t in op.inputs + op.outputs if t >= 0}
    float_tensors = sorted(
        {
            graph.tensors[t].name
            for t in used_tensors
            if graph.tensors[t].dtype.startswith("float") and not graph.tensors[t].is_constant
        }
    )
    histogram = graph.op_histogram()
    return {
        "file": Path(path).name,
        "bytes": Path(path).stat().st_size,
        "inputs": [_io(t) for t in graph.inputs],
        "outputs": [_io(t) for t in graph.outputs],
        "ops": len(graph.ops),
        "op_histogram": dict(sorted(histogram.items(), key=lambda kv: (-kv[1], kv[0]))),
        "float_activation_tensors": float_tensors,
        "transpose_ops": histogram.get("TRANSPOSE", 0),
        "unmapped_activation_ops": {
            op: histogram[op] for op in UNMAPPED_ACTIVATIONS if op in histogram
        },
    }
