"""RAPL: the CPU package energy counters in /sys/class/powercap/intel-rapl:N (Intel, and AMD Zen on
recent kernels). ``energy_uj`` wraps at ``max_energy_range_uj``; since Linux 5.10 it is readable by
root only, which is the most common reason this meter is unavailable."""

from __future__ import annotations

import re
from pathlib import Path

from edgedeploy.bench.meters.base import (
    ENERGY,
    CounterUnwrapper,
    MeterError,
    MeterKind,
    MeterUnavailable,
    ReadText,
    read_integer,
    read_name,
    read_sysfs,
)

ZONE_PATTERN = re.compile(r"^intel-rapl:\d+$")  # package level; intel-rapl:N:M are its sub-zones
PERMISSION_HINT = (
    "energy_uj is readable by root only since Linux 5.10: run as root or grant read access "
    "(sudo chmod a+r /sys/class/powercap/intel-rapl:*/energy_uj)"
)


class RaplMeter:
    name = "rapl"
    kind: MeterKind = ENERGY
    interval_s = 0.1  # far below the fastest wrap (max range / package power)

    def __init__(self, zones: list[Path], read_text: ReadText = read_sysfs):
        self.zones, self._read = zones, read_text
        self.description = (
            "rapl " + ", ".join(self._zone_name(z) for z in zones) + f" ({zones[0].parent})"
        )
        self._counters = [CounterUnwrapper(self._raw(z), self._max_range(z)) for z in zones]

    def _zone_name(self, zone: Path) -> str:
        return read_name(self._read, zone) or zone.name

    def _raw(self, zone: Path) -> int:
        return read_integer(self._read, zone / "energy_uj", PERMISSION_HINT)

    def _max_range(self, zone: Path) -> int | None:
        try:
            return int(self._read(zone / "max_energy_range_uj").strip())
        except (OSError, ValueError):
            return None  # a decrease is then taken as a reset, never as a wrap of unknown size

    @classmethod
    def open(
        cls,
        selector: str | None = None,
        sys_root: Path = Path("/sys"),
        read_text: ReadText = read_sysfs,
    ) -> "RaplMeter":
        root = sys_root / "class" / "powercap"
        if not root.is_dir():
            raise MeterUnavailable(
                f"no RAPL energy counters: {root} does not exist "
                "(not a Linux x86 host, or the intel_rapl_common module is not loaded)"
            )
        zones = sorted(
            (p for p in root.iterdir() if ZONE_PATTERN.match(p.name)),
            key=lambda p: int(p.name.split(":")[1]),
        )
        if selector:
            zones = [z for z in zones if selector in (z.name, read_name(read_text, z))]
        if not zones:
            wanted = f" named {selector!r}" if selector else ""
            raise MeterUnavailable(f"no RAPL package zone{wanted} under {root}")
        return cls(zones, read_text)

    def read(self) -> float:
        try:
            return (
                sum(
                    counter.update(self._raw(zone))
                    for zone, counter in zip(self.zones, self._counters)
                )
                / 1e6
            )
        except MeterUnavailable as exc:
            raise MeterError(str(exc)) from exc
