"""Read a TFLite flatbuffer into a ``TFLiteGraph`` without TensorFlow (only the generated schema).

Every flatbuffer access can hit a corrupt offset; all of them happen inside ``read_model``'s guard,
so a bad file becomes one ``InputError`` line, never an ``IndexError`` or ``struct.error``.
"""

from __future__ import annotations

import struct
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from edgedeploy.errors import InputError
from edgedeploy.files import TFLITE, read_input
from edgedeploy.tflite.files import has_tflite_identifier
from edgedeploy.tflite.graph import Op, Tensor, TFLiteGraph
from edgedeploy.tflite.options import decode_options, enum_names
from edgedeploy.tflite.validate import (
    check_constant,
    check_other_subgraphs,
    check_quantization,
    element_count,
    where,
)

_MIN_SIZE = 24  # root offset + identifier + the smallest possible root table
_NUMPY_DTYPES = {
    "float32": np.float32,
    "float16": np.float16,
    "int32": np.int32,
    "uint8": np.uint8,
    "int64": np.int64,
    "bool": np.bool_,
    "int16": np.int16,
    "int8": np.int8,
    "float64": np.float64,
    "uint64": np.uint64,
    "uint32": np.uint32,
    "uint16": np.uint16,
}
# What a corrupt flatbuffer raises from inside the generated accessors.
_CORRUPT = (
    IndexError,
    struct.error,
    ValueError,
    TypeError,
    OverflowError,
    AttributeError,
    KeyError,
    UnicodeDecodeError,
    RecursionError,
    MemoryError,
    ZeroDivisionError,
)


@cache
def _builtin_names() -> dict[int, str]:
    return enum_names(schema.BuiltinOperator)


def _dtype_name(code: int) -> str:
    return enum_names(schema.TensorType).get(code, f"type{code}").lower()


def _bounded(count: int, item_size: int, data: bytes, what: str) -> int:
    """A vector length read from the file, refused if it cannot fit in the file at all."""
    if count < 0 or count * item_size > len(data):
        raise InputError(f"corrupt TFLite file: {what} claims {count} entries")
    return count


def _int_vector(getter_length: Any, getter_numpy: Any, data: bytes, what: str) -> tuple[int, ...]:
    if _bounded(getter_length(), 4, data, what) == 0:
        return ()
    return tuple(int(v) for v in getter_numpy())


def _opcode_names(model: Any, data: bytes) -> list[tuple[str, int, bool]]:
    codes = []
    for i in range(_bounded(model.OperatorCodesLength(), 4, data, "operator code table")):
        code = model.OperatorCodes(i)
        # Files from before schema 3a use only the int8 deprecated field; newer ones use the int32 field.
        builtin = max(int(code.BuiltinCode()), int(code.DeprecatedBuiltinCode()))
        custom = code.CustomCode()
        if builtin == schema.BuiltinOperator.CUSTOM and custom is not None:
            codes.append((custom.decode("utf-8", errors="replace"), int(code.Version()), True))
        else:
            codes.append(
                (
                    _builtin_names().get(builtin, f"UNKNOWN_BUILTIN_{builtin}"),
                    int(code.Version()),
                    False,
                )
            )
    return codes


def _buffer_extents(model: Any, data: bytes) -> list[tuple[int, int]]:
    """(absolute start, length) of each buffer's bytes; data is not copied."""
    extents = []
    for i in range(_bounded(model.BuffersLength(), 4, data, "buffer table")):
        buffer = model.Buffers(i)
        offset, size = int(buffer.Offset()), int(buffer.Size())
        if offset > 1 and size:  # buffers stored after the flatbuffer (models > 2 GB)
            extents.append((offset, size))
            continue
        length = int(buffer.DataLength())
        if length == 0:
            extents.append((0, 0))
            continue
        start = buffer._tab.Vector(buffer._tab.Offset(4))
        extents.append((start, length))
    for start, length in extents:
        if start + length > len(data):
            raise InputError(
                "corrupt TFLite file: a weight buffer runs past the end of the file (truncated?)"
            )
    return extents


