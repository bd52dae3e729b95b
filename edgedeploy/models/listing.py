"""The result of `edgedeploy models`: every built-in with params and MACs measured at the chosen size."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from edgedeploy.errors import ExitCode
from edgedeploy.models.registry import ANY_ALPHA, BUILTINS, format_alpha
from edgedeploy.report import fmt_count


@dataclass
class ModelsResult:
    rows: list[dict[str, Any]]
    exit_code: ExitCode = ExitCode.OK

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "models", "models": self.rows}

    def render(self, console: Console) -> None:
        table = Table(
            title="Built-in models (random weights unless --weights/--pretrained)",
            title_justify="left",
            box=box.SIMPLE_HEAD,
            show_edge=False,
            pad_edge=False,
            padding=(0, 1, 0, 0),  # with the box's own gap, two spaces between columns: fits 80
        )
        table.add_column("name", no_wrap=True)
        for column in ("alpha", "input", "params", "MACs", "alphas", "pretrained"):
            table.add_column(
                column,
                justify="right" if column in ("params", "MACs") else "left",
                no_wrap=column != "pretrained",  # its list of alphas may wrap, its header not
                min_width=len(column),
            )
        for row in self.rows:
            table.add_row(
                row["name"],
                format_alpha(row["alpha"]),
                str(row["resolution"]),
                fmt_count(row["params"]),
                fmt_count(row["macs"]),
                row["alphas_offered"],
                " ".join(f"{a:g}" for a in row["pretrained_alphas"]) or "-",
            )
        console.print(table)
        console.print(
            "Params and MACs are counted on each model built at the input size shown; "
            "'alphas' are the width multipliers offered, 'pretrained' those with published weights."
        )


# Params and MACs of every built-in at alpha 1.0 and its default resolution, counted once on the real
# models (scripts/update_builtin_counts.py; a test checks them): building ten models costs seconds and
# needs PyTorch, which the device-side install does not have. Other sizes are counted on the fly.
COUNTS_FILE = Path(__file__).resolve().parent.parent / "data" / "builtin_counts.json"
DEFAULT_ALPHA = 1.0


@cache
def _stored_counts() -> dict[str, dict[str, Any]]:
    return json.loads(COUNTS_FILE.read_text())


def _counts(name: str, alpha: float, resolution: int | None) -> tuple[int, int, int]:
    stored = _stored_counts().get(name)
    if (
        stored is not None
        and alpha == stored["alpha"]
        and resolution in (None, stored["resolution"])
    ):
        return stored["params"], stored["macs"], stored["resolution"]
    from edgedeploy.models.zoo import count_complexity  # builds the model: needs the convert extra

    return count_complexity(name, alpha, resolution)


def list_models(alpha: float | None = None, resolution: int | None = None) -> ModelsResult:
    rows = []
    for spec in BUILTINS.values():
        chosen = alpha if alpha is not None and spec.alphas == ANY_ALPHA else DEFAULT_ALPHA
        params, macs, size = _counts(spec.name, chosen, resolution)
        rows.append(
            {
                "name": spec.name,
                "alpha": chosen,
                "resolution": size,
                "default_resolution": spec.default_resolution,
                "params": params,
                "macs": macs,
                "alphas_offered": "(0, 2]"
                if spec.alphas == ANY_ALPHA
                else ", ".join(f"{a:g}" for a in spec.alphas),
                "pretrained_alphas": sorted(spec.pretrained),
                "description": spec.description,
            }
        )
    return ModelsResult(rows)
