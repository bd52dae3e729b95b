"""Time exactly the operators that stay on the host CPU, with LiteRT, on this machine.

How: the model's flatbuffer is rewritten (``tflite`` schema object API, the ``flatbuffers`` package) into
a sub-model whose main subgraph holds only those operators, in their original order. Its inputs are the
tensors they read from elsewhere (the graph inputs, or what the Edge TPU part produced); its outputs are
what they hand on (graph outputs, or inputs of Edge TPU ops). Tensors and weights are kept as they are,
so each op runs the same kernel on the same shapes and dtypes as in the full model. The sub-model is
invoked with random data of each input's dtype with bench's stopping rules (warm-up of at least 2 runs
and 0.1 s, then at least 20 runs and 0.3 s, capped at 20 s; only ``invoke()`` is timed), on 1 thread with
LiteRT's default resolver (XNNPACK where it applies), and the median is the term. A custom op this
LiteRT build cannot run (e.g. Coral's ``PosenetDecoderOp``) is left out of the sub-model and reported
as not measured.
"""

from __future__ import annotations

import platform
import re
import struct
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as schema

from edgedeploy.errors import InputError
from edgedeploy.targets.litert import InterpreterLoadError, create_interpreter
from edgedeploy.tflite.files import FILE_IDENTIFIER

MIN_RUNS, MIN_TIME_S, MAX_TIME_S, WARMUP_RUNS, WARMUP_TIME_S = 20, 0.3, 20.0, 2, 0.1
_UNRESOLVED = re.compile(r"unresolved custom op: ([\w./-]+)", re.IGNORECASE)
_MAX_RETRIES = 8
# What the schema's object API raises on a corrupt flatbuffer (the TFLite reader guards the same way).
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
)


@dataclass
class CpuOpsTiming:
    """What running the CPU-side ops on this machine cost."""

    op_indices: list[
        int
    ]  # ops of the model that was read (source or compiled file) that run on the CPU
    measured_ops: list[int] = field(default_factory=list)
    unmeasured_ops: list[tuple[int, str, str]] = field(default_factory=list)  # (index, op, why)
    median_ms: float = 0.0
    p90_ms: float = 0.0
    runs: int = 0
    cpu: str = ""
    threads: int = 1
    xnnpack_refused: str | None = (
        None  # why LiteRT's built-in kernels timed them instead of XNNPACK
    )

    def to_dict(self) -> dict:
        return {
            "ops": self.op_indices,
            "measured_ops": self.measured_ops,
            "unmeasured_ops": [
                {"index": i, "op": op, "why": why} for i, op, why in self.unmeasured_ops
            ],
            "median_ms": self.median_ms,
            "p90_ms": self.p90_ms,
            "runs": self.runs,
            "cpu": self.cpu,
            "threads": self.threads,
            "kernels": "builtin (XNNPACK refused)" if self.xnnpack_refused else "xnnpack",
            "xnnpack_refused": self.xnnpack_refused,
        }


