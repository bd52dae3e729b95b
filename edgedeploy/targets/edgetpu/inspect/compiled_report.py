"""Report on a compiled ``*_edgetpu.tflite``: the real mapping, parameter memory, and our prediction beside it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edgedeploy.errors import InputError
from edgedeploy.report import fmt_bytes
from edgedeploy.targets.edgetpu.inspect.compiled import Recovery, recover
from edgedeploy.targets.edgetpu.naming import source_path as named_source
from edgedeploy.targets.edgetpu.predict.analysis import analyse
from edgedeploy.targets.edgetpu.predict.operators import OpPrediction
from edgedeploy.targets.edgetpu.predict.result import CheckResult, Finding, Summary
from edgedeploy.targets.edgetpu.predict.rules import Rules
from edgedeploy.tflite import TFLiteGraph, read_model


def _describe(graph: TFLiteGraph, index: int) -> tuple[list[dict], list[dict]]:
    op = graph.ops[index]
    ins = [
        {"shape": list(t.shape), "dtype": t.dtype} for t in graph.op_inputs(op) if not t.is_constant
    ]
    outs = [{"shape": list(t.shape), "dtype": t.dtype} for t in graph.op_outputs(op)]
    return ins, outs


def _recovered_ops(
    source: TFLiteGraph, recovery: Recovery, predicted: list[OpPrediction]
) -> list[OpPrediction]:
    ops = []
    for op in source.ops:
        mapped = op.index in recovery.mapped
        guess = predicted[op.index]
        pred = OpPrediction(
            op.index,
            op.opcode,
            op.version,
            *_describe(source, op.index),
            macs=guess.macs,
            param_bytes=guess.param_bytes,
        )
        if mapped:
            pred.verdict, pred.reason = "tpu", "mapped"
            pred.detail = f"inside edgetpu-custom-op #{recovery.mapped[op.index]}"
        elif guess.verdict == "cpu":  # the prediction explains why the compiler left it
            pred.verdict, pred.reason, pred.caused_by = "cpu", guess.reason, guess.caused_by
            pred.detail = f"left on the CPU by the compiler; {guess.detail}"
        else:
            pred.verdict, pred.reason = "cpu", "not-mapped"
            pred.detail = (
                "left on the CPU by the compiler (not predicted: the rules do not explain it)"
            )
        ops.append(pred)
    return ops


def _compiled_only_ops(compiled: TFLiteGraph, recovery: Recovery) -> list[OpPrediction]:
    custom = {r.op_index for r in recovery.regions}
    ops = []
    for op in compiled.ops:
        pred = OpPrediction(op.index, op.opcode, op.version, *_describe(compiled, op.index))
        if op.index in custom:
            pred.reason = "edgetpu-custom-op"
            pred.detail = "everything the compiler mapped (original ops not recoverable without the source model)"
        else:
            pred.verdict, pred.reason, pred.detail = (
                "cpu",
                "not-mapped",
                "left on the CPU by the compiler",
            )
        ops.append(pred)
    return ops


def _shares_a_boundary(recovery: Recovery, source: TFLiteGraph) -> bool:
    """A model compiled from ``source`` keeps its boundary tensor names: at least one must be there."""
    names = {t.name for t in source.tensors}
    return not recovery.regions or any(
        n in names for r in recovery.regions for n in r.input_names + r.output_names
    )


def check_compiled(
    compiled: TFLiteGraph, path: Path, rules: Rules, source_path: Path | None = None
) -> CheckResult:
    notes: list[str] = []
    explicit = (
        source_path is not None
    )  # the user named it (--source): a mismatch is their input error
    beside = named_source(
        path
    )  # X.tflite beside X_edgetpu.tflite, where the compiler's input usually is
    if source_path is None and beside is not None and beside.is_file():
        source_path = beside
    source = read_model(source_path) if source_path is not None else None
    recovery = recover(compiled, source)
    if source is not None and source_path is not None and not _shares_a_boundary(recovery, source):
        if explicit:
            raise InputError(
                f"{source_path} is not the model {path.name} was compiled from: none of the Edge TPU "
                "region's boundary tensors are in it",
                "pass the .tflite that was given to edgetpu_compiler",
            )
        notes.append(
            f"{source_path.name} beside it is not its source (no boundary tensor matches); "
            "recovered without it"
        )
        source, source_path = None, None
        recovery = recover(compiled, None)
    report = CheckResult(
        kind="compiled",
        path=str(path),
        rules=rules.describe(),
        compiler_version=rules.compiler,
        min_runtime=rules.min_runtime,
    )
    packages = [r.package for r in recovery.regions if r.package is not None]
    on_chip = sum(p.on_chip_parameter_bytes for p in packages) if packages else None
    off_chip = sum(p.off_chip_parameter_bytes for p in packages) if packages else None
    details: dict[str, Any] = {
        "regions": [
            {
                "op_index": r.op_index,
                "inputs": r.input_names,
                "outputs": r.output_names,
                "package_compiler": r.package.compiler_version if r.package else None,
                "package_min_runtime": r.package.min_runtime_version if r.package else None,
                "executables": [
                    {"type": e.type, "parameter_bytes": e.parameter_bytes}
                    for e in (r.package.executables if r.package else [])
                ],
                "package_error": r.package_error,
            }
            for r in recovery.regions
        ]
    }
    notes += [
        f"edgetpu-custom-op {r.op_index}: {r.package_error}"
        for r in recovery.regions
        if r.package_error
    ]
    if source is not None:
        predicted = analyse(source, rules, str(source_path))
        report.ops = _recovered_ops(source, recovery, predicted.ops)
        disagree = [
            p.index for p in predicted.ops if (p.verdict != "cpu") != (p.index in recovery.mapped)
        ]
        details.update(
            source=str(source_path),
            prediction_agrees=not disagree,
            disagreements=disagree,
            predicted_verdict=predicted.verdict,
        )
        notes += recovery.problems
        if disagree:
            report.findings.append(
                Finding(
                    "prediction-mismatch",
                    "warning",
                    "the compiler did not do what the rules predict",
                    len(disagree),
                    disagree,
                    "the rules need updating for these ops",
                    "please report this model with the check output",
                )
            )
    else:
        report.ops = _compiled_only_ops(compiled, recovery)
        notes.append(
            f"source model not found ({beside or 'no X.tflite name'}); "
            "pass it with --source to recover which original ops were mapped"
        )
    cpu = [p for p in report.ops if p.verdict == "cpu"]
    tpu_count = sum(p.verdict == "tpu" for p in report.ops) if source is not None else None
    report.summary = Summary(
        total_ops=len(report.ops) if source is not None else None,
        tpu_ops=tpu_count,
        cpu_ops=len(cpu),
        risky_ops=0,
        on_chip_cache_bytes=rules.on_chip_cache_bytes,
        on_chip_used_bytes=on_chip,
        off_chip_bytes=off_chip,
        params_stream=(off_chip > 0) if off_chip is not None else None,
    )
    if source is not None:
        macs = sum(p.macs for p in report.ops)
        report.summary.macs_total = macs
        report.summary.macs_tpu = sum(p.macs for p in report.ops if p.verdict == "tpu")
        report.summary.tpu_mac_share = report.summary.macs_tpu / macs if macs else None
    if off_chip:
        report.findings.append(
            Finding(
                "parameter-cache",
                "warning",
                "parameters stream from the host",
                1,
                [],
                f"{fmt_bytes(off_chip)} of parameters are not cached on-chip and are sent "
                "on every inference",
                "use a smaller model, or split it over several TPUs (-n)",
            )
        )
    report.details, report.notes = details, notes
    mapped = (
        f"{tpu_count} of {len(report.ops)} ops" if source is not None else "one edgetpu-custom-op"
    )
    memory = (
        f"; on-chip {fmt_bytes(on_chip)}, off-chip {fmt_bytes(off_chip)}"
        if on_chip is not None
        else ""
    )
    report.verdict = f"compiled: {mapped} on the Edge TPU, {len(cpu)} on the CPU{memory}"
    return report
