"""``estimate_file``: the Edge TPU latency of a full-int8 ``.tflite`` (compiled or not), without a device.

    estimate_file(path, host="x86-usb3", clock="max", source=None) -> EstimateResult

Reads what the file says (``workload``: per-op facts and the parameter layout) and adds the terms with
the host profile's constants (``terms``, ``hosts-v2.json``). Nothing is timed here and no model kernel
runs: the CPU-side ops are priced by a cost model, so the answer does not depend on this machine's load
and a model that would crash a kernel cannot take the CLI down. ONNX files and built-in model names are
converted first by the command (``edgedeploy estimate``), not here.
"""

from __future__ import annotations

from pathlib import Path

from edgedeploy.errors import InputError
from edgedeploy.files import TFLITE, InputKind, read_input
from edgedeploy.targets.edgetpu.estimate.profiles import (
    DEFAULT_CLOCK,
    DEFAULT_HOST,
    Constants,
    HostProfile,
    load_constants,
)
from edgedeploy.targets.edgetpu.estimate.result import EstimateResult
from edgedeploy.targets.edgetpu.estimate.terms import (
    TermInputs,
    cpu_units,
    estimate_terms,
    tpu_work,
)
from edgedeploy.targets.edgetpu.estimate.workload import (
    Workload,
    compiled_workload,
    source_beside,
    uncompiled_workload,
)
from edgedeploy.targets.edgetpu.inspect.compiled import is_compiled
from edgedeploy.targets.edgetpu.predict.operators import uses_no_integer_tensors
from edgedeploy.targets.edgetpu.predict.rules import load_rules
from edgedeploy.tflite import FILE_IDENTIFIER, TFLiteGraph, parse_model, read_model

NOT_FULL_INT8 = "estimate needs a full-int8 model"


def _not_tflite(path: Path) -> InputError:
    hint = (
        "convert it first, or give it to 'edgedeploy estimate', which converts ONNX files and built-in names"
        if path.suffix.lower() == ".onnx"
        else "give a full-int8 .tflite, a compiled *_edgetpu.tflite, "
        "an .onnx file or a built-in model name"
    )
    return InputError(f"{path} is not a TFLite model (no 'TFL3' file identifier)", hint)


def read_workload(
    path: Path, data: bytes, constants: Constants, source: Path | None = None
) -> tuple[Workload, TFLiteGraph]:
    if data[4:8] != FILE_IDENTIFIER:
        raise _not_tflite(path)
    graph = parse_model(data, label=str(path))
    rules = load_rules()
    if is_compiled(graph):
        source = source if source is not None else source_beside(path)
        return compiled_workload(
            graph, read_model(source) if source is not None else None, rules, str(path)
        ), graph
    if not graph.ops:
        raise InputError(f"{path} has no operators")
    if uses_no_integer_tensors(graph):
        raise InputError(
            f"{path} is a float or dynamic-range model (no int8/uint8 activations): {NOT_FULL_INT8}",
            hint="convert it with: edgedeploy convert --target edgetpu",
        )
    return uncompiled_workload(graph, rules, constants.chip, str(path)), graph


def _cpu_what(workload: Workload) -> str:
    ops = workload.facts.cpu_ops
    if not ops:
        return "no op runs on the CPU"
    what = f"{len(ops)} ops by the per-op cost model"
    custom = [o for o in ops if o.op_class == "custom"]
    if not custom:
        return what
    kept = sum(o.detections or 0 for o in custom)
    boxes = f" and per box kept, {kept} boxes" if kept else ""
    names = ", ".join(sorted({o.op for o in custom}))
    return f"{what} (custom {names}: priced per value read{boxes})"


def term_inputs(workload: Workload, constants: Constants, host: HostProfile) -> TermInputs:
    facts, chip = workload.facts, constants.chip
    per_byte = (
        chip.cpu_units_per_value,
        constants.custom_units_per_value(host),
        chip.cpu_units_per_detection_value,
    )
    refused = set(workload.cpu_ops_if_risky_refused)
    return TermInputs(
        compiled=workload.kind == "compiled",
        tpu_work=tpu_work(facts.tpu_ops),
        compiler_cycles=workload.compiler_cycles,
        transfer_bytes=workload.transfer_bytes,
        output_bytes=workload.output_bytes,
        streamed_bytes=workload.streamed_bytes,
        streamed_bytes_high=workload.streamed_bytes_high,
        on_chip_bytes=workload.on_chip_bytes,
        cpu_units=cpu_units(facts.cpu_ops, *per_byte),
        cpu_units_if_risky_refused=cpu_units(
            [o for o in facts.ops if o.index in refused], *per_byte
        )
        if refused
        else None,
        cpu_what=_cpu_what(workload),
        instruction_bytes=workload.instruction_bytes,
        spilled_bytes=workload.spilled_bytes,
    )


def estimate_file(
    path: str | Path,
    *,
    host: str = DEFAULT_HOST,
    clock: str = DEFAULT_CLOCK,
    source: str | Path | None = None,
    constants: Constants | None = None,
    label: str | None = None,
) -> EstimateResult:
    """The estimated steady-state latency, its range, the first-inference extra and the terms. ``label``
    names the model in the report (default: its path)."""
    path = Path(path)
    constants = constants or load_constants()
    profile = constants.host(host)  # an unknown host fails before any work
    clock_mhz = constants.clock_mhz(profile, clock)
    data = read_input(path, InputKind("a full-int8 TFLite model", TFLITE.cap))
    workload, _ = read_workload(path, data, constants, Path(source) if source is not None else None)
    inputs = term_inputs(workload, constants, profile)
    estimate = estimate_terms(inputs, profile, constants.chip, constants.bands, clock_mhz)
    notes = list(workload.notes)
    if clock == "std" and not profile.clock_selectable:
        notes.append(
            f"{profile.name} runs the Edge TPU at full speed whatever the runtime build: --clock std has no effect"
        )
    return EstimateResult(
        path=label or str(path),
        workload=workload,
        host=profile,
        clock=clock,
        clock_mhz=clock_mhz,
        estimate=estimate,
        cpu_units=inputs.cpu_units,
        constants=constants,
        notes=notes,
        op_names=workload.cpu_op_names,
    )
