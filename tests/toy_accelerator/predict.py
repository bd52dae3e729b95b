"""The toy NPU's mapping check: an op maps when its type is in ``rules.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from edgedeploy.errors import ExitCode
from edgedeploy.targets.contract import FindingBrief, MappingSummary
from edgedeploy.targets.point_facts import CUT, OK, Concern, PointFacts
from edgedeploy.tflite import TFLiteGraph, read_model

RULES = json.loads((Path(__file__).parent / "rules.json").read_text())


@dataclass
class ToyCheck:
    path: str
    mapped: list[str]
    refused: list[str]

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OPS_ON_CPU if self.refused else ExitCode.OK

    def to_dict(self) -> dict:
        return {"path": self.path, "mapped": self.mapped, "refused": self.refused}

    @property
    def verdict(self) -> str:
        return f"{len(self.refused)} ops on the CPU" if self.refused else "every op maps"

    def mapping(self, target: str) -> MappingSummary:
        refused = [FindingBrief("error", f"{op} does not map", 1) for op in self.refused]
        return MappingSummary(
            target=target,
            source="predicted (toy rules.json)",
            verdict=self.verdict,
            total_ops=len(self.mapped) + len(self.refused),
            mapped_ops=len(self.mapped),
            cpu_ops=len(self.refused),
            risky_ops=0,
            mapped_mac_share=None,  # the toy counts no MACs
            macs_total=None,
            first_cut_op=None,
            params_stream=False,
            findings=tuple(refused),
        )

    def render(self, console) -> None:
        console.print(
            f"toy NPU: {len(self.mapped)} of {len(self.mapped) + len(self.refused)} ops map"
        )


def check(path: Path, refuse: tuple[str, ...] = ()) -> ToyCheck:
    """``refuse``: ops refused although the rules map them (the toy's own --toy-refuse option)."""
    graph = read_model(path)
    ops = [op.opcode for op in graph.ops]
    maps = set(RULES["maps"]) - set(refuse)
    return ToyCheck(
        str(path), [op for op in ops if op in maps], [op for op in ops if op not in maps]
    )


def limits_point(graph: TFLiteGraph, label: str = "") -> PointFacts:
    """The toy's ``limits`` capability: which ops map at this size; no memory limits, no latency."""
    refused = [op for op in graph.ops if op.opcode not in RULES["maps"]]
    activations = [t for t in graph.tensors if not t.is_constant]
    largest = max(activations, key=lambda t: _bytes(t.shape), default=None)
    mapping = (
        Concern(CUT, f"op {refused[0].index} {refused[0].opcode}", "falls back to the CPU")
        if refused
        else Concern(OK)
    )
    return PointFacts(
        total_ops=len(graph.ops),
        tpu_ops=len(graph.ops) - len(refused),
        risky_ops=0,
        cpu_ops=len(refused),
        macs_total=0,
        macs_tpu=0,
        param_bytes=graph.parameter_bytes,
        on_chip_bytes=graph.parameter_bytes,
        streamed_bytes=0,
        largest_activation_bytes=_bytes(largest.shape) if largest else 0,
        largest_activation_shape=list(largest.shape) if largest else [],
        mapping=mapping,
        parameters=Concern(OK),
        activations=Concern(OK),
        latency_note="the toy NPU has no latency estimate",
    )


def _bytes(shape) -> int:
    size = 1
    for dim in shape:
        size *= max(int(dim), 1)
    return size
