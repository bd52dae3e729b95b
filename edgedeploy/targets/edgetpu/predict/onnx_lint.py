"""Pre-conversion lint of an ONNX model for the Edge TPU: the same patterns as the TFLite check
(hard-swish / hard-sigmoid / x*sigmoid(x), squeeze-excite, 5x5 kernels), plus dynamic dimensions,
batch > 1 and ops with no int8 TFLite equivalent (``rules/onnx-lint.json``).

It is a forecast: the converter decides the final op list, so the verdict says to check the int8 model.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from edgedeploy.onnx_cut import find_post_processing
from edgedeploy.onnx_reader import load_onnx as load_onnx_file
from edgedeploy.targets.edgetpu.predict.findings import HARD_SWISH_FIX, SE_FIX
from edgedeploy.targets.edgetpu.predict.operators import OpPrediction
from edgedeploy.targets.edgetpu.predict.result import CheckResult, Finding, Summary
from edgedeploy.targets.edgetpu.predict.rules import Rules

POOLS = {"GlobalAveragePool", "ReduceMean", "GlobalMaxPool", "ReduceMax"}


@cache
def lint_rules() -> dict[str, Any]:
    text = (
        resources.files("edgedeploy.targets.edgetpu")
        .joinpath("rules", "onnx-lint.json")
        .read_text()
    )
    return json.loads(text)["ops"]


def load_onnx(path: Path) -> Any:
    return load_onnx_file(path, external_data=False)


def _input_dims(model: Any) -> list[tuple[str, list[Any]]]:
    initializers = {i.name for i in model.graph.initializer}
    dims = []
    for value in model.graph.input:
        if value.name in initializers or not value.type.HasField("tensor_type"):
            continue
        shape = value.type.tensor_type.shape
        dims.append(
            (
                value.name,
                [d.dim_param or (d.dim_value if d.dim_value > 0 else "?") for d in shape.dim],
            )
        )
    return dims


def _kernel(node: Any, weights: dict[str, list[int]]) -> list[int] | None:
    for attr in node.attribute:
        if attr.name == "kernel_shape":
            return list(attr.ints)
    if len(node.input) > 1 and node.input[1] in weights:
        return weights[node.input[1]][2:]
    return None


def _patterns(model: Any) -> tuple[list[int], list[int], list[int]]:
    """(hard-swish/swish Mul nodes, squeeze-excite Mul nodes, 5x5+ conv nodes) as node indices."""
    nodes = list(model.graph.node)
    producer = {out: i for i, n in enumerate(nodes) for out in n.output}
    weights = {t.name: list(t.dims) for t in model.graph.initializer}
    gates, se, kernels = [], [], []
    for i, node in enumerate(nodes):
        if node.op_type == "Conv" and (k := _kernel(node, weights)) and max(k, default=0) >= 5:
            kernels.append(i)
        if node.op_type != "Mul" or len(node.input) != 2:
            continue
        a, b = node.input
        for x, g in ((a, b), (b, a)):
            src = nodes[producer[g]] if g in producer else None
            if (
                src is not None
                and src.op_type in ("Sigmoid", "HardSigmoid")
                and src.input
                and src.input[0] == x
            ):
                gates.append(i)
                break
            if src is not None and _reaches_pool_of(nodes, producer, g, x):
                se.append(i)
                break
    return gates, se, kernels


def _reaches_pool_of(
    nodes: list[Any], producer: dict[str, int], gate: str, feature: str, depth: int = 8
) -> bool:
    frontier, seen = [gate], set()
    for _ in range(depth):
        nxt = []
        for name in frontier:
            if name not in producer or producer[name] in seen:
                continue
            seen.add(producer[name])
            node = nodes[producer[name]]
            if node.op_type in POOLS and node.input and node.input[0] == feature:
                return True
            nxt.extend(node.input)
        frontier = nxt
    return False


def lint(path: Path, rules: Rules) -> CheckResult:
    model = load_onnx(path)
    table = lint_rules()
    nodes = list(model.graph.node)
    gates, se, kernels = _patterns(model)
    ops = []
    for i, node in enumerate(nodes):
        pred = OpPrediction(
            index=i,
            op=node.op_type,
            version=0,
            detail="converts to mappable ops (forecast)",
            reason="convertible",
        )
        entry = table.get(node.op_type)
        if entry:
            pred.verdict, pred.reason = (
                entry["verdict"],
                "unsupported-op" if entry["verdict"] == "cpu" else "verify",
            )
            pred.detail = f"becomes {entry['becomes']} in the int8 TFLite"
        elif i in se:
            pred.verdict, pred.reason, pred.detail = (
                "risky",
                "squeeze-excite",
                "broadcast MUL of a squeeze-and-excite block",
            )
        ops.append(pred)
    findings = _findings(model, nodes, ops, table, gates, se, kernels)
    post = find_post_processing(model)
    if post.found:
        findings.append(
            Finding(
                "post-processing",
                "warning",
                "detection post-processing (box decoding, NMS) after the last convolution",
                len(post.nodes),
                post.nodes,
                f"{post.describe()}: decoding and NMS ops run on the CPU (or fail to convert: "
                "data-dependent shapes), and the ops after the first of them stay there too",
                "cut the graph before them and run them on the host: edgedeploy convert "
                f"{path.name} --outputs {','.join(post.cut_before)}",
            )
        )
    summary = Summary(
        total_ops=len(ops),
        tpu_ops=sum(p.verdict == "tpu" for p in ops),
        cpu_ops=sum(p.verdict == "cpu" for p in ops),
        risky_ops=sum(p.verdict == "risky" for p in ops),
        compile_fails=any(f.kind in ("dynamic-shape", "batch") for f in findings),
    )
    problems = sum(f.severity == "error" for f in findings)
    verdict = (
        f"pre-conversion lint: {problems} problem(s) for the Edge TPU; convert and check the int8 .tflite "
        "for the real prediction"
        if problems
        else "pre-conversion lint: no Edge TPU problem found; convert and check the int8 .tflite to confirm"
    )
    opset = max(
        (o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=None
    )
    return CheckResult(
        kind="onnx",
        path=str(path),
        rules=rules.describe() + " + onnx-lint",
        compiler_version=rules.compiler,
        min_runtime=rules.min_runtime,
        ops=ops,
        findings=findings,
        summary=summary,
        verdict=verdict,
        details={
            "opset": opset,
            "inputs": [{"name": n, "shape": d} for n, d in _input_dims(model)],
            "post_processing": {"ops": dict(post.ops.most_common()), "cut_before": post.cut_before}
            if post.found
            else None,
        },
    )


def _downstream_count(nodes: list[Any], start: int) -> int:
    """Nodes that read, directly or not, what node ``start`` produces (itself included)."""
    reached, produced = {start}, set(nodes[start].output)
    for i in range(start + 1, len(nodes)):  # ONNX nodes are stored in topological order
        if produced & set(nodes[i].input):
            reached.add(i)
            produced |= set(nodes[i].output)
    return len(reached)


def _findings(model, nodes, ops, table, gates, se, kernels) -> list[Finding]:
    findings = []
    for name, dims in _input_dims(model):
        if dims and not isinstance(dims[0], int) and all(isinstance(d, int) for d in dims[1:]):
            # only the batch is dynamic: `edgedeploy convert` fixes it to 1 (and says so), so this is no error
            findings.append(
                Finding(
                    "dynamic-batch",
                    "info",
                    f"input '{name}' has a dynamic batch {dims}",
                    1,
                    [],
                    "edgedeploy convert fixes the batch to 1; other converters may keep it dynamic, "
                    "which the compiler refuses",
                    "none with edgedeploy convert; elsewhere export with batch 1",
                )
            )
        elif any(not isinstance(d, int) for d in dims):
            findings.append(
                Finding(
                    "dynamic-shape",
                    "error",
                    f"input '{name}' has dynamic dimensions {dims}",
                    1,
                    [],
                    "the compiler refuses dynamic-sized tensors",
                    "export with static shapes and batch 1",
                )
            )
        elif dims and dims[0] > 1:
            findings.append(
                Finding(
                    "batch",
                    "error",
                    f"input '{name}' has batch {dims[0]}",
                    1,
                    [],
                    "the Edge TPU maps only batch 1 (rank rule)",
                    "export with batch 1",
                )
            )
    by_type: dict[str, list[int]] = {}
    for p in ops:
        if p.op in table:
            by_type.setdefault(p.op, []).append(p.index)
    for op_type, indices in by_type.items():
        entry = table[op_type]
        kind = entry.get("pattern", "unsupported-op")
        severity = "error" if entry["verdict"] == "cpu" else "warning"
        first = indices[0]
        cut = (
            f"after conversion node {first} ({op_type} -> {entry['becomes']}) would cut the graph: "
            f"{_downstream_count(nodes, first)} of {len(nodes)} nodes depend on it"
        )
        findings.append(
            Finding(
                kind,
                severity,
                f"{op_type} becomes {entry['becomes']}",
                len(indices),
                indices,
                cut,
                HARD_SWISH_FIX if kind == "hard-swish" else entry["fix"],
            )
        )
    producer = {out: i for i, n in enumerate(nodes) for out in n.output}
    gate_types = {
        i: {nodes[producer[t]].op_type for t in nodes[i].input if t in producer} for i in gates
    }
    swish = [i for i in gates if "Sigmoid" in gate_types[i]]
    hard = [i for i in gates if "HardSigmoid" in gate_types[i]]
    if swish:
        findings.append(
            Finding(
                "swish",
                "info",
                "swish: x * sigmoid(x)",
                len(swish),
                swish,
                "maps after conversion (LOGISTIC + MUL)",
                "",
            )
        )
    if hard:
        findings.append(
            Finding(
                "hard-swish",
                "error",
                "hard-swish written as x * hard_sigmoid(x)",
                len(hard),
                hard,
                "the converter makes it HARD_SWISH or RELU_0_TO_1 + MUL: not mapped",
                HARD_SWISH_FIX,
            )
        )
    if se:
        findings.append(
            Finding(
                "squeeze-excite",
                "warning",
                "squeeze-and-excite blocks",
                len(se),
                se,
                "each part maps; no public compile shows a whole block mapped",
                SE_FIX,
            )
        )
    if kernels:
        findings.append(
            Finding(
                "kernel-5x5",
                "info",
                "5x5 (or larger) convolution kernels",
                len(kernels),
                kernels,
                "they map on the Edge TPU",
                "none needed for the Edge TPU",
            )
        )
    return findings
