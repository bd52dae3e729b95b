"""What ``verify`` found: per model output, how each run agrees with the float reference (and the accelerator
with the CPU int8 model), where int8 diverges and what usually fixes it. A column that did not run says why
and carries no number."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from edgedeploy.errors import ExitCode
from edgedeploy.report import print_wrapped
from edgedeploy.verify.run import Column

METRICS = ("top1_agreement", "top5_agreement", "cosine_similarity", "max_abs_diff")


def agreement(reference: list[np.ndarray], candidate: list[np.ndarray]) -> dict[str, float]:
    """Top-1 = share of photos whose argmax matches; top-5 = mean share of the reference's top 5 also in the
    candidate's; cosine = mean over photos; max abs diff = over every value of every photo."""
    from edgedeploy.converters.fidelity import agreement as shared

    measured = shared([r.reshape(-1) for r in reference], [c.reshape(-1) for c in candidate])
    measured["max_abs_diff"] = float(
        max(np.max(np.abs(r - c)) for r, c in zip(reference, candidate))
    )
    return measured


@dataclass
class VerifyResult:
    model: Path
    sidecar: Path
    images: list[str]
    skipped: list[str]
    columns: list[Column]  # float reference first
    outputs: list[
        dict[str, Any]
    ]  # name, shape, then {column key: metrics | {"reason": ...}} under "vs_float"
    min_cosine: float
    min_top1: float
    departures: list[str] = field(default_factory=list)  # "CPU int8, output y: cosine 0.93 < 0.99"
    layers: dict[str, Any] | None = None  # the layer comparison, when it ran
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.REGRESSION if self.departures else ExitCode.OK

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "verify",
            "model": str(self.model),
            "sidecar": str(self.sidecar),
            "images": {"count": len(self.images), "files": self.images, "skipped": self.skipped},
            "runs": [
                {
                    "key": c.key,
                    "label": c.label,
                    "model": c.model,
                    "ran": c.ran,
                    "reason": c.reason,
                    "details": c.details,
                }
                for c in self.columns
            ],
            "outputs": self.outputs,
            "thresholds": {"min_cosine": self.min_cosine, "min_top1": self.min_top1},
            "verdict": "departs" if self.departures else "agrees",
            "departures": self.departures,
            "layers": self.layers,
            "notes": self.notes,
        }

    def render(self, console: Console) -> None:
        reference = self.columns[0]
        console.print(
            f"[bold]{escape(self.model.name)}[/bold]: {len(self.images)} photo(s), preprocessing from "
            f"{escape(self.sidecar.name)}; float reference: {escape(reference.model or '')} on "
            + ("LiteRT" if "LiteRT" in reference.label else "ONNX Runtime")
        )
        for output in self.outputs:
            table = Table(
                box=box.SIMPLE_HEAD,
                title=f"output {output['name']} {output['shape']} against the float reference",
                title_justify="left",
            )
            table.add_column("run")
            for name in ("top-1 agree", "top-5 agree", "cosine", "max abs diff"):
                table.add_column(name, justify="right")
            reasons = []
            for column in self.columns[1:]:
                measured = output["vs_float"].get(column.key, {})
                self._row(table, column.label, measured)
                if "reason" in measured:
                    reasons.append(f"{column.label}: {measured['reason']}")
                elif column.details.get("xnnpack_refused"):  # slower kernels, same numbers: say so
                    reasons.append(f"{column.label}: {column.details['note']}")
            for key, measured in output.get("vs_cpu_int8", {}).items():
                label = next(c.label for c in self.columns if c.key == key)
                self._row(table, f"{label} vs CPU int8", measured)
            console.print(table)
            for line in reasons:
                console.print(escape(line))
        limits = f"cosine >= {self.min_cosine:g}, top-1 agreement >= {self.min_top1:.0%}"
        if self.departures:
            console.print(
                f"[bold red]departs[/bold red] from float beyond the thresholds ({limits}): "
                + "; ".join(escape(d) for d in self.departures)
            )
        else:
            console.print(f"[green]agrees[/green] with float within the thresholds ({limits})")
        self._render_layers(console)
        for line in self.skipped:
            console.print(f"note: skipped {escape(line)}")
        for line in self.notes:
            print_wrapped(console, line, marker="[dim]note:[/dim] ")

    @staticmethod
    def _row(table: Table, label: str, measured: dict[str, Any]) -> None:
        if (
            "reason" in measured
        ):  # no number for a run that did not happen; the reason follows the table
            table.add_row(escape(label), "-", "-", "-", "-")
            return
        table.add_row(
            escape(label),
            f"{measured['top1_agreement']:.0%}",
            f"{measured['top5_agreement']:.0%}",
            f"{measured['cosine_similarity']:.4f}",
            f"{measured['max_abs_diff']:.3g}",
        )

    def _render_layers(self, console: Console) -> None:
        layers = self.layers
        if not layers:
            return
        if "reason" in layers:
            console.print(f"layers: {escape(layers['reason'])}")
            return
        first = layers.get("first_divergence")
        if first is None:
            console.print(
                f"layers: {layers['matched']} int8 tensors compared with float on {layers['images']} photo(s); "
                f"none below cosine {self.min_cosine:g}"
            )
            return
        where = (
            f"the model input ({escape(first['tensor'])}, its quantization alone)"
            if first["op_index"] < 0
            else f"op {first['op_index']} {first['op']} (tensor {escape(first['tensor'])})"
        )
        console.print(
            f"int8 first diverges at {where}: "
            f"cosine {first['cosine_similarity']:.6g} on {layers['images']} photo(s); "
            f"{layers['matched_before']} earlier tensor(s) stay >= {self.min_cosine:g}"
        )
        console.print("what usually fixes it:")
        for fix in layers["advice"]:
            console.print(f"  - {escape(fix)}")
