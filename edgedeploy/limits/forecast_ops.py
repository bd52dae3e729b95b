"""How ``limits``' forecast translates each ONNX node into the TFLite op(s) the converter writes for
it (the rules the module docstring of ``forecast.py`` lists, read from real conversions), adding to the draft
graph of ``forecast_graph.py``."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgedeploy.limits.forecast_graph import DraftGraph, nhwc

# Versions the converter writes for int8 ops. Observed in real conversions: CONV_2D, DEPTHWISE_CONV_2D,
# ADD, MUL, PAD, MEAN, FULLY_CONNECTED, HARD_SWISH, RELU_0_TO_1. The rest: TFLite gives int8 kernels
# version 2 (RESHAPE and a few shape ops have one version).
VERSIONS = {
    "CONV_2D": 3,
    "DEPTHWISE_CONV_2D": 3,
    "FULLY_CONNECTED": 4,
    "HARD_SWISH": 1,
    "RELU_0_TO_1": 1,
    "RESHAPE": 1,
    "SQUEEZE": 1,
    "EXPAND_DIMS": 1,
    "PRELU": 1,
}
GROUPED_CONV_VERSION = 6
FUSES_ACTIVATION = {
    "CONV_2D",
    "DEPTHWISE_CONV_2D",
    "FULLY_CONNECTED",
    "ADD",
    "SUB",
    "MUL",
    "TRANSPOSE_CONV",
}
ALIASES = {"Identity", "Dropout"}
UNARY = {
    "Sigmoid": "LOGISTIC",
    "Tanh": "TANH",
    "HardSwish": "HARD_SWISH",
    "HardSigmoid": "RELU_0_TO_1",
    "LeakyRelu": "LEAKY_RELU",
    "Softmax": "SOFTMAX",
    "Cast": "CAST",
    "Exp": "EXP",
    "Log": "LOG",
    "Sqrt": "SQRT",
    "Abs": "ABS",
    "Neg": "NEG",
    "Elu": "ELU",
    "Gelu": "GELU",
    "SpaceToDepth": "SPACE_TO_DEPTH",
    "DepthToSpace": "DEPTH_TO_SPACE",
    "ArgMax": "ARG_MAX",
    "ArgMin": "ARG_MIN",
    "Gather": "GATHER",
    "GatherND": "GATHER_ND",
    "NonZero": "WHERE",
    "CumSum": "CUMSUM",
    "Floor": "FLOOR",
    "Round": "ROUND",
    "Sin": "SIN",
    "Cos": "COS",
    "Reciprocal": "DIV",
}
BINARY = {
    "Add": "ADD",
    "Sub": "SUB",
    "Mul": "MUL",
    "Div": "DIV",
    "Max": "MAXIMUM",
    "Min": "MINIMUM",
    "Pow": "POW",
}
REDUCE = {
    "ReduceMean": "MEAN",
    "ReduceMax": "REDUCE_MAX",
    "ReduceMin": "REDUCE_MIN",
    "ReduceSum": "SUM",
    "GlobalAveragePool": "MEAN",
    "GlobalMaxPool": "REDUCE_MAX",
}
NCHW_TO_NHWC_AXIS = {0: 0, 1: 3, 2: 1, 3: 2}
ONNX_INT_TYPES = {6: "int32", 7: "int64"}


def onnx_attr(node: Any, name: str, default: Any = None) -> Any:
    from onnx import helper

    for attr in node.attribute:
        if attr.name == name:
            return helper.get_attribute_value(attr)
    return default


def _same_pads(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """TensorFlow's SAME padding (before, after) along one dimension."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


