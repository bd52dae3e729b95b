"""The additive latency model, as one pure function (no I/O, no measuring).

    steady-state latency = fixed                       per-invoke cost of the host profile
                         + compute                     cycles / clock; cycles = the compiler's estimate,
                                                       else Edge TPU MACs x cycles per MAC
                         + transfer                    (input + output + instructions + spilled activations)
                                                       bytes x the host's per-MB cost
                         + streamed parameters         bytes not cached on chip / the host's stream rate
                         + CPU-side ops                measured here x the host's CPU factor
    first inference extra = on-chip parameter bytes / the host's stream rate (the upload)

The range is each term widened by its own validation error (``Bands``), plus what is known to be
uncertain for this model: risky ops that may fall back to the CPU, parameters that may stream, and host
profiles without a published measurement to check against.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from edgedeploy.targets.edgetpu.estimate.profiles import Bands, Chip, HostProfile

MB = 1e6


@dataclass(frozen=True)
class TermInputs:
    """Plain numbers the terms are computed from (a ``Workload`` plus the CPU-side timing)."""

    compiled: bool
    tpu_macs: int | None
    compiler_cycles: int | None
    transfer_bytes: int
    streamed_bytes: int
    streamed_bytes_high: int
    on_chip_bytes: int
    cpu_here_ms: float  # CPU-side ops, measured on this machine
    predicted_instruction_bytes: int = (
        0  # the part of transfer_bytes that is a prediction (uncompiled models)
    )
    cpu_here_ms_if_risky_refused: float | None = None
    cpu_what: str | None = None  # which ops were (not) measured, for the term's basis


@dataclass(frozen=True)
class Term:
    name: str  # fixed | compute | transfer | streamed_parameters | cpu_ops
    ms: float
    low_ms: float
    high_ms: float
    basis: str  # how it was obtained, in words with the numbers

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Estimate:
    terms: tuple[Term, ...]
    latency_ms: float
    latency_ms_low: float
    latency_ms_high: float
    first_inference_extra_ms: float
    first_inference_basis: str
    wider_because: tuple[str, ...]

    def term(self, name: str) -> Term:
        return next(t for t in self.terms if t.name == name)


def _band(name: str, ms: float, relative: float, basis: str) -> Term:
    return Term(name, ms, ms / (1 + relative), ms * (1 + relative), basis)


def _transfer(inputs: TermInputs, host: HostProfile, base: float, instructions: float) -> Term:
    """Bytes read from the file carry the base band; predicted instruction bytes their own."""
    predicted = inputs.predicted_instruction_bytes / MB * host.io_ms_per_mb
    known = inputs.transfer_bytes / MB * host.io_ms_per_mb - predicted
    basis = f"{inputs.transfer_bytes / MB:.3g} MB x {host.io_ms_per_mb:.3g} ms/MB"
    if predicted:
        basis += f" ({inputs.predicted_instruction_bytes / MB:.3g} MB of it predicted instructions)"
    return Term(
        "transfer",
        known + predicted,
        known / (1 + base) + predicted / (1 + instructions),
        known * (1 + base) + predicted * (1 + instructions),
        basis,
    )


def _cycles(inputs: TermInputs, chip: Chip) -> tuple[float, str]:
    if inputs.compiler_cycles:
        return float(
            inputs.compiler_cycles
        ), f"{inputs.compiler_cycles:,} cycles (the compiler's estimate in the file)"
    macs = inputs.tpu_macs or 0
    return (
        macs * chip.cycles_per_mac,
        f"{macs / 1e9:.3g} GMAC x {chip.cycles_per_mac:.3g} cycles/MAC",
    )


def estimate_terms(
    inputs: TermInputs, host: HostProfile, chip: Chip, bands: Bands, clock_mhz: float
) -> Estimate:
    base = bands.compiled if inputs.compiled else bands.uncompiled
    cycles, cycle_basis = _cycles(inputs, chip)
    rate = host.stream_mb_per_s
    terms = (
        _band("fixed", host.fixed_ms, base, f"per-invoke cost of {host.name}"),
        _band("compute", cycles / (clock_mhz * 1e3), base, f"{cycle_basis} at {clock_mhz:g} MHz"),
        _transfer(inputs, host, base, bands.instructions),
        _band(
            "streamed_parameters",
            inputs.streamed_bytes / MB / rate * 1e3,
            bands.stream,
            f"{inputs.streamed_bytes / MB:.3g} MB / {rate:g} MB/s",
        ),
        _band(
            "cpu_ops",
            inputs.cpu_here_ms * host.cpu_factor,
            bands.cpu,
            (inputs.cpu_what + ": " if inputs.cpu_what else "")
            + f"{inputs.cpu_here_ms:.3g} ms measured here x {host.cpu_factor:.3g} for {host.cpu}",
        ),
    )
    total = sum(t.ms for t in terms)
    low, high = sum(t.low_ms for t in terms), sum(t.high_ms for t in terms)
    why: list[str] = []
    if inputs.streamed_bytes:
        why.append(
            f"{inputs.streamed_bytes / MB:.3g} MB of parameters stream from the host on every inference; "
            f"the stream rate was derived from a model without a file here, not validated (within a factor of "
            f"{1 + bands.stream:.3g})"
        )
    extra_stream = inputs.streamed_bytes_high - inputs.streamed_bytes
    if extra_stream > 0:
        high += extra_stream / MB / rate * 1e3 * (1 + bands.stream)
        why.append(
            f"the parameters are near the on-chip cache size: up to {extra_stream / MB:.3g} MB more may stream"
        )
    if inputs.cpu_here_ms_if_risky_refused is not None:
        extra_cpu = (
            max(0.0, inputs.cpu_here_ms_if_risky_refused - inputs.cpu_here_ms) * host.cpu_factor
        )
        high += extra_cpu * (1 + bands.cpu)
        why.append(
            f"risky ops are assumed to map; if the compiler refuses them, the ops after them run on the "
            f"CPU: up to {extra_cpu:.3g} ms more"
        )
    if not host.validated:
        low, high = low / (1 + bands.unvalidated_host), high * (1 + bands.unvalidated_host)
        why.append(
            f"no published measurement with a model file exists for {host.name}; its constants are "
            f"borrowed (see its sources): a factor of {1 + bands.unvalidated_host:.3g} more either way"
        )
    first = inputs.on_chip_bytes / MB / rate * 1e3
    return Estimate(
        terms=terms,
        latency_ms=total,
        latency_ms_low=low,
        latency_ms_high=high,
        first_inference_extra_ms=first,
        first_inference_basis=f"{inputs.on_chip_bytes / MB:.3g} MB of cached parameters / {rate:g} MB/s",
        wider_because=tuple(why),
    )
