"""Detection post-processing in an ONNX graph, and cutting the graph before it.

Box decoding (Exp, Pow, Gather ...) and non-maximum suppression (NonMaxSuppression, TopK, NonZero) come
after a detector's last convolution, have data-dependent shapes, and run on the CPU if they convert at
all; Coral users cut them off so that the part an accelerator runs is compiled, and do them on the host.
The post-processing region is every node with no convolution or matrix product after it; the cut
points are the tensors flowing into that region (the heads' outputs).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from edgedeploy.errors import UsageError

COMPUTE_OPS = {"Conv", "ConvTranspose", "Gemm", "MatMul"}
# ops that mark decoding or NMS, as opposed to a classifier's flatten/softmax after its last layer
POST_PROCESSING_MARKERS = {
    "NonMaxSuppression",
    "TopK",
    "NonZero",
    "Exp",
    "Pow",
    "Where",
    "GatherND",
    "GatherElements",
    "ScatterND",
    "RoiAlign",
    "Loop",
}
SHAPE_ONLY = {"Shape", "Size"}  # read a tensor's shape, not its values: not a cut point


@dataclass
class PostProcessing:
    ops: Counter = field(default_factory=Counter)  # op type -> count, in the post-processing region
    cut_before: list[str] = field(default_factory=list)  # tensors to keep as the graph's outputs
    nodes: list[int] = field(default_factory=list)  # node indices of the region

    @property
    def found(self) -> bool:
        return bool(self.cut_before) and any(op in POST_PROCESSING_MARKERS for op in self.ops)

    def describe(self) -> str:
        return ", ".join(f"{op} x{n}" for op, n in self.ops.most_common())


def find_post_processing(model: Any) -> PostProcessing:
    nodes = list(model.graph.node)  # ONNX keeps nodes in topological order
    consumers: dict[str, list[int]] = {}
    for i, node in enumerate(nodes):
        for name in node.input:
            consumers.setdefault(name, []).append(i)
    feeds_compute = [False] * len(nodes)
    for i in range(len(nodes) - 1, -1, -1):
        feeds_compute[i] = any(
            nodes[j].op_type in COMPUTE_OPS or feeds_compute[j]
            for out in nodes[i].output
            for j in consumers.get(out, [])
        )
    region = {
        i for i, n in enumerate(nodes) if n.op_type not in COMPUTE_OPS and not feeds_compute[i]
    }
    produced_outside = {
        out
        for i, n in enumerate(nodes)
        if i not in region and n.op_type != "Constant"  # a constant is no cut point
        for out in n.output
    }
    cut_before: list[str] = []
    for i in sorted(region):
        if nodes[i].op_type in SHAPE_ONLY:
            continue
        for name in nodes[i].input:
            if name in produced_outside and name not in cut_before:
                cut_before.append(name)
    kept = sorted(i for i in region if nodes[i].op_type != "Constant")
    return PostProcessing(Counter(nodes[i].op_type for i in kept), cut_before, kept)


def cut_graph(model: Any, outputs: list[str]) -> tuple[Any, Counter]:
    """The graph from its input to ``outputs`` (which become its outputs), and the op types dropped."""
    import onnx
    from onnx.utils import Extractor

    inferred = onnx.shape_inference.infer_shapes(model)
    known = {out for node in inferred.graph.node for out in node.output}
    missing = [name for name in outputs if name not in known]
    if missing:
        import difflib

        close = difflib.get_close_matches(missing[0], sorted(known), n=3)
        raise UsageError(
            f"--outputs: no tensor named {missing[0]!r} in the graph"
            + (f" (close: {', '.join(close)})" if close else ""),
            "edgedeploy check MODEL.onnx names the tensors to cut before post-processing",
        )
    inputs = [i.name for i in inferred.graph.input if i.name not in _initializers(inferred)]
    cut = Extractor(inferred).extract_model(inputs, list(outputs))
    kept = Counter(n.op_type for n in cut.graph.node)
    dropped = Counter(n.op_type for n in inferred.graph.node) - kept
    return cut, dropped


def _initializers(model: Any) -> set[str]:
    return {t.name for t in model.graph.initializer}
