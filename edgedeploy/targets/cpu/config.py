"""Settings of the CPU target: which thread counts to measure and whether XNNPACK is on."""

from __future__ import annotations

from dataclasses import dataclass

from edgedeploy.errors import UsageError
from edgedeploy.machine import available_cores


@dataclass(frozen=True)
class CpuConfig:
    threads: tuple[int, ...]  # thread counts measured, one table column each
    xnnpack: bool = True

    @classmethod
    def from_options(cls, threads: list[int] | None = None, xnnpack: bool = True) -> "CpuConfig":
        """Default: all cores, and 1 thread too (what a single-core board or a busy host gets)."""
        counts = list(threads) if threads else [available_cores(), 1]
        if any(count < 1 for count in counts):
            raise UsageError(f"--threads must be 1 or more, got {','.join(map(str, counts))}")
        return cls(threads=tuple(dict.fromkeys(counts)), xnnpack=xnnpack)

    def label(self, threads: int) -> str:
        name = f"cpu ({threads} thread{'s' if threads != 1 else ''}"
        return name + (")" if self.xnnpack else ", no XNNPACK)")
