"""The estimate's constants: host profiles and chip constants, read from the versioned data file.

``hosts-v1.json`` beside this module is written by ``benchmarks/fit_edgetpu_latency.py`` from the
published measurements in ``tests/data/edgetpu/latency/``. Every constant carries its ``source``: fitted
(on which measurements), derived (from what), or assumed (and why). Nothing here is measured at run time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from edgedeploy.errors import UsageError

DATA_FILE = Path(__file__).with_name("hosts-v1.json")
CLOCKS = ("std", "max")
DEFAULT_HOST = "x86-usb3"
DEFAULT_CLOCK = "max"


@dataclass(frozen=True)
class HostProfile:
    name: str
    description: str
    interface: str  # usb3 | usb2 | pcie
    cpu: str  # the host CPU the constants describe
    fixed_ms: float  # per-invoke cost: driver, delegate, USB/PCIe round trips
    io_ms_per_mb: float  # input/output activations, instructions and scratch, per MB (1e6 bytes)
    stream_mb_per_s: (
        float  # parameter bytes per second (streamed every inference, or uploaded once)
    )
    cpu_factor: float  # host CPU-side time per ms measured here by ``cpu_ops`` (see cpu_reference)
    validated: bool  # published measurements with a model file exist for this host
    sources: dict[str, str]

    @property
    def clock_selectable(self) -> bool:
        """USB devices run the clock libedgetpu chooses (std / max); PCIe always runs at full speed."""
        return self.interface != "pcie"


@dataclass(frozen=True)
class Chip:
    clock_mhz: dict[str, float]  # {"std": 250, "max": 500}
    cycles_per_mac: (
        float  # when the compiled file carries no cycle estimate (or the model is not compiled)
    )
    instruction_bytes_per_op: float  # uncompiled models: instruction bitstream estimate
    instruction_bytes_per_activation_byte: float
    parameter_overhead: (
        float  # package parameter bytes / TFLite weight bytes (alignment, bias layout)
    )
    sources: dict[str, str]


@dataclass(frozen=True)
class Bands:
    """Relative half-widths of the range, from the method's own leave-one-model-out validation."""

    compiled: float  # fixed + compute + transfer terms, compiled model (package read)
    uncompiled: float  # the same, uncompiled model (mapping and package predicted)
    instructions: (
        float  # predicted instruction bytes of an uncompiled model (its share of the transfer term)
    )
    cpu: float  # CPU-side term
    stream: float  # streamed-parameter term (not validated on a model with a file)
    unvalidated_host: (
        float  # extra for host profiles without any published measurement with a model file
    )
    sources: dict[str, str]


@dataclass(frozen=True)
class Constants:
    version: int
    hosts: dict[str, HostProfile]
    chip: Chip
    bands: Bands
    cpu_reference: dict[
        str, Any
    ]  # the machine the CPU-side timings behind cpu_factor were measured on
    validation: dict[str, Any]  # what the fit script reported (errors, Spearman, counts)
    path: Path

    def host(self, name: str) -> HostProfile:
        if name not in self.hosts:
            raise UsageError(
                f"unknown host profile {name!r}; profiles: {', '.join(self.hosts)} "
                "(edgedeploy estimate --host list describes them)"
            )
        return self.hosts[name]

    def clock_mhz(self, host: HostProfile, clock: str) -> float:
        if clock not in CLOCKS:
            raise UsageError(
                f"--clock must be one of {', '.join(CLOCKS)} (libedgetpu's throttled and full-speed builds)"
            )
        return (
            self.chip.clock_mhz["max"] if not host.clock_selectable else self.chip.clock_mhz[clock]
        )


def _value(entry: dict[str, Any], key: str, sources: dict[str, str]) -> float:
    item = entry[key]
    sources[key] = item["source"]
    return float(item["value"])


def _host(name: str, entry: dict[str, Any]) -> HostProfile:
    sources: dict[str, str] = {}
    values = {
        key: _value(entry, key, sources)
        for key in ("fixed_ms", "io_ms_per_mb", "stream_mb_per_s", "cpu_factor")
    }
    return HostProfile(
        name=name,
        description=entry["description"],
        interface=entry["interface"],
        cpu=entry["cpu"],
        validated=bool(entry["validated"]),
        sources=sources,
        **values,
    )


def parse_constants(data: dict[str, Any], path: Path = DATA_FILE) -> Constants:
    chip_entry, band_entry = data["chip"], data["bands"]
    chip_sources: dict[str, str] = {"clock_mhz": chip_entry["clock_mhz"]["source"]}
    chip = Chip(
        clock_mhz={c: float(chip_entry["clock_mhz"][c]) for c in CLOCKS},
        **{
            key: _value(chip_entry, key, chip_sources)
            for key in (
                "cycles_per_mac",
                "instruction_bytes_per_op",
                "instruction_bytes_per_activation_byte",
                "parameter_overhead",
            )
        },
        sources=chip_sources,
    )
    band_sources: dict[str, str] = {}
    bands = Bands(
        **{
            key: _value(band_entry, key, band_sources)
            for key in (
                "compiled",
                "uncompiled",
                "instructions",
                "cpu",
                "stream",
                "unvalidated_host",
            )
        },
        sources=band_sources,
    )
    hosts = {name: _host(name, entry) for name, entry in data["hosts"].items()}
    return Constants(
        version=int(data["version"]),
        hosts=hosts,
        chip=chip,
        bands=bands,
        cpu_reference=dict(data["cpu_reference"]),
        validation=dict(data.get("validation", {})),
        path=path,
    )


@lru_cache(maxsize=4)
def load_constants(path: Path = DATA_FILE) -> Constants:
    return parse_constants(json.loads(Path(path).read_text(encoding="utf-8")), Path(path))
