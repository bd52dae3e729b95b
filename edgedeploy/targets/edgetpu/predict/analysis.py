"""Check an int8 TFLite model: per-op prediction, partition, patterns, summary and verdict."""

from __future__ import annotations

from edgedeploy.report import fmt_bytes, plural
from edgedeploy.targets.edgetpu.package_size import package_parameter_bytes
from edgedeploy.targets.edgetpu.predict import findings as find
from edgedeploy.targets.edgetpu.predict.operators import OpPrediction, dynamic_ops, predict_ops
from edgedeploy.targets.edgetpu.predict.partition import apply_partition, first_cut
from edgedeploy.targets.edgetpu.predict.patterns import (
    activation_patterns,
    kernel_patterns,
    squeeze_excite_blocks,
)
from edgedeploy.targets.edgetpu.predict.result import CheckResult, Finding, Summary
from edgedeploy.targets.edgetpu.predict.rules import Rules
from edgedeploy.tflite import TFLiteGraph

# Compiled models report 6.1 to 7.8 MiB usable for parameters (compiler_logs); above this they may stream.
USABLE_CACHE_FRACTION = 0.75
DYNAMIC_FIX = (
    "export with a fixed batch of 1 and static shapes (e.g. Keras Input(batch_size=1), or a concrete "
    "function with a fully static input signature) so shape arithmetic folds into constants"
)


def _param_bytes(graph: TFLiteGraph, predictions: list[OpPrediction], on_tpu: bool | None) -> int:
    tensors = {
        t
        for p in predictions
        if on_tpu is None or (p.verdict != "cpu") == on_tpu
        for t in graph.ops[p.index].inputs
        if t >= 0 and graph.tensors[t].is_constant
    }
    return sum(graph.tensors[t].buffer_size for t in tensors)


def summarize(graph: TFLiteGraph, predictions: list[OpPrediction], rules: Rules) -> Summary:
    macs_total = sum(p.macs for p in predictions)
    macs_tpu = sum(p.macs for p in predictions if p.verdict != "cpu")
    cut = first_cut(predictions)
    tpu_params = _param_bytes(graph, predictions, True)
    return Summary(
        total_ops=len(predictions),
        tpu_ops=sum(p.verdict == "tpu" for p in predictions),
        cpu_ops=sum(p.verdict == "cpu" for p in predictions),
        risky_ops=sum(p.verdict == "risky" for p in predictions),
        first_cut_op=cut.index if cut else None,
        macs_total=macs_total,
        macs_tpu=macs_tpu,
        tpu_mac_share=(macs_tpu / macs_total) if macs_total else None,
        param_bytes_total=_param_bytes(graph, predictions, None),
        param_bytes_tpu=tpu_params,
        on_chip_cache_bytes=rules.on_chip_cache_bytes,
        params_stream=package_parameter_bytes(tpu_params) > rules.on_chip_cache_bytes,
    )


def _cache_finding(summary: Summary, rules: Rules) -> Finding | None:
    usable = int(rules.on_chip_cache_bytes * USABLE_CACHE_FRACTION)
    package = package_parameter_bytes(summary.param_bytes_tpu or 0)
    if summary.param_bytes_tpu is None or package <= usable:
        return None
    will = package > rules.on_chip_cache_bytes
    return Finding(
        "parameter-cache",
        "warning",
        "parameters exceed the on-chip cache" if will else "parameters near the on-chip cache size",
        1,
        [],
        f"{fmt_bytes(package)} of TPU parameters predicted in the compiled package "
        f"({fmt_bytes(summary.param_bytes_tpu)} of weights) vs ~{fmt_bytes(rules.on_chip_cache_bytes)} "
        f"on-chip ({'they will' if will else 'part may'} stream from the host on every inference; slow over USB)",
        "use a smaller width multiplier / input size, or split the model over several TPUs (-n)",
    )


