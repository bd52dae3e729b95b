"""``verify --images DIR``: the photos, preprocessed as the model's sidecar says, as real-valued NHWC batches
(the float reference takes them as they are; an int8 model gets them quantized with its own input's
scale and zero point)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgedeploy.errors import InputError
from edgedeploy.images import IMAGE_SUFFIXES, Preprocessing, find_images, load_image


@dataclass(frozen=True)
class Photos:
    paths: list[Path]
    batches: list[np.ndarray]  # one (1, H, W, C) float32 batch per readable photo
    skipped: list[str]  # "name: why" for every file that could not be read


def load_photos(directory: Path, prep: Preprocessing) -> Photos:
    """Every readable image under ``directory``; InputError (exit 4) when there is none."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(f"--images {directory}: not a directory")
    paths, batches, skipped = [], [], []
    for path in find_images(directory):
        try:
            batches.append(load_image(path, prep)[None])
            paths.append(path)
        except InputError as exc:
            skipped.append(f"{path.name}: {exc.message}")
    if not batches:
        found = (
            f"{len(skipped)} image file(s), none readable"
            if skipped
            else f"no image files ({', '.join(sorted(IMAGE_SUFFIXES))})"
        )
        raise InputError(f"--images {directory}: {found}")
    return Photos(paths, batches, skipped)


def quantize(
    batch: np.ndarray, dtype: str, scale: float | None, zero_point: int | None
) -> np.ndarray:
    """Real values -> the input tensor's type with its own scale and zero point (float inputs as they are)."""
    kind = np.dtype(dtype)
    if kind.kind == "f" or not scale:
        return batch.astype(kind)
    info = np.iinfo(kind)
    return np.clip(np.round(batch / scale + (zero_point or 0)), info.min, info.max).astype(kind)


def dequantize(values: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    if not scale:
        return values.astype(np.float32)
    return ((values.astype(np.float32) - zero_point) * scale).astype(np.float32)
