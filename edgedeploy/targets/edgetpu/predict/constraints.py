"""Per-op constraint checks named in the rules data (``"constraints": {"unit_strides": true}``).

Each check gets the graph, the op and the constraint's parameter from the JSON, and returns ``None``
when the op satisfies it, or an ``Issue``: verdict ``cpu`` (the compiler refuses it) or ``risky``
(documented as size-dependent or never seen mapped: verify with the compiler), a stable reason code
and one sentence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from edgedeploy.errors import InputError
from edgedeploy.tflite import Op, TFLiteGraph


@dataclass(frozen=True)
class Issue:
    verdict: str  # "cpu" | "risky"
    reason: str
    detail: str


def _first_data_input(graph: TFLiteGraph, op: Op):
    for t in op.inputs:
        if t >= 0 and not graph.tensors[t].is_constant:
            return graph.tensors[t]
    return None


def fused_activation(graph: TFLiteGraph, op: Op, allowed: list[str]) -> Issue | None:
    act = op.options.get("fused_activation", "NONE")
    if act in allowed:
        return None
    return Issue(
        "cpu",
        "fused-activation",
        f"{op.opcode} with a fused {act} is not mapped (only {', '.join(allowed)})",
    )


def constant_inputs(graph: TFLiteGraph, op: Op, mode: str) -> Issue | None:
    constants = [t for t in op.inputs if t >= 0 and graph.tensors[t].is_constant]
    if not constants:
        return None
    for t in constants:
        tensor, data = graph.tensors[t], graph.constant(t)
        zero = tensor.zero_point[0] if tensor.zero_point else 0
        if len(op.inputs) != 2 or data is None or not np.all(data == zero):
            return Issue(
                "cpu",
                "constant-input",
                f"{op.opcode} with a constant input is mapped only as a zero pad with exactly 2 inputs",
            )
    return None


def equal_dilation(graph: TFLiteGraph, op: Op, _: Any) -> Issue | None:
    h, w = op.options.get("dilation_h_factor", 1), op.options.get("dilation_w_factor", 1)
    if h == w:
        return None
    return Issue("cpu", "dilation", f"dilation {h}x{w} differs between height and width")


def weights_format(graph: TFLiteGraph, op: Op, allowed: list[str]) -> Issue | None:
    fmt = op.options.get("weights_format", "DEFAULT")
    return (
        None
        if fmt in allowed
        else Issue("cpu", "weights-format", f"weights format {fmt} is not mapped")
    )


def _integer_operand(
    graph: TFLiteGraph, op: Op, position: int, what: str, max_rank: int = 1
) -> np.ndarray | None:
    """A constant operand the op reads as integers (axes, sizes, strides), or None when it is not constant.

    The runtime refuses a float or higher-rank one when it prepares the op; the predictor must not
    guess from it (a NaN axis has no integer value), so a damaged one is an InputError saying where.
    """
    if len(op.inputs) <= position or op.inputs[position] < 0:
        return None
    data = graph.constant(op.inputs[position])
    if data is None:
        return None
    if data.dtype.kind not in "iu" or data.ndim > max_rank:
        raise InputError(
            f"corrupt TFLite model: operator {op.index} ({op.opcode}): its {what} operand (tensor "
            f"{op.inputs[position]}) is {data.dtype} of rank {data.ndim}; it must be integers of rank "
            f"{max_rank} or less"
        )
    return data


def _axes(graph: TFLiteGraph, op: Op, rank: int) -> list[int] | None:
    data = _integer_operand(graph, op, 1, "axis")
    if data is None:
        return None
    return sorted({int(a) % rank for a in np.atleast_1d(data)}) if rank else []


def not_over_batch(graph: TFLiteGraph, op: Op, where: str) -> Issue | None:
    data_in = _first_data_input(graph, op)
    rank = len(data_in.shape) if data_in is not None else 0
    over_batch = False
    if where == "axis_operand":
        axes = _axes(graph, op, rank)
        over_batch = axes is not None and rank >= 3 and 0 in axes
    elif where == "axis_option":
        over_batch = int(op.options.get("axis", -1)) == 0
    elif where == "paddings_operand":
        pads = _integer_operand(graph, op, 1, "paddings", max_rank=2)
        over_batch = (
            pads is not None and pads.ndim == 2 and rank >= 3 and bool(np.any(pads[0] != 0))
        )
    if not over_batch:
        return None
    return Issue("cpu", "batch-axis", f"{op.opcode} over the batch dimension is not mapped")


def channel_reduction_multiple(graph: TFLiteGraph, op: Op, multiple: int) -> Issue | None:
    data_in = _first_data_input(graph, op)
    if data_in is None or not data_in.shape:
        return None
    axes = _axes(graph, op, len(data_in.shape))
    channels = data_in.shape[-1]
    if axes and len(data_in.shape) - 1 in axes and channels % multiple:
        return Issue(
            "risky",
            "reduction-shape",
            f"reduces over {channels} channels; the Edge TPU documents channel reductions in multiples of {multiple}",
        )
    return None


def alpha_one_dimensional(graph: TFLiteGraph, op: Op, _: Any) -> Issue | None:
    if len(op.inputs) < 2 or op.inputs[1] < 0:
        return None
    alpha = graph.tensors[op.inputs[1]]
    if sum(1 for d in alpha.shape if d > 1) <= 1:
        return None
    return Issue("cpu", "alpha-shape", f"PReLU alpha of shape {list(alpha.shape)} is not 1-D")


def input_dtypes(graph: TFLiteGraph, op: Op, allowed: list[str]) -> Issue | None:
    data_in = _first_data_input(graph, op)
    if data_in is None or data_in.dtype in allowed:
        return None
    code = "float-tensor" if data_in.dtype.startswith(("float", "bfloat")) else "unsupported-dtype"
    return Issue(
        "cpu",
        code,
        f"{op.opcode} from {data_in.dtype} is not mapped (only from {', '.join(allowed)})",
    )


def resize(graph: TFLiteGraph, op: Op, _: Any) -> Issue | None:
    """docs/edgetpu.md section 4: x2 upsampling maps; align_corners from a 1-pixel map is refused (DeepLab)."""
    data_in, outs = _first_data_input(graph, op), graph.op_outputs(op)
    if data_in is None or not outs or len(data_in.shape) != 4 or len(outs[0].shape) != 4:
        return None
    (h, w), (oh, ow) = data_in.shape[1:3], outs[0].shape[1:3]
    if min(h, w, oh, ow) == 0:  # the runtime refuses an empty image; no scale can be told from one
        raise InputError(
            f"corrupt TFLite model: operator {op.index} ({op.opcode}) resizes a {h}x{w} map to {oh}x{ow}: "
            "an empty image"
        )
    if op.options.get("align_corners"):
        if min(h, w) <= 1 and max(oh, ow) > 1:
            return Issue(
                "cpu",
                "resize-precision",
                f"align_corners resize of a {h}x{w} map to {oh}x{ow} is refused "
                "(the compiler avoids the precision loss; seen on DeepLab's image-pooling branch)",
            )
        exact = all(b > 1 and (a - 1) % (b - 1) == 0 for a, b in ((oh, h), (ow, w)))
        if not exact:
            return Issue(
                "cpu",
                "resize-precision",
                f"align_corners resize {h}x{w} -> {oh}x{ow} is not an integer step",
            )
        return None
    if oh % h == 0 and ow % w == 0:
        return None
    return Issue(
        "risky",
        "resize-size",
        f"resize {h}x{w} -> {oh}x{ow} is not an integer scale; "
        "the compiler maps resizes depending on size",
    )


def one_dimensional(graph: TFLiteGraph, op: Op, _: Any) -> Issue | None:
    data_in = _first_data_input(graph, op)
    if data_in is None or all(d == 1 for d in data_in.shape[:-1]):
        return None
    return Issue(
        "cpu", "softmax-shape", f"{op.opcode} over a {list(data_in.shape)} tensor is not 1-D"
    )


def max_elements(graph: TFLiteGraph, op: Op, limit: int) -> Issue | None:
    data_in = _first_data_input(graph, op)
    if data_in is None or not data_in.shape or data_in.shape[-1] <= limit:
        return None
    return Issue(
        "cpu", "softmax-size", f"{op.opcode} over {data_in.shape[-1]} elements (limit {limit})"
    )


def unit_strides(graph: TFLiteGraph, op: Op, _: Any) -> Issue | None:
    if len(op.inputs) < 4 or op.inputs[3] < 0:
        return None
    strides = _integer_operand(graph, op, 3, "strides")
    if strides is None or np.all(strides == 1):
        return None
    return Issue(
        "cpu",
        "stride",
        f"strided slice with strides {np.asarray(strides).tolist()} (only unit strides are mapped)",
    )


CHECKS: dict[str, Callable[[TFLiteGraph, Op, Any], Issue | None]] = {
    "fused_activation": fused_activation,
    "constant_inputs": constant_inputs,
    "equal_dilation": equal_dilation,
    "weights_format": weights_format,
    "not_over_batch": not_over_batch,
    "channel_reduction_multiple": channel_reduction_multiple,
    "alpha_one_dimensional": alpha_one_dimensional,
    "input_dtypes": input_dtypes,
    "resize": resize,
    "one_dimensional": one_dimensional,
    "max_elements": max_elements,
    "unit_strides": unit_strides,
}
