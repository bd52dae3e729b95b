"""What the real compiler did, recovered from a compiled ``*_edgetpu.tflite`` (docs/edgetpu.md section 8).

Everything mapped sits inside ``edgetpu-custom-op``; its boundary tensors keep their names from the
CPU model. Walking the source model back from the custom op's outputs to its inputs gives the ops that
were mapped; the builtin ops left in the compiled file ran on the CPU. The two views are cross-checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from edgedeploy.targets.edgetpu.inspect.darwinn import DarwinnPackage, read_package
from edgedeploy.targets.edgetpu.naming import CUSTOM_OP
from edgedeploy.tflite import TFLiteGraph


def is_compiled(graph: TFLiteGraph) -> bool:
    return any(op.is_custom and op.opcode == CUSTOM_OP for op in graph.ops)


@dataclass
class Region:
    """One ``edgetpu-custom-op``: its boundary tensor names and the DarwiNN package inside."""

    op_index: int
    input_names: list[str]
    output_names: list[str]
    package: DarwinnPackage | None
    package_error: str | None = None
    package_output_names: list[str] = field(default_factory=list)  # e.g. LSTM state outputs


@dataclass
class Recovery:
    regions: list[Region]
    cpu_op_indices: list[int]  # builtin ops left in the compiled file (its own indices)
    mapped: dict[int, int] = field(default_factory=dict)  # source op index -> region number
    source_cpu: list[int] = field(
        default_factory=list
    )  # source op indices matched to compiled CPU ops
    problems: list[str] = field(default_factory=list)


def read_regions(compiled: TFLiteGraph) -> list[Region]:
    regions = []
    for op in compiled.ops:
        if not (op.is_custom and op.opcode == CUSTOM_OP):
            continue
        package, error = None, None
        try:
            package = read_package(op.custom_options)
        except Exception as exc:  # a damaged package still leaves the boundary tensors readable
            error = getattr(exc, "message", str(exc))
        names_in = [compiled.tensors[t].name for t in op.inputs if t >= 0]
        names_out = [compiled.tensors[t].name for t in op.outputs if t >= 0]
        extra = (
            [n for n in package.output_names if n not in names_out] if package is not None else []
        )
        regions.append(Region(op.index, names_in, names_out, package, error, extra))
    return regions


def _by_name(graph: TFLiteGraph) -> dict[str, int]:
    names: dict[str, int] = {}
    for t in graph.tensors:
        names.setdefault(t.name, t.index)
    return names


def recover(compiled: TFLiteGraph, source: TFLiteGraph | None) -> Recovery:
    regions = read_regions(compiled)
    cpu_ops = [op.index for op in compiled.ops if not (op.is_custom and op.opcode == CUSTOM_OP)]
    result = Recovery(regions=regions, cpu_op_indices=cpu_ops)
    if source is None:
        return result
    names, producers = _by_name(source), source.producers()
    for number, region in enumerate(regions):
        stop = {names[n] for n in region.input_names if n in names}
        missing = [n for n in region.input_names + region.output_names if n not in names]
        if missing:
            result.problems.append(
                f"boundary tensors not found in the source model: {', '.join(missing[:3])}"
            )
        ends = region.output_names + [n for n in region.package_output_names if n in names]
        stack = [producers[names[n]] for n in ends if n in names and names[n] in producers]
        while stack:
            index = stack.pop()
            if index in result.mapped:
                continue
            result.mapped[index] = number
            for t in source.ops[index].inputs:
                if (
                    t >= 0
                    and t not in stop
                    and t in producers
                    and not source.tensors[t].is_constant
                ):
                    stack.append(producers[t])
    out_names = _by_name(source)
    for index in cpu_ops:
        op = compiled.ops[index]
        outs = [out_names.get(compiled.tensors[t].name) for t in op.outputs if t >= 0]
        matched = {producers[t] for t in outs if t is not None and t in producers}
        if len(matched) != 1:
            result.problems.append(
                f"CPU op {index} ({op.opcode}) has no single counterpart in the source model"
            )
            continue
        result.source_cpu.append(matched.pop())
    overlap = set(result.mapped) & set(result.source_cpu)
    unaccounted = set(range(len(source.ops))) - set(result.mapped) - set(result.source_cpu)
    if overlap:
        result.problems.append(f"ops both mapped and on the CPU: {sorted(overlap)[:5]}")
    if unaccounted:
        result.problems.append(
            f"source ops neither mapped nor in the compiled file: {sorted(unaccounted)[:5]}"
        )
    return result