def cpu_model_name() -> str:
    """This machine's CPU as /proc/cpuinfo names it (the platform's processor string elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def _op_name(model: schema.ModelT, op: schema.OperatorT) -> str:
    code = model.operatorCodes[op.opcodeIndex]
    builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
    if builtin == schema.BuiltinOperator.CUSTOM:
        return (
            code.customCode.decode() if isinstance(code.customCode, bytes) else str(code.customCode)
        )
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    return names.get(builtin, f"BUILTIN_{builtin}")


def sub_model(data: bytes, keep: list[int]) -> bytes:
    """A TFLite model whose main subgraph runs only the ops ``keep`` (indices in execution order)."""
    model = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
    graph = model.subgraphs[0]
    constant = {
        i
        for i, t in enumerate(graph.tensors)
        if t.buffer
        and model.buffers[t.buffer].data is not None
        and len(model.buffers[t.buffer].data)
    }
    variable = {i for i, t in enumerate(graph.tensors) if t.isVariable}
    kept = [graph.operators[i] for i in sorted(set(keep))]
    produced = {t for op in kept for t in (op.outputs if op.outputs is not None else []) if t >= 0}
    inputs: list[int] = []
    for op in kept:
        for t in op.inputs if op.inputs is not None else []:
            if (
                t >= 0
                and t not in produced
                and t not in constant
                and t not in variable
                and t not in inputs
            ):
                inputs.append(t)
    dropped = [op for i, op in enumerate(graph.operators) if i not in set(keep)]
    read_elsewhere = {t for op in dropped for t in (op.inputs if op.inputs is not None else [])}
    graph_outputs = set(graph.outputs if graph.outputs is not None else [])
    outputs = [
        t
        for op in kept
        for t in (op.outputs if op.outputs is not None else [])
        if t >= 0 and (t in graph_outputs or t in read_elsewhere)
    ]
    if not outputs and kept:
        outputs = [t for t in kept[-1].outputs if t >= 0]
    graph.operators, graph.inputs, graph.outputs = kept, inputs, list(dict.fromkeys(outputs))
    model.signatureDefs = []
    builder = flatbuffers.Builder(max(1024, len(data)))
    builder.Finish(model.Pack(builder), file_identifier=FILE_IDENTIFIER)
    return bytes(builder.Output())


def _random_feed(interpreter, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for detail in interpreter.get_input_details():
        dtype = np.dtype(detail["dtype"])
        shape = tuple(int(d) for d in detail["shape"])
        if dtype.kind in "iu":
            info = np.iinfo(dtype)
            low, high = (
                (0, 255) if dtype.itemsize > 1 else (info.min, info.max)
            )  # index-like int32/64 kept small
            value = rng.integers(low, high, size=shape, endpoint=True).astype(dtype)
        elif dtype.kind == "b":
            value = rng.integers(0, 2, size=shape).astype(dtype)
        else:
            value = rng.standard_normal(shape).astype(dtype)
        interpreter.set_tensor(detail["index"], value)


def _load(data: bytes, threads: int):
    """(interpreter, XNNPACK's refusal or None): XNNPACK where it prepares, LiteRT's kernels otherwise."""
    with tempfile.TemporaryDirectory(prefix="edgedeploy-cpu-ops-") as folder:
        path = Path(folder) / "cpu_ops.tflite"
        path.write_bytes(data)
        interpreter, log = create_interpreter(path, threads=threads, xnnpack=True)
    return interpreter, log.xnnpack_refused


def _median_ms(invoke) -> tuple[float, float, int]:
    """(median ms, p90 ms, runs): warm-up, then back-to-back runs until both minimums are met."""
    clock = time.perf_counter_ns
    end, runs = clock() + int(WARMUP_TIME_S * 1e9), 0
    while runs < WARMUP_RUNS or clock() < end:
        invoke()
        runs += 1
    samples: list[int] = []
    begin = clock()
    while True:
        start = clock()
        invoke()
        stop = clock()
        samples.append(stop - start)
        if (
            len(samples) >= MIN_RUNS and stop - begin >= MIN_TIME_S * 1e9
        ) or stop - begin >= MAX_TIME_S * 1e9:
            break
    p50, p90 = np.percentile(np.asarray(samples, dtype=np.float64) / 1e6, [50, 90])
    return float(p50), float(p90), len(samples)


def time_cpu_ops(data: bytes, op_indices: list[int], *, threads: int = 1) -> CpuOpsTiming:
    """Median latency of the ops ``op_indices`` of the TFLite model ``data``, run alone on this CPU."""
    timing = CpuOpsTiming(op_indices=sorted(op_indices), cpu=cpu_model_name(), threads=threads)
    if not op_indices:
        return timing
    try:
        model = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
        names = {i: _op_name(model, model.subgraphs[0].operators[i]) for i in op_indices}
    except _CORRUPT as exc:
        raise InputError(
            f"the CPU-side ops could not be cut out to time them ({type(exc).__name__}: a corrupt "
            "model?)"
        ) from None
    keep = sorted(op_indices)
    for _ in range(_MAX_RETRIES):
        if not keep:
            return timing
        try:
            cut = sub_model(data, keep)
        except _CORRUPT as exc:
            raise InputError(
                f"the CPU-side ops could not be cut out to time them ({type(exc).__name__}: a corrupt "
                "model?)"
            ) from None
        try:
            interpreter, timing.xnnpack_refused = _load(cut, threads)
            break
        except InterpreterLoadError as exc:
            missing = {name.rstrip(".") for name in _UNRESOLVED.findall(str(exc))}
            left_out = [i for i in keep if names[i] in missing]
            if not left_out:
                raise InputError(
                    f"the CPU-side ops could not be run with LiteRT to time them ({exc})"
                ) from None
            timing.unmeasured_ops += [
                (i, names[i], "custom op not available in this LiteRT build") for i in left_out
            ]
            keep = [i for i in keep if i not in left_out]
    else:
        raise InputError(
            "the CPU-side ops could not be run with LiteRT to time them (too many unresolved custom ops)"
        )
    _random_feed(interpreter)
    timing.median_ms, timing.p90_ms, timing.runs = _median_ms(interpreter.invoke)
    timing.measured_ops = keep
    return timing
