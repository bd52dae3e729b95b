"""The estimate's constants: host profiles and chip constants, read from the versioned data file.

``hosts-v2.json`` beside this module is written by ``benchmarks/fit_edgetpu_latency.py`` from the
published measurements in ``tests/data/edgetpu/latency/`` and the workload descriptions in
``benchmarks/data/edgetpu_workloads/``. Every constant carries its ``source``: fitted (on what), derived
(from what), or assumed (and why). Nothing here is measured at run time. A user's own profile
(``estimate --calibrate``) is a file of the same shape holding one host.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from edgedeploy.errors import InputError, UsageError
from edgedeploy.files import SIDECAR, InputKind, load_json
from edgedeploy.targets.edgetpu.package_size import CONSTANTS_FILE

DATA_FILE = CONSTANTS_FILE  # hosts-v2.json beside this module
CLOCKS = ("std", "max")
DEFAULT_HOST = "x86-usb3"
DEFAULT_CLOCK = "max"
HOST_KEYS = ("fixed_ms", "io_mb_per_s", "link_mb_per_s", "cpu_ms_per_gunit")
CUSTOM_KEY = "custom_units_per_value"  # a host's own post-processing cost (constants version 4 on)
OUT_KEY = "out_mb_per_s"  # a host's own output rate (constants version 5 on)
PROFILE_KEYS = (*HOST_KEYS, CUSTOM_KEY, OUT_KEY)  # every constant a version-5 profile holds
# Edge TPU cycles per unit of work, by op class: per MAC (convolutions, fully connected), per output byte
# (element-wise, pooling/resize) and per op (the fixed cost of every layer).
CYCLE_KEYS = ("conv", "conv1x1", "depthwise", "fc", "elementwise", "pool", "op")
INSTRUCTION_KEYS = ("instruction_bytes_per_op", "instruction_bytes_per_output_byte")
DETECTION_KEY = "cpu_units_per_detection_value"


@dataclass(frozen=True)
class HostProfile:
    name: str
    description: str
    interface: str  # usb3 | usb2 | pcie
    cpu: str  # the host CPU the constants describe
    fixed_ms: float  # per-invoke cost: driver, delegate, USB/PCIe round trips
    io_mb_per_s: float  # input activations through the host's runtime (copies included)
    link_mb_per_s: float  # parameters streamed over the link (every inference, or the first upload)
    cpu_ms_per_gunit: float  # ms per 1e9 CPU cost units (MACs + weighted bytes) on this host's CPU
    validated: bool  # published measurements of models with a workload description exist for it
    sources: dict[str, str]
    # CPU cost units per value a custom op (the detection post-processing) reads on this host: scalar
    # code, whose speed does not follow the int8 kernels ``cpu_ms_per_gunit`` comes from. None (a
    # profile written before constants version 4): the chip's ``cpu_units_per_custom_value``.
    custom_units_per_value: float | None = None
    # Output activations: the same path, and libedgetpu re-lays each output out of the chip's tiles on
    # the host CPU (``OutputLayerInformation::Relayout``). None (a profile written before constants
    # version 5, when one rate served both): ``io_mb_per_s``.
    out_mb_per_s: float | None = None

    @property
    def output_mb_per_s(self) -> float:
        return self.io_mb_per_s if self.out_mb_per_s is None else self.out_mb_per_s

    @property
    def clock_selectable(self) -> bool:
        """USB devices run the clock libedgetpu chooses (std / max); PCIe always runs at full speed."""
        return self.interface != "pcie"


@dataclass(frozen=True)
class Chip:
    clock_mhz: dict[str, float]  # {"std": 250, "max": 500}
    cycles: dict[str, float]  # CYCLE_KEYS -> Edge TPU cycles per MAC / output byte / op
    parameter_overhead: (
        float  # package parameter bytes / TFLite weight bytes (alignment, bias layout)
    )
    cpu_units_per_value: float  # CPU cost model: units per activation value written (1 per MAC)
    cpu_units_per_custom_value: float  # ... per value a custom op reads, for a host with no own
    parameter_cache_bytes: float  # package bytes that stay on chip; the rest stream every inference
    sources: dict[str, str]
    # The instruction bitstreams the driver sends with every inference (``instruction_bytes`` in
    # workload.py): bytes per Edge TPU op and per byte those ops write (big layers are tiled).
    instruction_bytes_per_op: float = 0.0
    instruction_bytes_per_output_byte: float = 0.0
    # CPU cost units per value a detection post-processing op reads, per box it keeps (constants
    # version 5 on; 0 before: the boxes kept were not priced).
    cpu_units_per_detection_value: float = 0.0


@dataclass(frozen=True)
class Bands:
    """Relative half-widths of the range, from the method's own leave-one-architecture-out judgement."""

    uncompiled: float  # the whole estimate, uncompiled model (mapping and package predicted)
    compiled: (
        float  # the same, compiled model (partition and parameter layout read from the package)
    )
    unvalidated_host: float  # extra for host profiles without any published measurement to check
    sources: dict[str, str]


