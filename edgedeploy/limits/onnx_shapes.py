"""An ONNX image model at one input size: every tensor's shape, and which tensors are constants.

The fast analysis of ``limits`` asks the same model at many input sizes. ``Skeleton`` keeps the graph
once without its weight data (a weight keeps its name, type and dimensions: shapes and parameter bytes
need nothing more), so that fixing the input to H x W and running ONNX's own shape inference costs
milliseconds. A tensor is *static* when the converter folds it into a constant: initializers, Constant
nodes, Shape of a now fixed tensor, and whatever is computed from static tensors alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgedeploy.errors import InputError, UsageError, first_line
from edgedeploy.onnx_reader import load_onnx
from edgedeploy.targets.registry import require_batch

SMALL_CONSTANT = (
    64  # elements: constants this small keep their values (clip bounds, pads, axes, sizes)
)


@dataclass(frozen=True)
class ImageInput:
    name: str
    channels: int
    height: int | None  # None: dynamic, so the model can be analysed at any height
    width: int | None

    @property
    def resizable(self) -> bool:
        return self.height is None and self.width is None

    @property
    def fixed_size(self) -> tuple[int, int] | None:
        """(height, width) when both are fixed; None when the input is resizable (``Skeleton`` refuses
        a model with only one of them dynamic)."""
        if self.height is None or self.width is None:
            return None
        return self.height, self.width


def _dims(value_info: Any) -> list[int | None]:
    return [
        d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None
        for d in value_info.type.tensor_type.shape.dim
    ]


def image_input(model: Any, label: str) -> ImageInput:
    """The model's one NCHW image input; UsageError naming what is wrong otherwise."""
    initializers = {i.name for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    if len(inputs) != 1:
        raise UsageError(
            f"{label} has {len(inputs)} inputs; limits analyses single-input image models"
        )
    dims = _dims(inputs[0])
    if len(dims) != 4:
        raise UsageError(
            f"{label}: input '{inputs[0].name}' has rank {len(dims)}; limits needs an NCHW image input"
        )
    if dims[0] is not None:
        require_batch(dims[0], f"{label}: input '{inputs[0].name}'")
    if dims[1] is None:
        raise UsageError(
            f"{label}: input '{inputs[0].name}' has a dynamic channel count; limits needs NCHW with "
            "a fixed number of channels"
        )
    if (dims[2] is None) != (dims[3] is None):
        raise UsageError(
            f"{label}: input '{inputs[0].name}' {dims} has only one of height and width dynamic; "
            "limits scans square sizes"
        )
    return ImageInput(inputs[0].name, int(dims[1]), dims[2], dims[3])


@dataclass
class SizedGraph:
    """The graph at one input size: NCHW shapes by tensor name, static tensors, small constant values."""

    model: Any
    height: int
    width: int
    shapes: dict[str, tuple[int, ...]]
    static: set[str]
    values: dict[str, np.ndarray]
    weights: dict[
        str, tuple[tuple[int, ...], int]
    ]  # name -> (dims, ONNX element type) of every initializer

    def shape(self, name: str) -> tuple[int, ...] | None:
        return self.shapes.get(name)


@dataclass
class Skeleton:
    """An ONNX image model without its weight data, ready to be sized again and again."""

    model: Any
    image: ImageInput
    label: str
    values: dict[str, np.ndarray] = field(default_factory=dict)
    weights: dict[str, tuple[tuple[int, ...], int]] = field(default_factory=dict)

    @classmethod
    def from_model(cls, model: Any, label: str) -> "Skeleton":
        import onnx
        from onnx import numpy_helper

        image = image_input(model, label)
        light = onnx.ModelProto()
        light.CopyFrom(model)
        del light.graph.initializer[:]
        del light.graph.value_info[:]
        values: dict[str, np.ndarray] = {}
        weights: dict[str, tuple[tuple[int, ...], int]] = {}
        existing = {i.name for i in light.graph.input}
        for tensor in model.graph.initializer:
            dims = tuple(int(d) for d in tensor.dims)
            weights[tensor.name] = (dims, tensor.data_type)
            external = (
                tensor.data_location == onnx.TensorProto.EXTERNAL
            )  # not read: only its dims matter
            if int(np.prod(dims, dtype=np.int64)) <= SMALL_CONSTANT and not external:
                values[tensor.name] = numpy_helper.to_array(tensor)
                light.graph.initializer.append(tensor)
            elif (
                tensor.name not in existing
            ):  # a typed graph input: shape inference needs its dims only
                light.graph.input.append(
                    onnx.helper.make_tensor_value_info(tensor.name, tensor.data_type, dims)
                )
        for node in light.graph.node:
            if node.op_type == "Constant" and node.output:
                for attr in node.attribute:
                    if attr.name == "value":
                        values[node.output[0]] = numpy_helper.to_array(attr.t)
        return cls(light, image, label, values, weights)

    @classmethod
    def from_file(cls, path: Path) -> "Skeleton":

        return cls.from_model(load_onnx(path, external_data=False), str(path))

    def at_size(self, height: int, width: int) -> SizedGraph:
        import onnx

        model = onnx.ModelProto()
        model.CopyFrom(self.model)
        for value in model.graph.input:
            if value.name == self.image.name:
                for dim, size in zip(
                    value.type.tensor_type.shape.dim, (1, self.image.channels, height, width)
                ):
                    dim.Clear()
                    dim.dim_value = size
        for output in model.graph.output:
            dims = output.type.tensor_type.shape.dim
            for dim in dims:
                if not (dim.HasField("dim_value") and dim.dim_value > 0):
                    dim.Clear()  # inferred again from the fixed input
        try:
            inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
        except Exception as exc:  # noqa: BLE001 - onnx raises several types for a graph it cannot infer
            first = first_line(exc)
            raise InputError(
                f"{self.label}: ONNX shape inference fails at {height}x{width}: {first[:200]}"
            ) from None
        shapes: dict[str, tuple[int, ...]] = {}
        for value in (*inferred.graph.input, *inferred.graph.value_info, *inferred.graph.output):
            dims = _dims(value)
            known = [d for d in dims if d is not None]
            if value.type.tensor_type.HasField("shape") and len(known) == len(dims):
                shapes[value.name] = tuple(int(d) for d in known)
        for name, (dims, _) in self.weights.items():
            shapes[name] = dims
        return SizedGraph(
            inferred,
            height,
            width,
            shapes,
            _static(inferred, set(self.weights)),
            self.values,
            self.weights,
        )


def _static(model: Any, constants: set[str]) -> set[str]:
    """Tensors the converter folds into constants (ONNX nodes are stored in topological order)."""
    static = set(constants)
    for node in model.graph.node:
        inputs = [name for name in node.input if name]
        if node.op_type in ("Constant", "Shape", "Size") or (
            inputs and all(name in static for name in inputs)
        ):
            static.update(node.output)
    return static
