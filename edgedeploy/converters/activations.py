"""Optional pass (--fix-activations): ONNX -> ONNX, hard-swish / hard-sigmoid rewritten into primitives
the Edge TPU maps (ADD, RELU6, MUL), with identical math, before quantization.

Requires: an OnnxModel. Ensures: the same model with no HardSwish / HardSigmoid nodes.

The form matters, because TensorFlow's converter pattern-matches and re-fuses hard-swish into one
HARD_SWISH op: ``x*relu6(x+3)/6`` is fused, ``(x*(1/6))*relu6(x+3)`` (scale first) is not. ONNX
HardSigmoid becomes RELU_0_TO_1 through onnx2tf; ``relu6(x+3)*(1/6)`` becomes ADD/RELU6/MUL.
The converter has the last word: the pipeline checks the final op list after this rewrite.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from edgedeploy.converters.artifacts import OnnxModel
from edgedeploy.converters.context import StageContext
from edgedeploy.onnx_reader import load_onnx

NAME = "fix-activations"
REQUIRES = OnnxModel
ENSURES = OnnxModel


class _Builder:
    def __init__(self, graph):
        self.graph, self.nodes, self._count = graph, [], 0

    def const(self, value: float) -> str:
        from onnx import numpy_helper

        self._count += 1
        name = f"edgedeploy_fix_const_{self._count}"
        self.graph.initializer.append(
            numpy_helper.from_array(np.asarray(value, dtype=np.float32), name)
        )
        return name

    def node(self, op: str, inputs: list[str], output: str | None = None) -> str:
        from onnx import helper

        self._count += 1
        output = output or f"edgedeploy_fix_{self._count}"
        self.nodes.append(
            helper.make_node(op, inputs, [output], name=f"edgedeploy_fix_{op}_{self._count}")
        )
        return output

    def clip(self, x: str, low: float, high: float, output: str | None = None) -> str:
        return self.node("Clip", [x, self.const(low), self.const(high)], output)


def _attr(node, name: str, default: float) -> float:
    return next((a.f for a in node.attribute if a.name == name), default)


def rewrite_graph(model) -> dict[str, int]:
    """Rewrite in place; returns how many nodes of each kind were replaced."""
    graph = model.graph
    build = _Builder(graph)
    replaced = {"HardSwish": 0, "HardSigmoid": 0}
    for node in graph.node:
        if node.op_type == "HardSwish":
            x, y = node.input[0], node.output[0]
            relu6 = build.clip(build.node("Add", [x, build.const(3.0)]), 0.0, 6.0)
            build.node("Mul", [build.node("Mul", [x, build.const(1.0 / 6.0)]), relu6], y)
        elif node.op_type == "HardSigmoid":
            x, y = node.input[0], node.output[0]
            alpha, beta = _attr(node, "alpha", 0.2), _attr(node, "beta", 0.5)
            # min(max(alpha*x + beta, 0), 1) == alpha * clip(x + beta/alpha, 0, 1/alpha); with alpha=1/6,
            # beta=0.5 that is relu6(x + 3) / 6.
            clipped = build.clip(
                build.node("Add", [x, build.const(beta / alpha)]), 0.0, 1.0 / alpha
            )
            build.node("Mul", [clipped, build.const(alpha)], y)
        else:
            build.nodes.append(node)
            continue
        replaced[node.op_type] += 1
    del graph.node[:]
    graph.node.extend(build.nodes)
    return replaced


def run(model: OnnxModel, context: StageContext) -> OnnxModel:
    import onnx

    proto = load_onnx(model.path)
    replaced = rewrite_graph(proto)
    path = model.path.with_name(model.path.stem + "_fixed.onnx")
    onnx.save(proto, str(path))
    context.record(NAME, replaced=replaced)
    if not any(replaced.values()):
        context.note("--fix-activations: the model has no HardSwish or HardSigmoid node to rewrite")
    return dataclasses.replace(model, path=path)
