"""The fit (estimate/fit.py) recovers the constants that made its data: latencies generated from known
constants, every term exercised, come back as those constants (constants version 5: the output rate
apart from the input rate, and the post-processing's cost per value read and box kept)."""

from __future__ import annotations

import numpy as np
import pytest

from edgedeploy.targets.edgetpu.estimate import fit as F
from edgedeploy.targets.edgetpu.estimate.profiles import CYCLE_KEYS

CYCLES = {"conv": 4e-4, "conv1x1": 3e-4, "depthwise": 0.02, "fc": 0.03}
CYCLES |= {"elementwise": 0.05, "pool": 0.01, "op": 8000.0}
HOST = {"fixed": 0.3, "link": 400.0, "io": 250.0, "out": 90.0, "custom": 120.0}
PER_BOX = 3.0  # CPU units per value read and box kept
PER_VALUE = F.PER_VALUE_GRID[12]  # on the grid the CPU side is derived on
CPU_MS_PER_GUNIT = 60.0


def _cpu_points(rng) -> list[F.CpuPoint]:
    out = []
    for i in range(6):
        macs, values = rng.uniform(1e8, 5e9), rng.uniform(1e6, 3e7)
        ms = (macs + PER_VALUE * values) / 1e9 * CPU_MS_PER_GUNIT
        out.append(F.CpuPoint(f"c{i}", 100 + i, "h", ms, macs, values))
    return out


def _point(i: int, rng) -> F.Point:
    work = {k: rng.uniform(1e7, 2e9) for k in ("conv", "conv1x1", "depthwise", "fc")}
    work |= {"elementwise": rng.uniform(1e5, 5e6), "pool": rng.uniform(1e4, 1e6)}
    work["op"] = float(rng.integers(20, 300))
    inputs, outputs = rng.uniform(1e4, 1e6), rng.uniform(1e3, 1e6)
    streamed = rng.uniform(0, 2e7) if i % 3 else 0.0
    values, kept = rng.uniform(0, 3e5), rng.choice([0, 10, 25, 100])
    cpu_macs, cpu_values = rng.uniform(0, 1e8), rng.uniform(0, 1e6)
    units = cpu_macs + PER_VALUE * cpu_values + HOST["custom"] * values + PER_BOX * values * kept
    ms = (
        HOST["fixed"]
        + sum(work[k] * CYCLES[k] for k in CYCLE_KEYS) / 500e3
        + streamed / 1e3 / HOST["link"]
        + inputs / 1e3 / HOST["io"]
        + outputs / 1e3 / HOST["out"]
        + units / 1e9 * CPU_MS_PER_GUNIT
    )
    return F.Point(
        arch=f"a{i}",
        index=i,
        host="h",
        interface="usb3",
        clock_mhz=500.0,
        published_ms=ms,
        work=work,
        link_bytes=inputs + outputs,
        cpu_macs=cpu_macs,
        cpu_values=cpu_values,
        cpu_custom_values=values,
        cpu_detection_values=values * kept,
        output_bytes=outputs,
        streamed={cache: streamed for cache in F.CACHE_GRID},
    )


def test_the_fit_recovers_the_constants_that_made_the_latencies():
    rng = np.random.default_rng(19)
    fitted = F.fit([_point(i, rng) for i in range(60)], _cpu_points(rng))
    assert fitted.cpu_units_per_value == PER_VALUE
    assert fitted.cpu_ms_per_gunit["h"] == pytest.approx(CPU_MS_PER_GUNIT)
    for key, value in CYCLES.items():
        assert fitted.cycles[key] == pytest.approx(value, rel=1e-4), key
    assert fitted.fixed_ms["h"] == pytest.approx(HOST["fixed"], abs=1e-6)
    assert fitted.link_mb_per_s["h"] == pytest.approx(HOST["link"], rel=1e-4)
    assert fitted.io_mb_per_s["h"] == pytest.approx(HOST["io"], rel=1e-4)
    assert fitted.out_mb_per_s["h"] == pytest.approx(HOST["out"], rel=1e-4)
    assert fitted.custom_units_per_value["h"] == pytest.approx(HOST["custom"], rel=1e-4)
    assert fitted.custom_units_per_detection_value == pytest.approx(PER_BOX, rel=1e-4)


def test_a_host_without_its_own_output_rate_moves_outputs_at_its_input_rate():
    rng = np.random.default_rng(7)
    point = _point(0, rng)
    fitted = F.fit([_point(i, rng) for i in range(60)], _cpu_points(rng))
    same = F.Fitted(**{**fitted.__dict__, "out_mb_per_s": {}})
    moved = point.output_bytes / 1e3
    gap = moved / fitted.io_mb_per_s["h"] - moved / fitted.out_mb_per_s["h"]
    assert same.predict(point) - fitted.predict(point) == pytest.approx(gap)
