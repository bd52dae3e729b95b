"""The machine a benchmark ran on: CPU model, cores, frequency governor, load, tool and runtime versions.

Numbers from two machines, or from one machine under different settings, are not comparable; this is
recorded with every result and warned about when it makes timings unreliable. Roots are injectable
so tests use trees shaped like /proc and /sys.
"""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from edgedeploy.machine import available_cores

CPUINFO_MODEL_KEYS = (
    "model name",
    "Model",
    "Hardware",
    "cpu model",
    "Processor",
)  # x86, Raspberry Pi, other ARM
PACKAGES = ("edgedeploy", "ai-edge-litert", "numpy")
BUSY_LOAD_PER_CORE = (
    0.5  # 1-minute load average per core above which other work competes with the run
)


@dataclass
class Environment:
    data: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def cpu_model(proc_root: Path = Path("/proc")) -> str:
    try:
        lines = (proc_root / "cpuinfo").read_text(errors="replace").splitlines()
    except OSError:
        lines = []
    fields: dict[str, str] = {}
    for line in lines:
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    for key in CPUINFO_MODEL_KEYS:
        if fields.get(key):
            return fields[key]
    return platform.processor() or platform.machine() or "unknown"


def governors(sys_root: Path = Path("/sys")) -> list[str]:
    """Distinct cpufreq governors across CPUs; empty when the kernel exposes none (common in VMs)."""
    found = set()
    for path in (sys_root / "devices" / "system" / "cpu").glob(
        "cpu[0-9]*/cpufreq/scaling_governor"
    ):
        try:
            found.add(path.read_text().strip())
        except OSError:
            continue
    return sorted(found)


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def capture_environment(
    proc_root: Path = Path("/proc"), sys_root: Path = Path("/sys")
) -> Environment:
    cores = available_cores()
    found = governors(sys_root)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    data: dict[str, Any] = {
        "cpu_model": cpu_model(proc_root),
        "cpu_count": os.cpu_count(),
        "usable_cores": cores,
        "governor": ",".join(found) if found else None,
        "load_average_1min": load,
        "machine": platform.machine(),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "versions": {name: _package_version(name) for name in PACKAGES},
    }
    warnings = []
    if not found:
        data["governor_note"] = (
            "not exposed by the kernel (no cpufreq in sysfs): clock scaling state unknown"
        )
    elif found != ["performance"]:
        warnings.append(
            f"CPU frequency governor is {data['governor']!r}, not 'performance': latency moves with "
            "clock scaling (sudo cpupower frequency-set -g performance)"
        )
    if load is not None and load > BUSY_LOAD_PER_CORE * cores:
        warnings.append(
            f"the machine was busy before the run (load average {load:.2f} on {cores} cores): "
            "expect noisier timings"
        )
    return Environment(data, warnings)
