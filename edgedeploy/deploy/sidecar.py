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

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgedeploy.deploy.labels import LabelFile
from edgedeploy.errors import ConversionError, InputError
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
        (tuple(normalization_in_model.mean), tuple(normalization_in_model.std)) if raw else None
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


class _Fields:
    """Typed access to a parsed document; every failure names the field (``input.scale``)."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, where: str, what: str) -> InputError:
        return InputError(f"{self.path.name}: {where!r} {what}", EDITED)

    def get(
        self,
        data: dict,
        key: str,
        where: str,
        kind: type | tuple[type, ...],
        optional: bool = False,
    ) -> Any:
        if not isinstance(data, dict) or key not in data:
            raise self.fail(where, "is missing")
        value = data[key]
        if value is None and optional:
            return None
        if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
            names = "/".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
            raise self.fail(where, f"must be {names}, not {json.dumps(value)[:40]}")
        return value

    def numbers(self, data: dict, key: str, where: str, count: int) -> tuple[float, ...]:
        values = self.get(data, key, where, list)
        if len(values) != count or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in values
        ):
            raise self.fail(where, f"must be {count} numbers")
        return tuple(float(v) for v in values)

    def tensor(self, data: dict, where: str) -> TensorIO:
        shape = self.get(data, "shape", f"{where}.shape", list)
        if not shape or not all(
            isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape
        ):
            raise self.fail(f"{where}.shape", "must be a list of positive integers")
        scale = self.get(data, "scale", f"{where}.scale", (int, float), optional=True)
        zero = self.get(data, "zero_point", f"{where}.zero_point", int, optional=True)
        return TensorIO(
            self.get(data, "name", f"{where}.name", str),
            tuple(shape),
            self.get(data, "dtype", f"{where}.dtype", str),
            None if scale is None else float(scale),
            zero,
        )


def parse(data: Any, path: Path) -> Sidecar:
    """A sidecar from its JSON document; InputError naming the first field that is missing or wrong."""
    f = _Fields(path)
    version = f.get(data, "schema_version", "schema_version", int)
    if version > SCHEMA_VERSION:
        raise InputError(
            f"{path.name}: sidecar schema {version} is newer than this edgedeploy reads ({SCHEMA_VERSION})",
            "upgrade edgedeploy",
        )
    inp = f.get(data, "input", "input", dict)
    tensor = f.tensor(inp, "input")
    layout = f.get(inp, "layout", "input.layout", str)
    if layout != image_layout(tensor.shape):
        raise f.fail(
            "input.layout",
            f"is {layout} but input.shape {list(tensor.shape)} is {image_layout(tensor.shape)}",
        )
    raw = f.get(inp, "raw_pixels", "input.raw_pixels", bool)
    prep = f.get(data, "preprocessing", "preprocessing", dict)
    order = f.get(prep, "channel_order", "preprocessing.channel_order", str)
    if order not in ("RGB", "BGR", "GRAY"):
        raise f.fail("preprocessing.channel_order", "must be RGB, BGR or GRAY")
    resize = f.get(prep, "resize", "preprocessing.resize", dict)
    crop = f.get(prep, "crop", "preprocessing.crop", dict)
    norm = f.get(prep, "normalize", "preprocessing.normalize", dict)
    where = f.get(norm, "where", "preprocessing.normalize.where", str)
    if where not in ("host", "model") or (where == "model") != raw:
        raise f.fail(
            "preprocessing.normalize.where",
            f"is {where!r} but input.raw_pixels is {str(raw).lower()}",
        )
    channels = tensor.shape[3] if layout == "NHWC" else tensor.shape[1]
    if (order == GRAY) != (channels == 1):
        raise f.fail(
            "preprocessing.channel_order", f"is {order} but the input has {channels} channel(s)"
        )
    mean = tuple(v / 255 for v in f.numbers(norm, "mean", "preprocessing.normalize.mean", channels))
    std = tuple(v / 255 for v in f.numbers(norm, "std", "preprocessing.normalize.std", channels))
    if any(s <= 0 for s in std):
        raise f.fail("preprocessing.normalize.std", "must be positive")
    size = f.get(crop, "size", "preprocessing.crop.size", list)
    if len(size) != 2 or not all(
        isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in size
    ):
        raise f.fail("preprocessing.crop.size", "must be [height, width]")
    short = f.get(resize, "short_side", "preprocessing.resize.short_side", int)
    host_mean, host_std = ((0.0,) * channels, (1.0,) * channels) if raw else (mean, std)
    origin = norm.get("origin") if isinstance(norm.get("origin"), str) else "sidecar"
    preprocessing = Preprocessing(
        size=tuple(size),
        resize_size=short,
        mean=host_mean,
        std=host_std,
        interpolation=f.get(resize, "interpolation", "preprocessing.resize.interpolation", str),
        channel_order=order,
        origin=origin,
    )
    outputs = f.get(data, "outputs", "outputs", list)
    tensors = tuple(f.tensor(o, f"outputs[{i}]") for i, o in enumerate(outputs))
    activation = tuple(
        o.get("activation", "none") if isinstance(o, dict) else "none" for o in outputs
    )
    labels = f.get(data, "labels", "labels", dict, optional=True)
    if labels is not None:
        names = f.get(labels, "names", "labels.names", list)
        classes = class_count(tensors[0]) if tensors else None
        if classes != len(names):
            raise f.fail(
                "labels.names",
                f"holds {len(names)} labels for an output of {classes or 'no'} classes",
            )
    files = data.get("files") if isinstance(data.get("files"), dict) else {}
    return Sidecar(
        model=f.get(data, "model", "model", str),
        input=tensor,
        layout=layout,
        raw_pixels=raw,
        preprocessing=preprocessing,
        in_model=(mean, std) if raw else None,
        outputs=tensors,
        output_activation=activation,
        labels=labels,
        files={k: v for k, v in files.items() if isinstance(v, str)},
    )


def _document(path: Path) -> Any:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"cannot read sidecar {path}: {getattr(exc, 'strerror', None) or type(exc).__name__}"
        ) from exc
    except ValueError as exc:
        raise InputError(f"{path.name} is not valid JSON ({exc})", EDITED) from exc
    return data


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
    if not _is_sidecar(data):  # none, or a JSON file of the same name that is something else
        return None
    sidecar = parse(data, path)
    validate(sidecar, model, path)
    return sidecar, path
