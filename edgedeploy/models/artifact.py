"""A PyTorch model ready to convert: the first artifact of the conversion pipeline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from edgedeploy.images import Preprocessing

NCHW = tuple[int, int, int, int]  # an image input's size: batch, channels, height, width


def as_nchw(shape: Sequence[int]) -> NCHW:
    """``shape`` as the NCHW tuple, for a caller that has checked it has four dimensions."""
    batch, channels, height, width = shape
    return batch, channels, height, width


@dataclass(frozen=True)
class TorchModel:
    """A PyTorch module in eval mode that takes one NCHW float32 image batch of ``input_shape``."""

    module: Any  # torch.nn.Module; typed loosely so importing this file never imports torch
    input_shape: NCHW
    name: str
    preprocessing: Preprocessing
    details: dict[str, Any] = field(default_factory=dict)  # e.g. builtin name, alpha, params, MACs
