"""Typed artifacts passed between conversion stages. Each says what a stage can rely on."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Preprocessing:
    """How the model expects its image input: what calibration, fidelity and bench feed it.

    Pixels are scaled to [0, 1], resized so the short side is ``resize_size`` with ``interpolation``,
    centre-cropped to ``size``, then normalised per channel with ``mean`` / ``std`` (RGB order).
    """

    size: tuple[int, int]  # (height, width)
    resize_size: int
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)
    interpolation: str = "bilinear"

    def to_dict(self) -> dict[str, Any]:
        return {"size": list(self.size), "resize_size": self.resize_size, "mean": list(self.mean),
                "std": list(self.std), "interpolation": self.interpolation}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Preprocessing":
        return cls(size=tuple(data["size"]), resize_size=int(data["resize_size"]), mean=tuple(data["mean"]),
                   std=tuple(data["std"]), interpolation=data.get("interpolation", "bilinear"))


@dataclass(frozen=True)
class TorchModel:
    """A PyTorch module in eval mode that takes one NCHW float32 image batch of ``input_shape``."""

    module: Any  # torch.nn.Module; typed loosely so importing this file never imports torch
    input_shape: tuple[int, int, int, int]
    name: str
    preprocessing: Preprocessing
    details: dict[str, Any] = field(default_factory=dict)  # e.g. builtin name, alpha, params, MACs


@dataclass(frozen=True)
class OnnxModel:
    """An ONNX file with one static NCHW image input (batch 1) and static output shapes."""

    path: Path
    input_name: str
    input_shape: tuple[int, int, int, int]
    opset: int
    name: str
    preprocessing: Preprocessing
    torch_model: TorchModel | None = None  # kept for fidelity checks when the source was PyTorch


@dataclass(frozen=True)
class TensorFlowModel:
    """A TensorFlow (Keras) model taking NHWC float32 input of ``input_shape`` (batch 1)."""

    keras_model: Any
    input_shape: tuple[int, int, int, int]
    name: str
    preprocessing: Preprocessing
    onnx: OnnxModel


@dataclass(frozen=True)
class TFLiteModel:
    """A TFLite flatbuffer on disk. ``quantization`` is "float32" or "int8" (full integer, int8 I/O)."""

    path: Path
    quantization: str
    name: str
    preprocessing: Preprocessing | None = None
    float_model: "TFLiteModel | None" = None  # for an int8 model: the float32 model it was quantized from


@dataclass(frozen=True)
class EdgeTPUModel:
    """What edgetpu_compiler made of an int8 TFLite model: ``<stem>_edgetpu.tflite`` and its log."""

    path: Path
    log_path: Path | None
    source: TFLiteModel
