"""Per-op prediction: would the compiler map this op on its own (before the partition is considered)?

Order of the checks = order of the compiler's own reasons: op type, op version, runtime, data type,
rank, then the op's constraints from the rules data. The first failing check gives the reason code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from edgedeploy.targets.edgetpu.predict.constraints import CHECKS, Issue
from edgedeploy.targets.edgetpu.predict.rules import Rules
from edgedeploy.tflite import Op, Tensor, TFLiteGraph


@dataclass
class OpPrediction:
    """One op of the report. ``verdict``: tpu | cpu | risky; ``reason``: stable code; ``detail``: a sentence."""

    index: int
    op: str
    version: int
    inputs: list[dict] = field(
        default_factory=list
    )  # [{"shape": [...], "dtype": "int8"}] (activations)
    outputs: list[dict] = field(default_factory=list)
    verdict: str = "tpu"
    reason: str = "supported"
    detail: str = ""
    caused_by: int | None = None  # for downstream-of-cpu-op: the op that cut the graph
    macs: int = 0
    param_bytes: int = 0
    count: int = 1  # ops this entry stands for (>1 only for compiler-log table rows)
    own_reason: str | None = (
        None  # downstream ops the compiler would refuse anyway (hidden behind the cut)
    )

    def to_dict(self) -> dict:
        return {
            "index": self.index,
            "op": self.op,
            "version": self.version,
            "verdict": self.verdict,
            "reason": self.reason,
            "detail": self.detail,
            "caused_by": self.caused_by,
            "own_reason": self.own_reason,
            "count": self.count,
            "inputs": self.inputs,
            "outputs": self.outputs,
            "macs": self.macs,
            "param_bytes": self.param_bytes,
        }


def _describe(tensors: list[Tensor]) -> list[dict]:
    return [{"shape": list(t.shape), "dtype": t.dtype} for t in tensors]


def activations(graph: TFLiteGraph, op: Op) -> list[Tensor]:
    """The op's non-constant inputs and its outputs, leaving out recurrent state (LSTM variables)."""
    ins = [t for t in graph.op_inputs(op) if not t.is_constant and not t.is_variable]
    return ins + graph.op_outputs(op)


def macs(graph: TFLiteGraph, op: Op) -> int:
    """Multiply-accumulates of convolutions, fully-connected and LSTM ops (element-wise ops count 0)."""
    outs = graph.op_outputs(op)
    weights = graph.tensor(op.inputs[1]) if len(op.inputs) > 1 else None
    if not outs or weights is None or not weights.shape:
        return 0
    out_elems = outs[0].elements
    if op.opcode == "CONV_2D" and len(weights.shape) == 4:
        return out_elems * weights.shape[1] * weights.shape[2] * weights.shape[3]
    if op.opcode == "DEPTHWISE_CONV_2D" and len(weights.shape) == 4:
        return out_elems * weights.shape[1] * weights.shape[2]
    if op.opcode == "FULLY_CONNECTED" and len(weights.shape) == 2:
        return out_elems * weights.shape[1]
    if op.opcode == "TRANSPOSE_CONV" and len(op.inputs) > 2:
        data = graph.tensor(op.inputs[2])
        filt = weights
        if data is not None and len(filt.shape) == 4:
            return data.elements * filt.shape[0] * filt.shape[1] * filt.shape[2]
    if op.opcode in ("LSTM", "UNIDIRECTIONAL_SEQUENCE_LSTM"):
        data = graph.tensor(op.inputs[0])
        steps = 1
        if (
            op.opcode == "UNIDIRECTIONAL_SEQUENCE_LSTM"
            and data is not None
            and len(data.shape) == 3
        ):
            steps = data.shape[0 if op.options.get("time_major") else 1]
        matrices = [
            graph.tensors[t]
            for t in op.inputs
            if t >= 0 and graph.tensors[t].is_constant and len(graph.tensors[t].shape) == 2
        ]
        return steps * sum(m.elements for m in matrices)
    return 0


