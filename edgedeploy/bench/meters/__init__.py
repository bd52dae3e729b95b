"""Pluggable power meters for ``edgedeploy bench --power METER``: ``rapl``, ``hwmon[:CHIP[/SENSOR]]``,
``cmd:COMMAND``. A meter that cannot be used says why; nothing is ever estimated in its place."""

from __future__ import annotations

from pathlib import Path

from edgedeploy.bench.meters.base import Meter, MeterError, MeterUnavailable, ReadText, read_sysfs
from edgedeploy.bench.meters.cmd import CmdMeter
from edgedeploy.bench.meters.hwmon import HwmonMeter
from edgedeploy.bench.meters.rapl import RaplMeter
from edgedeploy.bench.meters.recording import EnergyWindow, PowerRecorder, measure_idle
from edgedeploy.errors import UsageError

METER_SYNTAX = "rapl[:ZONE], hwmon[:CHIP[/SENSOR]] or cmd:COMMAND"


def open_meter(spec: str, sys_root: Path = Path("/sys"), read_text: ReadText = read_sysfs) -> Meter:
    """The meter named by ``spec``; MeterUnavailable with the reason when it cannot be read here."""
    name, _, argument = spec.strip().partition(":")
    name = name.lower()
    if name == "rapl":
        return RaplMeter.open(argument or None, sys_root, read_text)
    if name == "hwmon":
        return HwmonMeter.open(argument or None, sys_root, read_text)
    if name == "cmd":
        return CmdMeter.open(argument)
    raise UsageError(f"unknown power meter {spec!r}", f"use {METER_SYNTAX}")


__all__ = [
    "EnergyWindow",
    "Meter",
    "MeterError",
    "MeterUnavailable",
    "PowerRecorder",
    "measure_idle",
    "open_meter",
    "METER_SYNTAX",
]
