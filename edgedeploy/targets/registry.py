"""The benchmark targets by name: ``cpu`` and ``coral`` (alias ``edgetpu``), built from CLI options."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from edgedeploy.targets.contract import Target
from edgedeploy.errors import UsageError

ALIASES = {"edgetpu": "coral"}


@dataclass(frozen=True)
class TargetOptions:
    """Every target setting the command line offers; each target takes the ones it understands."""

    threads: tuple[int, ...] | None = None  # None: all cores and 1
    xnnpack: bool = True
    device: str | None = None  # Edge TPU device string
    edgetpu_library: str | None = None


def _cpu(options: TargetOptions) -> Target:
    from edgedeploy.targets.cpu import CpuConfig, CpuTarget

    return CpuTarget(CpuConfig.from_options(list(options.threads or []), options.xnnpack))


def _coral(options: TargetOptions) -> Target:
    from edgedeploy.targets.edgetpu.device import CoralConfig, CoralTarget

    return CoralTarget(CoralConfig.from_options(options.device, options.edgetpu_library, options.xnnpack))


FACTORIES: dict[str, Callable[[TargetOptions], Target]] = {"cpu": _cpu, "coral": _coral}


def known_names() -> str:
    aliases = ", ".join(f"{alias} = {name}" for alias, name in ALIASES.items())
    return f"{', '.join(FACTORIES)} (aliases: {aliases})"


def parse_target_names(spec: str | list[str]) -> list[str]:
    """``"cpu,coral"`` or ``["cpu", "edgetpu"]`` -> canonical names in order, without duplicates."""
    parts = spec.split(",") if isinstance(spec, str) else [p for item in spec for p in item.split(",")]
    names = []
    for part in (p.strip().lower() for p in parts):
        if not part:
            continue
        name = ALIASES.get(part, part)
        if name not in FACTORIES:
            raise UsageError(f"unknown target {part!r}", f"choose from {known_names()}")
        names.append(name)
    if not names:
        raise UsageError("no target given", f"choose from {known_names()}")
    return list(dict.fromkeys(names))


def create_target(name: str, options: TargetOptions | None = None) -> Target:
    canonical = parse_target_names(name)[0]
    return FACTORIES[canonical](options or TargetOptions())
