"""The result of ``edgedeploy compare``: the study's rows, the targets (with why one did not run),
how it was measured, the recommendation. ``to_dict()`` is results.json (schema ``edgedeploy.compare/1``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from edgedeploy.compare.recommend import DEFINITION, Recommendation
from edgedeploy.compare.row import OK, Row
from edgedeploy.compare.tables import ESTIMATE_NOTE, LATENCY_NOTE, terminal_columns
from edgedeploy.errors import ExitCode
from edgedeploy.report import print_wrapped
from edgedeploy.targets.contract import TargetSpec

SCHEMA = "edgedeploy.compare/1"


@dataclass
class CompareResult:
    rows: list[Row]
    targets: list[dict[str, Any]]  # name, available, reason, variants
    method: dict[str, Any]
    output_dir: Path
    recommendation: Recommendation | None = None
    environment: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @property
    def variants(self) -> list[str]:
        return [v for t in self.targets for v in t["variants"]]

    @property
    def mapped(self) -> TargetSpec | None:
        """The requested target whose predicted mapping (and estimate) the rows carry."""
        from edgedeploy.compare.stages import mapped_target
        from edgedeploy.targets.registry import get_target

        name = mapped_target([t["name"] for t in self.targets])
        return None if name is None else get_target(name)

    @property
    def exit_code(self) -> ExitCode:
        if not any(t["available"] for t in self.targets):
            return ExitCode.TARGET_UNAVAILABLE
        return ExitCode.ERROR if any(r.status != OK for r in self.rows) else ExitCode.OK

    def not_measured(self) -> list[str]:
        """Plain statements of what this study did not measure, for every output format."""
        lines = [
            f"{t['name']}: not measured: {t['reason']}" for t in self.targets if not t["available"]
        ]
        if not any(r.accuracy.evaluated for r in self.rows):
            reason = next((r.accuracy.reason for r in self.rows if r.accuracy.reason), "")
            lines.append(f"accuracy: not evaluated ({reason})")
        mapped = self.mapped
        if mapped is not None:
            lines.append(
                f"{mapped.column_name} mapping: predicted from the int8 model by edgedeploy's rules, "
                "not compiled"
            )
            if mapped.has("estimate"):
                lines.append(f"{mapped.column_name} latency: " + ESTIMATE_NOTE)
        lines.append(
            "power: not measured (compare measures latency only; use 'edgedeploy bench --power' with a meter)"
        )
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "kind": "compare",
            "output_dir": str(self.output_dir),
            "method": self.method,
            "targets": self.targets,
            "environment": self.environment,
            "rows": [r.to_dict() for r in self.rows],
            "recommendation": self.recommendation.to_dict() if self.recommendation else None,
            "not_measured": self.not_measured(),
            "warnings": self.warnings,
            "notes": self.notes,
            "files": self.files,
            "exit_code": int(self.exit_code),
        }

    def render(self, console: Console) -> None:
        mapped = self.mapped
        cols = terminal_columns(self.variants, mapped)
        cells = [[col.show(row) for col in cols] for row in self.rows]
        # every value keeps its width: a model name is never broken (mobilenet_v3_small_0.25_96 stays
        # one word a user can copy), so fewer columns go in each of the packed tables instead
        # a header wraps at its spaces only, so its longest word is as wide as the column can get
        widths = [
            max(
                max((len(line[i]) for line in cells), default=1),
                max(len(word) for word in cols[i].header.split()),
            )
            for i in range(len(cols))
        ]
        # A narrow terminal gets several tables, each starting with the model name, packed left to right.
        groups: list[list[int]] = [[0]]
        for index in range(1, len(cols)):
            used = sum(widths[i] + 3 for i in groups[-1])
            if used + widths[index] + 3 > console.width - 4 and len(groups[-1]) > 1:
                groups.append([0])
            groups[-1].append(index)
        for number, group in enumerate(groups):
            title = f"compare: {len(self.rows)} models" if number == 0 else None
            table = Table(box=box.SIMPLE_HEAD, title=title, title_justify="left")
            for i in group:
                # values keep their width (headers wrap instead, at spaces)
                table.add_column(
                    escape(cols[i].header),
                    justify="right" if cols[i].numeric else "left",
                    no_wrap=i == 0,
                    overflow="fold",
                    min_width=widths[i],
                )
            for row, values in zip(self.rows, cells):
                table.add_row(
                    *[escape(values[i]) for i in group], style="" if row.status == OK else "red"
                )
            console.print(table)
        console.print(
            "[dim]* predicted from the int8 model by edgedeploy's rules (not compiled)[/dim]"
        )
        if mapped is not None and mapped.has("estimate"):
            console.print(f"[dim]† {escape(ESTIMATE_NOTE)}[/dim]")
        for row in self.rows:
            for error in row.errors:
                console.print(
                    f"[red]x[/red] {escape(row.item.label)}: failed at {error.stage}: "
                    f"{escape(error.message)}"
                )
        for row in self.rows:
            if mapped is not None and row.mapping and row.mapping.cpu_ops:
                console.print(
                    f"[yellow]{escape(mapped.column_name)}[/yellow] {escape(row.item.label)}: "
                    f"{escape(row.mapping.verdict)}"
                )
        console.print(f"[dim]{escape(LATENCY_NOTE)}[/dim]")
        for line in self.not_measured():
            print_wrapped(console, line, marker="[yellow]-[/yellow] ")
        if self.recommendation is not None:
            self._render_recommendation(console, self.recommendation)
        for line in self.warnings:
            console.print(f"[yellow]warning:[/yellow] {escape(line)}")
        for line in self.notes:
            print_wrapped(console, line, marker="[dim]note:[/dim] ", style="dim")
        if self.files:
            console.print(
                f"written to {escape(str(self.output_dir))}: {escape(', '.join(self.files))}"
            )

    @staticmethod
    def _render_recommendation(console: Console, rec: Recommendation) -> None:
        console.print(
            f"[bold]recommendation[/bold] ({escape(rec.constraints.describe())}):", end=" "
        )
        if rec.chosen is None:
            console.print(f"[red]none[/red]: {escape(rec.why[0])}")
        else:
            console.print(f"[bold green]{escape(rec.chosen)}[/bold green]")
            for line in rec.why:
                console.print(f"  - {escape(line)}")
            if rec.runner_up:
                console.print(f"  [dim]runner-up: {escape(rec.runner_up)}[/dim]")
        for out in rec.ruled_out:
            console.print(f"  [dim]ruled out {escape(out['model'])}: {escape(out['reason'])}[/dim]")
        console.print(f"  [dim]{escape(DEFINITION)}[/dim]")
