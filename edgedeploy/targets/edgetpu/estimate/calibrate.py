"""``edgedeploy estimate --calibrate RESULTS... --host-out FILE``: a host profile refitted to your device.

What HELP and LitePred do for a new device, with this estimate's terms: the chip constants (cycles per
MAC / byte / op of the Edge TPU) stay as fitted on the published measurements; the host's three
constants are refitted to your measured latencies by bounded least squares of the relative error: the
per-invoke cost, the I/O rate (activations in and out), the link rate (streamed parameters and the
instruction bitstreams every model sends; at most USB 3's 625 MB/s signalling rate) and the CPU-side
speed (a scale on the base profile's ms per cost unit; kept when none of the models has CPU-side ops).

RESULTS: ``edgedeploy bench --save`` JSON files (the Edge TPU cells that measured: model file and p50),
or CSV files with a ``model`` and a ``latency_ms`` column (paths relative to the CSV's folder).
The profile is written atomically; ``--host FILE`` uses it, and ``--host list`` shows the profiles
calibrated on this machine (their files are listed in ``$XDG_CONFIG_HOME/edgedeploy/hosts.json``).
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import lsq_linear

from edgedeploy.errors import InputError, UsageError
from edgedeploy.files import BENCH_RESULT, CSV, TFLITE, parse_json, read_input
from edgedeploy.outputs import atomic_write_text
from edgedeploy.targets.edgetpu.estimate.fit import MAX_LINK_MB_PER_S
from edgedeploy.targets.edgetpu.estimate.profiles import (
    CUSTOM_KEY,
    OUT_KEY,
    Constants,
    HostProfile,
    host_entry,
)
from edgedeploy.targets.edgetpu.estimate.terms import compute_cycles

MIN_MEASUREMENTS = 3  # up to four constants are refitted; most models stream nothing


@dataclass(frozen=True)
class Measured:
    model: Path
    latency_ms: float
    origin: str  # the results file it came from


def _from_csv(path: Path, text: str) -> list[Measured]:
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows or not {"model", "latency_ms"} <= set(rows[0]):
        raise InputError(f"{path}: a CSV of measurements needs the columns model,latency_ms")
    out = []
    for number, row in enumerate(rows, start=2):
        try:
            latency = float(row["latency_ms"])
        except (TypeError, ValueError):
            raise InputError(
                f"{path} line {number}: latency_ms {row['latency_ms']!r} is not a number"
            ) from None
        out.append(Measured((path.parent / row["model"]).resolve(), latency, str(path)))
    return out


def _from_bench(path: Path, data: dict[str, Any]) -> list[Measured]:
    cells = data.get("cells")
    if not isinstance(cells, list):
        raise InputError(f"{path} is neither a CSV of measurements nor a 'bench --save' result")
    out = []
    for cell in cells:
        latency = (cell.get("latency") or {}).get("p50_ms")
        if cell.get("status") == "ok" and str(cell.get("target", "")).startswith(
            ("edgetpu", "coral")
        ):
            if latency and cell.get("model_path"):
                out.append(Measured(Path(cell["model_path"]), float(latency), str(path)))
    return out


def read_results(paths: list[Path]) -> list[Measured]:
    measured: list[Measured] = []
    for path in paths:
        if path.suffix.lower() == ".csv":
            measured += _from_csv(path, read_input(path, CSV).decode("utf-8", "replace"))
            continue
        data = parse_json(
            read_input(path, BENCH_RESULT),
            str(path),
            "a CSV of measurements or a 'bench --save' result",
        )
        measured += _from_bench(path, data if isinstance(data, dict) else {})
    if len(measured) < MIN_MEASUREMENTS:
        raise UsageError(
            f"calibration needs at least {MIN_MEASUREMENTS} measured models (found {len(measured)}): it "
            "refits the per-invoke cost, the I/O and link rates and the CPU speed"
        )
    return measured


@dataclass(frozen=True)
class Judged:
    model: str
    measured_ms: float
    before_ms: float  # with the base profile
    after_ms: float  # with the calibrated profile


def _parts(model: Path, constants: Constants, base: HostProfile, clock_mhz: float):
    """(compute ms, input bytes, output bytes, link bytes, CPU units) of one model: what the host's
    constants multiply (the post-processing priced as on ``base``; the refitted CPU speed scales it
    with the rest)."""
    from edgedeploy.targets.edgetpu.estimate.estimate import read_workload, term_inputs

    workload, _ = read_workload(model, read_input(model, TFLITE), constants)
    inputs = term_inputs(workload, constants, base)
    cycles = (
        compute_cycles(inputs.tpu_work, constants.chip)
        if any(inputs.tpu_work.values())
        else (inputs.compiler_cycles or 0)
    )
    return (
        cycles / (clock_mhz * 1e3),
        inputs.input_bytes,
        inputs.output_bytes,
        inputs.link_bytes,  # parameters, instructions, spilled activations: over the link every inference
        inputs.cpu_units,
    )


def _transfer_ms(host: HostProfile, input_bytes: float, output_bytes: float) -> float:
    return input_bytes / 1e3 / host.io_mb_per_s + output_bytes / 1e3 / host.output_mb_per_s


def predict(base: HostProfile, parts: tuple[float, float, float, float, float]) -> float:
    compute, input_bytes, output_bytes, streamed, units = parts
    return (
        base.fixed_ms
        + compute
        + _transfer_ms(base, input_bytes, output_bytes)
        + streamed / 1e3 / base.link_mb_per_s
        + units / 1e9 * base.cpu_ms_per_gunit
    )


def calibrate(
    measured: list[Measured], base: HostProfile, constants: Constants, clock: str, name: str
) -> tuple[HostProfile, list[Judged]]:
    clock_mhz = constants.clock_mhz(base, clock)
    parts = [_parts(m.model, constants, base, clock_mhz) for m in measured]
    y = np.array([m.latency_ms for m in measured])
    weights = 1 / y
    a = np.array(
        [
            # the transfer refitted as one factor on the base's input and output rates: five models
            # rarely tell the two apart
            [1.0, _transfer_ms(base, i, o), streamed / 1e3, units / 1e9 * base.cpu_ms_per_gunit]
            for _, i, o, streamed, units in parts
        ]
    )
    b = y - np.array([p[0] for p in parts])
    used = a.any(axis=0)
    x = np.array([base.fixed_ms, 1.0, 1 / base.link_mb_per_s, 1.0])
    # No link is faster than the fastest interface's signalling rate (USB 3: 625 MB/s): every model
    # sends instructions over it, so a rate the measurements do not slow down stays there. The base
    # profile's interface does not bound it: the measurements say which link the device is on.
    fastest = 1 / max(MAX_LINK_MB_PER_S.values())
    # ... nor the input and output rates (the transfer factor scales both).
    slowest_factor = max(base.io_mb_per_s, base.output_mb_per_s) * fastest
    low = np.array([0.0, slowest_factor, fastest, 0.0])[used]
    x[used] = lsq_linear(a[:, used] * weights[:, None], b * weights, bounds=(low, np.inf)).x
    files = sorted({m.origin for m in measured})
    when = datetime.date.today().isoformat()
    source = f"calibrated {when} on {len(measured)} measured models ({', '.join(files)}); base {base.name}"
    cpu_source = (
        source if used[3] else f"{base.name}'s: none of the measured models has CPU-side ops"
    )
    link_source = source if used[2] else f"{base.name}'s: none of the measured models streams"
    profile = replace(
        base,
        name=name,
        description=f"{base.description}, calibrated on your device",
        fixed_ms=float(x[0]),
        io_mb_per_s=float(base.io_mb_per_s / x[1]),
        out_mb_per_s=float(base.output_mb_per_s / x[1]),
        link_mb_per_s=float(1 / x[2]) if x[2] > 0 else base.link_mb_per_s,
        cpu_ms_per_gunit=float(x[3] * base.cpu_ms_per_gunit),
        custom_units_per_value=constants.custom_units_per_value(base),
        validated=True,
        sources={
            "fixed_ms": source,
            "io_mb_per_s": source,
            OUT_KEY: f"{source}; one factor on {base.name}'s input and output rates",
            "link_mb_per_s": link_source,
            "cpu_ms_per_gunit": cpu_source,
            CUSTOM_KEY: f"{base.name}'s, in units of the CPU speed above (so scaled with it)",
        },
    )
    judged = [
        Judged(str(m.model), m.latency_ms, predict(base, p), predict(profile, p))
        for m, p in zip(measured, parts, strict=True)
    ]
    return profile, judged


def registry_path() -> Path:
    root = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(root) / "edgedeploy" / "hosts.json"


def registered() -> dict[str, str]:
    """{profile name: file} of the profiles calibrated on this machine (missing files are dropped)."""
    try:
        data = json.loads(registry_path().read_text(encoding="utf-8"))
        return {k: v for k, v in data.items() if isinstance(v, str) and Path(v).is_file()}
    except (OSError, ValueError, AttributeError):
        return {}


def write_profile(profile: HostProfile, judged: list[Judged], path: Path) -> None:

    data = {
        "version": 2,
        "hosts": {profile.name: host_entry(profile)},
        "calibration": [j.__dict__ for j in judged],
    }
    atomic_write_text(path, json.dumps(data, indent=1) + "\n")
    known = registered()
    known[profile.name] = str(path.resolve())
    try:
        registry_path().parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(registry_path(), json.dumps(known, indent=1) + "\n")
    except OSError:
        pass  # the profile file is what matters; the listing is a convenience


def run_calibration(
    results: list[Path], host: str | None, clock: str, host_out: Path, name: str | None
):
    """``estimate --calibrate``: refit the host's constants to measured results, write the profile."""
    from edgedeploy.targets.edgetpu.estimate import resolve_host
    from edgedeploy.targets.edgetpu.estimate.calibrate_report import CalibrationReport

    constants, base = resolve_host(host)
    profile = constants.host(base)
    constants.clock_mhz(profile, clock)  # a bad --clock fails before any work
    measured = read_results(list(results))
    calibrated, judged = calibrate(measured, profile, constants, clock, name or Path(host_out).stem)
    write_profile(calibrated, judged, Path(host_out))
    return CalibrationReport(calibrated, profile, judged, Path(host_out))
