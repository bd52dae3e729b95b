"""What the latency terms are computed from, read from the model file itself.

* Uncompiled int8 ``.tflite``: the project's own mapping prediction decides which ops run where; the
  per-op facts (``op_facts``) come from the graph; the parameter package is predicted: weight bytes x
  the measured package overhead, compared with the ~8 MiB on-chip cache. ``risky`` ops are assumed to
  map; what would run on the CPU if they did not is kept for the range.
* Compiled ``*_edgetpu.tflite``: the DarwiNN package inside ``edgetpu-custom-op`` gives the parameter
  bytes cached on chip vs streamed on every inference and the compiler's cycle estimate; the source
  model beside it gives the per-op facts of what the compiler mapped (recovered by tensor names). The
  builtin ops left in the compiled file are the CPU-side ops.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from edgedeploy.errors import InputError
from edgedeploy.targets.edgetpu.estimate.op_facts import (
    OpFact,
    WorkloadFacts,
    op_fact,
    tensor_bytes,
)
from edgedeploy.targets.edgetpu.estimate.profiles import Chip
from edgedeploy.targets.edgetpu.inspect.compiled import read_regions, recover
from edgedeploy.targets.edgetpu.predict.analysis import (
    USABLE_CACHE_FRACTION,
    analyse,
    package_parameter_bytes,
)
from edgedeploy.targets.edgetpu.predict.operators import macs as op_macs
from edgedeploy.targets.edgetpu.predict.partition import apply_partition
from edgedeploy.targets.edgetpu.predict.rules import Rules
from edgedeploy.tflite import TFLiteGraph


@dataclass
class Workload:
    kind: str  # compiled | uncompiled
    facts: WorkloadFacts  # per-op facts; a compiled file without its source: its CPU-side ops only
    tpu_ops: int | None  # None: compiled file without its source model
    total_ops: int | None
    tpu_macs: int | None
    compiler_cycles: int | None  # the compiler's own estimate, when the compiled file carries it
    on_chip_bytes: int  # parameters cached on chip (uploaded with the first inference)
    streamed_bytes: int  # parameters sent on every inference
    streamed_bytes_high: int  # the most that may stream (uncompiled: cache size uncertain)
    cpu_ops: list[int]  # ops of the file that run on the host CPU (indices in that file)
    cpu_op_names: dict[int, str] = field(default_factory=dict)
    risky_ops: list[int] = field(default_factory=list)
    cpu_ops_if_risky_refused: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    instruction_bytes: int = 0  # instruction bitstreams sent with every inference
    spilled_bytes: int = 0  # activations written to and read back from host memory, per inference

    @property
    def input_bytes(self) -> int:
        return self.facts.input_bytes

    @property
    def output_bytes(self) -> int:
        return self.facts.output_bytes

    @property
    def transfer_bytes(self) -> int:
        """Activation bytes crossing the host link on every inference (the Edge TPU part's boundary)."""
        return self.facts.input_bytes + self.facts.output_bytes

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "tpu_ops": self.tpu_ops,
            "total_ops": self.total_ops,
            "tpu_macs": self.tpu_macs,
            "compiler_cycles": self.compiler_cycles,
            "input_bytes": self.input_bytes,
            "output_bytes": self.output_bytes,
            "on_chip_parameter_bytes": self.on_chip_bytes,
            "streamed_parameter_bytes": self.streamed_bytes,
            "streamed_parameter_bytes_high": self.streamed_bytes_high,
            "instruction_bytes": self.instruction_bytes,
            "spilled_activation_bytes": self.spilled_bytes,
            "cpu_ops": self.cpu_ops,
            "risky_ops": self.risky_ops,
            "cpu_ops_if_risky_refused": self.cpu_ops_if_risky_refused,
        }


def parameter_layout(param_bytes: int, chip: Chip, cache: int) -> tuple[int, int, int]:
    """(on-chip, streamed, most that may stream) package bytes for ``param_bytes`` of TFLite weights."""
    parameters = package_parameter_bytes(param_bytes, chip.parameter_overhead)
    streamed = max(0, parameters - cache)
    high = max(0, parameters - int(cache * USABLE_CACHE_FRACTION))
    return parameters - streamed, streamed, high


def instruction_bytes(tpu_ops: list[OpFact], chip: Chip) -> int:
    """Predicted bytes of the instruction bitstreams of the Edge TPU part, which libedgetpu sends to the
    device with every inference, like the streamed parameters (a compiled file says its own:
    ``Executable.instruction_bytes``). A fixed share per op, and more for ops that write more, because
    the compiler tiles big layers into more instructions (PoseNet 721x1281: 790 KB for 37 ops)."""
    written = sum(o.output_bytes for o in tpu_ops)
    return int(
        chip.instruction_bytes_per_op * len(tpu_ops)
        + chip.instruction_bytes_per_output_byte * written
    )


def package_instruction_bytes(regions) -> int:
    """Instruction bytes of a compiled file's executables that run every inference (the parameter-
    caching executable runs once, with the first inference)."""
    return sum(
        e.instruction_bytes
        for r in regions
        for e in r.package.executables
        if e.type != "PARAMETER_CACHING"
    )


