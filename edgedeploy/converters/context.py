"""What every stage can see: the options, a private working directory, the images, and a place to
record measurements and notes that end up in report.json."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgedeploy.converters.calibration import ImageSet
from edgedeploy.converters.preprocessing_options import PreprocessingChoice


@dataclass(frozen=True)
class ConvertOptions:
    target: str = "edgetpu"
    opset: int = 17
    calibration_dir: Path | None = None
    calibration_count: int | None = None
    per_tensor: bool = False  # per-channel weight quantization unless asked otherwise
    fix_activations: bool = False
    input_shape: tuple[int, ...] | None = None
    compile: bool = True  # False: stop after the int8 model (--no-compile)
    compiler_options: dict[str, Any] = field(default_factory=dict)
    preprocessing: PreprocessingChoice = field(default_factory=PreprocessingChoice)  # --preset/--mean/--std


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
