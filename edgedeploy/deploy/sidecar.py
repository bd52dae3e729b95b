"""The I/O sidecar: ``<stem>_int8.json`` beside ``<stem>_int8.tflite``, everything needed to feed the model
and read its answer (schema: edgedeploy/docs/sidecar.md).

It states the input (name, shape, layout, dtype, scale, zero point; raw camera pixels or not), the
preprocessing (resize, centre crop, mean and std in pixel units, channel order), every output with its
dequantization, and the labels when known. ``convert`` writes it; ``bench``, ``compare``, ``verify`` and
the generated ``infer.py`` read it. A compiled ``<stem>_int8_edgetpu.tflite`` finds it through its
target's naming rule (``targets.registry.source_of``).

A sidecar is checked against the model it sits beside before anything trusts it: every field the model
file itself states (input name, shape, dtype, scale, zero point; each output's name, shape, dtype and
quantization) must agree, else one InputError names the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgedeploy.deploy.labels import LabelFile
from edgedeploy.errors import ConversionError, InputError
from edgedeploy.files import SIDECAR, load_json
from edgedeploy.images import GRAY, GRAYSCALE_CONVERSION, Preprocessing
from edgedeploy.outputs import atomic_write_text
from edgedeploy.report import envelope_json
from edgedeploy.tflite import Tensor, TFLiteGraph, read_model

SCHEMA_VERSION = 1
KIND = "io-sidecar"
PIXEL_UNITS = "pixel values 0-255"
RAW_SCALE = 1 / 255  # --raw-input: real = q / 255, so the uint8 input q is the camera pixel itself
EDITED = "the sidecar was edited or belongs to another model; convert again to rewrite it"


@dataclass(frozen=True)
class TensorIO:
    """What a model file says about one of its inputs or outputs. ``scale`` None: not quantized."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    scale: float | None
    zero_point: int | None

    @classmethod
    def of(cls, tensor: Tensor) -> "TensorIO":
        if len(tensor.scale) > 1:
            raise ConversionError(
                f"tensor {tensor.name!r} is quantized per channel; a model boundary must be per-tensor"
            )
        return cls(
            tensor.name,
            tuple(tensor.shape),
            tensor.dtype,
            tensor.scale[0] if tensor.scale else None,
            tensor.zero_point[0] if tensor.zero_point else None,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "shape": list(self.shape),
            "dtype": self.dtype,
            "scale": self.scale,
            "zero_point": self.zero_point,
        }


@dataclass(frozen=True)
class Sidecar:
    model: str  # the int8 file it describes (name only: the two travel together)
    input: TensorIO
    layout: str  # "NHWC" | "NCHW"
    raw_pixels: (
        bool  # True: feed uint8 RGB pixels as they come; the normalization is inside the model
    )
    preprocessing: Preprocessing  # what the host does, in [0, 1] units as edgedeploy.images uses it
    in_model: (
        tuple[tuple[float, ...], tuple[float, ...]] | None
    )  # (mean, std) in [0, 1] units moved into the model
    outputs: tuple[TensorIO, ...]
    output_activation: tuple[
        str, ...
    ]  # per output: "softmax" (probabilities) or "none" (raw scores)
    labels: dict[str, Any] | None = None  # Labels.to_dict(): names in output order, offset, source
    files: dict[str, str] = field(
        default_factory=dict
    )  # float references beside it: onnx, float32_tflite

    def to_dict(self) -> dict[str, Any]:
        prep = self.preprocessing
        mean, std = self.in_model if self.in_model else (prep.mean, prep.std)
        where = "model" if self.in_model else "host"
        order = "reorder the channels to BGR -> " if prep.channel_order == "BGR" else ""
        decode = f"grayscale ({GRAYSCALE_CONVERSION})" if prep.channel_order == GRAY else "RGB"
        host = (
            "feed the cropped uint8 pixels as they are"
            if self.raw_pixels
            else "x = (pixel - mean) / std per channel, then q = clip(round(x / input.scale) + input.zero_point)"
        )
        return {
            "schema_version": SCHEMA_VERSION,
            "kind": KIND,
            "model": self.model,
            "input": {**self.input.to_dict(), "layout": self.layout, "raw_pixels": self.raw_pixels},
            "preprocessing": {
                "channel_order": prep.channel_order,
                "resize": {"short_side": prep.resize_size, "interpolation": prep.interpolation},
                "crop": {"mode": "center", "size": list(prep.size)},
                "normalize": {
                    "where": where,
                    "mean": _pixels(mean),
                    "std": _pixels(std),
                    "units": PIXEL_UNITS,
                    "origin": prep.origin,
                },
                "steps": f"decode as {decode} -> resize the short side to {prep.resize_size} ({prep.interpolation}) -> "
                f"centre crop {prep.size[0]}x{prep.size[1]} -> {order}{host}",
            },
            "outputs": [
                {
                    **o.to_dict(),
                    "activation": act,
                    "dequantize": "real = (q - zero_point) * scale"
                    if o.scale is not None
                    else "not quantized: the values are real",
                }
                for o, act in zip(self.outputs, self.output_activation)
            ],
            "labels": self.labels,
            "files": self.files,
        }


