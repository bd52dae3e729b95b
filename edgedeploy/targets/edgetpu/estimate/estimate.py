"""``estimate_file``: the Edge TPU latency of a full-int8 ``.tflite`` (compiled or not), without a device.

    estimate_file(path, host="x86-usb3", clock="max", source=None) -> EstimateResult

Reads what the file says (``workload``), times the CPU-side ops on this machine (``cpu_ops``), and adds
the terms with the host profile's constants (``terms``, ``hosts-v1.json``). ONNX files and built-in
model names are converted first by the command (``edgedeploy estimate``), not here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from edgedeploy.errors import InputError
from edgedeploy.files import TFLITE, InputKind, read_input
from edgedeploy.targets.edgetpu.estimate.cpu_ops import CpuOpsTiming, time_cpu_ops
from edgedeploy.targets.edgetpu.estimate.profiles import (
    DEFAULT_CLOCK,
    DEFAULT_HOST,
    Constants,
    load_constants,
)
from edgedeploy.targets.edgetpu.estimate.result import EstimateResult
from edgedeploy.targets.edgetpu.estimate.terms import TermInputs, estimate_terms
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

CpuTimer = Callable[[bytes, list[int]], CpuOpsTiming]
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
    if is_compiled(graph):
        source = source if source is not None else source_beside(path)
        return compiled_workload(
            graph, read_model(source) if source is not None else None, str(path)
        ), graph
    if not graph.ops:
        raise InputError(f"{path} has no operators")
    if uses_no_integer_tensors(graph):
        raise InputError(
            f"{path} is a float or dynamic-range model (no int8/uint8 activations): {NOT_FULL_INT8}",
            hint="convert it with: edgedeploy convert --target edgetpu",
        )
    return uncompiled_workload(graph, load_rules(), constants.chip, str(path)), graph


def _cpu_what(timing: CpuOpsTiming) -> str:
    if not timing.op_indices:
        return "no op runs on the CPU"
    missing = sorted({op for _, op, _ in timing.unmeasured_ops})
    return (
        f"{len(timing.measured_ops)} of {len(timing.op_indices)} ops timed"
        + (f" ({', '.join(missing)} not in this LiteRT: not included)" if missing else "")
        + (" with LiteRT's built-in kernels (XNNPACK refused)" if timing.xnnpack_refused else "")
    )


def estimate_file(
    path: str | Path,
    *,
    host: str = DEFAULT_HOST,
    clock: str = DEFAULT_CLOCK,
    source: str | Path | None = None,
    timer: CpuTimer = time_cpu_ops,
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
    workload, graph = read_workload(
        path, data, constants, Path(source) if source is not None else None
    )
    timing = timer(data, workload.cpu_ops)
    risky = (
        timer(data, workload.cpu_ops_if_risky_refused)
        if workload.cpu_ops_if_risky_refused
        else None
    )
    inputs = TermInputs(
        compiled=workload.kind == "compiled",
        tpu_macs=workload.tpu_macs,
        compiler_cycles=workload.compiler_cycles,
        transfer_bytes=workload.transfer_bytes,
        streamed_bytes=workload.streamed_bytes,
        streamed_bytes_high=workload.streamed_bytes_high,
        on_chip_bytes=workload.on_chip_bytes,
        cpu_here_ms=timing.median_ms,
        predicted_instruction_bytes=workload.instruction_bytes
        if workload.instructions_estimated
        else 0,
        cpu_here_ms_if_risky_refused=risky.median_ms if risky is not None else None,
        cpu_what=_cpu_what(timing),
    )
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
        cpu_timing=timing,
        risky_timing=risky,
        constants=constants,
        notes=notes,
        op_names=workload.cpu_op_names,
    )
