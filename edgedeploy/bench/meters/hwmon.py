"""hwmon: any power or energy sensor the kernel exposes in /sys/class/hwmon, typically an INA219,
INA226 or INA260 board on I2C wired in front of a Coral USB Accelerator or a Raspberry Pi.

``energyN_input`` (microjoules, cumulative) is preferred over ``powerN_input`` / ``powerN_average``
(microwatts, instantaneous): a counter integrates everything, sampling a power reading can miss spikes.
Selector: ``hwmon`` (first suitable sensor, INA chips first), ``hwmon:CHIP`` (by chip name or hwmonN),
``hwmon:CHIP/SENSOR`` (e.g. ``hwmon:ina260/power1``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from edgedeploy.bench.meters.base import (
    ENERGY,
    POWER,
    CounterUnwrapper,
    MeterError,
    MeterUnavailable,
    ReadText,
    read_integer,
    read_name,
    read_sysfs,
)

SENSOR_FILE = re.compile(r"^(?P<sensor>(?P<kind>energy|power)\d+)_(?P<what>input|average)$")
PREFERRED_CHIPS = ("ina260", "ina226", "ina219", "ina238", "ina3221", "ina209", "ina2xx")
DRIVER_HINT = (
    "an INA219/INA226/INA260 board needs its kernel driver bound, e.g. "
    "echo ina260 0x40 | sudo tee /sys/bus/i2c/devices/i2c-1/new_device"
)


@dataclass(frozen=True)
class Sensor:
    chip_dir: Path
    chip: str
    file: str  # "energy1_input", "power1_input", "power1_average"
    sensor: str  # "energy1", "power1"
    kind: str

    def rank(self) -> tuple[int, int, str]:
        chip_rank = (
            PREFERRED_CHIPS.index(self.chip)
            if self.chip in PREFERRED_CHIPS
            else len(PREFERRED_CHIPS)
        )
        return (0 if self.kind == ENERGY else 1, chip_rank, f"{self.chip_dir.name}/{self.file}")


def _sensors(root: Path, read_text: ReadText) -> list[Sensor]:
    found = []
    for chip_dir in sorted(root.iterdir()) if root.is_dir() else []:
        chip = read_name(read_text, chip_dir) or chip_dir.name
        for file in sorted(p.name for p in chip_dir.iterdir()):
            match = SENSOR_FILE.match(file)
            if match:
                found.append(Sensor(chip_dir, chip, file, match["sensor"], match["kind"]))
    return found


def _matches(sensor: Sensor, selector: str) -> bool:
    chip, _, which = selector.partition("/")
    return chip in (sensor.chip, sensor.chip_dir.name) and which in ("", sensor.sensor, sensor.file)


class HwmonMeter:
    name = "hwmon"

    def __init__(self, sensor: Sensor, read_text: ReadText = read_sysfs):
        self.sensor, self._read = sensor, read_text
        self.kind = ENERGY if sensor.kind == "energy" else POWER
        self.interval_s = 0.1
        self.description = f"hwmon {sensor.chip} {sensor.file} ({sensor.chip_dir})"
        first = self._raw()  # a sensor that cannot be read is found out now, not mid-run
        self._counter = CounterUnwrapper(first, None) if self.kind == ENERGY else None

    def _raw(self) -> int:
        return read_integer(self._read, self.sensor.chip_dir / self.sensor.file)

    @classmethod
    def open(
        cls,
        selector: str | None = None,
        sys_root: Path = Path("/sys"),
        read_text: ReadText = read_sysfs,
    ) -> "HwmonMeter":
        root = sys_root / "class" / "hwmon"
        sensors = _sensors(root, read_text)
        if selector:
            sensors = [s for s in sensors if _matches(s, selector)]
        if not sensors:
            wanted = f" matching {selector!r}" if selector else ""
            raise MeterUnavailable(
                f"no hwmon power or energy sensor{wanted} under {root} ({DRIVER_HINT})"
            )
        return cls(min(sensors, key=Sensor.rank), read_text)

    def read(self) -> float:
        try:
            raw = self._raw()
        except MeterUnavailable as exc:
            raise MeterError(str(exc)) from exc
        if self._counter is not None:
            return self._counter.update(raw) / 1e6  # microjoules -> joules
        return raw / 1e6  # microwatts -> watts
