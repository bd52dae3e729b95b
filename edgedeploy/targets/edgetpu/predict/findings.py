"""Turn pattern matches and CPU verdicts into findings: where, how often, what it costs, how to fix it."""

from __future__ import annotations

from collections import defaultdict

from edgedeploy.report import plural
from edgedeploy.targets.edgetpu.predict.operators import OpPrediction
from edgedeploy.targets.edgetpu.predict.partition import what_if_refused
from edgedeploy.targets.edgetpu.predict.patterns import Match
from edgedeploy.targets.edgetpu.predict.result import Finding
from edgedeploy.targets.edgetpu.predict.rules import Rules
from edgedeploy.tflite import TFLiteGraph

HARD_SWISH_FIX = (
    "use the minimalistic MobileNetV3 variant (ReLU, no hard-swish), or rewrite hard-swish as "
    "(x*(1/6))*relu6(x+3) before quantization: the converter then keeps ADD(RELU6)+MUL+MUL, all "
    "mapped (edgedeploy convert --fix-activations)"
)
SE_FIX = (
    "verify with the real compiler (edgedeploy compile); if it falls back, remove SE (MobileNetV3 "
    "minimalistic and MobileNetEdgeTPU have none)"
)


def consequence(predictions: list[OpPrediction], index: int) -> str:
    """What op ``index`` costs where it is now: a cut, a CPU op at an edge, or nothing."""
    pred, total = predictions[index], len(predictions)
    cpu = sum(1 for p in predictions if p.verdict == "cpu")
    if pred.reason == "input-boundary":
        return f"op {index} runs on the CPU before the Edge TPU region; the graph is not cut"
    if pred.verdict == "cpu" and pred.caused_by is None:
        following = sum(1 for p in predictions if p.caused_by == index)
        if following == 0:
            return f"op {index} runs on the CPU after the Edge TPU region; no other op moves"
        first = min((p.caused_by for p in predictions if p.caused_by is not None), default=index)
        if first == index:
            return f"cuts the graph at op {index}: {cpu} of {plural(total, 'op')} run on the CPU"
        return f"cuts the graph at op {index}: {following} more ops follow it to the CPU"
    if pred.verdict == "cpu":
        return f"op {index} is already on the CPU, downstream of op {pred.caused_by}"
    return ""


def _risky_consequence(graph: TFLiteGraph, predictions: list[OpPrediction], index: int) -> str:
    total = len(predictions)
    would = what_if_refused(graph, predictions, index)
    return f"predicted to map; if the compiler refuses op {index}, {would} of {plural(total, 'op')} would run on the CPU"


def activation_findings(
    matches: list[Match], predictions: list[OpPrediction], rules: Rules
) -> list[Finding]:
    groups: dict[tuple[str, str], list[Match]] = defaultdict(list)
    for m in matches:
        groups[(m.kind, m.form)].append(m)
    findings = []
    for (kind, form), group in groups.items():
        anchors = [m.anchor for m in group]
        refused = [i for m in group for i in m.ops if _refused_itself(predictions[i])]
        if refused:
            first = min(refused)
            op_name = predictions[first].op
            fix = (
                rules.never_mapped.get(op_name, {}).get("fix", HARD_SWISH_FIX)
                if op_name != "HARD_SWISH"
                else HARD_SWISH_FIX
            )
            findings.append(
                Finding(
                    kind,
                    "error",
                    f"{kind} as {form}: {op_name} is not mapped",
                    len(group),
                    anchors,
                    consequence(predictions, first),
                    fix,
                )
            )
        else:
            findings.append(
                Finding(
                    kind,
                    "info",
                    f"{kind} as {form}: every op is a mapped type",
                    len(group),
                    anchors,
                    "none: same math, all ops supported",
                    "",
                )
            )
    return findings


def squeeze_excite_findings(
    graph: TFLiteGraph, blocks: list[Match], predictions: list[OpPrediction]
) -> list[Finding]:
    if not blocks:
        return []
    for block in (
        blocks
    ):  # docs/edgetpu.md section 5: parts map, whole blocks were never seen mapped -> risky
        for index in (block.ops[0], block.anchor):
            pred = predictions[index]
            if pred.verdict == "tpu":
                pred.verdict, pred.reason = "risky", "squeeze-excite"
                pred.detail = (
                    "part of a squeeze-and-excite block: each op is supported, no public compile shows a "
                    "whole block mapped"
                )
    first = blocks[0]
    on_tpu = predictions[first.anchor].verdict != "cpu"
    text = (
        _risky_consequence(graph, predictions, first.ops[0])
        if on_tpu
        else consequence(predictions, first.anchor)
    )
    return [
        Finding(
            "squeeze-excite",
            "warning" if on_tpu else "info",
            "squeeze-and-excite block (global pool -> 1x1 conv -> gate -> broadcast MUL)",
            len(blocks),
            [b.anchor for b in blocks],
            text,
            SE_FIX,
        )
    ]


def kernel_findings(matches: list[Match]) -> list[Finding]:
    by_size: dict[str, list[int]] = defaultdict(list)
    for m in matches:
        by_size[m.form].append(m.anchor)
    return [
        Finding(
            f"kernel-{size}",
            "info",
            f"{size} convolution kernels",
            len(ops),
            ops,
            "they map on the Edge TPU (MobileNetEdgeTPU uses 5x5 depthwise); the minimalistic MobileNetV3 "
            "drops them only for portability to DSP/GPU accelerators",
            "none needed for the Edge TPU",
        )
        for size, ops in sorted(by_size.items())
    ]


def _refused_itself(p: OpPrediction) -> bool:
    return p.verdict == "cpu" and (p.caused_by is None or p.own_reason is not None)


def cpu_op_findings(
    predictions: list[OpPrediction], rules: Rules, covered: set[int]
) -> list[Finding]:
    """Every op that itself refuses to map (not the ones it drags along), grouped by op type and reason;
    ops hidden behind an earlier cut are included: fixing that cut alone would not bring them back."""
    groups: dict[tuple[str, str], list[OpPrediction]] = defaultdict(list)
    for p in predictions:
        if _refused_itself(p) and p.index not in covered:
            groups[(p.op, p.own_reason or p.reason)].append(p)
    findings = []
    for (op, reason), preds in sorted(groups.items(), key=lambda kv: kv[1][0].index):
        first = preds[0]
        fix = rules.never_mapped.get(op, {}).get("fix", "")
        if not fix and reason == "op-version-too-new":
            fix = (
                "convert with an older TensorFlow (the compiler knows TFLite op versions up to TF "
                + rules.tflite_release
                + ")"
            )
        severity = "info" if reason == "input-boundary" else "error"
        if first.own_reason is not None:
            title = f"{op} on the CPU ({reason}), hidden behind the cut at op {first.caused_by}"
            text = (
                f"op {first.index} would be refused even without the cut at op {first.caused_by}: "
                "fixing that op alone does not bring it to the TPU"
            )
        else:
            detail = first.detail.split(" (", 1)[0] if reason == "input-boundary" else first.detail
            title, text = (
                f"{op} on the CPU ({reason}): {detail}",
                consequence(predictions, first.index),
            )
        findings.append(
            Finding("cpu-op", severity, title, len(preds), [p.index for p in preds], text, fix)
        )
    return findings
