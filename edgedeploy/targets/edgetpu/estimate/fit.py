"""Fitting the estimate's constants (v2) to published measurements, and the measures that judge them.

Pure numpy/scipy over ``Point``s (a published latency + what the terms read of its model);
``benchmarks/fit_edgetpu_latency.py`` builds the points and writes ``hosts-v2.json``.

* CPU side first, from the published CPU-only runs (``cpu_baseline``) of the same models on the same
  hosts: CPU cost units = MACs + ``per_value`` x values written; ``per_value`` is the grid value that makes
  ms / unit most alike across models (median absolute deviation of the log ratio), and each host's ms per
  1e9 units is the median ratio on that host.
* Then one bounded least-squares fit of the relative error over every Edge TPU point, the CPU-side
  term subtracted: 7 chip constants (cycles per MAC of 1x1 / full convolution, depthwise, fully
  connected; cycles per output byte of element-wise and pooling/resize ops; cycles per op), and per
  host profile a per-invoke cost, three rates: input activations (through the host's runtime: its
  copies included), output activations (the same, and libedgetpu re-lays each output out of the
  chip's tiles on the host CPU: ``OutputLayerInformation::Relayout``, which inputs do not need) and
  streamed parameters (DMA; the instruction bitstreams travel the same way, every inference), and
  the custom ops' CPU cost per value read. That last one is per host
  because the detection post-processing is scalar code (box decoding, sorting, suppression) whose
  speed does not follow the vectorised int8 kernels the host's CPU-only runs measure: one shared
  weight put the Raspberry Pi 3's SSD files 15-30 % low and its classifiers' I/O rate at 18 MB/s.
  One more chip constant, shared by the hosts in units of each one's CPU rate: the post-processing's
  cost per value read and box kept (its non-maximum suppression passes over the candidates once per
  box it keeps; only exports that differ in max_detections tell it apart from the per-value weight).
  Bounds follow the hardware: no op class faster than the chip's peak (4 TOPS = 4096 MACs per cycle),
  no link faster than its interface's signalling rate (USB 3: 625 MB/s, USB 2: 60 MB/s, PCIe Gen2 x1:
  500 MB/s).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy.optimize import lsq_linear, nnls

from edgedeploy.targets.edgetpu.estimate.profiles import CYCLE_KEYS

INTERFACES = ("usb3", "usb2", "pcie")
PEAK_MACS_PER_CYCLE = 4096  # 4 TOPS int8 = 2 TMAC/s at 500 MHz (latency/README.md; FACTS section 7)
MAX_LINK_MB_PER_S = {
    "usb3": 625.0,
    "usb2": 60.0,
    "pcie": 500.0,
}  # signalling rates, less than which
# Package bytes that stay on chip: compiled models report 6.1 to 7.8 MiB usable of the ~8 MiB
# (FACTS section 5; rules' USABLE_CACHE_FRACTION); searched on this grid.
CACHE_GRID = tuple(float(x * 2**20) for x in (6.0, 6.5, 7.0, 7.5, 8.0))
PER_VALUE_GRID = tuple(float(x) for x in np.geomspace(1.0, 1000.0, 31))
DETECTIONS = "detections"  # the column of the boxes a post-processing op keeps (one for all hosts)


@dataclass(frozen=True)
class Point:
    """One published Edge TPU latency with what the terms read of its model (one view of it)."""

    arch: str  # architecture (leave-one-architecture-out groups by it)
    index: int  # in measurements.json
    host: str  # profile name
    interface: str
    clock_mhz: float  # the clock it ran at (PCIe: always full speed)
    published_ms: float
    work: dict[str, float]  # CYCLE_KEYS -> MACs / output bytes / ops of the Edge TPU part
    link_bytes: float  # activations in + out, per inference
    cpu_macs: float  # CPU-side ops
    cpu_values: float  # written by builtin CPU-side ops
    cpu_custom_values: float = 0.0  # read by custom CPU-side ops
    cpu_detection_values: float = 0.0  # ... times the boxes each keeps (``OpFact.detections``)
    output_bytes: float = 0.0  # of ``link_bytes``: the outputs (re-laid out on the host: own rate)
    streamed: dict[float, float] = field(default_factory=dict)  # CACHE_GRID -> streamed bytes
    instruction_bytes: float = 0.0  # instruction bitstreams, sent with every inference
    spilled_bytes: float = 0.0  # activations to and from host memory (a compiled file's DMA hints)
    tpu_ops: int = 0  # Edge TPU ops, and the bytes they write: what the instruction bytes
    tpu_written_bytes: float = 0.0  # are predicted from (``fit_instructions``)

    @property
    def per_inference_bytes(self) -> float:
        """What crosses the link at the stream rate besides the streamed parameters."""
        return self.instruction_bytes + self.spilled_bytes


@dataclass(frozen=True)
class CpuPoint:
    """One published CPU-only latency of a whole model on a host."""

    arch: str
    index: int
    host: str
    published_ms: float
    macs: float
    values: float  # written by its builtin ops (op_facts.OpFact.values_written)


@dataclass
class Fitted:
    cycles: dict[str, float]
    link_mb_per_s: dict[str, float]  # per host: streamed parameters (DMA)
    fixed_ms: dict[str, float]  # per host
    cpu_units_per_value: float
    cpu_ms_per_gunit: dict[str, float]  # per host
    custom_units_per_value: dict[str, float] = field(default_factory=dict)  # per host
    io_mb_per_s: dict[str, float] = field(default_factory=dict)  # per host: input and output
    out_mb_per_s: dict[str, float] = field(default_factory=dict)  # per host: outputs
    custom_units_per_detection_value: float = 0.0  # shared: per value read and box kept
    parameter_cache_bytes: float = CACHE_GRID[-1]
    trained_on: list[int] = field(default_factory=list)

    def cpu_ms(self, p: Point) -> float:
        units = (
            p.cpu_macs
            + self.cpu_units_per_value * p.cpu_values
            + self.custom_units_per_value.get(p.host, 0.0) * p.cpu_custom_values
            + self.custom_units_per_detection_value * p.cpu_detection_values
        )
        return units / 1e9 * self.cpu_ms_per_gunit.get(p.host, 0.0)

    def predict(self, p: Point) -> float:
        compute = sum(p.work[k] * self.cycles[k] for k in CYCLE_KEYS) / (p.clock_mhz * 1e3)
        rate, io = self.link_mb_per_s.get(p.host, 0.0), self.io_mb_per_s.get(p.host, 0.0)
        streamed = p.streamed.get(self.parameter_cache_bytes, 0.0) + p.per_inference_bytes
        out = self.out_mb_per_s.get(p.host, io)
        link = (
            (streamed / 1e3 / rate if rate > 0 else 0.0)
            + ((p.link_bytes - p.output_bytes) / 1e3 / io if io else 0.0)
            + (p.output_bytes / 1e3 / out if out else 0.0)
        )
        return self.fixed_ms.get(p.host, 0.0) + compute + link + self.cpu_ms(p)


def fit_cpu(points: list[CpuPoint]) -> tuple[float, dict[str, float]]:
    """(units per value, {host: ms per 1e9 units}) from CPU-only runs; robust to outliers (medians)."""
    best = None
    for per_value in PER_VALUE_GRID:
        logs: dict[str, list[float]] = {}
        for p in points:
            logs.setdefault(p.host, []).append(
                np.log(p.published_ms / (p.macs + per_value * p.values))
            )
        spread = [abs(x - np.median(v)) for v in logs.values() for x in v]
        score = float(np.median(spread)) if spread else 0.0
        if best is None or score < best[0] - 1e-12:
            best = (
                score,
                per_value,
                {h: float(np.exp(np.median(v)) * 1e9) for h, v in logs.items()},
            )
    if best is None:
        raise ValueError("no CPU-only measurements to derive the CPU side from")
    return best[1], best[2]


def _columns(hosts: list[str]) -> list[str]:
    links = [f"{kind}:{h}" for kind in ("link", "io", "out") for h in hosts]
    custom = [f"custom:{h}" for h in hosts]
    return [*CYCLE_KEYS, *links, *(f"fixed:{h}" for h in hosts), *custom, DETECTIONS]


def _lower_bound(name: str, interface: dict[str, str]) -> float:
    if name in CYCLE_KEYS and name in ("conv", "conv1x1", "depthwise", "fc"):
        return 1 / PEAK_MACS_PER_CYCLE
    if name.startswith(("link:", "io:", "out:")):
        return 1 / MAX_LINK_MB_PER_S[interface[name.split(":", 1)[1]]]
    return 0.0


def _row(p: Point, columns: list[str], cpu_rates: dict[str, float], cache: float) -> np.ndarray:
    row = np.zeros(len(columns))
    for i, name in enumerate(columns):
        if name == f"custom:{p.host}":  # post-processing, in units of the host's CPU rate
            row[i] = p.cpu_custom_values * cpu_rates.get(p.host, 0.0) / 1e9
        elif name == DETECTIONS:  # the boxes kept, in units of the host's CPU rate
            row[i] = p.cpu_detection_values * cpu_rates.get(p.host, 0.0) / 1e9
        elif name in CYCLE_KEYS:
            row[i] = p.work[name] / (p.clock_mhz * 1e3)
        elif name == f"link:{p.host}":
            row[i] = (p.streamed.get(cache, 0.0) + p.per_inference_bytes) / 1e3  # x s/MB = ms
        elif name == f"io:{p.host}":
            row[i] = (p.link_bytes - p.output_bytes) / 1e3
        elif name == f"out:{p.host}":
            row[i] = p.output_bytes / 1e3
        elif name == f"fixed:{p.host}":
            row[i] = 1.0
    return row


def fit(points: list[Point], cpu_points: list[CpuPoint]) -> Fitted:
    per_value, cpu_rates = fit_cpu(cpu_points)
    partial = Fitted({k: 0.0 for k in CYCLE_KEYS}, {}, {}, per_value, cpu_rates)
    hosts = sorted({p.host for p in points})
    columns = _columns(hosts)
    weights = np.array([1 / p.published_ms for p in points])
    interface = {p.host: p.interface for p in points}
    low = np.array([_lower_bound(c, interface) for c in columns])
    b = np.array([p.published_ms - partial.cpu_ms(p) for p in points]) * weights
    best: tuple[float, float, np.ndarray] | None = None
    for cache in CACHE_GRID:
        a = np.array([_row(p, columns, cpu_rates, cache) for p in points]) * weights[:, None]
        used = a.any(axis=0)
        x = low.copy()  # a constant no point exercises stays at its physical bound
        x[used] = lsq_linear(a[:, used], b, bounds=(low[used], np.inf)).x
        error = float(np.sum((a @ x - b) ** 2))
        if best is None or error < best[0] - 1e-12:
            best = (error, cache, x)
    assert best is not None  # CACHE_GRID is not empty
    _, cache, x = best
    value = dict(zip(columns, x, strict=True))
    return Fitted(
        cycles={k: float(value[k]) for k in CYCLE_KEYS},
        link_mb_per_s={h: 1 / value[f"link:{h}"] for h in hosts},
        io_mb_per_s={h: 1 / value[f"io:{h}"] for h in hosts},
        out_mb_per_s={h: 1 / value[f"out:{h}"] for h in hosts},
        fixed_ms={h: float(value[f"fixed:{h}"]) for h in hosts},
        cpu_units_per_value=per_value,
        cpu_ms_per_gunit=cpu_rates,
        custom_units_per_value={h: float(value[f"custom:{h}"]) for h in hosts},
        custom_units_per_detection_value=float(value[DETECTIONS]),
        parameter_cache_bytes=cache,
        trained_on=sorted(p.index for p in points),
    )


@dataclass(frozen=True)
class InstructionSample:
    """A compiled file's instruction bytes (read from its package) and what predicts them."""

    arch: str
    tpu_ops: int
    tpu_written_bytes: float
    instruction_bytes: float


