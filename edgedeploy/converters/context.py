"""What every stage can see: the options, a private working directory, the images, and a place to
record measurements and notes that end up in report.json."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgedeploy.converters.calibration import ImageSet
from edgedeploy.converters.preprocessing_options import PreprocessingChoice
from edgedeploy.errors import UsageError
from edgedeploy.models.artifact import NCHW
from edgedeploy.targets.registry import DEFAULT_TARGET


@dataclass(frozen=True)
class ConvertOptions:
    target: str = DEFAULT_TARGET
    opset: int = 17
    calibration_dir: Path | None = None
    calibration_count: int | None = None
    per_tensor: bool = False  # per-channel weight quantization unless asked otherwise
    fix_activations: bool = False
    input_shape: NCHW | None = None
    compile: bool = True  # False: stop after the int8 model (--no-compile)
    compiler_options: dict[str, Any] = field(default_factory=dict)
    preprocessing: PreprocessingChoice = field(
        default_factory=PreprocessingChoice
    )  # --preset/--mean/--std
    io: str | None = (
        None  # the int8 model's input and output type, int8 or uint8 (--io); see io_type
    )
    raw_input: bool = (
        False  # normalization inside the model; the input is uint8 camera pixels (--raw-input)
    )
    labels: Path | None = (
        None  # class names for the sidecar (--labels); built-ins get the ImageNet names
    )
    outputs: tuple[str, ...] | None = None  # --outputs: cut the ONNX graph so these are its outputs

    def __post_init__(self) -> None:
        if self.io not in (None, "int8", "uint8"):
            raise UsageError(f"--io {self.io!r}: choose int8 or uint8")
        if self.raw_input and self.io == "int8":
            raise UsageError(
                "--raw-input feeds uint8 camera pixels: it goes with --io uint8 (its default), not int8"
            )

    @property
    def io_type(self) -> str:
        """int8 by default; uint8 when asked, and always with --raw-input (the pixels are the input)."""
        return "uint8" if self.raw_input else self.io or "int8"


@dataclass
class StageContext:
    options: ConvertOptions
    workdir: Path  # inside the staging directory: everything written here is an output or scratch
    images: ImageSet
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def record(self, stage: str, **values: Any) -> None:
        self.records.setdefault(stage, {}).update(values)

    def note(self, message: str) -> None:
        self.notes.append(message)

    def sample_nchw(self, shape: tuple[int, ...]) -> np.ndarray:
        """A real preprocessed image in NCHW when the shape allows it (exports trace with real data)."""
        pool = self.images.held_back or self.images.calibration
        if pool and pool[0].shape[1:3] == tuple(shape[2:4]) and shape[1] == pool[0].shape[3]:
            return np.ascontiguousarray(pool[0].transpose(0, 3, 1, 2))
        return np.random.default_rng(0).standard_normal(shape).astype(np.float32)
