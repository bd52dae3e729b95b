"""What a power meter is: something read periodically that returns either a cumulative energy (J)
or an instantaneous power (W). Reading files goes through an injectable ``read_text`` so tests can
build sysfs-shaped trees and simulate permission errors (root can read any file, so chmod cannot)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal, Protocol

MeterKind = Literal["energy", "power"]
ENERGY: Literal["energy"] = "energy"
POWER: Literal["power"] = "power"
ReadText = Callable[[Path], str]


class MeterUnavailable(Exception):
    """The meter cannot be used here; the message is the reason shown as "not measured: ..."."""


class MeterError(Exception):
    """A meter that opened failed while reading; the measurement it was part of is discarded."""


def read_sysfs(path: Path) -> str:
    return Path(path).read_text()


def read_integer(read_text: ReadText, path: Path, permission_hint: str = "") -> int:
    """The integer a sysfs counter file holds (hwmon, powercap); MeterUnavailable, one line, if not."""
    try:
        return int(read_text(path).strip())
    except PermissionError as exc:
        hint = f": {permission_hint}" if permission_hint else ""
        raise MeterUnavailable(f"permission denied reading {path}{hint}") from exc
    except (OSError, ValueError) as exc:
        raise MeterUnavailable(f"cannot read {path}: {exc}") from exc


def read_name(read_text: ReadText, folder: Path) -> str | None:
    """A sysfs device's ``name`` file, or None where it cannot be read."""
    try:
        return read_text(folder / "name").strip()
    except OSError:
        return None


class Meter(Protocol):
    name: str  # "rapl", "hwmon", "cmd"
    description: (
        str  # what exactly is read, e.g. "rapl package-0 (/sys/class/powercap/intel-rapl:0)"
    )
    kind: MeterKind
    interval_s: float  # how often the recorder samples it

    def read(self) -> float:
        """Joules since the meter was opened (energy meters) or watts now (power meters)."""
        ...


class CounterUnwrapper:
    """Turns a raw counter that wraps at ``max_value`` (or resets, when that is unknown) into a
    running total: RAPL's energy_uj wraps every few minutes at full load."""

    def __init__(self, first: int, max_value: int | None):
        self.last, self.max_value, self.total = first, max_value, 0

    def update(self, raw: int) -> int:
        if raw >= self.last:
            self.total += raw - self.last
        elif self.max_value is not None:
            self.total += self.max_value - self.last + raw
        else:  # reset without a known range: count only what accrued since the reset
            self.total += raw
        self.last = raw
        return self.total
