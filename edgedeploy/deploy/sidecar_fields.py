"""Reading a sidecar document field by field: every field has a type, every number is finite, every
word is one of the values ``convert`` writes; the first one that is not is one InputError naming it
(``preprocessing.normalize.mean[1]``). A NaN or an infinity that slipped through would reach the
model's input as NaN and show up as a model departure (exit 8) instead of as the edit it is (exit 4).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from edgedeploy.deploy.sidecar import (
    EDITED,
    PIXEL_UNITS,
    SCHEMA_VERSION,
    Sidecar,
    TensorIO,
    class_count,
    image_layout,
)
from edgedeploy.errors import InputError
from edgedeploy.images import GRAY, Preprocessing

ACTIVATIONS = ("softmax", "none")
DEQUANTIZE = ("real = (q - zero_point) * scale", "not quantized: the values are real")
CROP_MODES = ("center",)
# Pillow's resampling filters by the names Preprocessing uses (images.py looks them up upper-cased).
INTERPOLATIONS = ("nearest", "box", "bilinear", "hamming", "bicubic", "lanczos")


def _shown(value: Any) -> str:
    try:
        return json.dumps(value)[:40]
    except ValueError:
        return repr(value)[:40]


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
            raise self.fail(where, f"must be {names}, not {_shown(value)}")
        return value

    def number(self, value: Any, where: str) -> float:
        """A finite number (JSON's NaN and Infinity are not), else the field is named."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(where, f"must be a number, not {_shown(value)}")
        if not math.isfinite(value):
            raise self.fail(where, f"is not a finite number ({value})")
        return float(value)

    def integer(self, data: dict, key: str, where: str) -> int:
        return self.get(data, key, where, int)

    def word(self, data: dict, key: str, where: str, allowed: tuple[str, ...]) -> str:
        value = self.get(data, key, where, str)
        if value not in allowed:
            raise self.fail(where, f"is {_shown(value)}, not one of {', '.join(allowed)}")
        return value

    def numbers(self, data: dict, key: str, where: str, count: int) -> tuple[float, ...]:
        values = self.get(data, key, where, list)
        if len(values) != count:
            raise self.fail(where, f"must be {count} numbers")
        return tuple(self.number(v, f"{where}[{i}]") for i, v in enumerate(values))

    def tensor(self, data: dict, where: str) -> TensorIO:
        shape = self.get(data, "shape", f"{where}.shape", list)
        if not shape or not all(
            isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape
        ):
            raise self.fail(f"{where}.shape", "must be a list of positive integers")
        scale = self.get(data, "scale", f"{where}.scale", (int, float), optional=True)
        if scale is not None and not self.number(scale, f"{where}.scale") > 0:
            raise self.fail(f"{where}.scale", "must be positive")
        zero = self.get(data, "zero_point", f"{where}.zero_point", int, optional=True)
        return TensorIO(
            self.get(data, "name", f"{where}.name", str),
            tuple(shape),
            self.get(data, "dtype", f"{where}.dtype", str),
            None if scale is None else float(scale),
            zero,
        )


def _preprocessing(f: _Fields, data: dict, tensor: TensorIO, layout: str, raw: bool):
    """(host preprocessing, (mean, std) in [0, 1] units) from the document's ``preprocessing``."""
    prep = f.get(data, "preprocessing", "preprocessing", dict)
    order = f.word(prep, "channel_order", "preprocessing.channel_order", ("RGB", "BGR", GRAY))
    resize = f.get(prep, "resize", "preprocessing.resize", dict)
    crop = f.get(prep, "crop", "preprocessing.crop", dict)
    f.word(crop, "mode", "preprocessing.crop.mode", CROP_MODES)
    norm = f.get(prep, "normalize", "preprocessing.normalize", dict)
    where = f.get(norm, "where", "preprocessing.normalize.where", str)
    if where not in ("host", "model") or (where == "model") != raw:
        raise f.fail(
            "preprocessing.normalize.where",
            f"is {where!r} but input.raw_pixels is {str(raw).lower()}",
        )
    f.word(norm, "units", "preprocessing.normalize.units", (PIXEL_UNITS,))
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
    short = f.integer(resize, "short_side", "preprocessing.resize.short_side")
    if short <= 0:
        raise f.fail("preprocessing.resize.short_side", "must be positive")
    interpolation = f.word(
        resize, "interpolation", "preprocessing.resize.interpolation", INTERPOLATIONS
    )
    origin = f.get(norm, "origin", "preprocessing.normalize.origin", str, optional=True)
    host_mean, host_std = ((0.0,) * channels, (1.0,) * channels) if raw else (mean, std)
    preprocessing = Preprocessing(
        size=tuple(size),
        resize_size=short,
        mean=host_mean,
        std=host_std,
        interpolation=interpolation,
        channel_order=order,
        origin=origin or "sidecar",
    )
    return preprocessing, (mean, std)


def _outputs(f: _Fields, data: dict) -> tuple[tuple[TensorIO, ...], tuple[str, ...]]:
    outputs = f.get(data, "outputs", "outputs", list)
    tensors, activations = [], []
    for index, output in enumerate(outputs):
        where = f"outputs[{index}]"
        tensor = f.tensor(output, where)
        activation = output.get("activation", "none")
        if activation not in ACTIVATIONS:
            raise f.fail(f"{where}.activation", f"is {_shown(activation)}, not softmax or none")
        if "dequantize" in output:
            expected = DEQUANTIZE[0] if tensor.scale is not None else DEQUANTIZE[1]
            if output["dequantize"] != expected:
                raise f.fail(f"{where}.dequantize", f"is {_shown(output['dequantize'])}")
        tensors.append(tensor)
        activations.append(activation)
    return tuple(tensors), tuple(activations)


def _labels(f: _Fields, data: dict, tensors: tuple[TensorIO, ...]) -> dict[str, Any] | None:
    labels = f.get(data, "labels", "labels", dict, optional=True)
    if labels is None:
        return None
    names = f.get(labels, "names", "labels.names", list)
    for index, name in enumerate(names):
        if not isinstance(name, str):
            raise f.fail(f"labels.names[{index}]", f"must be str, not {_shown(name)}")
    classes = class_count(tensors[0]) if tensors else None
    if classes != len(names):
        raise f.fail(
            "labels.names",
            f"holds {len(names)} labels for an output of {classes or 'no'} classes",
        )
    if "offset" in labels:
        f.number(labels["offset"], "labels.offset")
        offset = f.integer(labels, "offset", "labels.offset")
        if offset < 0:
            raise f.fail("labels.offset", "must be 0 or more")
    if "count" in labels and f.integer(labels, "count", "labels.count") != len(names):
        raise f.fail("labels.count", f"is {labels['count']} but labels.names holds {len(names)}")
    for key in ("source", "offset_note"):
        if key in labels:
            f.get(labels, key, f"labels.{key}", str, optional=True)
    return labels


def parse_document(data: Any, path: Path) -> Sidecar:
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
    preprocessing, (mean, std) = _preprocessing(f, data, tensor, layout, raw)
    tensors, activation = _outputs(f, data)
    labels = _labels(f, data, tensors)
    files = f.get(data, "files", "files", dict, optional=True) if "files" in data else None
    for key, value in (files or {}).items():
        if not isinstance(value, str):
            raise f.fail(f"files.{key}", f"must be str, not {_shown(value)}")
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
        files=dict(files or {}),
    )