def _read_tensor(
    index: int, tensor: Any, extents: list[tuple[int, int]], data: bytes, progress: list[str]
) -> Tensor:
    at = progress[0] = where("tensor", index, tensor)
    quant = tensor.Quantization()
    scale: list[float] = []
    zero_point: list[int] = []
    quantized_dimension, details_type = 0, 0
    if quant is not None:
        details_type = int(quant.DetailsType())
        if _bounded(quant.ScaleLength(), 4, data, "quantization scales"):
            scale = [float(s) for s in quant.ScaleAsNumpy()]
        if _bounded(quant.ZeroPointLength(), 8, data, "quantization zero points"):
            zero_point = [int(z) for z in quant.ZeroPointAsNumpy()]
        quantized_dimension = int(quant.QuantizedDimension())
    buffer_index = int(tensor.Buffer())
    if not 0 <= buffer_index < max(len(extents), 1):
        raise InputError(
            f"corrupt TFLite file: {at} refers to buffer {buffer_index} of {len(extents)}"
        )
    buffer_size = extents[buffer_index][1] if extents else 0
    shape = _int_vector(tensor.ShapeLength, tensor.ShapeAsNumpy, data, "tensor shape")
    if any(d < 0 for d in shape):
        raise InputError(f"corrupt TFLite file: {at} has a negative dimension {list(shape)}")
    elements = element_count(shape, at)
    check_quantization(at, shape, scale, zero_point, quantized_dimension, details_type)
    dtype = _dtype_name(int(tensor.Type()))
    check_constant(at, dtype, elements, buffer_size, sparse=tensor.Sparsity() is not None)
    signature = None
    if tensor.ShapeSignatureLength():
        signature = _int_vector(
            tensor.ShapeSignatureLength, tensor.ShapeSignatureAsNumpy, data, "shape signature"
        )
    name = tensor.Name()
    return Tensor(
        index=index,
        name=name.decode("utf-8", errors="replace") if name else f"tensor_{index}",
        shape=shape,
        shape_signature=signature,
        dtype=dtype,
        scale=scale,
        zero_point=zero_point,
        quantized_dimension=quantized_dimension,
        is_constant=buffer_size > 0,
        buffer_size=buffer_size,
        buffer_index=buffer_index,
        is_variable=bool(tensor.IsVariable()),
    )


def _custom_options(operator: Any, data: bytes) -> bytes | None:
    large_offset = (
        int(operator.LargeCustomOptionsOffset())
        if hasattr(operator, "LargeCustomOptionsOffset")
        else 0
    )
    if large_offset > 1:
        size = int(operator.LargeCustomOptionsSize())
        if large_offset + size > len(data):
            raise InputError("corrupt TFLite file: custom options run past the end of the file")
        return bytes(data[large_offset : large_offset + size])
    length = _bounded(operator.CustomOptionsLength(), 1, data, "custom options")
    if length == 0:
        return None
    return operator.CustomOptionsAsNumpy().tobytes()  # numpy raises if the vector runs past the end


def _read_op(
    index: int,
    operator: Any,
    opcodes: list[tuple[str, int, bool]],
    n_tensors: int,
    data: bytes,
    progress: list[str],
) -> Op:
    at = progress[0] = where("operator", index, operator)
    opcode_index = int(operator.OpcodeIndex())
    if not 0 <= opcode_index < len(opcodes):
        raise InputError(f"corrupt TFLite file: {at} has opcode {opcode_index} of {len(opcodes)}")
    name, version, is_custom = opcodes[opcode_index]
    inputs = list(
        _int_vector(operator.InputsLength, operator.InputsAsNumpy, data, "operator inputs")
    )
    outputs = list(
        _int_vector(operator.OutputsLength, operator.OutputsAsNumpy, data, "operator outputs")
    )
    for t in inputs + outputs:
        if not -1 <= t < n_tensors:
            raise InputError(f"corrupt TFLite file: {at} refers to tensor {t} of {n_tensors}")
    return Op(
        index=index,
        opcode=name,
        version=version,
        inputs=inputs,
        outputs=outputs,
        options={} if is_custom else decode_options(operator),
        custom_options=_custom_options(operator, data) if is_custom else None,
        is_custom=is_custom,
    )