def _pixels(values) -> list[float]:
    return [round(float(v) * 255, 6) for v in values]


def sidecar_path(model: Path) -> Path:
    """``X_int8.tflite`` -> ``X_int8.json``."""
    return Path(model).with_suffix(".json")


# ---- building (convert) -------------------------------------------------------------------------------


def image_layout(shape: tuple[int, ...]) -> str | None:
    if len(shape) == 4 and shape[0] == 1 and shape[3] in (1, 3):
        return "NHWC"
    if len(shape) == 4 and shape[0] == 1 and shape[1] in (1, 3):
        return "NCHW"
    return None


def _activation(graph: TFLiteGraph, tensor: Tensor) -> str:
    producer = graph.producers().get(tensor.index)
    return "softmax" if producer is not None and graph.ops[producer].opcode == "SOFTMAX" else "none"


def class_count(output: TensorIO) -> int | None:
    """C for a class-score output of shape [1, C] or [C]; None for anything else."""
    dims = [d for d in output.shape if d != 1]
    return dims[0] if len(dims) == 1 and dims[0] > 1 and output.shape[-1] == dims[0] else None


def build(
    model: Path,
    preprocessing: Preprocessing,
    *,
    normalization_in_model: Preprocessing | None = None,
    labels: LabelFile | None = None,
    files: dict[str, str] | None = None,
) -> Sidecar:
    """The sidecar of a model ``convert`` just wrote. ``normalization_in_model``: the preprocessing whose
    mean/std ``--raw-input`` moved inside the model (the host then only resizes and crops)."""
    graph = read_model(model)
    if len(graph.inputs) != 1:
        raise ConversionError(
            f"{Path(model).name} has {len(graph.inputs)} inputs; the sidecar describes one image input"
        )
    tensor = TensorIO.of(graph.inputs[0])
    layout = image_layout(tensor.shape)
    if layout is None:
        raise ConversionError(
            f"input {tensor.name!r} {list(tensor.shape)} is not an image input (NHWC or NCHW)"
        )
    raw = normalization_in_model is not None
    if raw and not (
        tensor.dtype == "uint8"
        and tensor.zero_point == 0
        and tensor.scale is not None
        and math.isclose(tensor.scale, RAW_SCALE, rel_tol=1e-6)
    ):
        raise ConversionError(
            f"--raw-input: the converted input is {tensor.dtype} with scale {tensor.scale} and zero "
            f"point {tensor.zero_point}, not uint8 pixels (scale 1/255, zero point 0)"
        )
    outputs = tuple(TensorIO.of(t) for t in graph.outputs)
    matched = None
    if labels is not None:
        classes = class_count(outputs[0]) if outputs else None
        if classes is None:
            raise ConversionError(
                f"--labels: output {outputs[0].name!r} {list(outputs[0].shape)} is not a class-score "
                "vector [1, C]; labels apply to classifiers"
            )
        matched = labels.for_outputs(classes).to_dict()
    in_model = (
        (tuple(normalization_in_model.mean), tuple(normalization_in_model.std))
        if normalization_in_model is not None
        else None
    )
    return Sidecar(
        model=Path(model).name,
        input=tensor,
        layout=layout,
        raw_pixels=raw,
        preprocessing=preprocessing,
        in_model=in_model,
        outputs=outputs,
        output_activation=tuple(_activation(graph, t) for t in graph.outputs),
        labels=matched,
        files=dict(files or {}),
    )


