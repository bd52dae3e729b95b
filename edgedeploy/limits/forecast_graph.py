"""The TFLite graph ``limits``' forecast is writing: its tensors, ops and shared constants, with the
names the ONNX graph gives them (the state the translation rules in ``forecast_ops.py`` add to)."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgedeploy.limits.onnx_shapes import SizedGraph


def nhwc(shape: tuple[int, ...]) -> tuple[int, ...]:
    return (shape[0], shape[2], shape[3], shape[1]) if len(shape) == 4 else tuple(shape)


class DraftGraph:
    """Tensors and ops as plain records while they are written; ``forecast._Builder.graph`` freezes them
    into a ``TFLiteGraph``."""

    def __init__(self, sized: SizedGraph):
        self.sized = sized
        self.tensors: list[dict[str, Any]] = []
        self.ops: list[dict[str, Any]] = []
        self.by_name: dict[str, int] = {}
        self.shared: dict[tuple, int] = {}
        self.values: dict[int, np.ndarray] = {}
        self.gaps: dict[str, int] = {}
        self.writer: dict[int, int] = {}  # TFLite tensor -> the op that writes it
        self.readers: dict[str, list[Any]] = {}
        nodes = [
            n for n in sized.model.graph.node if not all(o in sized.static for o in n.output if o)
        ]
        for node in nodes:
            for name in node.input:
                if name and name not in sized.static:
                    self.readers.setdefault(name, []).append(node)
        self.outputs = {o.name for o in sized.model.graph.output}
        self.nodes = nodes

    # tensors -------------------------------------------------------------------------------------------
    def _tensor(self, name: str, shape: tuple[int, ...], dtype: str, nbytes: int = 0) -> int:
        self.tensors.append(
            {"name": name, "shape": tuple(int(d) for d in shape), "dtype": dtype, "bytes": nbytes}
        )
        return len(self.tensors) - 1

    def act(self, name: str) -> int:
        if name not in self.by_name:
            shape = self.sized.shape(name)
            if shape is None:
                self.gaps[f"no inferred shape for '{name}'"] = 1
                shape = ()
            self.by_name[name] = self._tensor(name, nhwc(shape), "int8")
        return self.by_name[name]

    def const(
        self,
        name: str,
        shape: tuple[int, ...],
        dtype: str,
        value: np.ndarray | np.generic | None = None,
    ) -> int:
        """A constant; small ones with a value are shared when identical, as the converter does."""
        itemsize = 4 if dtype == "int32" else 1
        nbytes = int(np.prod(shape, dtype=np.int64)) * itemsize if shape else itemsize
        if value is not None:
            key = (dtype, tuple(shape), tuple(np.asarray(value).ravel().tolist()))
            if key in self.shared:
                return self.shared[key]
        index = self._tensor(name, shape, dtype, nbytes)
        if value is not None:
            self.values[index] = np.asarray(
                value, dtype=np.int32 if dtype == "int32" else np.int8
            ).reshape(shape)
            self.shared[key] = index
        return index

    def alias(self, node: Any, source: str) -> None:
        self.by_name[node.output[0]] = self.act(source)

    def emit(self, opcode: str, inputs: list[int], outputs: list[int], **options: Any) -> int:
        self.ops.append(
            {"opcode": opcode, "inputs": inputs, "outputs": outputs, "options": options}
        )
        for tensor in outputs:
            self.writer[tensor] = len(self.ops) - 1
        return len(self.ops) - 1

    def data_inputs(self, node: Any) -> list[str]:
        return [n for n in node.input if n and n not in self.sized.static]

    def gap(self, what: str) -> None:
        self.gaps[what] = self.gaps.get(what, 0) + 1