def package_spilled_bytes(regions) -> int:
    """Activation bytes a compiled file moves to and from host memory on every inference (the DMA
    hints' scratch transfers): activations that do not fit on chip beside the cached parameters, e.g.
    EdgeTPU-DeepLab-slim (1.4 MB out, 8.4 MB back in). Uncompiled files: not predicted (0)."""
    return sum(
        bytes_
        for r in regions
        for e in r.package.executables
        if e.type != "PARAMETER_CACHING"
        for kind, bytes_ in e.dma_bytes.items()
        if kind.startswith("scratch_")
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


def source_beside(path: Path) -> Path | None:
    from edgedeploy.targets.edgetpu.naming import source_path

    beside = source_path(path)
    return beside if beside is not None and beside.is_file() else None


def uncompiled_facts(graph: TFLiteGraph, rules: Rules, label: str, places=None) -> WorkloadFacts:
    """Per-op facts of an int8 model: where each op runs is the mapping prediction (``edgedeploy
    check``), or ``places`` (index -> tpu | cpu) when the compiler's own partition is known."""
    report = analyse(graph, rules, label)
    if places is None:
        if report.summary.compile_fails:
            raise InputError(
                f"{label}: {report.verdict}; nothing would run on the Edge TPU to estimate",
                hint="edgedeploy check explains it",
            )
        places = {p.index: p.verdict for p in report.ops}
    facts = tuple(op_fact(graph, graph.ops[p.index], places[p.index], p.macs) for p in report.ops)
    tpu = {f.index for f in facts if f.on_tpu}
    ins, outs = _boundary(graph, tpu)
    return WorkloadFacts(
        name=label,
        ops=facts,
        input_bytes=tensor_bytes(graph, ins) if tpu else 0,
        output_bytes=tensor_bytes(graph, outs) if tpu else 0,
    )


def uncompiled_workload(graph: TFLiteGraph, rules: Rules, chip: Chip, label: str) -> Workload:
    facts = uncompiled_facts(graph, rules, label)
    tpu = [o for o in facts.ops if o.on_tpu]
    # The cache the fit found parameters to spill past (a chip constant), at most the physical one.
    cache = min(rules.on_chip_cache_bytes, int(chip.parameter_cache_bytes))
    on_chip, streamed, high = parameter_layout(sum(o.param_bytes for o in tpu), chip, cache)
    risky = sorted(o.index for o in facts.ops if o.place == "risky")
    refused: list[int] = []
    if risky:
        alternative = [
            replace(p, verdict="cpu") if p.verdict == "risky" else replace(p)
            for p in analyse(graph, rules, label).ops
        ]
        apply_partition(graph, alternative)
        refused = sorted(p.index for p in alternative if p.verdict == "cpu")
    cpu = [o.index for o in facts.ops if not o.on_tpu]
    return Workload(
        kind="uncompiled",
        facts=facts,
        tpu_ops=len(tpu),
        total_ops=len(facts.ops),
        tpu_macs=sum(o.macs for o in tpu),
        compiler_cycles=None,
        on_chip_bytes=on_chip,
        streamed_bytes=streamed,
        streamed_bytes_high=high,
        cpu_ops=cpu,
        cpu_op_names={o.index: o.op for o in facts.ops if o.index in set(cpu) | set(refused)},
        risky_ops=risky,
        cpu_ops_if_risky_refused=refused,
        notes=[
            "which ops run on the Edge TPU is the project's prediction (edgedeploy check), not the "
            "compiler's; the parameter layout and the instruction bytes are predicted (no compiled "
            "package)"
        ],
        instruction_bytes=instruction_bytes(tpu, chip),
    )


def compiled_workload(
    graph: TFLiteGraph, source: TFLiteGraph | None, rules: Rules, label: str
) -> Workload:
    regions = read_regions(graph)
    broken = [r for r in regions if r.package is None]
    if broken:
        raise InputError(f"{label}: {broken[0].package_error}")
    packages = [r.package for r in regions if r.package is not None]  # all: broken ones raised
    running = [e for p in packages for e in p.executables if e.type != "PARAMETER_CACHING"]
    cycles = [e.estimated_cycles or 0 for e in running]
    compiler_cycles = sum(cycles) if running and all(cycles) else None
    cpu = [op.index for op in graph.ops if not any(op.index == r.op_index for r in regions)]
    notes: list[str] = []
    if source is not None:
        recovery = recover(graph, source)
        notes += recovery.problems
        places = {op.index: "tpu" if op.index in recovery.mapped else "cpu" for op in source.ops}
        facts = uncompiled_facts(source, rules, label, places=places)
    else:
        if compiler_cycles is None:
            raise InputError(
                f"{label} carries no cycle estimate and its source model was not found to count MACs",
                hint="put X.tflite beside X_edgetpu.tflite or pass --source",
            )
        notes.append(
            "no source model beside the compiled file: Edge TPU compute is the compiler's cycle "
            "estimate, and the Edge TPU part's input/output bytes are its boundary tensors here"
        )
        ops = tuple(op_fact(graph, graph.ops[i], "cpu", op_macs(graph, graph.ops[i])) for i in cpu)
        boundary_in = {t for r in regions for t in graph.ops[r.op_index].inputs if t >= 0}
        boundary_out = {t for r in regions for t in graph.ops[r.op_index].outputs if t >= 0}
        facts = WorkloadFacts(
            label, ops, tensor_bytes(graph, boundary_in), tensor_bytes(graph, boundary_out)
        )
    tpu = [o for o in facts.ops if o.on_tpu]
    streamed = sum(p.off_chip_parameter_bytes for p in packages)
    return Workload(
        kind="compiled",
        facts=facts,
        tpu_ops=len(tpu) if source is not None else None,
        total_ops=len(facts.ops) if source is not None else None,
        tpu_macs=sum(o.macs for o in tpu) if source is not None else None,
        compiler_cycles=compiler_cycles,
        on_chip_bytes=sum(p.on_chip_parameter_bytes for p in packages),
        streamed_bytes=streamed,
        streamed_bytes_high=streamed,
        cpu_ops=cpu,
        cpu_op_names={i: graph.ops[i].opcode for i in cpu},
        notes=notes,
        instruction_bytes=package_instruction_bytes(regions),
        spilled_bytes=package_spilled_bytes(regions),
    )
