"""The additive latency model (v2), as pure functions of the per-op facts (no I/O, no measuring).

    steady-state latency = fixed                  per-invoke cost of the host profile
                         + compute                Edge TPU ops: MACs x cycles per MAC of their class
                                                  (1x1 / full convolution, depthwise, fully connected),
                                                  output bytes x cycles per byte (element-wise, pooling
                                                  and resize), + cycles per op; / the clock
                         + transfer               input bytes of the Edge TPU part / the host's input
                                                  rate, output bytes / its output rate (through its
                                                  runtime: copies and the outputs' re-layout included)
                         + streamed parameters    parameter bytes that do not fit on chip, the
                                                  instruction bitstreams (sent every inference) and
                                                  activations spilled to host memory / link rate
                         + CPU-side ops           CPU cost units (MACs + bytes written x a per-byte
                                                  weight) x the host's ms per unit
    first inference extra = on-chip parameter bytes / link rate (the upload)

The CPU-side term is a cost model, not a timing: the same file and host profile give the same estimate
on an idle and on a busy machine, and no model kernel runs in the CLI process. Its host rate comes from
the published CPU-only runs of the same models on the same hosts (``cpu_baseline``).

The range is the estimate widened by the method's own leave-one-architecture-out error (``Bands``), plus
what is known to be uncertain for this model: risky ops that may fall back to the CPU, parameters that
may stream, and host profiles without a published measurement to check against.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from edgedeploy.targets.edgetpu.estimate.op_facts import (
    CONV,
    CONV_1X1,
    CUSTOM,
    DEPTHWISE,
    ELEMENTWISE,
    FC,
    POOL,
    OpFact,
)
from edgedeploy.targets.edgetpu.estimate.profiles import Bands, Chip, HostProfile

MB = 1e6
MAC_CLASSES = (CONV, CONV_1X1, DEPTHWISE, FC)
BYTE_CLASSES = (ELEMENTWISE, POOL)


@dataclass(frozen=True)
class TermInputs:
    """Plain numbers the terms are computed from (summed per-op facts plus the parameter layout)."""

    compiled: bool
    tpu_work: dict[str, float]  # CYCLE_KEYS -> MACs / output bytes / op count of the Edge TPU ops
    compiler_cycles: int | None  # used only when the Edge TPU ops' facts are unknown
    transfer_bytes: int  # activations in and out of the Edge TPU part
    streamed_bytes: int
    streamed_bytes_high: int
    on_chip_bytes: int
    cpu_units: float  # CPU cost units of the CPU-side ops
    cpu_units_if_risky_refused: float | None = None
    cpu_what: str | None = None  # which ops, for the term's basis
    instruction_bytes: int = (
        0  # instruction bitstreams, sent with every inference like streamed bytes
    )
    spilled_bytes: int = 0  # activations to and from host memory (a compiled file's DMA hints)
    output_bytes: int = 0  # of ``transfer_bytes``: the outputs (re-laid out on the host CPU)

    @property
    def input_bytes(self) -> int:
        return self.transfer_bytes - self.output_bytes

    @property
    def link_bytes(self) -> int:
        """Bytes the driver moves over the link on every inference besides the inputs and outputs."""
        return self.streamed_bytes + self.instruction_bytes + self.spilled_bytes


@dataclass(frozen=True)
class Term:
    name: str  # fixed | compute | transfer | streamed_parameters | cpu_ops
    ms: float
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


def tpu_work(ops: list[OpFact]) -> dict[str, float]:
    """What the Edge TPU ops ask of the chip, per cycle constant."""
    work = {key: 0.0 for key in MAC_CLASSES + BYTE_CLASSES + ("op",)}
    for o in ops:
        if o.op_class in MAC_CLASSES:
            work[o.op_class] += o.macs
        elif o.op_class in BYTE_CLASSES:
            work[o.op_class] += o.output_bytes
        work["op"] += 1
    return work


def cpu_units(
    ops: list[OpFact],
    units_per_value: float,
    units_per_custom_value: float,
    units_per_detection_value: float = 0.0,
) -> float:
    """CPU cost units: one per MAC, ``units_per_value`` per value written; a custom op (e.g. the detection
    post-processing, which scans every box and score and sorts) ``units_per_custom_value`` per value
    read, and ``units_per_detection_value`` per value read and box it keeps (its suppression passes
    over the candidates once per box kept: ``OpFact.detections``). Values, not bytes: a kernel's work
    follows its elements (a float DEQUANTIZE output is four bytes a value; the post-processing
    dequantizes uint8 inputs itself before the same float code)."""
    return sum(
        o.values_read * (units_per_custom_value + units_per_detection_value * (o.detections or 0))
        if o.op_class == CUSTOM
        else o.macs + units_per_value * o.values_written
        for o in ops
    )


def compute_cycles(work: dict[str, float], chip: Chip) -> float:
    return sum(work[key] * chip.cycles[key] for key in work)


def _ms(bytes_: float, rate_mb_per_s: float) -> float:
    return bytes_ / MB / rate_mb_per_s * 1e3


def estimate_terms(
    inputs: TermInputs, host: HostProfile, chip: Chip, bands: Bands, clock_mhz: float
) -> Estimate:
    band = bands.compiled if inputs.compiled else bands.uncompiled
    rate = host.link_mb_per_s
    if any(inputs.tpu_work.values()) or not inputs.compiler_cycles:
        cycles = compute_cycles(inputs.tpu_work, chip)
        w = inputs.tpu_work
        macs = sum(w[k] for k in MAC_CLASSES)
        basis = f"{int(w['op'])} ops, {macs / 1e9:.3g} GMAC by op class"
    else:
        cycles = float(inputs.compiler_cycles)
        basis = f"{inputs.compiler_cycles:,} cycles (the compiler's estimate in the file)"
    cpu_ms = inputs.cpu_units / 1e9 * host.cpu_ms_per_gunit
    terms = (
        Term("fixed", host.fixed_ms, f"per-invoke cost of {host.name}"),
        Term("compute", cycles / (clock_mhz * 1e3), f"{basis} at {clock_mhz:g} MHz"),
        Term(
            "transfer",
            _ms(inputs.input_bytes, host.io_mb_per_s)
            + _ms(inputs.output_bytes, host.output_mb_per_s),
            f"{inputs.input_bytes / MB:.3g} MB in / "
            f"{host.io_mb_per_s:.0f} MB/s + {inputs.output_bytes / MB:.3g} MB out / "
            f"{host.output_mb_per_s:.0f} MB/s",
        ),
        Term(
            "streamed_parameters",
            _ms(inputs.link_bytes, rate),
            f"{inputs.streamed_bytes / MB:.3g} MB of parameters + "
            f"{inputs.instruction_bytes / MB:.3g} MB of instructions"
            + (
                f" + {inputs.spilled_bytes / MB:.3g} MB of spilled activations"
                if inputs.spilled_bytes
                else ""
            )
            + f" / {rate:.0f} MB/s",
        ),
        Term(
            "cpu_ops",
            cpu_ms,
            (inputs.cpu_what + ": " if inputs.cpu_what else "")
            + f"{inputs.cpu_units / 1e9:.3g} G cost units x {host.cpu_ms_per_gunit:.3g} ms for {host.cpu}",
        ),
    )
    total = sum(t.ms for t in terms)
    low, high = total / (1 + band), total * (1 + band)
    why: list[str] = []
    extra_stream = inputs.streamed_bytes_high - inputs.streamed_bytes
    if extra_stream > 0:
        high += _ms(extra_stream, rate) * (1 + band)
        why.append(
            f"the parameters are near the on-chip cache size: up to {extra_stream / MB:.3g} MB more may stream"
        )
    if inputs.cpu_units_if_risky_refused is not None:
        extra_cpu = max(0.0, inputs.cpu_units_if_risky_refused - inputs.cpu_units) / 1e9
        high += extra_cpu * host.cpu_ms_per_gunit * (1 + band)
        why.append(
            "risky ops are assumed to map; if the compiler refuses them, the ops after them run on the "
            f"CPU: up to {extra_cpu * host.cpu_ms_per_gunit:.3g} ms more"
        )
    if not host.validated:
        low, high = low / (1 + bands.unvalidated_host), high * (1 + bands.unvalidated_host)
        why.append(
            f"no published measurement was checked on {host.name}; its constants are borrowed (see its "
            f"sources): a factor of {1 + bands.unvalidated_host:.3g} more either way"
        )
    return Estimate(
        terms=terms,
        latency_ms=total,
        latency_ms_low=low,
        latency_ms_high=high,
        first_inference_extra_ms=_ms(inputs.on_chip_bytes, rate),
        first_inference_basis=f"{inputs.on_chip_bytes / MB:.3g} MB of cached parameters / {rate:.0f} MB/s",
        wider_because=tuple(why),
    )
