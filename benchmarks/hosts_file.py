"""The estimate's constants file (``edgedeploy/targets/edgetpu/estimate/hosts-v2.json``) as the fit
script writes it: the host profiles' texts, which profile borrows what from which, and every constant
with its source. Used by ``fit_edgetpu_latency.py --write``."""

from __future__ import annotations

from statistics import median

from latency_points import PROFILES

from edgedeploy.targets.edgetpu.estimate import fit as F

# package / TFLite weight bytes, median over Google's compiled files (hosts-v1.json)
OVERHEAD = 1.1345
LEVEL = 0.9  # the range holds this share of the other architectures' leave-one-out errors
DESKTOP = "desktop x86-64 (Xeon E5-1650 v3 class)"
PROFILE_TEXT = {
    "x86-usb3": ("desktop x86-64 + USB Accelerator on USB 3", DESKTOP),
    "x86-pcie": ("desktop x86-64 + M.2 / PCIe Accelerator", DESKTOP),
    "devboard": ("Coral Dev Board (NXP i.MX 8M, Edge TPU on PCIe)", "NXP i.MX 8M (4x Cortex-A53)"),
    "rpi4-usb3": ("Raspberry Pi 4 + USB Accelerator on USB 3", "Raspberry Pi 4 (4x Cortex-A72)"),
    "rpi3-usb2": (
        "Raspberry Pi 3 B + USB Accelerator on USB 2",
        "Raspberry Pi 3 B (4x Cortex-A53)",
    ),
}
BORROW = {"x86-pcie": "x86-usb3"}  # no published measurement: its CPU and per-invoke cost from here
LINK_BORROW = {"x86-pcie": "devboard"}  # ... and its link rate from the same PCIe Gen2 x1 link


def _link_rate(rates: dict[str, float], name: str, what: str, trained: str) -> dict:
    """A host's rate over its link to the Edge TPU with its source (``what``: the fitted quantity and the
    start of its parenthesis), or the rate of the profile it borrows its link from."""
    if name in rates:
        source = f"fitted: {what}; at most the interface's signalling rate); {trained}"
        return {"value": round(rates[name], 1), "source": source}
    borrowed = LINK_BORROW[name]
    source = f"assumed: {borrowed}'s (the same PCIe Gen2 x1 link to the Edge TPU)"
    return {"value": round(rates[borrowed], 1), "source": source}


def constants_file(
    fitted: F.Fitted, points, cpu_points, stats: dict, bands: tuple[float, float], validation: dict
) -> dict:
    """The data file's content (``hosts-v2.json``) from the fit, with every constant's source; ``bands``:
    (uncompiled, compiled) range half-widths; ``validation``: what the fit script judged."""
    band, compiled_band = bands
    trained = f"{len(points)} published Edge TPU latencies of {len({p.arch for p in points})} architectures"
    fitted_src = f"fitted: non-negative least squares of the relative error over {trained} (fit.py)"
    cpu_src = (
        "derived: median ms per 1e9 cost units of the published CPU-only runs (cpu_baseline) of the same "
        "models on this host ({n} runs; fit.fit_cpu)"
    )
    hosts = {}
    for name, (description, cpu) in PROFILE_TEXT.items():
        interface = PROFILES[name]
        own = name if name in fitted.fixed_ms else BORROW[name]
        n_cpu = sum(c.host == own for c in cpu_points)
        hosts[name] = {
            "description": description,
            "interface": interface,
            "cpu": cpu,
            "validated": name in fitted.fixed_ms,
            "fixed_ms": {
                "value": round(fitted.fixed_ms[own], 4),
                "source": fitted_src
                if own == name
                else f"assumed: {own}'s (no published measurement here)",
            },
            "io_mb_per_s": _link_rate(
                fitted.io_mb_per_s,
                name,
                f"input activations through this host's runtime ({interface}; "
                "host-side copies included",
                trained,
            ),
            "out_mb_per_s": _link_rate(
                fitted.out_mb_per_s,
                name,
                f"output activations through this host's runtime ({interface}; "
                "copies and libedgetpu's re-layout of each output out of the chip's tiles on the host CPU "
                "included",
                trained,
            ),
            "link_mb_per_s": _link_rate(
                fitted.link_mb_per_s,
                name,
                f"parameters streamed over the link ({interface}",
                trained,
            ),
            "cpu_ms_per_gunit": {
                "value": round(fitted.cpu_ms_per_gunit[own], 3),
                "source": cpu_src.format(n=n_cpu)
                + ("" if own == name else f"; assumed: {own}'s CPU (the same desktop class)"),
            },
            "custom_units_per_value": {
                "value": round(fitted.custom_units_per_value[own], 2),
                "source": (
                    f"{fitted_src}: the custom ops' (detection post-processing) share of this host's "
                    "published latencies, in units of its CPU rate"
                )
                if own == name
                else f"assumed: {own}'s (the same CPU)",
            },
        }
    cycles = {k: {"value": v, "source": fitted_src} for k, v in fitted.cycles.items()}
    return {
        "version": 5,
        "description": "Edge TPU latency estimate: additive terms from per-op facts, constants per host "
        "profile. Written by benchmarks/fit_edgetpu_latency.py --write; do not edit by hand.",
        "chip": {
            "clock_mhz": {
                "std": 250.0,
                "max": 500.0,
                "source": "libedgetpu builds: libedgetpu1-std runs a USB device at 250 MHz, libedgetpu1-max "
                "at 500 MHz; PCIe devices always run at full speed (tests/data/edgetpu/latency/README.md)",
            },
            "cycles": cycles,
            "parameter_overhead": {
                "value": OVERHEAD,
                "source": "median of on-chip package parameter bytes / TFLite weight bytes of the Edge TPU "
                "ops over Google's compiled files (hosts-v1.json)",
            },
            "cpu_units_per_value": {
                "value": round(fitted.cpu_units_per_value, 3),
                "source": f"derived: the grid value that makes ms per unit most alike across models in "
                f"{len(cpu_points)} published CPU-only runs (fit.fit_cpu)",
            },
            "parameter_cache_bytes": {
                "value": fitted.parameter_cache_bytes,
                "source": f"fitted: the grid value (fit.CACHE_GRID, 6-8 MiB: compiled models report 6.1-7.8 "
                f"MiB usable) with the least error over {trained}",
            },
            "cpu_units_per_custom_value": {
                "value": round(median(fitted.custom_units_per_value.values()), 2),
                "source": "derived: the median of the host profiles' own custom_units_per_value; "
                "used for a profile written before constants version 4, which has none",
            },
            "cpu_units_per_detection_value": {
                "value": round(fitted.custom_units_per_detection_value, 4),
                "source": f"{fitted_src}: the detection post-processing's cost per value read and "
                "box kept (max_detections), one for all hosts in units of each one's CPU rate; the "
                "exports that differ only in max_detections (SpaghettiNet's) set it",
            },
        },
        "bands": {
            "uncompiled": {
                "value": round(band, 4),
                "source": f"{LEVEL:.0%} quantile of the leave-one-architecture-out error factors, "
                f"uncompiled files ({stats['measurements']} measurements)",
            },
            "compiled": {
                "value": round(compiled_band, 4),
                "source": "the same from the compiled original files, at least the uncompiled band",
            },
            "unvalidated_host": {
                "value": 0.5,
                "source": "assumed: a profile without a published measurement",
            },
        },
        "validation": {"method": "leave one architecture out", **validation},
        "hosts": hosts,
    }
