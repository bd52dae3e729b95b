"""What a target needs to know about a model file before running it: is it a TFLite model at all, is it
compiled for an accelerator (and which), is it integer-only, and what its inputs look like (dtype, shape, scale,
zero point). Read by edgedeploy's own reader, never by a native runtime: a damaged file must become one
InputError line, not a crash, and the runtime only ever sees a file that passed it (docs/architecture.md).
The reader agrees with the LiteRT interpreter on every real model in tests/data (tests/test_targets_cpu.py)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgedeploy.errors import InputError
from edgedeploy.tflite import TFLiteGraph, read_model
from edgedeploy.tflite.files import require_tflite_file

# Ops allowed to carry float tensors in an integer-only model: they sit at its float boundary.
BOUNDARY_OPS = frozenset({"QUANTIZE", "DEQUANTIZE"})
MAX_INPUT_BYTES = 256 * 2**20  # a 4K RGB float32 frame is 95 MiB; a damaged shape can ask for 8 GiB
# Input dtypes a benchmark can fill with data (numpy names); strings, resources and variants cannot be.
FEEDABLE = frozenset(
    {
        "float32",
        "float16",
        "float64",
        "int8",
        "uint8",
        "int16",
        "uint16",
        "int32",
        "uint32",
        "int64",
        "uint64",
        "bool",
    }
)


@dataclass(frozen=True)
class TensorSpec:
    name: str
    index: int
    shape: tuple[int, ...]
    dtype: str  # numpy dtype name: "uint8", "int8", "float32", ...
    scale: float  # 0.0 when not quantized
    zero_point: int


@dataclass(frozen=True)
class ModelFile:
    path: Path
    size_bytes: int
    compiled_for: (
        str | None
    )  # the target whose compiled custom op the model holds, None for a plain model
    integer_only: bool  # no float arithmetic outside QUANTIZE/DEQUANTIZE
    inputs: tuple[TensorSpec, ...]
    op_counts: dict[str, int]
    # By the compiling target's naming rule (targets/inspection.py asks the registry): the row name a
    # compiled model shares with its source, and for a compiled model the file it was compiled from.
    row_name: str = ""
    source_path: Path | None = None

    @property
    def compiled(self) -> bool:
        return self.compiled_for is not None

    @property
    def name(self) -> str:
        """Row name: a compiled model and its source share one row (by the compiling target's naming rule)."""
        return self.row_name or self.path.stem

    @property
    def quantization(self) -> str:
        if not self.integer_only:
            return "float"
        dtypes = {spec.dtype for spec in self.inputs}
        return dtypes.pop() if len(dtypes) == 1 else "integer"

    def source_twin(self) -> Path | None:
        """For a compiled model: the file it was compiled from, where its target's naming rule puts it."""
        return self.source_path


def _input_specs(graph: TFLiteGraph, path: Path) -> tuple[TensorSpec, ...]:
    specs = []
    for tensor in graph.inputs:
        if tensor.dtype not in FEEDABLE:
            raise InputError(
                f"{path.name}: input {tensor.name!r} is of type {tensor.dtype}; bench feeds numeric inputs only"
            )
        size = tensor.elements * np.dtype(tensor.dtype).itemsize
        if size > MAX_INPUT_BYTES:  # the random frame alone would take the machine's memory
            raise InputError(
                f"{path.name}: input {tensor.name!r} has shape {list(tensor.shape)} ({size / 2**20:.0f} MiB), "
                f"more than any model input bench feeds (at most {MAX_INPUT_BYTES // 2**20} MiB)"
            )
        specs.append(
            TensorSpec(
                name=tensor.name,
                index=tensor.index,
                shape=tensor.shape,
                dtype=tensor.dtype,
                scale=tensor.scale[0] if tensor.scale else 0.0,
                zero_point=tensor.zero_point[0] if tensor.zero_point else 0,
            )
        )
    return tuple(specs)


def read_model_file(path: Path, compiled_for: str | None = None) -> ModelFile:
    """Read ``path`` with edgedeploy's reader; InputError (one line, with where) for anything damaged.
    ``compiled_for``, the row name and the source twin are the registry's to say: use
    ``targets.inspection.inspect_model``, which asks it."""
    path = Path(path)
    require_tflite_file(
        path, "bench runs .tflite files made by edgedeploy convert or the TFLite converter"
    )
    graph = read_model(path)
    integer_only = not any(
        op.opcode not in BOUNDARY_OPS and any(t.dtype == "float32" for t in graph.op_outputs(op))
        for op in graph.ops
    )
    return ModelFile(
        path=path,
        size_bytes=graph.file_size,
        compiled_for=compiled_for,
        integer_only=integer_only,
        inputs=_input_specs(graph, path),
        op_counts=dict(Counter(op.opcode for op in graph.ops)),
    )
