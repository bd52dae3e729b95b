"""What bench needs to know about a model file before running it: is it a TFLite model at all, is it
compiled for the Edge TPU, is it integer-only, and what its inputs look like (dtype, shape, scale,
zero point). Read by the interpreter itself, so what it says is what the runtime will do."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from edgedeploy.targets.litert import InterpreterLoadError, create_interpreter
from edgedeploy.errors import InputError

TFLITE_IDENTIFIER = b"TFL3"  # flatbuffer file identifier at bytes 4..8
EDGETPU_CUSTOM_OP = "edgetpu-custom-op"
COMPILED_SUFFIX = "_edgetpu"
# Ops allowed to carry float tensors in an integer-only model: they sit at its float boundary.
BOUNDARY_OPS = frozenset({"QUANTIZE", "DEQUANTIZE"})
# Files people hand to bench by mistake, and what to do instead.
NOT_TFLITE = {
    ".onnx": "an ONNX model: bench runs TFLite models; convert it first: edgedeploy convert --target edgetpu {path}",
    ".pt": "a PyTorch file: convert it first: edgedeploy convert --target edgetpu {path}",
    ".pth": "a PyTorch file: convert it first: edgedeploy convert --target edgetpu {path}",
    ".pb": "a TensorFlow graph: bench runs TFLite models (convert it to .tflite first)",
}


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
    compiled: bool  # holds the Edge TPU custom op
    integer_only: bool  # no float arithmetic outside QUANTIZE/DEQUANTIZE
    inputs: tuple[TensorSpec, ...]
    op_counts: dict[str, int]

    @property
    def name(self) -> str:
        """Row name: the compiled twin and its source share one row, like X and X_edgetpu."""
        stem = self.path.stem
        return stem[: -len(COMPILED_SUFFIX)] if stem.endswith(COMPILED_SUFFIX) else stem

    @property
    def quantization(self) -> str:
        if not self.integer_only:
            return "float"
        dtypes = {spec.dtype for spec in self.inputs}
        return dtypes.pop() if len(dtypes) == 1 else "integer"

    def compiled_twin(self) -> Path:
        return self.path.with_name(f"{self.path.stem}{COMPILED_SUFFIX}{self.path.suffix}")

    def source_twin(self) -> Path:
        return self.path.with_name(f"{self.name}{self.path.suffix}")


def _check_is_tflite(path: Path) -> None:
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path} is a directory; give .tflite model files")
    hint = NOT_TFLITE.get(path.suffix.lower())
    if hint:
        raise InputError(f"{path.name} is {hint.format(path=path)}")
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(head) < 8 or head[4:8] != TFLITE_IDENTIFIER:
        what = "empty" if not head else "not a TFLite model (no TFL3 identifier)"
        raise InputError(f"{path.name} is {what}", "bench runs .tflite files made by edgedeploy convert or the TFLite converter")


def inspect_model(path: Path) -> ModelFile:
    """Read ``path`` with the runtime (without allocating: a compiled model needs its delegate for that)."""
    path = Path(path)
    _check_is_tflite(path)
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
    return ModelFile(path=path, size_bytes=path.stat().st_size, compiled=EDGETPU_CUSTOM_OP in counts,
                     integer_only=integer_only, inputs=inputs, op_counts=dict(counts))
