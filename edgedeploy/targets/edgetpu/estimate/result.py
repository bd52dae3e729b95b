"""``EstimateResult``: the result of ``edgedeploy estimate`` (to_dict / render / exit_code).

Every latency in it is an estimate and says so; nothing in it is measured on this machine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, JustifyMethod
from rich.markup import escape
from rich.table import Table

from edgedeploy.errors import ExitCode
from edgedeploy.report import fmt_bytes, fmt_ms, print_wrapped
from edgedeploy.targets.contract import EstimateBrief
from edgedeploy.targets.edgetpu.estimate.profiles import (
    CUSTOM_KEY,
    HOST_KEYS,
    OUT_KEY,
    Constants,
    HostProfile,
)
from edgedeploy.targets.edgetpu.estimate.terms import Estimate
from edgedeploy.targets.edgetpu.estimate.workload import Workload

SCHEMA_VERSION = 2  # 2: per-op cost model for the CPU side (no timing), terms without own ranges
TERM_TITLES = {
    "fixed": "fixed per-invoke cost",
    "compute": "Edge TPU compute",
    "transfer": "input/output transfer",
    "streamed_parameters": "streamed parameters",
    "cpu_ops": "CPU-side ops",
}


def op_ranges(indices: list[int]) -> str:
    """[2, 3, 4, 7] -> 'ops 2-4, 7'; [83] -> 'op 83'."""
    if not indices:
        return "no ops"
    parts, ordered = [], sorted(indices)
    start = previous = ordered[0]
    for index in ordered[1:] + [None]:
        if index is not None and index == previous + 1:
            previous = index
            continue
        parts.append(f"{start}-{previous}" if previous != start else str(start))
        if index is not None:
            start = previous = index
    return ("op " if len(ordered) == 1 else "ops ") + ", ".join(parts)


@dataclass
class EstimateResult:
    path: str
    workload: Workload
    host: HostProfile
    clock: str
    clock_mhz: float
    estimate: Estimate
    cpu_units: float  # CPU cost units of the CPU-side ops (the cost model's input)
    constants: Constants
    notes: list[str] = field(default_factory=list)
    op_names: dict[int, str] = field(default_factory=dict)

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK

    @property
    def latency_ms(self) -> float:
        return self.estimate.latency_ms

    def range_text(self) -> str:
        e = self.estimate
        return f"{fmt_ms(e.latency_ms)} ms ({fmt_ms(e.latency_ms_low)}-{fmt_ms(e.latency_ms_high)})"

    def cpu_line(self) -> str | None:
        """'ops 2-111 on the CPU: about 9.1 of 12.4 ms (estimated)', or None when every op maps."""
        ops = self.workload.cpu_ops
        if not ops:
            return None
        cpu = self.estimate.term("cpu_ops").ms
        return f"{op_ranges(ops)} on the CPU: about {fmt_ms(cpu)} of {fmt_ms(self.latency_ms)} ms (estimated, {self.host.name})"

    def brief(self) -> EstimateBrief:
        """What other commands show of the estimate (bench's skipped row, compare's columns, check's lines)."""
        e = self.estimate
        lines = [
            f"Edge TPU latency on {self.host.name}, estimated (not measured): {self.range_text()} per inference"
            f"{'; clock ' + self.clock if self.host.clock_selectable else ''} (edgedeploy estimate)"
        ]
        if cpu := self.cpu_line():
            lines.append(cpu)
        return EstimateBrief(
            e.latency_ms,
            e.latency_ms_low,
            e.latency_ms_high,
            host=self.host.name,
            lines=tuple(lines),
            details={
                "first_inference_extra_ms": e.first_inference_extra_ms,
                "clock": self.clock,
                "kind": self.workload.kind,
                "cpu_ops_ms": e.term("cpu_ops").ms,
                "wider_because": list(e.wider_because),
            },
        )

    def to_dict(self) -> dict[str, Any]:
        e = self.estimate
        return {
            "schema_version": SCHEMA_VERSION,
            "model": self.path,
            "target": "edgetpu",
            "kind": self.workload.kind,
            "label": "estimated",
            "host": {
                "name": self.host.name,
                "description": self.host.description,
                "interface": self.host.interface,
                "cpu": self.host.cpu,
                "validated": self.host.validated,
            },
            "clock": self.clock,
            "clock_mhz": self.clock_mhz,
            "latency_ms": e.latency_ms,
            "latency_ms_low": e.latency_ms_low,
            "latency_ms_high": e.latency_ms_high,
            "first_inference_extra_ms": e.first_inference_extra_ms,
            "first_inference_basis": e.first_inference_basis,
            "terms": [term.to_dict() for term in e.terms],
            "wider_because": list(e.wider_because),
            "cpu_ops": {
                "ops": self.workload.cpu_ops,
                "cost_units": self.cpu_units,
                "host_ms_per_gunit": self.host.cpu_ms_per_gunit,
                "host_ms": e.term("cpu_ops").ms,
                "names": {str(i): self.op_names.get(i) for i in self.workload.cpu_ops},
                "if_risky_refused": self.workload.cpu_ops_if_risky_refused or None,
                "summary": self.cpu_line(),
            },
            "workload": self.workload.to_dict(),
            "notes": list(self.notes),
            "method": {
                "constants": self.constants.path.name,
                "constants_version": self.constants.version,
                "validation": self.constants.validation,
            },
        }

    def render(self, console: Console) -> None:
        e, w = self.estimate, self.workload
        console.print(
            f"[bold]{escape(self.path)}[/bold] ({w.kind}): Edge TPU latency [bold]estimated[/bold], not measured"
        )
        console.print(
            f"host {self.host.name}: {escape(self.host.description)}; clock {self.clock} ({self.clock_mhz:g} MHz)"
        )
        console.print(
            f"[bold]estimated {fmt_ms(e.latency_ms)} ms[/bold] per inference, steady state "
            f"(range {fmt_ms(e.latency_ms_low)}-{fmt_ms(e.latency_ms_high)} ms)"
        )
        console.print(
            f"first inference: about {fmt_ms(e.first_inference_extra_ms)} ms more, estimated "
            f"(parameter upload: {escape(e.first_inference_basis)})"
        )
        table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
        columns: tuple[tuple[str, JustifyMethod], ...] = (
            ("term (estimated)", "left"),
            ("ms", "right"),
            ("from", "left"),
        )
        for name, justify in columns:
            table.add_column(name, justify=justify, no_wrap=name != "from", overflow="fold")
        for term in e.terms:
            table.add_row(
                TERM_TITLES[term.name],
                fmt_ms(term.ms),
                escape(term.basis),
            )
        console.print(table)
        if line := self.cpu_line():
            console.print(escape(line))
        if w.streamed_bytes:
            console.print(
                f"[yellow]parameters stream:[/yellow] {fmt_bytes(w.streamed_bytes)} sent on every inference"
            )
        for reason in e.wider_because:
            console.print(f"[yellow]range wider:[/yellow] {escape(reason)}")
        for note in self.notes:
            print_wrapped(console, note, marker="[dim]note:[/dim] ", style="dim")
        v = self.constants.validation.get("compiled" if w.kind == "compiled" else "uncompiled", {})
        if v:
            console.print(
                f"[dim]method: additive terms, constants {self.constants.path.name}; checked "
                f"leave-one-architecture-out on {v['measurements']} published measurements of "
                f"{v['architectures']} architectures: median error {v['median_abs_error']:.0%}, "
                f"Spearman {v['spearman']:.2f}, {v['coverage']:.0%} inside the range "
                f"(the range typically {v['range_width']:.2g}x from low to high)[/dim]"
            )


LISTED_DETECTIONS = (
    10  # boxes kept, for the listing's post-processing rate: TF1 SSD exports' default
)


@dataclass
class HostListing:
    """``edgedeploy estimate --host list``: the profiles, their constants and where each comes from."""

    constants: Constants

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK

    def to_dict(self) -> dict[str, Any]:
        hosts = []
        for h in self.constants.hosts.values():
            values = {key: getattr(h, key) for key in HOST_KEYS}
            hosts.append(
                {
                    "name": h.name,
                    "description": h.description,
                    "interface": h.interface,
                    "cpu": h.cpu,
                    "validated": h.validated,
                    "clock_selectable": h.clock_selectable,
                    **values,
                    CUSTOM_KEY: self.constants.custom_units_per_value(h),
                    OUT_KEY: h.output_mb_per_s,
                    "sources": dict(h.sources),
                }
            )
        return {
            "schema_version": SCHEMA_VERSION,
            "constants": self.constants.path.name,
            "constants_version": self.constants.version,
            "clock_mhz": self.constants.chip.clock_mhz,
            "hosts": hosts,
        }

    def _post_units_per_value(self, host: HostProfile) -> float:
        per_box = self.constants.chip.cpu_units_per_detection_value
        return self.constants.custom_units_per_value(host) + LISTED_DETECTIONS * per_box

    def render(self, console: Console) -> None:
        table = Table(
            title=f"Edge TPU host profiles ({self.constants.path.name})",
            title_justify="left",
            box=None,
            header_style="bold",
            pad_edge=False,
        )
        for name in (
            "--host",
            "fixed ms",
            "in MB/s",
            "out MB/s",
            "link MB/s",
            "CPU ms/G",
            "post ms/M",
            "checked against",
        ):
            table.add_column(
                name, justify="left" if name in ("--host", "checked against") else "right"
            )
        for h in self.constants.hosts.values():
            table.add_row(
                h.name,
                f"{h.fixed_ms:.3g}",
                f"{h.io_mb_per_s:.0f}",
                f"{h.output_mb_per_s:.0f}",
                f"{h.link_mb_per_s:.0f}",
                f"{h.cpu_ms_per_gunit:.3g}",
                f"{self._post_units_per_value(h) * h.cpu_ms_per_gunit / 1e3:.3g}",
                "published data" if h.validated else "[yellow]nothing[/yellow] (borrowed)",
            )
        console.print(table)
        for h in self.constants.hosts.values():
            console.print(f"  {h.name}: {escape(h.description)}; CPU {escape(h.cpu)}")
        clocks = self.constants.chip.clock_mhz
        console.print(
            "in / out MB/s: activations into and out of the Edge TPU part (outputs are re-laid out on "
            "the host); CPU ms/G: per 1e9 cost units of CPU-side ops; post ms/M: the detection "
            f"post-processing (custom ops) per million values it reads, keeping {LISTED_DETECTIONS} "
            "boxes."
        )
        console.print(
            f"--clock std|max: {clocks['std']:g} / {clocks['max']:g} MHz on USB (libedgetpu1-std / -max); "
            "PCIe always runs at full speed. Where every constant comes from: --host list --json."
        )
