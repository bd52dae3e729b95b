"""Plain-data view of a TFLite model's main subgraph: operators, tensors and the edges between them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    shape_signature: (
        tuple[int, ...] | None
    )  # -1 marks a dynamic dimension; None when the file has none
    dtype: str  # "int8", "uint8", "float32", "int32", ...
    scale: list[float]
    zero_point: list[int]
    quantized_dimension: int
    is_constant: bool  # backed by a non-empty buffer (weights, biases, shape operands)
    buffer_size: int  # bytes of constant data (0 for activations)
    buffer_index: int = 0
    is_variable: bool = False  # state kept between invocations (LSTM cell/hidden state)

    @property
    def is_dynamic(self) -> bool:
        return self.shape_signature is not None and any(d < 0 for d in self.shape_signature)

    @property
    def is_quantized(self) -> bool:
        return bool(self.scale)

    @property
    def elements(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1


@dataclass(frozen=True)
class Op:
    index: int
    opcode: (
        str  # builtin name ("CONV_2D") or, for custom ops, the custom code ("edgetpu-custom-op")
    )
    version: int
    inputs: list[int]  # tensor indices; -1 = optional input left out
    outputs: list[int]
    options: dict[str, Any] = field(
        default_factory=dict
    )  # snake_case schema fields, enums as names
    custom_options: bytes | None = None
    is_custom: bool = False


@dataclass
class TFLiteGraph:
    """The main subgraph (index 0); ``subgraph_count`` says whether the file has more (control flow)."""

    ops: list[Op]
    tensors: list[Tensor]
    input_indices: list[int]
    output_indices: list[int]
    subgraph_count: int
    schema_version: int
    description: str
    file_size: int
    _constant_reader: Callable[[Tensor], np.ndarray | None] | None = field(default=None, repr=False)

    @property
    def inputs(self) -> list[Tensor]:
        return [self.tensors[i] for i in self.input_indices]

    @property
    def outputs(self) -> list[Tensor]:
        return [self.tensors[i] for i in self.output_indices]

    def op_histogram(self) -> dict[str, int]:
        return dict(Counter(op.opcode for op in self.ops))

    def tensor(self, index: int) -> Tensor | None:
        return self.tensors[index] if 0 <= index < len(self.tensors) else None

    def op_inputs(self, op: Op) -> list[Tensor]:
        return [self.tensors[i] for i in op.inputs if 0 <= i < len(self.tensors)]

    def op_outputs(self, op: Op) -> list[Tensor]:
        return [self.tensors[i] for i in op.outputs if 0 <= i < len(self.tensors)]

    def constant(self, index: int) -> np.ndarray | None:
        """The constant data of tensor ``index`` as an array of its shape, or None for activations."""
        tensor = self.tensor(index)
        if tensor is None or not tensor.is_constant or self._constant_reader is None:
            return None
        return self._constant_reader(tensor)

    def producers(self) -> dict[int, int]:
        """Tensor index -> index of the op that writes it."""
        return {t: op.index for op in self.ops for t in op.outputs if t >= 0}

    def consumers(self) -> dict[int, list[int]]:
        """Tensor index -> indices of the ops that read it."""
        readers: dict[int, list[int]] = {}
        for op in self.ops:
            for t in op.inputs:
                if t >= 0:
                    readers.setdefault(t, []).append(op.index)
        return readers

    @property
    def parameter_bytes(self) -> int:
        """Bytes of constant tensors that ops read (weights, biases, constant operands)."""
        used = {t for op in self.ops for t in op.inputs if t >= 0}
        return sum(self.tensors[t].buffer_size for t in used if t < len(self.tensors))
