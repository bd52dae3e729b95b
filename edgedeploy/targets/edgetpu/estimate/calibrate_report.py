"""``CalibrationReport``: what ``edgedeploy estimate --calibrate`` wrote, with before / after errors."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from edgedeploy.errors import ExitCode
from edgedeploy.targets.edgetpu.estimate.calibrate import Judged
from edgedeploy.targets.edgetpu.estimate.profiles import HOST_KEYS, HostProfile


def _median_error(judged: list[Judged], attribute: str) -> float:
    return float(
        np.median([abs(getattr(j, attribute) - j.measured_ms) / j.measured_ms for j in judged])
    )


@dataclass
class CalibrationReport:
    profile: HostProfile
    base: HostProfile
    judged: list[Judged]
    path: Path

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK

    def to_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile.name,
            "written_to": str(self.path),
            "base": self.base.name,
            "constants": {key: getattr(self.profile, key) for key in HOST_KEYS},
            "base_constants": {key: getattr(self.base, key) for key in HOST_KEYS},
            "sources": dict(self.profile.sources),
            "models": [j.__dict__ for j in self.judged],
            "median_abs_error_before": _median_error(self.judged, "before_ms"),
            "median_abs_error_after": _median_error(self.judged, "after_ms"),
        }

    def render(self, console: Console) -> None:
        console.print(
            f"host profile [bold]{escape(self.profile.name)}[/bold] written to {escape(str(self.path))} "
            f"(calibrated from {escape(self.base.name)} on {len(self.judged)} measured models)"
        )
        table = Table(box=None, header_style="bold", pad_edge=False)
        for column in ("model", "measured ms", f"{self.base.name} ms", "calibrated ms"):
            table.add_column(column, justify="left" if column == "model" else "right")
        for j in self.judged:
            table.add_row(
                escape(Path(j.model).name),
                f"{j.measured_ms:.3g}",
                f"{j.before_ms:.3g}",
                f"{j.after_ms:.3g}",
            )
        console.print(table)
        console.print(
            f"median |error| on these models: {_median_error(self.judged, 'before_ms'):.0%} before, "
            f"{_median_error(self.judged, 'after_ms'):.0%} after (in-sample: judge it on other models)"
        )
        for key in HOST_KEYS:
            console.print(
                f"  {key} {getattr(self.base, key):.4g} -> {getattr(self.profile, key):.4g}"
            )
        console.print(
            f"use it: edgedeploy estimate MODEL --host {escape(str(self.path))} "
            f"(or --host {escape(self.profile.name)} on this machine)"
        )
