"""Typed artifacts passed between conversion stages. Each says what a stage can rely on."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgedeploy.images import Preprocessing
from edgedeploy.models.artifact import TorchModel

__all__ = [
    "OnnxModel",
    "Preprocessing",
    "TensorFlowModel",
    "TFLiteModel",
    "TorchModel",
]


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
    onnx: OnnxModel | None = None  # None when the input was a Keras/TensorFlow model
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TFLiteModel:
    """A TFLite flatbuffer on disk. ``quantization`` is "float32" or "int8" (full integer, int8 I/O)."""

    path: Path
    quantization: str
    name: str
    preprocessing: Preprocessing
    float_model: TFLiteModel | None = (
        None  # for an int8 model: the float32 model it was quantized from
    )

    @property
    def float_reference(self) -> TFLiteModel:
        """The float32 model an int8 model was quantized from (the int8 stage always records it)."""
        if self.float_model is None:
            raise TypeError(f"the {self.quantization} model {self.name} has no float32 reference")
        return self.float_model