def write(sidecar: Sidecar, path: Path) -> Path:
    atomic_write_text(path, envelope_json("convert", sidecar.to_dict()))
    return path


# ---- reading ------------------------------------------------------------------------------------------


def parse(data: Any, path: Path) -> Sidecar:
    """A sidecar from its JSON document; InputError naming the first field that is missing or wrong
    (every field checked for its type, finite numbers and allowed values: ``sidecar_fields``)."""
    from edgedeploy.deploy.sidecar_fields import parse_document

    return parse_document(data, path)


def _document(path: Path) -> Any:
    """The sidecar's JSON, read capped and with the nesting limit (edgedeploy.files)."""
    return load_json(path, SIDECAR, EDITED)


def _is_sidecar(data: Any) -> bool:
    return isinstance(data, dict) and data.get("kind") == KIND


def read(path: Path) -> Sidecar:
    path = Path(path)
    data = _document(path)
    if not _is_sidecar(data):
        raise InputError(
            f"{path.name} is not an edgedeploy I/O sidecar (its 'kind' is not {KIND!r})"
        )
    return parse(data, path)


# ---- checking against the model ------------------------------------------------------------------------


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=0.0)
    return a == b


def _shown(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def validate(sidecar: Sidecar, model: Path, path: Path, graph: TFLiteGraph | None = None) -> None:
    """InputError naming the first field where ``sidecar`` (read from ``path``) and the model file disagree."""
    graph = graph or read_model(model)
    name = Path(model).name

    def compare(where: str, stated: TensorIO, actual: Tensor) -> None:
        truth = TensorIO(
            actual.name,
            tuple(actual.shape),
            actual.dtype,
            actual.scale[0] if len(actual.scale) == 1 else None,
            actual.zero_point[0] if len(actual.zero_point) == 1 else None,
        )
        for key in ("name", "shape", "dtype", "scale", "zero_point"):
            mine, theirs = getattr(stated, key), getattr(truth, key)
            if not _same(mine, theirs):
                raise InputError(
                    f"{path.name}: '{where}.{key}' is {_shown(mine)!r} but {name} has {_shown(theirs)!r}",
                    EDITED,
                )

    if len(graph.inputs) != 1:
        raise InputError(
            f"{path.name}: describes 1 input but {name} has {len(graph.inputs)}", EDITED
        )
    compare("input", sidecar.input, graph.inputs[0])
    if len(graph.outputs) != len(sidecar.outputs):
        raise InputError(
            f"{path.name}: 'outputs' lists {len(sidecar.outputs)} but {name} has {len(graph.outputs)}",
            EDITED,
        )
    for index, (stated, actual) in enumerate(zip(sidecar.outputs, graph.outputs)):
        compare(f"outputs[{index}]", stated, actual)
    shape = sidecar.input.shape
    spatial = list(shape[1:3] if sidecar.layout == "NHWC" else shape[2:4])
    if list(sidecar.preprocessing.size) != spatial:
        raise InputError(
            f"{path.name}: 'preprocessing.crop.size' is {list(sidecar.preprocessing.size)} but the input "
            f"takes {spatial}",
            EDITED,
        )


def find(model: Path, graph: TFLiteGraph | None = None) -> Path | None:
    """The sidecar of ``model``: beside it under its own stem, or, for a compiled model, its source's."""
    from edgedeploy.targets.registry import source_of

    model = Path(model)
    own = sidecar_path(model)
    if own.is_file():
        return own
    if graph is None and not model.is_file():
        return None
    graph = graph or read_model(model)
    source = source_of(model, graph.op_histogram())
    return sidecar_path(source) if source is not None and sidecar_path(source).is_file() else None


def load_for(model: Path) -> tuple[Sidecar, Path] | None:
    """The checked sidecar of ``model`` and where it was, or None when there is none."""
    path = find(model)
    data = _document(path) if path is not None else None
    # none, or a JSON file of the same name that is something else
    if path is None or not _is_sidecar(data):
        return None
    sidecar = parse(data, path)
    validate(sidecar, model, path)
    return sidecar, path
