"""The CPU target: the LiteRT interpreter (ai-edge-litert) with XNNPACK, at all cores and at 1 thread."""

from edgedeploy.targets.cpu.config import CpuConfig
from edgedeploy.targets.cpu.runtime import CpuTarget

__all__ = ["CpuConfig", "CpuTarget"]
