"""Find the graph patterns users must know about: hard-swish / swish (fused or decomposed),
squeeze-and-excite blocks and 5x5 kernels (docs/edgetpu.md section 5). Pure graph matching on the int8 model;
the findings' consequences and fixes are written by ``findings.py``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from edgedeploy.tflite import Op, TFLiteGraph

# Ops an activation is built from when the converter does not fuse it.
ELEMENTWISE = {
    "ADD",
    "SUB",
    "MUL",
    "RELU",
    "RELU6",
    "RELU_0_TO_1",
    "RELU_N1_TO_1",
    "MINIMUM",
    "MAXIMUM",
    "LOGISTIC",
    "QUANTIZE",
    "DEQUANTIZE",
}
GATES = {"RELU6", "RELU_0_TO_1", "MINIMUM", "MAXIMUM", "LOGISTIC", "RELU_N1_TO_1"}
REDUCERS = {"MEAN", "SUM", "AVERAGE_POOL_2D", "REDUCE_MAX"}
_SE_SEARCH_DEPTH = 10


@dataclass
class Match:
    kind: str  # hard-swish | swish | squeeze-excite | kernel
    form: str  # e.g. "HARD_SWISH", "ADD+RELU6+MUL", "ADD+RELU_0_TO_1+MUL", "5x5"
    ops: list[int] = field(default_factory=list)  # every op of the pattern, ascending
    anchor: int = 0  # the op the pattern is reported at


def _non_constant_inputs(graph: TFLiteGraph, op: Op) -> list[int]:
    return [t for t in op.inputs if t >= 0 and not graph.tensors[t].is_constant]


def _elementwise_ancestors(
    graph: TFLiteGraph, producers: dict[int, int], tensor: int, depth: int = 4
) -> dict[int, list[int]]:
    """Tensors reachable backwards through element-wise ops only -> the ops on the way."""
    found: dict[int, list[int]] = {tensor: []}
    frontier: list[tuple[int, list[int]]] = [(tensor, [])]
    for _ in range(depth):
        nxt = []
        for t, path in frontier:
            op_index = producers.get(t)
            if op_index is None or graph.ops[op_index].opcode not in ELEMENTWISE:
                continue
            for src in _non_constant_inputs(graph, graph.ops[op_index]):
                if src not in found:
                    found[src] = path + [op_index]
                    nxt.append((src, path + [op_index]))
        frontier = nxt
    return found


def _is_gate(op: Op) -> bool:
    return op.opcode in GATES or (
        op.opcode == "ADD" and op.options.get("fused_activation") in ("RELU6", "RELU_N1_TO_1")
    )


def activation_patterns(graph: TFLiteGraph) -> list[Match]:
    producers = graph.producers()
    matches = [
        Match("hard-swish", "HARD_SWISH", [op.index], op.index)
        for op in graph.ops
        if op.opcode == "HARD_SWISH"
    ]
    for op in graph.ops:
        inputs = _non_constant_inputs(graph, op)
        if op.opcode != "MUL" or len(inputs) != 2:
            continue
        left = _elementwise_ancestors(graph, producers, inputs[0])
        right = _elementwise_ancestors(graph, producers, inputs[1])
        for common in set(left) & set(right):
            path = sorted(set(left[common] + right[common]))
            gate_ops = [graph.ops[i] for i in path if _is_gate(graph.ops[i])]
            if not gate_ops:
                continue
            names = {g.opcode for g in gate_ops}
            kind = "swish" if "LOGISTIC" in names else "hard-swish"
            relu6 = {i for i in path if graph.ops[i].options.get("fused_activation") == "RELU6"}
            form = "+".join(
                sorted(
                    {graph.ops[i].opcode + ("(RELU6)" if i in relu6 else "") for i in path}
                    | {"MUL"}
                )
            )
            matches.append(Match(kind, form, path + [op.index], op.index))
            break
    return sorted(matches, key=lambda m: m.anchor)


def _spatial(shape: tuple[int, ...]) -> int:
    return shape[1] * shape[2] if len(shape) == 4 else 1


def squeeze_excite_blocks(graph: TFLiteGraph) -> list[Match]:
    """MUL of a [1,H,W,C] map by a [1,1,1,C] gate computed from a global reduction of that same map."""
    producers = graph.producers()
    blocks = []
    for op in graph.ops:
        inputs = _non_constant_inputs(graph, op)
        if op.opcode != "MUL" or len(inputs) != 2:
            continue
        shapes = [graph.tensors[t].shape for t in inputs]
        if not all(len(s) == 4 for s in shapes):
            continue
        big, small = (0, 1) if _spatial(shapes[0]) > _spatial(shapes[1]) else (1, 0)
        if (
            _spatial(shapes[small]) != 1
            or _spatial(shapes[big]) <= 1
            or shapes[small][-1] != shapes[big][-1]
        ):
            continue
        big_sources = set(_elementwise_ancestors(graph, producers, inputs[big], depth=1))
        seen, queue = [], deque([(inputs[small], 0)])
        reducer = None
        while queue and reducer is None:
            tensor, depth = queue.popleft()
            index = producers.get(tensor)
            if index is None or depth >= _SE_SEARCH_DEPTH or index in seen:
                continue
            seen.append(index)
            source = graph.ops[index]
            data = _non_constant_inputs(graph, source)
            if source.opcode in REDUCERS and data and data[0] in big_sources:
                reducer = index
            queue.extend((t, depth + 1) for t in data)
        if reducer is not None:
            blocks.append(
                Match(
                    "squeeze-excite", "MEAN->conv->gate->MUL", sorted(seen + [op.index]), op.index
                )
            )
    return blocks


def kernel_patterns(graph: TFLiteGraph, min_size: int = 5) -> list[Match]:
    found = []
    for op in graph.ops:
        if op.opcode not in ("CONV_2D", "DEPTHWISE_CONV_2D") or len(op.inputs) < 2:
            continue
        weights = graph.tensor(op.inputs[1])
        if weights is None or len(weights.shape) != 4:
            continue
        kh, kw = weights.shape[1], weights.shape[2]
        if max(kh, kw) >= min_size:
            found.append(Match("kernel", f"{kh}x{kw}", [op.index], op.index))
    return found
