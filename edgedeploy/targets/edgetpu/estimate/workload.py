"""What the latency terms are computed from, read from the model file itself.

* Compiled ``*_edgetpu.tflite``: the DarwiNN package inside ``edgetpu-custom-op`` gives the compiler's
  cycle estimate (when the file carries one), the bytes each run moves (its DMA hints: input, output,
  and activations spilled to host memory, out and back), the instruction bitstream bytes, and the
  parameter bytes cached on chip vs streamed on every inference. MACs (needed only without a cycle estimate) are counted on the
  source model beside it. The ops left in the compiled file are the CPU-side ops.
* Uncompiled int8 ``.tflite``: the project's own mapping prediction decides which ops run where; MACs and
  the boundary tensors of the Edge TPU part come from the graph; the package is predicted: parameter
  bytes = weight bytes x the measured package overhead, compared with the ~8 MiB on-chip cache, and
  instruction bytes from the per-op / per-activation-byte relation of the compiled files. ``risky`` ops
  are assumed to map; what would run on the CPU if they did not is kept for the range.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from edgedeploy.errors import InputError
from edgedeploy.targets.edgetpu.estimate.profiles import Chip
from edgedeploy.targets.edgetpu.inspect.compiled import read_regions, recover
from edgedeploy.targets.edgetpu.inspect.darwinn import Executable
from edgedeploy.targets.edgetpu.predict.analysis import (
    USABLE_CACHE_FRACTION,
    analyse,
    package_parameter_bytes,
)
from edgedeploy.targets.edgetpu.predict.operators import macs as op_macs
from edgedeploy.targets.edgetpu.predict.partition import apply_partition
from edgedeploy.targets.edgetpu.predict.rules import Rules
from edgedeploy.tflite import TFLiteGraph

_ITEM_BYTES = {
    "int8": 1,
    "uint8": 1,
    "int16": 2,
    "float16": 2,
    "int32": 4,
    "float32": 4,
    "int64": 8,
    "float64": 8,
}


@dataclass
class Workload:
    kind: str  # compiled | uncompiled
    tpu_ops: int | None  # None: compiled file without its source model
    total_ops: int | None
    tpu_macs: (
        int | None
    )  # None: compiled file without its source model (the cycle estimate is used)
    compiler_cycles: int | None  # the compiler's own estimate, when the compiled file carries it
    input_bytes: int
    output_bytes: int
    instruction_bytes: int
    instructions_estimated: bool
    scratch_bytes: (
        int | None
    )  # activations spilled to host memory, out and back in, per run; None: unknown
    on_chip_bytes: int  # parameters cached on chip (uploaded with the first inference)
    streamed_bytes: int  # parameters sent on every inference
    streamed_bytes_high: int  # the most that may stream (uncompiled: cache size uncertain)
    cpu_ops: list[int]  # ops of the file that run on the host CPU (indices in that file)
    activation_bytes: int | None = None  # uncompiled: bytes of all tensors the Edge TPU ops write
    cpu_op_names: dict[int, str] = field(default_factory=dict)
    risky_ops: list[int] = field(default_factory=list)
    cpu_ops_if_risky_refused: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def transfer_bytes(self) -> int:
        """Bytes crossing the host link on every inference besides parameters: activations in and out,
        instructions, and scratch (spilled activations written out and read back)."""
        return (
            self.input_bytes
            + self.output_bytes
            + self.instruction_bytes
            + (self.scratch_bytes or 0)
        )

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "tpu_ops": self.tpu_ops,
            "total_ops": self.total_ops,
            "tpu_macs": self.tpu_macs,
            "compiler_cycles": self.compiler_cycles,
            "input_bytes": self.input_bytes,
            "output_bytes": self.output_bytes,
            "instruction_bytes": self.instruction_bytes,
            "instructions_estimated": self.instructions_estimated,
            "scratch_bytes": self.scratch_bytes,
            "on_chip_parameter_bytes": self.on_chip_bytes,
            "streamed_parameter_bytes": self.streamed_bytes,
            "streamed_parameter_bytes_high": self.streamed_bytes_high,
            "cpu_ops": self.cpu_ops,
            "risky_ops": self.risky_ops,
            "cpu_ops_if_risky_refused": self.cpu_ops_if_risky_refused,
        }


def _bytes(graph: TFLiteGraph, tensors) -> int:
    return sum(
        graph.tensors[t].elements * _ITEM_BYTES.get(graph.tensors[t].dtype, 4) for t in tensors
    )


def _data_inputs(graph: TFLiteGraph, index: int) -> list[int]:
    return [
        t
        for t in graph.ops[index].inputs
        if t >= 0 and not graph.tensors[t].is_constant and not graph.tensors[t].is_variable
    ]


def _boundary(graph: TFLiteGraph, tpu: set[int]) -> tuple[list[int], list[int]]:
    """Tensors the Edge TPU part reads from the host, and those it hands back."""
    producers, consumers = graph.producers(), graph.consumers()
    outputs = set(graph.output_indices)
    ins = {t for i in tpu for t in _data_inputs(graph, i) if producers.get(t) not in tpu}
    outs = {
        t
        for i in tpu
        for t in graph.ops[i].outputs
        if t >= 0 and (t in outputs or any(c not in tpu for c in consumers.get(t, [])))
    }
    return sorted(ins), sorted(outs)


def uncompiled_workload(graph: TFLiteGraph, rules: Rules, chip: Chip, label: str) -> Workload:
    report = analyse(graph, rules, label)
    if report.summary.compile_fails:
        raise InputError(
            f"{label}: {report.verdict}; nothing would run on the Edge TPU to estimate",
            hint="edgedeploy check explains it",
        )
    tpu = {p.index for p in report.ops if p.verdict != "cpu"}
    cpu = sorted(p.index for p in report.ops if p.verdict == "cpu")
    ins, outs = _boundary(graph, tpu)
    activation_bytes = _bytes(graph, {t for i in tpu for t in graph.ops[i].outputs if t >= 0})
    instructions = (
        chip.instruction_bytes_per_op * len(tpu)
        + chip.instruction_bytes_per_activation_byte * activation_bytes
    )
    parameters = package_parameter_bytes(
        report.summary.param_bytes_tpu or 0, chip.parameter_overhead
    )  # as check does
    cache = rules.on_chip_cache_bytes
    streamed, streamed_high = (
        max(0, parameters - cache),
        max(0, parameters - int(cache * USABLE_CACHE_FRACTION)),
    )
    risky = sorted(p.index for p in report.ops if p.verdict == "risky")
    refused = cpu
    if risky:
        alternative = [
            replace(p, verdict="cpu") if p.verdict == "risky" else replace(p) for p in report.ops
        ]
        apply_partition(graph, alternative)
        refused = sorted(p.index for p in alternative if p.verdict == "cpu")
    notes = [
        "which ops run on the Edge TPU is the project's prediction (edgedeploy check), not the compiler's"
    ]
    if tpu:
        notes.append(
            "instruction bytes and parameter layout are predicted (no compiled package); "
            "activations that spill to host memory are unknown before compiling"
        )
    return Workload(
        kind="uncompiled",
        tpu_ops=len(tpu),
        total_ops=len(graph.ops),
        tpu_macs=sum(p.macs for p in report.ops if p.index in tpu),
        compiler_cycles=None,
        input_bytes=_bytes(graph, ins) if tpu else 0,
        output_bytes=_bytes(graph, outs) if tpu else 0,
        instruction_bytes=int(instructions),
        instructions_estimated=True,
        scratch_bytes=None,
        on_chip_bytes=parameters - streamed,
        streamed_bytes=streamed,
        streamed_bytes_high=streamed_high,
        cpu_ops=cpu,
        activation_bytes=activation_bytes,
        cpu_op_names={i: graph.ops[i].opcode for i in refused},
        risky_ops=risky,
        cpu_ops_if_risky_refused=refused if risky else [],
        notes=notes,
    )


def _traffic(e: Executable) -> tuple[int, int, int]:
    """(input, output, scratch) bytes one run moves: the DMA hints when the file has them (they count
    re-read input rows and every spilled-activation transfer), else the layer and scratch sizes."""
    if e.dma_bytes:
        dma = e.dma_bytes
        return (
            dma.get("input_in", 0),
            dma.get("output_out", 0),
            dma.get("scratch_in", 0)
            + dma.get("scratch_out", 0)
            + dma.get("other_in", 0)
            + dma.get("other_out", 0),
        )
    return (
        sum(layer.size_bytes for layer in e.input_layers),
        sum(layer.size_bytes for layer in e.output_layers),
        2 * e.scratch_bytes,
    )


def compiled_workload(graph: TFLiteGraph, source: TFLiteGraph | None, label: str) -> Workload:
    regions = read_regions(graph)
    broken = [r for r in regions if r.package is None]
    if broken:
        raise InputError(f"{label}: {broken[0].package_error}")
    executables = [e for r in regions for e in r.package.executables]
    running = [e for e in executables if e.type != "PARAMETER_CACHING"]
    cycles = [e.estimated_cycles or 0 for e in running]
    compiler_cycles = sum(cycles) if running and all(cycles) else None
    cpu = [op.index for op in graph.ops if not any(op.index == r.op_index for r in regions)]
    notes: list[str] = []
    macs = mapped = None
    if source is not None:
        recovery = recover(graph, source)
        mapped = len(recovery.mapped)
        macs = sum(op_macs(source, source.ops[i]) for i in recovery.mapped)
        notes += recovery.problems
    if compiler_cycles is None and macs is None:
        raise InputError(
            f"{label} carries no cycle estimate and its source model was not found to count MACs",
            hint="put X.tflite beside X_edgetpu.tflite or pass --source",
        )
    if compiler_cycles is None:
        notes.append(
            "this compiled file carries no cycle estimate of the compiler: compute is estimated from its MACs"
        )
    return Workload(
        kind="compiled",
        tpu_ops=mapped,
        total_ops=(mapped + len(cpu)) if mapped is not None else None,
        tpu_macs=macs,
        compiler_cycles=compiler_cycles,
        input_bytes=sum(_traffic(e)[0] for e in running),
        output_bytes=sum(_traffic(e)[1] for e in running),
        instruction_bytes=sum(e.instruction_bytes for e in running),
        instructions_estimated=False,
        scratch_bytes=sum(_traffic(e)[2] for e in running),
        on_chip_bytes=sum(r.package.on_chip_parameter_bytes for r in regions),
        streamed_bytes=sum(r.package.off_chip_parameter_bytes for r in regions),
        streamed_bytes_high=sum(r.package.off_chip_parameter_bytes for r in regions),
        cpu_ops=cpu,
        cpu_op_names={i: graph.ops[i].opcode for i in cpu},
        notes=notes,
    )


def source_beside(path: Path) -> Path | None:
    from edgedeploy.targets.edgetpu.naming import source_path

    beside = source_path(path)
    return beside if beside is not None and beside.is_file() else None