def fit_instructions(samples: list[InstructionSample]) -> tuple[float, float]:
    """(bytes per Edge TPU op, bytes per byte those ops write): non-negative least squares of the
    relative error of the instruction bytes of compiled files. Fitted on what the packages hold, not on
    any latency."""
    if not samples:
        return 0.0, 0.0
    a = np.array([[s.tpu_ops, s.tpu_written_bytes] for s in samples], dtype=float)
    y = np.array([s.instruction_bytes for s in samples], dtype=float)
    per_op, per_written_byte = nnls(a / y[:, None], np.ones(len(y)))[0]
    return float(per_op), float(per_written_byte)


def with_instructions(points: list[Point], per_op: float, per_written_byte: float) -> list[Point]:
    """The points with their predicted instruction bytes (uncompiled files: no package to read)."""
    return [
        replace(p, instruction_bytes=per_op * p.tpu_ops + per_written_byte * p.tpu_written_bytes)
        for p in points
    ]


def leave_one_architecture_out(
    points: list[Point],
    cpu_points: list[CpuPoint],
    instructions: list[InstructionSample] | None = None,
) -> list[tuple[Point, float]]:
    """Every point estimated by constants fitted without any measurement of its architecture (Edge TPU
    and CPU-only runs both left out; with ``instructions``, its compiled file's instruction bytes too,
    and the points then get their instruction bytes predicted from the others)."""
    out = []
    for arch in sorted({p.arch for p in points}):
        fold = points
        if instructions is not None:
            rates = fit_instructions([s for s in instructions if s.arch != arch])
            fold = with_instructions(points, *rates)
        fitted = fit([p for p in fold if p.arch != arch], [c for c in cpu_points if c.arch != arch])
        out += [(p, fitted.predict(p)) for p in fold if p.arch == arch]
    return out


