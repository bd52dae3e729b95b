"""What the LiteRT runtime trusts in a TFLite file without checking, checked before it ever sees one.

The runtime's flatbuffer verifier checks offsets, not meaning: a quantization scale of inf, a
per-channel axis outside the tensor, constant data shorter than its shape, or an operator of a
second subgraph naming tensor 10^9 pass the verifier and crash the process later (SIGSEGV in a kernel).
Every rule here holds in every real model in ``tests/data`` (Google's and the converter's); a file that
breaks one is damaged, and the error says which tensor or operator, and where in the file it is.
"""

from __future__ import annotations

import math
from typing import Any

from edgedeploy.errors import InputError

QUANTIZATION_DETAILS = (0, 1)  # the schema's QuantizationDetails union: NONE, CustomQuantization
MAX_ELEMENTS = 2**31 - 1  # the runtime sizes tensors in int; more elements than this overflow it
ITEM_SIZES = {
    "float32": 4,
    "int32": 4,
    "uint8": 1,
    "int64": 8,
    "bool": 1,
    "int16": 2,
    "int8": 1,
    "float16": 2,
    "float64": 8,
    "uint64": 8,
    "uint32": 4,
    "uint16": 2,
    "complex64": 8,
    "complex128": 16,
    "bfloat16": 2,
}


def where(kind: str, index: int, table: Any) -> str:
    """``tensor 12 (byte 4711)``: the record and its position, so the damage can be found with a hex editor."""
    return f"{kind} {index} (byte {table._tab.Pos})"


def element_count(shape: tuple[int, ...], at: str) -> int:
    count = 1
    for dim in shape:
        count *= dim
        if count > MAX_ELEMENTS:
            raise InputError(
                f"corrupt TFLite file: {at} has shape {list(shape)}, more than 2^31 elements"
            )
    return count


def check_quantization(
    at: str,
    shape: tuple[int, ...],
    scale: list[float],
    zero_point: list[int],
    axis: int,
    details_type: int = 0,
) -> None:
    if (
        details_type not in QUANTIZATION_DETAILS
    ):  # a union tag past the schema's members: the runtime reads garbage
        raise InputError(
            f"corrupt TFLite file: {at} has quantization details of type {details_type}, which the "
            "schema does not define"
        )
    bad = next((s for s in scale if not math.isfinite(s) or s < 0), None)
    if bad is not None:
        raise InputError(
            f"corrupt TFLite file: {at} has quantization scale {bad} (must be a finite number >= 0)"
        )
    if zero_point and scale and len(zero_point) != len(scale):
        raise InputError(
            f"corrupt TFLite file: {at} has {len(scale)} quantization scales but {len(zero_point)} zero points"
        )
    if len(scale) > 1 and not (0 <= axis < len(shape) and shape[axis] == len(scale)):
        raise InputError(
            f"corrupt TFLite file: {at} has {len(scale)} per-channel scales along axis {axis} "
            f"of shape {list(shape)}"
        )


def check_constant(at: str, dtype: str, elements: int, buffer_size: int, sparse: bool) -> None:
    """Dense constant data must hold exactly what the shape says (sparse data is compressed: not checked)."""
    size = ITEM_SIZES.get(dtype)
    if sparse or size is None or buffer_size == 0:
        return
    if buffer_size != elements * size:
        raise InputError(
            f"corrupt TFLite file: {at} holds {buffer_size} bytes of constant {dtype} data but its shape "
            f"needs {elements * size}"
        )


def check_other_subgraphs(model: Any, count: int, n_opcodes: int, n_buffers: int, bounded) -> None:
    """The runtime loads every subgraph (control flow bodies), so their indices must hold too."""
    for s in range(1, count):
        graph = model.Subgraphs(s)
        n_tensors = bounded(graph.TensorsLength(), 4, f"subgraph {s} tensor table")
        for t in range(n_tensors):
            tensor = graph.Tensors(t)
            if not 0 <= int(tensor.Buffer()) < max(n_buffers, 1):
                raise InputError(
                    f"corrupt TFLite file: subgraph {s} {where('tensor', t, tensor)} refers to buffer "
                    f"{tensor.Buffer()} of {n_buffers}"
                )
        for o in range(bounded(graph.OperatorsLength(), 4, f"subgraph {s} operator table")):
            op = graph.Operators(o)
            if not 0 <= int(op.OpcodeIndex()) < n_opcodes:
                raise InputError(
                    f"corrupt TFLite file: subgraph {s} {where('operator', o, op)} has opcode "
                    f"{op.OpcodeIndex()} of {n_opcodes}"
                )
            for length, get in ((op.InputsLength, op.Inputs), (op.OutputsLength, op.Outputs)):
                for i in range(bounded(length(), 4, "operator inputs")):
                    if not -1 <= get(i) < n_tensors:
                        raise InputError(
                            f"corrupt TFLite file: subgraph {s} {where('operator', o, op)} refers to "
                            f"tensor {get(i)} of {n_tensors}"
                        )
        for length, get in (
            (graph.InputsLength, graph.Inputs),
            (graph.OutputsLength, graph.Outputs),
        ):
            for i in range(bounded(length(), 4, "subgraph inputs")):
                if not 0 <= get(i) < n_tensors:
                    raise InputError(
                        f"corrupt TFLite file: subgraph {s} input/output tensor {get(i)} of {n_tensors}"
                    )
