"""The fit data of the Edge TPU latency estimate: published measurements tied to workload descriptions.

Reads ``tests/data/edgetpu/latency/measurements.json`` and ``benchmarks/data/edgetpu_workloads/*.json``
and makes ``fit.Point`` / ``fit.CpuPoint`` objects: which host profile and clock each measurement ran on
(the rules below, each with its reason), which architecture it measured (``provenance.measured_as`` of a
rebuilt architecture, or ``measurement_indices`` of an original file), and what the terms read of it.

Reserved for an independent check and never used here (issue 19, item 7): the published latencies of
MobileNetV2 1.0 224 (and its iNat-bird variant), DeepLab v3 MobileNetV2 depth 1.0 513x513 and MoveNet
SinglePose Lightning. ``RESERVED`` drops every measurement of them, CPU-only runs included.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from edgedeploy.targets.edgetpu.estimate.fit import CACHE_GRID, CpuPoint, Point
from edgedeploy.targets.edgetpu.estimate.op_facts import WorkloadFacts
from edgedeploy.targets.edgetpu.estimate.terms import cpu_units, tpu_work
from edgedeploy.targets.edgetpu.estimate.workload import parameter_layout

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data" / "edgetpu" / "latency"
WORKLOADS = REPO / "benchmarks" / "data" / "edgetpu_workloads"
RESERVED = re.compile(
    r"mobilenet[ _]?v2[ _]1\.0[ _]224|mobilenet v2 \(224x224\)|inat|deeplab ?v3 \(513|"
    r"deeplabv3_mnv2_pascal|movenet.*lightning",
    re.IGNORECASE,
)
PROFILES = {  # profile -> interface
    "x86-usb3": "usb3",
    "x86-pcie": "pcie",
    "devboard": "pcie",
    "rpi4-usb3": "usb3",
    "rpi3-usb2": "usb2",
}
CSV_HOSTS = {"x86_64": "x86-usb3", "aarch64": "devboard", "rp4b": "rpi4-usb3"}
CSV_HOSTS |= {"rp3b": "rpi3-usb2", "rp3b+": "rpi3-usb2"}
CPU_HOSTS = {"x86_64": "x86-usb3", "aarch64": "devboard"}  # coral.ai's table: desktop, Dev Board
EXCLUDED = {
    253: "coral.ai's Inception V3 at 224 px (13.4 ms) cannot be the rebuilt graph: the same 24 M parameters "
    "leave ~19 MB to stream past the on-chip cache, over 30 ms on USB 3 even at its 625 MB/s signalling "
    "rate, and the same table gives 42.8 ms at 299 px",
    278: "host and device not stated",
    282: "an unnamed armv7 board (no profile describes it)",
    356: "Pixel 4 phone Edge TPU: another chip",
    357: "Pixel 4 phone Edge TPU: another chip",
}
# The source's own note on its EfficientDet-Lite table: the 32-bit Raspberry Pi 3 columns are
# inconsistent with the 64-bit ones (Lite2 faster than Lite0 on the same board, the Pi 3 B+ as fast as
# a Pi 4 where the CPU does most of the work): treated as suspect, as the note says.
SUSPECT_PI3_32BIT = (305, 307, 312, 314, 319, 321)
EXCLUDED |= {
    i: "the source flags its 32-bit Raspberry Pi 3 EfficientDet-Lite numbers as inconsistent"
    for i in SUSPECT_PI3_32BIT
}
# Described and tied to their measurements, but held out of the fit data (``load_points(...,
# include_pending=True)`` takes them in): the automl exports of EfficientDet-Lite0...2, timed on
# Raspberry Pis. Their partition is inferred (compiler 15 left them "partially mapped": the rebuild
# puts the BiFPN and heads from the first resize on the CPU), and that CPU side (0.2-1.1 GMAC of int8
# kernels under TFLite 2.5, on 32- and 64-bit Raspberry Pi OS) is priced with the CPU rates of
# Google's 2019 32-bit CPU-only runs: in the fit the Pi 4 rows come out -4 ... +100 %. A 64-bit Pi
# host profile with its own CPU rate (no published CPU-only run here) would take them in. (coral.ai's own
# EfficientDet-Lite files are in the fit since constants version 4 priced the float post-processing
# per value, not per byte.)
PENDING_DESCRIPTIONS = {
    name: "EfficientDet-Lite automl exports on Raspberry Pis: inferred partition, CPU side priced with "
    "2019 32-bit CPU rates (pending; latency_points.PENDING_DESCRIPTIONS)"
    for name in (
        "efficientdet_lite0_320_automl",
        "efficientdet_lite1_384_automl",
        "efficientdet_lite2_448_automl",
    )
}
CORAL_AI = "coral.ai model pages: read as a USB Accelerator on a desktop CPU, clock max (assumed)"


def is_reserved(entry: dict) -> bool:
    return bool(RESERVED.search(f"{entry['model']} {entry.get('test_data_file') or ''}"))


def host_of(index: int, e: dict) -> tuple[str, str, str] | None:
    """(profile, clock, why) of a measurement, or None when no profile describes its set-up."""
    if index in EXCLUDED:
        return None
    csv = re.search(r"basic_engine_reference_([\w+]+)\.csv", e["source"])
    if csv:
        return CSV_HOSTS[csv.group(1)], "max", f"Google's reference CSV ({csv.group(1)})"
    detail = e.get("host_detail") or ""
    clock = "std" if "std runtime" in detail or "STD" in (e.get("notes") or "") else "max"
    if e["device"] == "devboard":
        return "devboard", "max", "stated: Coral Dev Board"
    if e["device"] == "usb" and e["host"] == "x86_64":
        return "x86-usb3", clock, f"stated: x86-64 + USB 3 ({clock})"
    if e["device"] == "unknown" and "coral.ai" in e["source"]:
        return "x86-usb3", "max", CORAL_AI
    if e["device"] == "usb" and ("Pi 3" in detail or "RasPi3" in detail):
        return "rpi3-usb2", "max", "stated: Raspberry Pi 3 (B or B+) + USB 2"
    if e["device"] == "usb" and ("Raspberry Pi 4" in detail or "RasPi4" in detail):
        return "rpi4-usb3", "max", "stated: Raspberry Pi 4 + USB 3"
    return None


@dataclass(frozen=True)
class Workload:
    name: str  # the description's file name (several may describe one architecture)
    arch: str
    facts: WorkloadFacts
    compiled: dict | None  # the compiled view of an original file
    measured_as: tuple[str, ...]
    indices: tuple[int, ...]


def load_workloads(folder: Path = WORKLOADS) -> dict[str, Workload]:
    out = {}
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        prov = data.get("provenance", {})
        out[path.stem] = Workload(
            path.stem,
            prov.get("architecture") or path.stem,  # one architecture, several published partitions
            WorkloadFacts.from_dict(data),
            data.get("compiled"),
            tuple(prov.get("measured_as", ())),
            tuple(prov.get("measurement_indices", ())),
        )
    return out


def _arch_of(index: int, e: dict, workloads: dict[str, Workload]) -> Workload | None:
    for w in workloads.values():  # an original file first: it is the measured graph
        if index in w.indices:
            return w
    return next((w for w in workloads.values() if e["model"] in w.measured_as), None)


def point(w: Workload, index: int, e: dict, host: str, clock: str, view: str, overhead: float):
    facts = w.facts
    if view == "compiled":
        tpu = set(w.compiled["tpu_op_indices"])
        tpu_ops = [o for o in facts.ops if o.index in tpu]
        cpu_ops = [o for o in facts.ops if o.index not in tpu]
        streamed = {cache: float(w.compiled["streamed_bytes"]) for cache in CACHE_GRID}
        on_chip = {cache: float(w.compiled["on_chip_bytes"]) for cache in CACHE_GRID}
    else:
        tpu_ops, cpu_ops = facts.tpu_ops, facts.cpu_ops
        weights = sum(o.param_bytes for o in tpu_ops)
        layouts = {c: parameter_layout(weights, _Chip(overhead), int(c)) for c in CACHE_GRID}
        streamed = {c: float(layout[1]) for c, layout in layouts.items()}
        on_chip = {c: float(layout[0]) for c, layout in layouts.items()}
    interface = PROFILES[host]
    # Google's reference CSVs are the mean of 200 runs with no warm-up: the first run's parameter
    # upload (the on-chip bytes, once) is in that mean, 1/200 of it per run.
    share = 1 / 200 if "basic_engine_reference" in e["source"] else 0.0
    clock_mhz = 500.0 if interface == "pcie" or clock == "max" else 250.0
    return Point(
        arch=w.arch,
        index=index,
        host=host,
        interface=interface,
        clock_mhz=clock_mhz,
        published_ms=float(e["latency_ms"]),
        work=tpu_work(tpu_ops),
        link_bytes=float(facts.input_bytes + facts.output_bytes),
        output_bytes=float(facts.output_bytes),
        cpu_macs=float(sum(o.macs for o in cpu_ops)),
        cpu_values=_cpu_values(cpu_ops),
        cpu_custom_values=_weighed(cpu_ops, 0.0, 1.0, 0.0),
        cpu_detection_values=_weighed(cpu_ops, 0.0, 0.0, 1.0),
        tpu_ops=len(tpu_ops),  # what the instruction bytes are predicted from (i19fit)
        tpu_written_bytes=float(sum(o.output_bytes for o in tpu_ops)),
        streamed={c: streamed[c] + share * on_chip[c] for c in CACHE_GRID},
    )


def _weighed(ops, *weights: float) -> float:
    """What one weight of the CPU cost model multiplies (``weights``: 1 for it, 0 for the others):
    values written by builtin ops, values read by custom ops, or those times the boxes kept."""
    return float(cpu_units(ops, *weights) - sum(o.macs for o in ops if o.op_class != "custom"))


def _cpu_values(ops) -> float:
    return _weighed(ops, 1.0, 0.0, 0.0)


@dataclass(frozen=True)
class _Chip:
    parameter_overhead: float


def load_points(view: str, overhead: float, workloads=None, include_pending: bool = False):
    """(Edge TPU points, CPU-only points, skipped {index: reason}) for the ``uncompiled`` or
    ``compiled`` view (the compiled view: original files with a compiled file only);
    ``include_pending``: the descriptions of ``PENDING_DESCRIPTIONS`` too."""
    workloads = workloads or load_workloads()
    measurements = json.loads((DATA / "measurements.json").read_text(encoding="utf-8"))
    points, cpu_points, skipped = [], [], {}
    for index, e in enumerate(measurements):
        if e["kind"] not in ("edgetpu", "cpu_baseline") or e["state"] == "cold":
            continue
        if is_reserved(e):
            skipped[index] = "reserved for the independent check (issue 19, item 7)"
            continue
        w = _arch_of(index, e, workloads)
        if w is None:
            skipped[index] = "no workload description of this architecture"
            continue
        pending = w.name in PENDING_DESCRIPTIONS and not include_pending
        if e["kind"] == "cpu_baseline" and pending:
            skipped[index] = PENDING_DESCRIPTIONS[w.name]
            continue
        if e["kind"] == "cpu_baseline":
            csv = re.search(r"basic_engine_reference_([\w+]+)\.csv", e["source"])
            host = CSV_HOSTS[csv.group(1)] if csv else CPU_HOSTS.get(e["host"])
            every = list(w.facts.ops)
            macs = float(sum(o.macs for o in every))
            cpu_points.append(
                CpuPoint(w.arch, index, host, float(e["latency_ms"]), macs, _cpu_values(every))
            )
            continue
        where = host_of(index, e)
        if where is None:
            skipped[index] = EXCLUDED.get(index, "no host profile describes its set-up")
            continue
        if pending:
            skipped[index] = PENDING_DESCRIPTIONS[w.name]
            continue
        if view == "compiled" and w.compiled is None:
            continue
        points.append(point(w, index, e, where[0], where[1], view, overhead))
    return points, cpu_points, skipped
