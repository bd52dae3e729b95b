"""Benchmark inputs: random data of each input's dtype, or real photos preprocessed like the model
expects and quantized with the model's own input scale and zero point.

Preprocessing comes from the model's I/O sidecar (``<stem>_int8.json``, written by ``edgedeploy convert``;
a compiled model finds its source's), or from ``report.json`` beside the model for older conversions;
otherwise ImageNet mean/std at the model's own input size. Which one was used is stated.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgedeploy.errors import InputError, UsageError
from edgedeploy.files import CONVERT_REPORT, load_json
from edgedeploy.images import (
    IMAGE_SUFFIXES,
    Preprocessing,
    default_preprocessing,
    find_images,
    load_image,
)
from edgedeploy.targets.model_file import ModelFile, TensorSpec

MAX_IMAGES = 64  # enough distinct inputs to defeat caching effects; more only costs load time


@dataclass(frozen=True)
class InputSet:
    frames: list[list[np.ndarray]]  # one list of arrays (one per model input) per frame
    description: str


def random_inputs(specs: tuple[TensorSpec, ...], seed: int = 0) -> InputSet:
    rng = np.random.default_rng(seed)
    arrays = []
    for spec in specs:
        dtype = np.dtype(spec.dtype)
        if dtype.kind in "iu":
            info = np.iinfo(dtype)
            arrays.append(
                rng.integers(info.min, info.max, size=spec.shape, dtype=dtype, endpoint=True)
            )
        elif dtype.kind == "b":
            arrays.append(rng.integers(0, 2, size=spec.shape).astype(dtype))
        else:
            arrays.append(rng.standard_normal(spec.shape).astype(dtype))
    kinds = ", ".join(sorted({spec.dtype for spec in specs}))
    return InputSet([arrays], f"random {kinds} data (seed {seed})")


def image_layout(spec: TensorSpec) -> tuple[int, int, str]:
    """(height, width, "NHWC" | "NCHW") of an image input, or UsageError if it is not one."""
    shape = spec.shape
    if len(shape) == 4 and shape[0] == 1 and shape[3] == 3:
        return shape[1], shape[2], "NHWC"
    if len(shape) == 4 and shape[0] == 1 and shape[1] == 3:
        return shape[2], shape[3], "NCHW"
    raise UsageError(
        f"--images needs an RGB image input; input {spec.name!r} has shape {list(shape)}"
    )


def preprocessing_for(model: ModelFile, height: int, width: int) -> tuple[Preprocessing, str]:
    """The model's sidecar (checked against the model: a sidecar that does not match is an InputError); for
    folders converted before sidecars existed, report.json; else ImageNet mean/std, and it says which."""
    from edgedeploy.deploy.sidecar import load_for

    found = load_for(model.path)
    if found is not None:
        return found[0].preprocessing, f"preprocessing from {found[1].name}"
    report = model.path.parent / "report.json"
    data = None
    if report.is_file():
        try:  # an old folder's report is advice only: an unreadable one is passed over (read capped)
            data = load_json(report, CONVERT_REPORT).get("preprocessing")
        except (InputError, AttributeError):
            data = None
    if isinstance(data, dict):
        try:
            prep = Preprocessing.from_dict(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{report}: unreadable 'preprocessing' ({exc})") from exc
        if tuple(prep.size) == (height, width):
            return prep, f"preprocessing from {report}"
    return default_preprocessing(height, width), (
        f"ImageNet mean/std at the model's input size {height}x{width} "
        "(no sidecar or matching report.json beside it)"
    )


def quantize(values: np.ndarray, spec: TensorSpec) -> np.ndarray:
    """Real values -> the input tensor's dtype with its own scale and zero point."""
    dtype = np.dtype(spec.dtype)
    if dtype.kind == "f":
        return values.astype(dtype)
    if spec.scale == 0:
        raise InputError(
            f"input {spec.name!r} is {spec.dtype} without quantization parameters; cannot map images onto it"
        )
    info = np.iinfo(dtype)
    return np.clip(np.round(values / spec.scale + spec.zero_point), info.min, info.max).astype(
        dtype
    )


def image_inputs(directory: Path, model: ModelFile) -> InputSet:
    if not directory.is_dir():
        raise InputError(f"--images {directory}: not a directory")
    if len(model.inputs) != 1:
        raise UsageError(
            f"--images needs a model with one image input; {model.path.name} has {len(model.inputs)}"
        )
    spec = model.inputs[0]
    height, width, layout = image_layout(spec)
    paths = find_images(directory)[:MAX_IMAGES]  # sub-folders too, as convert --calibration does
    if not paths:
        raise InputError(f"--images {directory}: no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
    prep, source = preprocessing_for(model, height, width)
    frames = []
    for path in paths:
        pixels = load_image(path, prep)
        batch = pixels[None] if layout == "NHWC" else pixels.transpose(2, 0, 1)[None]
        frames.append([quantize(batch, spec)])
    return InputSet(
        frames,
        f"{len(paths)} images from {directory}, {source}, quantized with the input's "
        f"scale {spec.scale:g} and zero point {spec.zero_point}"
        if spec.scale
        else f"{len(paths)} images from {directory}, {source}",
    )
