"""Fitting the estimate's constants to published measurements, and the error measures that judge them.

Pure numpy; ``benchmarks/fit_edgetpu_latency.py`` builds the points from the measurement files, runs the
leave-one-model-out judgement and writes ``hosts-v1.json``. The fit, on the reference profile (``x86-usb3``,
where most measurements are):

* cycles per MAC is searched on a grid inside the range of the compiler's own cycle estimates
  (``cycles_per_mac_bounds``); for each value, ``fixed_ms``, ``io_ms_per_mb`` and the reference CPU factor
  are a non-negative least-squares fit of the relative error (rows weighted by 1 / published latency);
  the grid value with the least error wins.
* Every other profile shares the chip constants and the reference per-MB transfer cost unless its
  interface has its own derived rate (``io_ms_per_mb`` prior), scales the CPU factor by the host's
  CPU-only speed ratio (prior), and gets ``fixed_ms`` = the mean residual of its own training points
  (>= 0); without any, the reference's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

REFERENCE = "x86-usb3"
GRID = 49


@dataclass(frozen=True)
class Point:
    """One published measurement with what the model file says (compiled or uncompiled view)."""

    model: str
    index: int  # in measurements.json
    host: str  # profile name
    clock: str  # std | max, as measured
    published_ms: float
    tpu_macs: float
    compiler_cycles: float | None
    transfer_bytes: float
    streamed_bytes: float
    cpu_here_ms: float
    predicted_instruction_bytes: float = (
        0.0  # uncompiled view: the predicted part of transfer_bytes
    )


def fold_error(estimate: float, actual: float) -> float:
    """How far off, as a factor minus one, in whichever direction: 0.5 = 1.5x too high or too low."""
    return (
        max(estimate / actual, actual / estimate) - 1
        if estimate > 0 and actual > 0
        else float("inf")
    )


@dataclass(frozen=True)
class HostPrior:
    """What is known about a profile before the fit: its interface and sourced rates and ratios."""

    interface: str
    stream_mb_per_s: float
    cpu_ratio: float  # host CPU-only time / reference host CPU-only time
    io_ms_per_mb: float | None = None  # None: the reference's fitted per-MB cost
    fixed_ms_from: str | None = (
        None  # profile whose fixed_ms is borrowed when this one has no points
    )


@dataclass
class Fitted:
    cycles_per_mac: float
    fixed_ms: dict[str, float]
    io_ms_per_mb: dict[str, float]
    cpu_factor: dict[str, float]
    stream_mb_per_s: dict[str, float]
    clock_mhz: dict[str, float]
    interface: dict[str, str]
    trained_on: dict[str, list[int]] = field(default_factory=dict)  # profile -> measurement indices

    def predict(self, p: Point) -> float:
        compute = _compute_ms(
            p, self.cycles_per_mac, self.clock_mhz, self.interface[p.host] == "pcie"
        )
        return (
            self.fixed_ms[p.host]
            + compute
            + p.transfer_bytes / 1e6 * self.io_ms_per_mb[p.host]
            + p.streamed_bytes / 1e6 / self.stream_mb_per_s[p.host] * 1e3
            + p.cpu_here_ms * self.cpu_factor[p.host]
        )


def nnls(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Non-negative least squares for a handful of columns: the best feasible active set, exhaustively."""
    n = a.shape[1]
    best, best_error = np.zeros(n), float(np.sum(b**2))
    for size in range(1, n + 1):
        for columns in combinations(range(n), size):
            x, *_ = np.linalg.lstsq(a[:, columns], b, rcond=None)
            if np.all(x >= 0):
                error = float(np.sum((a[:, columns] @ x - b) ** 2))
                if error < best_error:
                    best, best_error = np.zeros(n), error
                    best[list(columns)] = x
    return best


def _compute_ms(p: Point, cycles_per_mac: float, clock_mhz: dict[str, float], pcie: bool) -> float:
    cycles = p.compiler_cycles if p.compiler_cycles else p.tpu_macs * cycles_per_mac
    return cycles / ((clock_mhz["max"] if pcie else clock_mhz[p.clock]) * 1e3)


def fit(
    points: list[Point],
    priors: dict[str, HostPrior],
    clock_mhz: dict[str, float],
    cycles_per_mac_bounds: tuple[float, float],
) -> Fitted:
    reference = [p for p in points if p.host == REFERENCE]
    if len(reference) < 3:
        raise ValueError(f"need at least 3 {REFERENCE} points to fit, got {len(reference)}")
    ref_prior = priors[REFERENCE]
    weights = np.array([1 / p.published_ms for p in reference])
    a = (
        np.array([[1.0, p.transfer_bytes / 1e6, p.cpu_here_ms] for p in reference])
        * weights[:, None]
    )
    best = None
    pcie, rate = ref_prior.interface == "pcie", ref_prior.stream_mb_per_s
    for cpm in np.linspace(*cycles_per_mac_bounds, GRID):
        known = np.array(
            [
                _compute_ms(p, cpm, clock_mhz, pcie) + p.streamed_bytes / 1e6 / rate * 1e3
                for p in reference
            ]
        )
        b = (np.array([p.published_ms for p in reference]) - known) * weights
        x = nnls(a, b)
        error = float(np.sum((a @ x - b) ** 2))
        if best is None or error < best[0] - 1e-12:
            best = (error, float(cpm), x)
    _, cpm, (fixed, io, k) = best
    fitted = Fitted(
        cycles_per_mac=cpm,
        fixed_ms={},
        io_ms_per_mb={},
        cpu_factor={},
        stream_mb_per_s={name: prior.stream_mb_per_s for name, prior in priors.items()},
        clock_mhz=dict(clock_mhz),
        interface={name: prior.interface for name, prior in priors.items()},
    )
    for name, prior in priors.items():
        fitted.io_ms_per_mb[name] = io if prior.io_ms_per_mb is None else prior.io_ms_per_mb
        fitted.cpu_factor[name] = k * prior.cpu_ratio
        fitted.trained_on[name] = [p.index for p in points if p.host == name]
    fitted.fixed_ms[REFERENCE] = fixed
    for name in priors:
        if name == REFERENCE:
            continue
        own = [p for p in points if p.host == name]
        if own:
            fitted.fixed_ms[name] = 0.0
            residuals = [p.published_ms - fitted.predict(p) for p in own]
            fitted.fixed_ms[name] = max(0.0, float(np.mean(residuals)))
    for (
        name,
        prior,
    ) in priors.items():  # profiles without points borrow (after all own fits are known)
        if name not in fitted.fixed_ms:
            fitted.fixed_ms[name] = fitted.fixed_ms[prior.fixed_ms_from or REFERENCE]
    return fitted


def ranks(values: list[float]) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    out = np.empty(len(values))
    out[order] = np.arange(len(values), dtype=float)
    array = np.asarray(values)
    for value in np.unique(array):  # ties share their mean rank
        same = array == value
        out[same] = out[same].mean()
    return out


def spearman(x: list[float], y: list[float]) -> float:
    rx, ry = ranks(x), ranks(y)
    return float(np.corrcoef(rx, ry)[0, 1])


def relative_errors(results: list[tuple[Point, float, Fitted]]) -> list[float]:
    return [(estimate - p.published_ms) / p.published_ms for p, estimate, _ in results]
