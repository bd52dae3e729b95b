"""Per-op facts of a model, the only things the estimate's terms read: op class, MACs, parameter bytes,
activation bytes in and out, and where the op runs (Edge TPU or CPU, per the mapping prediction).

The same facts come from a user's ``.tflite`` (``facts_of``) and from the committed workload descriptions
of rebuilt architectures (``workloads/*.json``, written by ``benchmarks/build_workloads.py``), so the
constants fitted on the descriptions apply unchanged to a user's file. JSON only at this edge.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from flatbuffers import flexbuffers

from edgedeploy.targets.edgetpu.inspect.darwinn import DAMAGED_BYTES
from edgedeploy.tflite import TFLiteGraph
from edgedeploy.tflite.graph import Op

FACTS_VERSION = 1
_ITEM_BYTES = {"int8": 1, "uint8": 1, "int16": 2, "float16": 2, "int32": 4, "float32": 4}
_ITEM_BYTES |= {"int64": 8, "float64": 8, "bool": 1}

# Op classes: the Edge TPU and a CPU spend their time differently on each (weights reused per pixel in a
# full convolution; one weight per channel in a depthwise one; no reuse at all in a fully connected one).
CONV = "conv"  # k x k convolution (k > 1), transposed convolution
CONV_1X1 = "conv1x1"
DEPTHWISE = "depthwise"
FC = "fc"  # fully connected, LSTM
ELEMENTWISE = "elementwise"  # add, mul, activations, quantize, concatenation, pad, ...
POOL = "pool"  # pooling, mean and reductions, resize
LAYOUT = "layout"  # reshape, squeeze, expand_dims: no arithmetic, usually no copy
CUSTOM = "custom"  # custom ops (e.g. TFLite_Detection_PostProcess): host code of unknown cost
OP_CLASSES = (CONV, CONV_1X1, DEPTHWISE, FC, ELEMENTWISE, POOL, LAYOUT, CUSTOM)

VALUE_COLUMNS = ("input_values", "output_values")
# Written to a description only where some op has them (most models have neither).
OPTIONAL_COLUMNS = (*VALUE_COLUMNS, "detections")
POSTPROCESS = "TFLite_Detection_PostProcess"

_POOL_OPS = {
    "AVERAGE_POOL_2D",
    "MAX_POOL_2D",
    "MEAN",
    "SUM",
    "REDUCE_MAX",
    "REDUCE_MIN",
    "L2_POOL_2D",
}
_POOL_OPS |= {"RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR", "REDUCE_PROD"}
_LAYOUT_OPS = {"RESHAPE", "SQUEEZE", "EXPAND_DIMS"}


@dataclass(frozen=True)
class OpFact:
    index: int
    op: str
    op_class: str
    macs: int
    param_bytes: int
    input_bytes: int  # activation bytes read (constants excluded)
    output_bytes: int
    place: str  # tpu | cpu | risky (risky ops are assumed to map)
    # Values (elements) read and written where they differ from the bytes (activations wider than one
    # byte: a float DEQUANTIZE output, float post-processing inputs, int64 ARG_MAX indices); None: one
    # byte a value. The CPU cost model prices values (terms.cpu_units).
    input_values: int | None = None
    output_values: int | None = None
    # The boxes a detection post-processing op keeps (max_detections x max_classes_per_detection, from
    # its options): its suppression passes over the candidates once per box kept. None: any other op.
    detections: int | None = None

    @property
    def on_tpu(self) -> bool:
        return self.place != "cpu"

    @property
    def values_read(self) -> int:
        return self.input_bytes if self.input_values is None else self.input_values

    @property
    def values_written(self) -> int:
        return self.output_bytes if self.output_values is None else self.output_values


@dataclass(frozen=True)
class WorkloadFacts:
    """What the estimate knows of one model. ``input_bytes`` / ``output_bytes``: what crosses the host
    link per inference at the Edge TPU part's boundary."""

    name: str
    ops: tuple[OpFact, ...]
    input_bytes: int
    output_bytes: int
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def tpu_ops(self) -> list[OpFact]:
        return [o for o in self.ops if o.on_tpu]

    @property
    def cpu_ops(self) -> list[OpFact]:
        return [o for o in self.ops if not o.on_tpu]

    def to_dict(self) -> dict[str, Any]:
        columns = [  # the optional columns only where some op has them
            c
            for c in OpFact.__dataclass_fields__
            if c not in OPTIONAL_COLUMNS or any(getattr(o, c) is not None for o in self.ops)
        ]
        return {
            "facts_version": FACTS_VERSION,
            "name": self.name,
            "input_bytes": self.input_bytes,
            "output_bytes": self.output_bytes,
            "provenance": self.provenance,
            "totals": {
                "ops": len(self.ops),
                "tpu_ops": len(self.tpu_ops),
                "macs": sum(o.macs for o in self.ops),
                "tpu_macs": sum(o.macs for o in self.tpu_ops),
                "param_bytes": sum(o.param_bytes for o in self.ops),
                "tpu_param_bytes": sum(o.param_bytes for o in self.tpu_ops),
            },
            "op_columns": columns,
            "ops": [[asdict(o)[c] for c in columns] for o in self.ops],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkloadFacts:
        if data.get("facts_version") != FACTS_VERSION:
            raise ValueError(
                f"workload facts version {data.get('facts_version')!r} is not {FACTS_VERSION}"
            )
        columns = data["op_columns"]
        ops = tuple(OpFact(**dict(zip(columns, row, strict=True))) for row in data["ops"])
        return cls(
            name=data["name"],
            ops=ops,
            input_bytes=int(data["input_bytes"]),
            output_bytes=int(data["output_bytes"]),
            provenance=dict(data.get("provenance", {})),
        )


def tensor_bytes(graph: TFLiteGraph, indices) -> int:
    total = 0
    for t in indices:
        if t >= 0:
            tensor = graph.tensors[t]
            total += tensor.elements * _ITEM_BYTES.get(tensor.dtype, 4)
    return total


def _values_if_wide(graph: TFLiteGraph, indices, nbytes: int) -> int | None:
    """The elements of these tensors, or None when they are one byte each (the common int8 case)."""
    values = sum(graph.tensors[t].elements for t in indices if t >= 0)
    return None if values == nbytes else values


def op_class(graph: TFLiteGraph, op: Op) -> str:
    if op.is_custom:
        return CUSTOM
    if op.opcode == "CONV_2D":
        weights = graph.tensor(op.inputs[1]) if len(op.inputs) > 1 else None
        shape = weights.shape if weights is not None else ()
        return CONV_1X1 if len(shape) == 4 and shape[1] == shape[2] == 1 else CONV
    if op.opcode in ("TRANSPOSE_CONV", "CONV_3D"):
        return CONV
    if op.opcode == "DEPTHWISE_CONV_2D":
        return DEPTHWISE
    if op.opcode in ("FULLY_CONNECTED", "LSTM", "UNIDIRECTIONAL_SEQUENCE_LSTM", "BATCH_MATMUL"):
        return FC
    if op.opcode in _POOL_OPS:
        return POOL
    if op.opcode in _LAYOUT_OPS:
        return LAYOUT
    return ELEMENTWISE


def detections_kept(op: Op) -> int | None:
    """The boxes a ``TFLite_Detection_PostProcess`` keeps, from its flexbuffer options (TFLite's
    ``detection_postprocess.cc`` reads the same keys); None for other ops or unreadable options."""
    if not op.is_custom or op.opcode != POSTPROCESS or not op.custom_options:
        return None
    try:
        options = flexbuffers.GetRoot(op.custom_options).AsMap
        kept = int(options["max_detections"].AsInt)
        per_box = int(options["max_classes_per_detection"].AsInt)
    except DAMAGED_BYTES:  # damaged options: the op's other facts still stand
        return None
    return kept * max(per_box, 1) if kept > 0 else None


def op_fact(graph: TFLiteGraph, op: Op, place: str, macs: int) -> OpFact:
    activations = [t for t in op.inputs if t >= 0 and not graph.tensors[t].is_constant]
    params = sum(
        graph.tensors[t].buffer_size for t in op.inputs if t >= 0 and graph.tensors[t].is_constant
    )
    read, written = tensor_bytes(graph, activations), tensor_bytes(graph, op.outputs)
    return OpFact(
        index=op.index,
        op=op.opcode,
        op_class=op_class(graph, op),
        macs=int(macs),
        param_bytes=int(params),
        input_bytes=read,
        output_bytes=written,
        place=place,
        input_values=_values_if_wide(graph, activations, read),
        output_values=_values_if_wide(graph, op.outputs, written),
        detections=detections_kept(op),
    )