def _constant_reader(data: bytes, extents: list[tuple[int, int]]):
    def read(tensor: Tensor) -> np.ndarray | None:
        start, length = extents[tensor.buffer_index]
        dtype = _NUMPY_DTYPES.get(tensor.dtype)
        if dtype is None or length % np.dtype(dtype).itemsize:
            return None
        values = np.frombuffer(
            data, dtype=dtype, count=length // np.dtype(dtype).itemsize, offset=start
        )
        return values.reshape(tensor.shape) if values.size == tensor.elements else values

    return read


def parse_model(data: bytes, label: str = "model") -> TFLiteGraph:
    """Parse TFLite bytes already in memory; ``label`` names the source in error messages."""
    if len(data) == 0:
        raise InputError(f"{label} is empty (0 bytes)")
    if len(data) < _MIN_SIZE or not has_tflite_identifier(data):
        raise InputError(f"{label} is not a TFLite model (no 'TFL3' file identifier)")
    progress = ["the model header"]  # the record being read, for the message when an accessor fails
    try:
        return _parse_checked(data, progress)
    except InputError as exc:
        raise InputError(f"{label}: {exc.message}") from None
    except _CORRUPT as exc:
        what = (
            "an offset past the end of the file"
            if isinstance(exc, struct.error)
            else type(exc).__name__
        )
        raise InputError(
            f"{label} is a corrupt or truncated TFLite file ({what} while reading {progress[0]})"
        ) from None


def _parse_checked(data: bytes, progress: list[str]) -> TFLiteGraph:
    root = struct.unpack_from("<I", data, 0)[0]
    if root >= len(data):
        raise InputError("corrupt TFLite file: root table offset points past the end (truncated?)")
    model = schema.Model.GetRootAs(data, 0)
    n_subgraphs = _bounded(model.SubgraphsLength(), 4, data, "subgraph table")
    if n_subgraphs == 0:
        raise InputError("the TFLite file has no subgraph")
    progress[0] = "the operator code table"
    opcodes = _opcode_names(model, data)
    progress[0] = "the buffer table"
    extents = _buffer_extents(model, data)
    graph = model.Subgraphs(0)
    tensors = [
        _read_tensor(i, graph.Tensors(i), extents, data, progress)
        for i in range(_bounded(graph.TensorsLength(), 4, data, "tensor table"))
    ]
    ops = [
        _read_op(i, graph.Operators(i), opcodes, len(tensors), data, progress)
        for i in range(_bounded(graph.OperatorsLength(), 4, data, "operator table"))
    ]
    progress[0] = "the other subgraphs"
    check_other_subgraphs(
        model,
        n_subgraphs,
        len(opcodes),
        len(extents),
        lambda count, size, what: _bounded(count, size, data, what),
    )
    progress[0] = "the graph inputs and outputs"
    inputs = list(_int_vector(graph.InputsLength, graph.InputsAsNumpy, data, "graph inputs"))
    outputs = list(_int_vector(graph.OutputsLength, graph.OutputsAsNumpy, data, "graph outputs"))
    for t in inputs + outputs:
        if not 0 <= t < len(tensors):
            raise InputError(
                f"corrupt TFLite file: graph input/output tensor {t} of {len(tensors)}"
            )
    description = model.Description()
    return TFLiteGraph(
        ops=ops,
        tensors=tensors,
        input_indices=inputs,
        output_indices=outputs,
        subgraph_count=n_subgraphs,
        schema_version=int(model.Version()),
        description=description.decode("utf-8", errors="replace") if description else "",
        file_size=len(data),
        _constant_reader=_constant_reader(data, extents),
    )


def read_model(path: str | Path) -> TFLiteGraph:
    """Read a ``.tflite`` file. Missing, empty, truncated, random or non-TFLite files raise ``InputError``."""
    path = Path(path)
    return parse_model(read_input(path, TFLITE), label=str(path))
