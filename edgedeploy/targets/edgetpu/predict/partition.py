"""The partition, modelled as the compiler does it (docs/edgetpu.md section 3): a dataflow closure.

* An op the compiler refuses whose data inputs all come from the graph inputs (or from other such ops)
  runs on the CPU *before* the Edge TPU region and does not cut it: ``input-boundary``.
* Any other refused op cuts: it and everything that reads, directly or not, a tensor it produced run
  on the CPU (``downstream-of-cpu-op``, ``caused_by`` = the op that cut), even supported op types.
* Ops that read only TPU-produced tensors stay on the TPU, whatever their position in execution order.
* ``risky`` ops are assumed to map (they are supported types); ``what_if_refused`` says what follows if not.
"""

from __future__ import annotations

from edgedeploy.targets.edgetpu.predict.operators import OpPrediction
from edgedeploy.tflite import TFLiteGraph


def _data_inputs(graph: TFLiteGraph, op_index: int) -> list[int]:
    op = graph.ops[op_index]
    return [
        t
        for t in op.inputs
        if t >= 0 and not graph.tensors[t].is_constant and not graph.tensors[t].is_variable
    ]


def _closure(graph: TFLiteGraph, refused: set[int]) -> tuple[dict[int, int], set[int]]:
    """(op -> root op that put it on the CPU, ops before the TPU region) for a set of refused ops.

    TFLite stores ops in execution (topological) order, so one forward pass settles every op.
    """
    producers = graph.producers()
    cause: dict[int, int] = {}
    before_region: set[int] = set()
    for op in graph.ops:
        upstream_cpu = [
            producers[t]
            for t in _data_inputs(graph, op.index)
            if t in producers and producers[t] in cause and producers[t] not in before_region
        ]
        if upstream_cpu:
            cause[op.index] = cause[min(upstream_cpu)]
            continue
        if op.index in refused:
            cause[op.index] = op.index
            reads_region = any(
                t in producers and producers[t] not in before_region
                for t in _data_inputs(graph, op.index)
            )
            if not reads_region:
                before_region.add(op.index)
    return cause, before_region


def apply_partition(graph: TFLiteGraph, predictions: list[OpPrediction]) -> None:
    """Turn local verdicts into final ones, in place."""
    refused = {p.index for p in predictions if p.verdict == "cpu"}
    cause, before_region = _closure(graph, refused)
    for pred in predictions:
        if pred.index in before_region:
            pred.detail = f"runs on the CPU before the Edge TPU region ({pred.reason}: {pred.detail}); does not cut the graph"
            pred.reason = "input-boundary"
        elif pred.index in cause and cause[pred.index] != pred.index:
            root = predictions[cause[pred.index]]
            if (
                pred.verdict == "cpu"
            ):  # refused on its own too: fixing the cut alone will not help it
                pred.own_reason = pred.reason
            pred.verdict, pred.reason, pred.caused_by = "cpu", "downstream-of-cpu-op", root.index
            pred.detail = (
                f"reads data produced on the CPU after op {root.index} ({root.op}) cut the graph"
            )


def what_if_refused(graph: TFLiteGraph, predictions: list[OpPrediction], op_index: int) -> int:
    """How many ops would run on the CPU if ``op_index`` were refused too (risky-op consequences)."""
    refused = {
        p.index for p in predictions if p.verdict == "cpu" and p.reason != "downstream-of-cpu-op"
    }
    cause, _ = _closure(graph, refused | {op_index})
    return len(cause)


def first_cut(predictions: list[OpPrediction]) -> OpPrediction | None:
    """The earliest op (in execution order) that cuts the graph and sends later ops to the CPU."""
    roots = {p.caused_by for p in predictions if p.caused_by is not None}
    cuts = [p for p in predictions if p.index in roots]
    return min(cuts, key=lambda p: p.index) if cuts else None