class OpRules(DraftGraph):
    """The ONNX -> TFLite translation of each node kind, written into the draft with ``act``,
    ``const``, ``emit``, ``alias`` and ``gap``."""

    def padding(
        self, node: Any, data: int, kernel: list[int], strides: list[int], dilations: list[int]
    ) -> tuple[int, str]:
        """(the tensor the op reads, its padding): SAME or VALID when TensorFlow's matches, else a PAD op."""
        shape = self.tensors[data]["shape"]
        auto = onnx_attr(node, "auto_pad", b"NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else auto
        if auto in ("SAME_UPPER", "VALID"):
            return data, "SAME" if auto == "SAME_UPPER" else "VALID"
        pads = list(onnx_attr(node, "pads", [0, 0, 0, 0]))
        if len(shape) != 4 or len(pads) != 4:
            return data, "VALID"
        wanted = [(pads[0], pads[2]), (pads[1], pads[3])]
        same = [_same_pads(shape[1 + i], kernel[i], strides[i], dilations[i]) for i in range(2)]
        if wanted == same:
            return data, "SAME"
        if not any(pads):
            return data, "VALID"
        paddings = np.array([[0, 0], list(wanted[0]), list(wanted[1]), [0, 0]], dtype=np.int32)
        padded = (shape[0], shape[1] + sum(wanted[0]), shape[2] + sum(wanted[1]), shape[3])
        out = self._tensor(f"{node.output[0]}/pad", padded, "int8")
        self.emit("PAD", [data, self.const("paddings", (4, 2), "int32", paddings)], [out])
        return out, "VALID"

    def conv(self, node: Any) -> None:
        x, w = node.input[0], node.input[1]
        dims = self.sized.weights.get(w, (self.sized.shape(w) or (0, 0, 1, 1), 1))[0]
        group = int(onnx_attr(node, "group", 1))
        out_c, in_per_group, kh, kw = (list(dims) + [1, 1, 1, 1])[:4]
        strides = list(onnx_attr(node, "strides", [1, 1]))
        dilations = list(onnx_attr(node, "dilations", [1, 1]))
        data, padding = self.padding(node, self.act(x), [kh, kw], strides, dilations)
        in_c = (
            self.tensors[data]["shape"][-1] if self.tensors[data]["shape"] else in_per_group * group
        )
        options = {
            "padding": padding,
            "stride_h": strides[0],
            "stride_w": strides[1],
            "fused_activation": "NONE",
            "dilation_h_factor": dilations[0],
            "dilation_w_factor": dilations[1],
        }
        if group > 1 and group == in_c and in_per_group == 1:
            opcode, weights = "DEPTHWISE_CONV_2D", (1, kh, kw, out_c)
            options["depth_multiplier"] = out_c // max(in_c, 1)
        else:
            opcode, weights = "CONV_2D", (out_c, kh, kw, in_per_group)
            if group > 1:
                options["grouped"] = True
        inputs = [data, self.const(w, weights, "int8"), self.const(f"{w}/bias", (out_c,), "int32")]
        self.emit(opcode, inputs, [self.act(node.output[0])], **options)

    def transpose_conv(self, node: Any) -> None:
        dims = self.sized.weights.get(node.input[1], ((0, 0, 1, 1), 1))[0]
        in_c, out_c, kh, kw = (list(dims) + [1, 1, 1, 1])[:4]
        out = self.act(node.output[0])
        shape = np.array(self.tensors[out]["shape"], dtype=np.int32)
        strides = list(onnx_attr(node, "strides", [1, 1]))
        self.emit(
            "TRANSPOSE_CONV",
            [
                self.const("output_shape", (len(shape),), "int32", shape),
                self.const(node.input[1], (out_c, kh, kw, in_c), "int8"),
                self.act(node.input[0]),
                self.const(f"{node.input[1]}/bias", (out_c,), "int32"),
            ],
            [out],
            padding="SAME",
            stride_h=strides[0],
            stride_w=strides[1],
            fused_activation="NONE",
        )

    def pool(self, node: Any, opcode: str) -> None:
        kernel = list(onnx_attr(node, "kernel_shape", [1, 1]))
        strides = list(onnx_attr(node, "strides", [1, 1]))
        data, padding = self.padding(node, self.act(node.input[0]), kernel, strides, [1, 1])
        self.emit(
            opcode,
            [data],
            [self.act(node.output[0])],
            padding=padding,
            stride_h=strides[0],
            stride_w=strides[1],
            filter_height=kernel[0],
            filter_width=kernel[1],
            fused_activation="NONE",
        )

    def activation(self, node: Any, kind: str) -> None:
        """ReLU / ReLU6 fuse into the op that writes their input when it has no other reader."""
        source = node.input[0]
        producer = self.writer.get(self.by_name.get(source, -1))
        readers = self.readers.get(source, [])
        if (
            producer is not None
            and len(readers) == 1
            and source not in self.outputs
            and self.ops[producer]["opcode"] in FUSES_ACTIVATION
            and self.ops[producer]["options"].get("fused_activation", "NONE") == "NONE"
        ):
            self.ops[producer]["options"]["fused_activation"] = kind
            self.alias(node, source)
            return
        self.emit(kind, [self.act(source)], [self.act(node.output[0])])

    def clip(self, node: Any) -> None:
        def bound(position: int, attr: str) -> float | None:
            if len(node.input) > position and node.input[position]:
                value = self.sized.values.get(node.input[position])
                return (
                    float(np.asarray(value).ravel()[0])
                    if value is not None and np.asarray(value).size
                    else None
                )
            return onnx_attr(node, attr)

        low, high = bound(1, "min"), bound(2, "max")
        known: dict[tuple[float | None, float | None], str] = {
            (0.0, 6.0): "RELU6",
            (0.0, None): "RELU",
            (-1.0, 1.0): "RELU_N1_TO_1",
            (0.0, 1.0): "RELU_0_TO_1",
        }
        kind = known.get((low, high if high is None or np.isfinite(high) else None))
        if kind in ("RELU", "RELU6"):
            return self.activation(node, kind)
        if kind:
            self.emit(kind, [self.act(node.input[0])], [self.act(node.output[0])])
            return
        out = self.act(node.output[0])
        mid = self._tensor(f"{node.output[0]}/max", self.tensors[out]["shape"], "int8")
        self.emit(
            "MAXIMUM",
            [self.act(node.input[0]), self.const("clip_min", (), "int8", np.int8(0))],
            [mid],
        )
        self.emit("MINIMUM", [mid, self.const("clip_max", (), "int8", np.int8(1))], [out])

    def binary(self, node: Any, opcode: str) -> None:
        inputs = []
        for name in node.input[:2]:
            if name in self.sized.static:
                shape = nhwc(self.sized.shape(name) or ())
                inputs.append(self.const(name, shape, "int8"))
                opcode = (
                    "MUL" if opcode == "DIV" else opcode
                )  # division by a constant is a multiplication
            else:
                inputs.append(self.act(name))
        self.emit(opcode, inputs, [self.act(node.output[0])], fused_activation="NONE")

    def reduce(self, node: Any, opcode: str) -> None:
        in_shape = self.sized.shape(node.input[0]) or ()
        if node.op_type.startswith("Global"):
            axes = [2, 3]
        else:
            axes = onnx_attr(node, "axes")
            if axes is None and len(node.input) > 1 and node.input[1] in self.sized.values:
                axes = self.sized.values[node.input[1]].ravel().tolist()
            axes = list(axes) if axes is not None else list(range(len(in_shape)))
        axes = [a % len(in_shape) for a in axes] if in_shape else axes
        if in_shape and all(in_shape[a] == 1 for a in axes):  # over a 1x1 map: nothing to compute
            return self.alias(node, node.input[0])
        mapped = sorted(NCHW_TO_NHWC_AXIS.get(a, a) for a in axes) if len(in_shape) == 4 else axes
        operand = self.const("axes", (len(mapped),), "int32", np.array(mapped, dtype=np.int32))
        self.emit(
            opcode,
            [self.act(node.input[0]), operand],
            [self.act(node.output[0])],
            keep_dims=bool(onnx_attr(node, "keepdims", 1)),
        )

    def reshape(self, node: Any) -> None:
        readers = self.readers.get(node.output[0], [])
        if readers and all(r.op_type in ("Gemm", "MatMul") for r in readers):
            return self.alias(node, node.input[0])  # FULLY_CONNECTED flattens its input itself
        out = self.act(node.output[0])
        shape = np.array(self.tensors[out]["shape"], dtype=np.int32)
        if self.tensors[self.act(node.input[0])]["shape"] == self.tensors[out]["shape"]:
            return self.alias(node, node.input[0])
        self.emit(
            "RESHAPE",
            [self.act(node.input[0]), self.const("shape", (len(shape),), "int32", shape)],
            [out],
        )

    def dense(self, node: Any) -> None:
        weight = next((n for n in node.input[1:2] if n in self.sized.static), None)
        if weight is None:
            self.emit(
                "BATCH_MATMUL",
                [self.act(n) for n in self.data_inputs(node)],
                [self.act(node.output[0])],
            )
            return
        dims = self.sized.weights.get(weight, (self.sized.shape(weight) or (1, 1), 1))[0]
        n, k = (
            (dims[0], dims[1])
            if (node.op_type == "Gemm" and onnx_attr(node, "transB", 0))
            else (dims[-1], dims[0])
        )
        inputs = [self.act(node.input[0]), self.const(weight, (n, k), "int8")]
        if node.op_type == "Gemm" and len(node.input) > 2 and node.input[2]:
            inputs.append(self.const(node.input[2], (n,), "int32"))
        else:
            inputs.append(-1)
        self.emit(
            "FULLY_CONNECTED",
            inputs,
            [self.act(node.output[0])],
            fused_activation="NONE",
            weights_format="DEFAULT",
            keep_num_dims=False,
        )

    def concat(self, node: Any) -> None:
        rank = len(self.sized.shape(node.output[0]) or ())
        axis = int(onnx_attr(node, "axis", 1)) % max(rank, 1)
        axis = NCHW_TO_NHWC_AXIS.get(axis, axis) if rank == 4 else axis
        inputs = [
            self.const(n, nhwc(self.sized.shape(n) or ()), "int8")
            if n in self.sized.static
            else self.act(n)
            for n in node.input
            if n
        ]
        self.emit(
            "CONCATENATION", inputs, [self.act(node.output[0])], axis=axis, fused_activation="NONE"
        )

    def resize(self, node: Any) -> None:
        mode = onnx_attr(node, "mode", b"nearest")
        mode = mode.decode() if isinstance(mode, bytes) else mode
        transform = onnx_attr(node, "coordinate_transformation_mode", b"half_pixel")
        transform = transform.decode() if isinstance(transform, bytes) else transform
        out = self.act(node.output[0])
        size = np.array(self.tensors[out]["shape"][1:3], dtype=np.int32)
        opcode = "RESIZE_NEAREST_NEIGHBOR" if mode == "nearest" else "RESIZE_BILINEAR"
        self.emit(
            opcode,
            [self.act(node.input[0]), self.const("size", (2,), "int32", size)],
            [out],
            align_corners=transform == "align_corners",
            half_pixel_centers=transform in ("half_pixel", "pytorch_half_pixel"),
        )

    def pad(self, node: Any) -> None:
        pads = onnx_attr(node, "pads")
        if pads is None and len(node.input) > 1:
            pads = self.sized.values.get(node.input[1])
        in_shape = self.sized.shape(node.input[0]) or ()
        rank = len(in_shape)
        if pads is None or rank == 0:
            return self.gap("Pad with computed pads")
        pads = np.asarray(pads).ravel().tolist()
        pairs = [[pads[i], pads[i + rank]] for i in range(rank)]
        if rank == 4:
            pairs = [pairs[0], pairs[2], pairs[3], pairs[1]]
        mode = onnx_attr(node, "mode", b"constant")
        opcode = (
            "PAD"
            if (mode.decode() if isinstance(mode, bytes) else mode) == "constant"
            else "MIRROR_PAD"
        )
        operand = self.const("paddings", (rank, 2), "int32", np.array(pairs, dtype=np.int32))
        self.emit(opcode, [self.act(node.input[0]), operand], [self.act(node.output[0])])

    def other(self, node: Any) -> None:
        self.gap(node.op_type)
        self.emit(
            f"ONNX:{node.op_type}",
            [self.act(n) for n in self.data_inputs(node)],
            [self.act(o) for o in node.output if o],
        )
