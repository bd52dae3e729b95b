"""What a target needs to know about a model file before running it: is it a TFLite model at all, is it
compiled for an accelerator (and which), is it integer-only, and what its inputs look like (dtype, shape, scale,
zero point). Read by the interpreter itself, so what it says is what the runtime will do."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from edgedeploy.targets.litert import InterpreterLoadError, create_interpreter
from edgedeploy.errors import InputError
from edgedeploy.tflite.files import require_tflite_file

# Ops allowed to carry float tensors in an integer-only model: they sit at its float boundary.
BOUNDARY_OPS = frozenset({"QUANTIZE", "DEQUANTIZE"})


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
    compiled_for: str | None  # the target whose compiled custom op the model holds, None for a plain model
    integer_only: bool  # no float arithmetic outside QUANTIZE/DEQUANTIZE
    inputs: tuple[TensorSpec, ...]
    op_counts: dict[str, int]

    @property
    def compiled(self) -> bool:
        return self.compiled_for is not None

    @property
    def name(self) -> str:
        """Row name: a compiled model and its source share one row (by the compiling target's naming rule)."""
        from edgedeploy.targets.registry import shared_model_name

        return shared_model_name(self.path, self.op_counts)

    @property
    def quantization(self) -> str:
        if not self.integer_only:
            return "float"
        dtypes = {spec.dtype for spec in self.inputs}
        return dtypes.pop() if len(dtypes) == 1 else "integer"

    def source_twin(self) -> Path | None:
        """For a compiled model: the file it was compiled from, where its target's naming rule puts it."""
        from edgedeploy.targets.registry import source_of

        return source_of(self.path, self.op_counts)


def inspect_model(path: Path) -> ModelFile:
    """Read ``path`` with the runtime (without allocating: a compiled model needs its delegate for that)."""
    path = Path(path)
    require_tflite_file(path, "bench runs .tflite files made by edgedeploy convert or the TFLite converter")
    try:
        interpreter, _ = create_interpreter(path, threads=1, xnnpack=False, allocate=False)
    except InterpreterLoadError as exc:
        raise InputError(f"{path.name} is corrupt or truncated: {exc}") from exc
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
    ops = interpreter._get_ops_details()
    integer_only = not any(
        op["op_name"] not in BOUNDARY_OPS and any(tensors[i]["dtype"].__name__ == "float32" for i in op["outputs"] if i >= 0)
        for op in ops)
    inputs = tuple(
        TensorSpec(name=d["name"], index=int(d["index"]), shape=tuple(int(x) for x in d["shape"]),
                   dtype=d["dtype"].__name__, scale=float(d["quantization"][0]), zero_point=int(d["quantization"][1]))
        for d in interpreter.get_input_details())
    counts = Counter(op["op_name"] for op in ops)
    from edgedeploy.targets.registry import compiled_for

    target = compiled_for(counts)
    return ModelFile(path=path, size_bytes=path.stat().st_size, compiled_for=target.name if target else None,
                     integer_only=integer_only, inputs=inputs, op_counts=dict(counts))
