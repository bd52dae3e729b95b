"""The Coral target: the Edge TPU delegate (libedgetpu) through the LiteRT interpreter, on a USB
Accelerator or a PCIe/M.2 module. Runs models compiled by edgetpu_compiler (``*_edgetpu.tflite``)."""

from edgedeploy.targets.edgetpu.device.config import CoralConfig
from edgedeploy.targets.edgetpu.device.runtime import CoralTarget

__all__ = ["CoralConfig", "CoralTarget"]