def _base_issue(graph: TFLiteGraph, op: Op, rules: Rules) -> Issue | None:
    if op.is_custom:
        entry = rules.never_mapped.get(op.opcode)
        why = entry["why"] if entry else "custom ops run on the CPU"
        return Issue("cpu", "custom-op", f"custom op {op.opcode}: {why}")
    if op.opcode in rules.never_mapped:
        return Issue(
            "cpu",
            "unsupported-op",
            f"{op.opcode} is not mapped: {rules.never_mapped[op.opcode]['why']}",
        )
    rule = rules.ops.get(op.opcode)
    if rule is None:
        return Issue(
            "cpu",
            "unknown-op",
            f"{op.opcode} is not in the compiler-{rules.compiler} op table "
            "(unknown to these rules; the compiler maps only ops it lists)",
        )
    if op.version > rule.max_version:
        return Issue(
            "cpu",
            "op-version-too-new",
            f"{op.opcode} v{op.version} is newer than compiler "
            f"{rules.compiler} knows (max v{rule.max_version}, TFLite {rules.tflite_release})",
        )
    if rule.min_runtime is not None and rules.min_runtime < rule.min_runtime:
        return Issue(
            "cpu",
            "needs-newer-runtime",
            f"{op.opcode} needs Edge TPU runtime {rule.min_runtime} (min runtime is {rules.min_runtime})",
        )
    return None


def _dtype_issue(graph: TFLiteGraph, op: Op, rules: Rules) -> Issue | None:
    if "input_dtypes" in rules.ops[op.opcode].constraints:
        tensors = graph.op_outputs(op)  # the input side is judged by the op's own constraint
    else:
        tensors = activations(graph, op)
    for t in tensors:
        if t.dtype in rules.activation_dtypes:
            continue
        if t.dtype.startswith(("float", "bfloat")):
            return Issue(
                "cpu",
                "float-tensor",
                f"works on a {t.dtype} tensor '{t.name}' (the Edge TPU needs int8/uint8)",
            )
        return Issue(
            "cpu",
            "unsupported-dtype",
            f"works on a {t.dtype} tensor '{t.name}' (the Edge TPU needs int8/uint8)",
        )
    return None


def _rank_issue(graph: TFLiteGraph, op: Op) -> Issue | None:
    for t in activations(graph, op):
        if len(t.shape) > 3 and any(d > 1 for d in t.shape[:-3]):
            return Issue(
                "cpu",
                "rank",
                f"tensor '{t.name}' {list(t.shape)} has more than 3 dimensions above 1 "
                "(batch must be 1; up to 3 innermost dimensions are mapped)",
            )
    return None


def local_issue(graph: TFLiteGraph, op: Op, rules: Rules) -> Issue | None:
    issue = (
        _base_issue(graph, op, rules) or _dtype_issue(graph, op, rules) or _rank_issue(graph, op)
    )
    if issue:
        return issue
    risky = None
    for name, param in rules.ops[op.opcode].constraints.items():
        found = CHECKS[name](graph, op, param)
        if found and found.verdict == "cpu":
            return found
        risky = risky or found
    return risky


def predict_ops(graph: TFLiteGraph, rules: Rules) -> list[OpPrediction]:
    """Local verdicts for every op (no partition yet)."""
    predictions = []
    for op in graph.ops:
        consts = {t for t in op.inputs if t >= 0 and graph.tensors[t].is_constant}
        pred = OpPrediction(
            index=op.index,
            op=op.opcode,
            version=op.version,
            inputs=_describe([t for t in graph.op_inputs(op) if not t.is_constant]),
            outputs=_describe(graph.op_outputs(op)),
            macs=int(macs(graph, op)),
            param_bytes=int(sum(graph.tensors[t].buffer_size for t in consts)),
        )
        issue = local_issue(graph, op, rules)
        if issue:
            pred.verdict, pred.reason, pred.detail = issue.verdict, issue.reason, issue.detail
        else:
            pred.detail = f"{op.opcode} maps to the Edge TPU"
        predictions.append(pred)
    return predictions


def dynamic_ops(graph: TFLiteGraph, rules: Rules) -> list[int]:
    """Ops whose output shape comes from a non-constant operand: TFLite makes those outputs dynamic."""
    found = []
    for op in graph.ops:
        for pos in rules.shape_operands.get(op.opcode, ()):
            if (
                pos < len(op.inputs)
                and op.inputs[pos] >= 0
                and not graph.tensors[op.inputs[pos]].is_constant
            ):
                found.append(op.index)
                break
    return found


def uses_no_integer_tensors(graph: TFLiteGraph) -> bool:
    """A float model: no int8/uint8 activation anywhere (the compiler says 'Model not quantized')."""
    return not any(
        t.dtype in ("int8", "uint8") and not t.is_constant for t in graph.tensors
    ) and bool(graph.ops)
