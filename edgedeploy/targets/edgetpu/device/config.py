"""Settings of the Coral target: which Edge TPU, which runtime library, and where the system lives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from edgedeploy.machine import available_cores
from edgedeploy.targets.edgetpu.device.devices import (
    DeviceSpec,
    SystemPaths,
    can_read_write,
    parse_device,
)
from edgedeploy.targets.edgetpu.device.doctor import current_groups, running_as_root


@dataclass(frozen=True)
class EdgeTpuConfig:
    device: DeviceSpec = field(default_factory=DeviceSpec)
    library: str | None = None  # None: the platform's libedgetpu name on the loader's search path
    threads: int = field(default_factory=available_cores)  # for ops the compiler left on the CPU
    xnnpack: bool = True
    paths: SystemPaths = field(default_factory=SystemPaths)
    can_access: Callable[[str], bool] = can_read_write
    user_groups: Callable[[], set[str]] = (
        current_groups  # the doctor checks udev/apex groups against these
    )
    is_root: Callable[[], bool] = running_as_root

    @classmethod
    def from_options(
        cls,
        device: str | None = None,
        library: str | None = None,
        xnnpack: bool = True,
        **overrides,
    ) -> "EdgeTpuConfig":
        return cls(device=parse_device(device), library=library, xnnpack=xnnpack, **overrides)

    @property
    def label(self) -> str:
        return "edgetpu" if self.device.is_any else f"edgetpu {self.device}"
