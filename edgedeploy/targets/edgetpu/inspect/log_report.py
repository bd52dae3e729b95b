"""Report on an ``edgetpu_compiler`` stdout capture or ``*_edgetpu.log``: the parsed output as a CheckResult."""

from __future__ import annotations

from edgedeploy.report import fmt_bytes, plural
from edgedeploy.targets.edgetpu.compiler.advice import advice_for
from edgedeploy.targets.edgetpu.compiler.log import CompilerOutput
from edgedeploy.targets.edgetpu.predict.operators import OpPrediction
from edgedeploy.targets.edgetpu.predict.result import CheckResult, Finding, Summary
from edgedeploy.targets.edgetpu.predict.rules import Rules


def _rows(output: CompilerOutput) -> list[OpPrediction]:
    """One entry per table row (op type + status); ``count`` says how many ops the row stands for."""
    rows = []
    for number, row in enumerate(output.operators):
        rows.append(
            OpPrediction(
                index=number,
                op=row.op,
                version=0,
                verdict="tpu" if row.mapped else "cpu",
                reason=row.reason,
                detail=row.status,
                count=row.count,
            )
        )
    return rows


def report_from_output(output: CompilerOutput, path: str, rules: Rules) -> CheckResult:
    report = CheckResult(
        kind="compiler-log",
        path=path,
        rules=f"compiler output ({output.source})",
        compiler_version=output.compiler_major or rules.compiler,
        min_runtime=rules.min_runtime,
    )
    report.ops = _rows(output)
    # a failure with no later success (a -d search cut short included) is a failed compile for CI
    report.failed = output.failure is not None and output.succeeded is not True
    report.summary = Summary(
        total_ops=output.total_ops,
        tpu_ops=output.tpu_ops,
        cpu_ops=output.cpu_ops,
        risky_ops=0,
        on_chip_cache_bytes=rules.on_chip_cache_bytes,
        on_chip_used_bytes=output.on_chip_used_bytes,
        off_chip_bytes=output.off_chip_bytes,
        params_stream=(output.off_chip_bytes > 0) if output.off_chip_bytes is not None else None,
    )
    if output.failure is not None:
        report.findings.append(
            Finding(
                f"compile-{output.failure.code}",
                "error",
                output.failure.message,
                1,
                [],
                "the compiler produced no model"
                if output.succeeded is False
                else "this attempt produced no model",
                advice_for(output.failure.code) or "",
            )
        )
    refusals: dict[str, list[int]] = {}
    for row in report.ops:
        if row.verdict == "cpu" and row.reason != "downstream-of-cpu-op":
            refusals.setdefault(row.reason, []).append(row.index)
    for reason, indices in refusals.items():
        names = sorted({report.ops[i].op for i in indices})
        count = sum(report.ops[i].count for i in indices)
        report.findings.append(
            Finding(
                "cpu-op",
                "error",
                f"{', '.join(names)}: {reason}",
                count,
                [],
                "not mapped by the compiler; ops after it show 'More than one subgraph'",
                "run edgedeploy check on the input .tflite for the location and the fix",
            )
        )
    if output.off_chip_bytes:
        report.findings.append(
            Finding(
                "parameter-cache",
                "warning",
                "parameters stream from the host",
                1,
                [],
                f"{fmt_bytes(output.off_chip_bytes)} off-chip",
                "use a smaller model or -n segments",
            )
        )
    report.notes = list(output.notes)
    report.details = {"compiler_output": output.to_dict()}
    report.verdict = _verdict(output)
    return report


def _verdict(output: CompilerOutput) -> str:
    version = (
        f"compiler {output.compiler_version}" if output.compiler_version else "compiler output"
    )
    if output.succeeded is False and output.failure is not None:
        return f"{version}: compilation failed ({output.failure.code})"
    if output.tpu_ops is not None and output.total_ops is not None:
        return f"{version}: {output.tpu_ops} of {plural(output.total_ops, 'op')} on the Edge TPU, {output.cpu_ops} on the CPU"
    if output.failure is not None:
        return f"{version}: an attempt failed ({output.failure.code}); the final result is not in the output"
    return f"{version}: result not in the output"
