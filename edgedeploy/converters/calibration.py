"""Representative images: found, preprocessed exactly like the model expects, split into a
calibration set and a held-back set that fidelity is measured on (never on calibration images)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from edgedeploy.converters.artifacts import Preprocessing
from edgedeploy.errors import InputError, UsageError
from edgedeploy.images import GRAY, IMAGE_SUFFIXES, load_image  # noqa: F401 - load_image is API
from edgedeploy.images import find_images as find_image_files

MAX_HELD_BACK = 32
# onnx2tf downloads a sample file of this exact name from the internet unless it sits in the working
# directory; we write it from our own images so conversion works offline.
ONNX2TF_SAMPLE_NAME = "calibration_image_sample_data_20x128x128x3_float32.npy"


def shipped_images_dir() -> Path:
    return Path(str(resources.files("edgedeploy") / "data" / "images"))


def find_images(directory: Path) -> list[Path]:
    directory = Path(directory)
    if not directory.exists():
        raise InputError(f"calibration directory not found: {directory}")
    if not directory.is_dir():
        raise InputError(f"calibration path is not a directory: {directory}")
    images = find_image_files(directory)
    if not images:
        raise InputError(f"no images (jpg, png, bmp) found in {directory}")
    return images


@dataclass(frozen=True)
class ImageSet:
    """Preprocessed NHWC batches (one image each) and where they came from."""

    calibration: list[np.ndarray]
    held_back: list[np.ndarray]
    calibration_files: list[str]
    held_back_files: list[str]
    source: str  # "shipped photos" or the user's directory
    found: int = 0  # images in the source (some may be neither calibrated on nor held back)
    user_folder: bool = False  # the source is a --calibration DIR the user passed


def split_counts(total: int, calibration_count: int | None) -> tuple[int, int]:
    """How many images calibrate and how many are held back for fidelity.

    By default a third (at most 32) is held back; an explicit count calibrates on that many and holds
    back up to 32 of the rest, so a user can trade calibration size against fidelity evidence.
    """
    default_held = min(max(1, round(total / 3)), MAX_HELD_BACK) if total > 1 else 0
    if calibration_count is not None:
        if calibration_count < 1:
            raise UsageError("--calibration-count must be at least 1")
        if (
            calibration_count >= total
        ):  # more asked than there are: still hold some back, or fidelity is blind
            return total - default_held, default_held
        return calibration_count, min(total - calibration_count, MAX_HELD_BACK)
    return total - default_held, default_held


# Post-training quantization guides ask for ~100-500 representative images; fewer calibrate activation
# ranges on too little of what the model will see.
ENOUGH_CALIBRATION = 100


def calibration_notes(images: ImageSet, requested: int | None) -> list[str]:
    """What the terminal and report.json say about the images: counts, and warnings a user can act on."""
    used, held = len(images.calibration), len(images.held_back)
    found = images.found or used + held
    notes = [
        f"calibrated on {used} image(s) from {images.source}; fidelity measured on {held} held-back image(s)"
    ]
    if requested is not None and requested > found:
        notes.append(
            f"warning: --calibration-count {requested} asked for more images than there are "
            f"({found} found): calibrated on {used} and held {held} back for fidelity"
        )
    elif requested is not None and requested > used:  # every image asked for: some still held back
        notes.append(
            f"--calibration-count {requested} is every image there is: calibrated on {used} and held "
            f"{held} back, as fidelity must be measured on images the calibration did not see"
        )
    if used < ENOUGH_CALIBRATION:
        notes.append(_few_images_warning(images, used, held, found))
    if held == 0:
        notes.append(
            "warning: no image was held back, so fidelity (int8 vs float) is not measured: give more images"
        )
    return notes


def _few_images_warning(images: ImageSet, used: int, held: int, found: int) -> str:
    usual = f"{ENOUGH_CALIBRATION}-500 images like the ones the model will see"
    if not images.user_folder:
        return (
            f"warning: calibrated on {used} image(s), few: int8 ranges are usually calibrated on "
            f"{usual}: pass --calibration DIR"
        )
    if found > ENOUGH_CALIBRATION:  # enough to calibrate on, once fewer are held back
        return (
            f"warning: {images.source} has {found} images, few to calibrate on {usual} and hold "
            f"{held} back for fidelity: calibrated on {used}; add images to it, or "
            f"--calibration-count {ENOUGH_CALIBRATION} calibrates on {ENOUGH_CALIBRATION} and holds "
            f"{min(found - ENOUGH_CALIBRATION, MAX_HELD_BACK)} back"
        )
    return (
        f"warning: {images.source} has {found} image(s), few: int8 ranges are usually calibrated on "
        f"{usual}; calibrated on {used} ({held} held back for fidelity): add images to it"
    )


def load_image_set(
    prep: Preprocessing, directory: Path | None, calibration_count: int | None, channels: int = 3
) -> ImageSet:
    if channels not in (1, 3) or (channels == 1) != (prep.channel_order == GRAY):
        raise UsageError(
            f"the model takes {channels}-channel input; calibration from photos needs 3 (RGB) "
            "channels or 1 (photos converted to grayscale)"
        )
    files = find_images(directory) if directory is not None else find_images(shipped_images_dir())
    n_cal, n_held = split_counts(len(files), calibration_count)
    batches = [load_image(f, prep)[None] for f in files[: n_cal + n_held]]
    return ImageSet(
        calibration=batches[:n_cal],
        held_back=batches[n_cal:],
        calibration_files=[str(f) for f in files[:n_cal]],
        held_back_files=[str(f) for f in files[n_cal : n_cal + n_held]],
        source=str(directory) if directory is not None else "photos shipped with edgedeploy",
        found=len(files),
        user_folder=directory is not None,
    )


def write_onnx2tf_sample(images: ImageSet, directory: Path) -> Path:
    """Write onnx2tf's expected sample file (20 images, 128x128, RGB in [0, 1]) from our own images."""
    from PIL import Image

    source = images.calibration + images.held_back
    frames = []
    for i in range(20):
        hwc = source[i % len(source)][0]
        if hwc.shape[-1] == 1:  # a grayscale model's images: the sample file is RGB
            hwc = np.repeat(hwc, 3, axis=-1)
        rgb01 = (hwc - hwc.min()) / max(
            float(hwc.max() - hwc.min()), 1e-6
        )  # any real-image content will do
        frames.append(
            np.asarray(
                Image.fromarray((rgb01 * 255).astype(np.uint8)).resize((128, 128)), np.float32
            )
            / 255.0
        )
    path = Path(directory) / ONNX2TF_SAMPLE_NAME
    np.save(path, np.stack(frames).astype(np.float32))
    return path
