"""The full-int8 TFLite graph ``edgedeploy convert`` would make of an ONNX model at one input size,
forecast from shapes alone: no TensorFlow, a few milliseconds per size.

Each ONNX node becomes the TFLite op(s) the converter (onnx2tf 1.29, TensorFlow 2.19's converter, full
int8) writes for it, with NHWC shapes, int8 weights and int32 biases, so that the Edge TPU's own
prediction (``edgedeploy check``'s analysis) runs on it unchanged. What was read from real conversions
of the built-ins (``tests/data/limits/converted.json`` holds them; the tests hold the forecast to them):

- Conv -> CONV_2D, depthwise -> DEPTHWISE_CONV_2D, grouped -> CONV_2D at version 6, and then every
  CONV_2D of the file is version 6 (the file keeps one version per op type);
- padding equal to TensorFlow's SAME (or none) stays inside the convolution; any other padding becomes a
  PAD op and a VALID convolution (so even sizes at stride 2 get a PAD, odd ones do not);
- ReLU / ReLU6 right after a convolution, a fully-connected op or an element-wise op with one reader
  fuse into it; HardSwish -> HARD_SWISH; HardSigmoid -> RELU_0_TO_1 (its scale folds into the
  convolution before it); GlobalAveragePool -> MEAN, or nothing over a 1x1 map; Flatten before
  Gemm -> nothing (FULLY_CONNECTED reads the [1,1,1,C] tensor); identical constant operands are shared.

Other ops are mapped by their documented TFLite counterpart; an ONNX op with none is kept as a gap
(``Forecast.gaps``) so that the caller can say the forecast is incomplete rather than guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edgedeploy.limits.forecast_ops import (
    ALIASES,
    BINARY,
    GROUPED_CONV_VERSION,
    REDUCE,
    UNARY,
    VERSIONS,
    OpRules,
    onnx_attr,
)
from edgedeploy.limits.onnx_shapes import SizedGraph
from edgedeploy.tflite import Op, Tensor, TFLiteGraph


@dataclass
class Forecast:
    graph: TFLiteGraph
    gaps: list[str] = field(
        default_factory=list
    )  # ONNX ops with no modelled TFLite form ("Einsum x2")


class _Builder(OpRules):
    """Translates each ONNX node (the rules in ``OpRules``) into the draft, then freezes it."""

    # ops ----------------------------------------------------------------------------------------------
    def node(self, node: Any) -> None:
        kind = node.op_type
        if kind in ALIASES:
            self.alias(node, node.input[0])
        elif kind == "Conv":
            self.conv(node)
        elif kind == "ConvTranspose":
            self.transpose_conv(node)
        elif kind == "Relu":
            self.activation(node, "RELU")
        elif kind == "Clip":
            self.clip(node)
        elif kind in UNARY:
            self.emit(UNARY[kind], [self.act(node.input[0])], [self.act(node.output[0])])
        elif kind in BINARY:
            self.binary(node, BINARY[kind])
        elif kind in REDUCE:
            self.reduce(node, REDUCE[kind])
        elif kind in ("Flatten", "Reshape", "Squeeze", "Unsqueeze"):
            self.reshape(node)
        elif kind in ("Gemm", "MatMul"):
            self.dense(node)
        elif kind in ("MaxPool", "AveragePool"):
            self.pool(node, "MAX_POOL_2D" if kind == "MaxPool" else "AVERAGE_POOL_2D")
        elif kind == "Concat":
            self.concat(node)
        elif kind in ("Resize", "Upsample"):
            self.resize(node)
        elif kind == "Pad":
            self.pad(node)
        elif kind == "PRelu":
            channels = (self.sized.shape(node.input[0]) or (1, 1))[1]
            self.emit(
                "PRELU",
                [self.act(node.input[0]), self.const(node.input[1], (channels,), "int8")],
                [self.act(node.output[0])],
            )
        elif kind == "Transpose":
            perm = np.array(onnx_attr(node, "perm", []), dtype=np.int32)
            self.emit(
                "TRANSPOSE",
                [self.act(node.input[0]), self.const("perm", (len(perm),), "int32", perm)],
                [self.act(node.output[0])],
            )
        else:
            self.other(node)

    def graph(self, input_name: str) -> TFLiteGraph:
        first = self.act(input_name)
        for node in self.nodes:
            self.node(node)
        outputs = [self.act(o.name) for o in self.sized.model.graph.output]
        grouped = any(op["options"].pop("grouped", False) for op in self.ops)
        tensors = [
            Tensor(
                index=i,
                name=t["name"],
                shape=t["shape"],
                shape_signature=None,
                dtype=t["dtype"],
                scale=[1.0],
                zero_point=[0],
                quantized_dimension=0,
                is_constant=t["bytes"] > 0,
                buffer_size=t["bytes"],
            )
            for i, t in enumerate(self.tensors)
        ]
        ops = []
        for i, op in enumerate(self.ops):
            version = VERSIONS.get(op["opcode"], 2)
            if op["opcode"] == "CONV_2D" and grouped:
                version = GROUPED_CONV_VERSION
            ops.append(
                Op(
                    index=i,
                    opcode=op["opcode"],
                    version=version,
                    inputs=op["inputs"],
                    outputs=op["outputs"],
                    options=op["options"],
                )
            )
        values = self.values
        return TFLiteGraph(
            ops=ops,
            tensors=tensors,
            input_indices=[first],
            output_indices=outputs,
            subgraph_count=1,
            schema_version=3,
            description="forecast from ONNX shapes (edgedeploy limits)",
            file_size=0,
            _constant_reader=lambda tensor: values.get(tensor.index),
        )


def forecast(sized: SizedGraph, input_name: str) -> Forecast:
    """The int8 TFLite graph the converter would write for ``sized`` (an ONNX model at one input size)."""
    builder = _Builder(sized)
    graph = builder.graph(input_name)
    gaps = [f"{name} x{count}" if count > 1 else name for name, count in builder.gaps.items()]
    return Forecast(graph, gaps)