def _model_findings(
    graph: TFLiteGraph, predictions: list[OpPrediction], dynamic: list[int]
) -> list[Finding]:
    found = []
    if dynamic:
        for index in dynamic:
            pred = predictions[index]
            pred.verdict, pred.reason, pred.caused_by = "cpu", "dynamic-shape", None
            pred.detail = f"{pred.op} gets its output shape from a computed (non-constant) tensor: a dynamic-sized tensor"
        found.append(
            Finding(
                "dynamic-shape",
                "error",
                "dynamic-sized tensors: the compiler aborts the whole model",
                len(dynamic),
                dynamic,
                "compilation fails ('Attempting to use a delegate that only supports "
                "static-sized tensors ...'): nothing runs on the Edge TPU",
                DYNAMIC_FIX,
            )
        )
    signature = [t.name for t in graph.inputs if t.is_dynamic]
    if signature:
        found.append(
            Finding(
                "dynamic-batch",
                "info",
                "input shape signature has a dynamic (-1) dimension",
                len(signature),
                [],
                "the file stores batch 1 and the signature alone is not known to stop the compiler; "
                "shape arithmetic on a dynamic batch does (dynamic-sized tensors)",
                DYNAMIC_FIX,
            )
        )
    if graph.subgraph_count > 1:
        found.append(
            Finding(
                "subgraphs",
                "warning",
                f"the model has {graph.subgraph_count} subgraphs (control flow)",
                graph.subgraph_count - 1,
                [],
                "only the main subgraph is analysed; control-flow ops stay on the CPU",
                "unroll loops / remove conditionals before conversion",
            )
        )
    return found


def _verdict(
    summary: Summary, predictions: list[OpPrediction], rules: Rules, dynamic: list[int]
) -> str:
    # summarize() counts every op; the Summary type leaves them optional for compiled files
    total = summary.total_ops or 0
    if dynamic:
        first = predictions[dynamic[0]]
        return f"the compiler will refuse this model: dynamic-sized tensors (op {first.index} {first.op})"
    mapped = (summary.tpu_ops or 0) + (summary.risky_ops or 0)
    risky = f"; {summary.risky_ops} risky: verify with the compiler" if summary.risky_ops else ""
    if summary.cpu_ops == 0:
        return f"{'the op maps' if total == 1 else f'all {total} ops map'} to the Edge TPU (compiler {rules.compiler}){risky}"
    if summary.first_cut_op is not None:
        cut = predictions[summary.first_cut_op]
        return (
            f"cut at op {cut.index} ({cut.op}, {cut.reason}): {mapped} of {plural(total, 'op')} on the Edge TPU, "
            f"{summary.cpu_ops} on the CPU{risky}"
        )
    return f"{mapped} of {plural(total, 'op')} on the Edge TPU; {summary.cpu_ops} on the CPU at the graph edges (no cut){risky}"


def analyse(graph: TFLiteGraph, rules: Rules, path: str) -> CheckResult:
    predictions = predict_ops(graph, rules)
    dynamic = dynamic_ops(graph, rules)
    apply_partition(graph, predictions)
    activation = activation_patterns(graph)
    blocks = squeeze_excite_blocks(graph)
    covered = {i for m in activation for i in m.ops}
    findings = _model_findings(graph, predictions, dynamic)
    findings += find.activation_findings(activation, predictions, rules)
    findings += find.squeeze_excite_findings(graph, blocks, predictions)
    findings += find.cpu_op_findings(predictions, rules, covered | set(dynamic))
    findings += find.kernel_findings(kernel_patterns(graph))
    summary = summarize(graph, predictions, rules)
    summary.compile_fails = bool(dynamic)
    if cache := _cache_finding(summary, rules):
        findings.append(cache)
    order = {"error": 0, "warning": 1, "info": 2}  # a compile-stopping finding comes first of all
    findings.sort(
        key=lambda f: (
            f.kind != "dynamic-shape",
            order.get(f.severity, 3),
            f.ops[0] if f.ops else -1,
        )
    )
    return CheckResult(
        kind="tflite",
        path=path,
        rules=rules.describe(),
        compiler_version=rules.compiler,
        min_runtime=rules.min_runtime,
        ops=predictions,
        findings=findings,
        summary=summary,
        verdict=_verdict(summary, predictions, rules, dynamic),
    )