def fold_error(estimate: float, actual: float) -> float:
    """How far off, as a factor minus one, in whichever direction: 0.5 = 1.5x too high or too low."""
    if estimate <= 0 or actual <= 0:
        return float("inf")
    return max(estimate / actual, actual / estimate) - 1


def band_for(errors: list[float], level: float) -> float:
    """The relative half-width that holds ``level`` of new points, from these fold errors: the
    split-conformal quantile (the ceil((n + 1) x level)-th smallest error), which corrects the plain
    quantile for the finite number of errors it is taken from."""
    if not errors:
        return 1.0
    ordered = sorted(errors)
    rank = min(len(ordered), int(np.ceil((len(ordered) + 1) * level)))
    return float(ordered[rank - 1])


def spearman(x: list[float], y: list[float]) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(x, y).statistic) if len(x) > 2 else float("nan")


def judge(results: list[tuple[Point, float]], level: float) -> dict[str, float]:
    """Median |error|, share within 10 % / 25 %, Spearman, and coverage of the range whose band for a
    point comes from the other architectures' errors only."""
    if not results:
        return {}
    errors = [abs(e - p.published_ms) / p.published_ms for p, e in results]
    folds = [fold_error(e, p.published_ms) for p, e in results]
    inside = []
    bands = []
    for p, e in results:
        others = [f for j, f in enumerate(folds) if results[j][0].arch != p.arch]
        band = band_for(others, level)
        bands.append(band)
        inside.append(e / (1 + band) <= p.published_ms <= e * (1 + band))
    return {
        "measurements": len(results),
        "architectures": len({p.arch for p, _ in results}),
        "median_abs_error": float(np.median(errors)),
        "within_10": float(np.mean([x <= 0.10 for x in errors])),
        "within_25": float(np.mean([x <= 0.25 for x in errors])),
        "spearman": spearman([p.published_ms for p, _ in results], [e for _, e in results]),
        "coverage": float(np.mean(inside)),
        "range_width": float(np.median([(1 + b) ** 2 for b in bands])),
    }
