"""Photos as model input, preprocessed the one way convert (calibration, fidelity), bench (--images)
and compare (--eval) all use: scaled to [0, 1], short side resized, centre crop, mean/std."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from edgedeploy.errors import InputError
from edgedeploy.files import IMAGE, check_input

IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif", ".ppm", ".tif", ".tiff"}
)
IMAGENET_CROP = (
    0.875  # the usual evaluation crop: resize the short side to size / 0.875 (224 <- 256)
)


@dataclass(frozen=True)
class Preprocessing:
    """How the model expects its image input: what calibration, fidelity and bench feed it.

    Pixels are scaled to [0, 1], resized so the short side is ``resize_size`` with ``interpolation``,
    centre-cropped to ``size``, put in ``channel_order``, then normalised per channel with ``mean`` /
    ``std`` (given in that channel order, on the [0, 1] scale). ``origin`` says where these values came
    from (the model's own config, the user's options, or an assumption), because a wrong guess silently
    calibrates the model on the wrong range.
    """

    size: tuple[int, int]  # (height, width)
    resize_size: int
    mean: tuple[float, ...] = (0.485, 0.456, 0.406)  # one value per channel (one for GRAY)
    std: tuple[float, ...] = (0.229, 0.224, 0.225)
    interpolation: str = "bilinear"
    channel_order: str = (
        "RGB"  # RGB, BGR, or GRAY (a 1-channel model: photos converted to grayscale)
    )
    origin: str = "model config"

    def to_dict(self) -> dict[str, Any]:
        return {
            "size": list(self.size),
            "resize_size": self.resize_size,
            "mean": list(self.mean),
            "std": list(self.std),
            "interpolation": self.interpolation,
            "channel_order": self.channel_order,
            "origin": self.origin,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Preprocessing":
        return cls(
            size=tuple(data["size"]),
            resize_size=int(data["resize_size"]),
            mean=tuple(data["mean"]),
            std=tuple(data["std"]),
            interpolation=data.get("interpolation", "bilinear"),
            channel_order=data.get("channel_order", "RGB"),
            origin=data.get("origin", "model config"),
        )


def find_images(directory: Path) -> list[Path]:
    """Every image file under ``directory``, sub-folders included, in a stable (sorted) order."""
    return sorted(
        p for p in Path(directory).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
    )


ASSUMED = "assumed: ImageNet mean/std, RGB (the model file carries no preprocessing; see --preset, --mean, --std)"


def default_preprocessing(height: int, width: int) -> Preprocessing:
    """ImageNet mean/std and a 0.875 centre crop: what torchvision/timm classifiers expect. For a model
    file that does not say, this is an assumption, and ``origin`` says so."""
    return Preprocessing(
        size=(height, width),
        resize_size=int(math.floor(min(height, width) / IMAGENET_CROP)),
        origin=ASSUMED,
    )


GRAY = "GRAY"
GRAYSCALE_CONVERSION = "PIL 'L' (ITU-R 601-2 luma: 0.299 R + 0.587 G + 0.114 B)"


def to_grayscale(prep: Preprocessing) -> Preprocessing:
    """The same preprocessing for a 1-channel model: photos converted to grayscale, and mean/std the
    average of the per-channel values (ImageNet's become 0.449 / 0.226, as timm does for in_chans=1)."""
    if prep.channel_order == GRAY:
        return prep
    return replace(
        prep,
        mean=(float(np.mean(prep.mean)),),
        std=(float(np.mean(prep.std)),),
        channel_order=GRAY,
    )


def load_image(path: Path, prep: Preprocessing) -> np.ndarray:
    """One image as HWC float32, preprocessed as ``prep`` says."""
    from PIL import Image, UnidentifiedImageError

    check_input(path, IMAGE)  # a photo given by name may be anything; a folder's are regular files
    try:
        with Image.open(path) as opened:
            rgb = opened.convert("L" if prep.channel_order == GRAY else "RGB")
    except (UnidentifiedImageError, OSError) as exc:
        raise InputError(f"{path} is not a readable image ({type(exc).__name__})") from exc
    height, width = prep.size
    scale = prep.resize_size / min(rgb.size)
    resample = getattr(Image.Resampling, prep.interpolation.upper(), Image.Resampling.BILINEAR)
    resized = rgb.resize(
        (max(width, round(rgb.width * scale)), max(height, round(rgb.height * scale))), resample
    )
    left, top = (resized.width - width) // 2, (resized.height - height) // 2
    pixels = (
        np.asarray(resized.crop((left, top, left + width, top + height)), dtype=np.float32) / 255.0
    )
    if prep.channel_order == "BGR":
        pixels = pixels[..., ::-1]
    if pixels.ndim == 2:  # grayscale: one channel, HWC like every other image here
        pixels = pixels[..., None]
    return ((pixels - np.asarray(prep.mean, np.float32)) / np.asarray(prep.std, np.float32)).astype(
        np.float32
    )
