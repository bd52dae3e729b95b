"""``PointFacts``: what a target's ``limits`` capability says about one model at one size and width.

``edgedeploy limits`` asks it for every point of a scan (on a forecast graph) and for the points it
confirms (on the converted model). Verdicts per concern: ``ok``; ``risky`` (an uncertain threshold:
``evidence`` says what is known); or the failure itself (``cut`` for the mapping, ``streams`` for the
parameters). Every number is counted on the graph or estimated by a documented method; None when not
known, with the reason beside it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

OK, RISKY = "ok", "risky"
CUT, STREAMS, FAILS = "cut", "streams", "fails"


@dataclass
class Concern:
    """One concern's verdict at a point, what causes it (an op or a tensor) and the fix when one exists."""

    verdict: str  # ok | risky | cut | streams | fails
    cause: str = ""  # "op 2 HARD_SWISH (unsupported-op)", "op 4 CONV_2D output [1,336,336,96]"
    detail: str = ""  # one sentence with the numbers
    fix: str = ""
    evidence: str = ""  # where an uncertain threshold comes from

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PointFacts:
    total_ops: int
    tpu_ops: int  # mapped, not counting risky ones
    risky_ops: int
    cpu_ops: int
    macs_total: int
    macs_tpu: int
    param_bytes: int  # weight and bias bytes the accelerator's ops read (TFLite)
    on_chip_bytes: int  # predicted parameter bytes cached on chip
    streamed_bytes: int  # predicted parameter bytes streamed from the host on every inference
    largest_activation_bytes: int
    largest_activation_shape: list[int]
    mapping: Concern
    parameters: Concern
    activations: Concern
    latency_ms: float | None = None  # estimated; None with latency_note saying why
    latency_ms_low: float | None = None
    latency_ms_high: float | None = None
    latency_note: str = ""
    notes: list[str] = field(default_factory=list)
    # the bytes the verdicts compare against: {"activations_seen_compiling": ..., "parameters_ok_up_to": ...,
    # "parameters_risky_up_to": ...}
    thresholds: dict[str, int] = field(default_factory=dict)

    @property
    def op_share(self) -> float:
        return (self.tpu_ops + self.risky_ops) / self.total_ops if self.total_ops else 0.0

    @property
    def mac_share(self) -> float | None:
        return self.macs_tpu / self.macs_total if self.macs_total else None

    @property
    def fits(self) -> bool:
        """Maps fully, keeps its parameters on chip, and its activations are within what is known to compile."""
        return all(c.verdict == OK for c in (self.mapping, self.parameters, self.activations))

    def concerns(self) -> dict[str, Concern]:
        return {
            "mapping": self.mapping,
            "parameters": self.parameters,
            "activations": self.activations,
        }

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["op_share"] = self.op_share
        data["mac_share"] = self.mac_share
        data["fits"] = self.fits
        return data