@dataclass(frozen=True)
class Constants:
    version: int
    hosts: dict[str, HostProfile]
    chip: Chip
    bands: Bands
    validation: dict[str, Any]  # what the fit script reported (errors, Spearman, coverage, counts)
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

    def custom_units_per_value(self, host: HostProfile) -> float:
        """CPU cost units per value a custom op reads on ``host`` (its own, else the chip's)."""
        own = host.custom_units_per_value
        return self.chip.cpu_units_per_custom_value if own is None else own

    def with_hosts(self, extra: dict[str, HostProfile]) -> Constants:
        return Constants(
            self.version, {**self.hosts, **extra}, self.chip, self.bands, self.validation, self.path
        )


def _value(entry: dict[str, Any], key: str, sources: dict[str, str]) -> float:
    item = entry[key]
    sources[key] = item["source"]
    return float(item["value"])


def parse_host(name: str, entry: dict[str, Any]) -> HostProfile:
    sources: dict[str, str] = {}
    values = {key: _value(entry, key, sources) for key in HOST_KEYS}
    custom = _value(entry, CUSTOM_KEY, sources) if CUSTOM_KEY in entry else None
    out = _value(entry, OUT_KEY, sources) if OUT_KEY in entry else None
    return HostProfile(
        name=name,
        description=entry["description"],
        interface=entry["interface"],
        cpu=entry["cpu"],
        validated=bool(entry["validated"]),
        sources=sources,
        custom_units_per_value=custom,
        out_mb_per_s=out,
        **values,
    )


def host_entry(host: HostProfile) -> dict[str, Any]:
    """A profile as the data file holds it (the inverse of ``parse_host``)."""
    entry = {
        "description": host.description,
        "interface": host.interface,
        "cpu": host.cpu,
        "validated": host.validated,
        **{key: {"value": getattr(host, key), "source": host.sources[key]} for key in HOST_KEYS},
    }
    for key in (CUSTOM_KEY, OUT_KEY):
        if getattr(host, key) is not None:
            entry[key] = {"value": getattr(host, key), "source": host.sources.get(key, "")}
    return entry


def parse_constants(data: dict[str, Any], path: Path = DATA_FILE) -> Constants:
    chip_entry, band_entry = data["chip"], data["bands"]
    chip_sources: dict[str, str] = {"clock_mhz": chip_entry["clock_mhz"]["source"]}
    cycles = {key: _value(chip_entry["cycles"], key, chip_sources) for key in CYCLE_KEYS}
    chip = Chip(
        clock_mhz={c: float(chip_entry["clock_mhz"][c]) for c in CLOCKS},
        cycles=cycles,
        parameter_overhead=_value(chip_entry, "parameter_overhead", chip_sources),
        cpu_units_per_value=_value(chip_entry, "cpu_units_per_value", chip_sources),
        cpu_units_per_custom_value=_value(chip_entry, "cpu_units_per_custom_value", chip_sources),
        parameter_cache_bytes=_value(chip_entry, "parameter_cache_bytes", chip_sources),
        sources=chip_sources,
        **{
            key: _value(chip_entry, key, chip_sources)
            for key in (*INSTRUCTION_KEYS, DETECTION_KEY)
            if key in chip_entry  # absent from constants before version 3 (5)
        },
    )
    band_sources: dict[str, str] = {}
    bands = Bands(
        **{
            key: _value(band_entry, key, band_sources)
            for key in ("uncompiled", "compiled", "unvalidated_host")
        },
        sources=band_sources,
    )
    hosts = {name: parse_host(name, entry) for name, entry in data["hosts"].items()}
    return Constants(
        version=int(data["version"]),
        hosts=hosts,
        chip=chip,
        bands=bands,
        validation=dict(data.get("validation", {})),
        path=path,
    )


@lru_cache(maxsize=4)
def load_constants(path: Path = DATA_FILE) -> Constants:
    return parse_constants(json.loads(Path(path).read_text(encoding="utf-8")), Path(path))


def load_host_file(path: Path) -> dict[str, HostProfile]:
    """A calibrated profile file (``estimate --calibrate ... --host-out FILE``): {name: profile}."""

    data = load_json(path, InputKind("a host profile (JSON)", SIDECAR.cap))
    try:
        return {name: parse_host(name, entry) for name, entry in data["hosts"].items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(
            f"{path} is not a host profile file ({type(exc).__name__}: {exc})",
            hint="write one with: edgedeploy estimate --calibrate RESULTS --host-out FILE",
        ) from None
