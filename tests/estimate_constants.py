"""Host profiles, chip constants and bands for the estimate's unit tests: the fields every test
leaves alone filled in once, the ones a test is about given as keywords."""

from __future__ import annotations

from typing import Any

from edgedeploy.targets.edgetpu.estimate.profiles import CYCLE_KEYS, Bands, Chip, HostProfile

BANDS = Bands(compiled=0.1, uncompiled=0.2, unvalidated_host=0.5, sources={})


def host_profile(interface: str, **values: float) -> HostProfile:
    """A validated test host; ``values``: fixed_ms, io_mb_per_s, link_mb_per_s, cpu_ms_per_gunit."""
    fields: dict[str, Any] = dict(name="h", description="test host", cpu="test cpu")
    return HostProfile(**fields, interface=interface, validated=True, sources={}, **values)


def chip(**values: Any) -> Chip:
    """A 500 MHz test chip; ``values`` override its cycles, CPU weights and instruction rates."""
    fields: dict[str, Any] = {
        "clock_mhz": {"std": 250.0, "max": 500.0},
        "cycles": {k: 0.0 for k in CYCLE_KEYS},
        "parameter_overhead": 1.0,
        "cpu_units_per_value": 0.0,
        "cpu_units_per_custom_value": 0.0,
        "parameter_cache_bytes": 8 * 2**20,
        "sources": {},
    }
    return Chip(**{**fields, **values})
