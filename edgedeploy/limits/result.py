"""``LimitsResult``: the answer first (per alpha the largest size that fits and what stops it), the
cliffs with their cause and fix, every point, and what the real conversions said."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from edgedeploy.errors import ExitCode
from edgedeploy.limits.cliffs import AlphaLimit, Cliff
from edgedeploy.limits.confirm import Confirmation
from edgedeploy.limits.scan import Point
from edgedeploy.models.registry import format_alpha
from edgedeploy.report import plural, print_wrapped
from edgedeploy.targets.registry import get_target

SCHEMA_VERSION = 1
METHOD = (
    "fast analysis: the int8 TFLite graph the converter would write is forecast from ONNX shapes "
    "(no TensorFlow) and judged by the target's own rules; the reported limit and the first point "
    "past it are confirmed by real conversions"
)
_STYLE = {"ok": "green", "risky": "yellow", "cut": "red", "streams": "red", "fails": "bold red"}


_SHORT = {"mapping": "map", "parameters": "params", "activations": "act."}


def _alpha(alpha: float | None) -> str:
    return "-" if alpha is None else format_alpha(alpha)


def _mib(value: int) -> str:
    return f"{value / 2**20:.2f}"


def _px(point: Point | None) -> str:
    if point is None:
        return "-"
    s = point.size
    return f"{s.height} px" if s.height == s.width else f"{s.height}x{s.width}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


@dataclass
class LimitsResult:
    model: str
    source: str  # builtin | onnx
    target: str
    options: dict[str, Any]
    points: list[Point]
    limits: list[AlphaLimit]
    cliffs: list[Cliff]
    confirmations: list[Confirmation] = field(default_factory=list)
    scan_seconds: float = 0.0
    confirm_seconds: float = 0.0
    outputs: dict[str, str] = field(default_factory=dict)
    evidence: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.ERROR if any(c.error for c in self.confirmations) else ExitCode.OK

    def answer(self) -> list[str]:
        lines = []
        for found in self.limits:
            head = f"alpha {_alpha(found.alpha)}: " if found.alpha is not None else ""
            if found.limit is None:
                lines.append(
                    f"{head}nothing fits, from {_px(found.past)}: {self._stop(found.past)}"
                )
                continue
            latency = found.limit.facts.latency_ms if found.limit.facts else None
            text = f"{head}{_px(found.limit)}" + (
                f" (estimated {latency:.3g} ms)" if latency is not None else ""
            )
            if found.past is None:
                text += "; fits at every size scanned"
            else:
                text += f"; from {_px(found.past)}: {self._stop(found.past)}"
            if found.fits_again:
                text += f" (fits again at {', '.join(map(str, found.fits_again))} px)"
            lines.append(text)
        return lines

    @staticmethod
    def _stop(point: Point | None) -> str:
        if point is None:
            return "-"
        if point.facts is None:
            return f"not analysed ({point.error})"
        bad = [(name, c) for name, c in point.facts.concerns().items() if c.verdict != "ok"]
        return "; ".join(f"{name} {c.verdict}: {c.cause or c.detail}" for name, c in bad)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "model": self.model,
            "source": self.source,
            "target": self.target,
            "options": self.options,
            "method": METHOD,
            "answer": self.answer(),
            "limits": [found.to_dict() for found in self.limits],
            "cliffs": [c.to_dict() for c in self.cliffs],
            "points": [p.to_dict() for p in self.points],
            "confirmations": [c.to_dict() for c in self.confirmations],
            "timing": {
                "points": len(self.points),
                "scan_seconds": round(self.scan_seconds, 2),
                "confirm_seconds": round(self.confirm_seconds, 2),
                "total_seconds": round(self.scan_seconds + self.confirm_seconds, 2),
            },
            "evidence": self.evidence,
            "outputs": self.outputs,
            "notes": self.notes,
        }

    # terminal -----------------------------------------------------------------------------------------
    def render(self, console: Console) -> None:
        console.print(
            f"[bold]{escape(self.model)}[/bold] on {escape(self.target)}: "
            f"{plural(len(self.points), 'point')} analysed from shapes in {self.scan_seconds:.1f} s"
            + (
                f"; {plural(len(self.confirmations), 'point')} converted to confirm "
                f"({self.confirm_seconds:.0f} s)"
                if self.confirmations
                else ""
            )
        )
        console.print(
            "[bold]largest input that maps fully, keeps its parameters on chip and its activations "
            "within sizes seen compiling:[/bold]"
        )
        for line in self.answer():
            console.print(f"  {escape(line)}")
        if self.cliffs:
            console.print("[bold]cliffs[/bold]")
            said: set[str] = set()
            for cliff in self.cliffs:
                self._cliff(console, cliff, said)
        console.print(self._table())
        for confirmation in self.confirmations:
            self._confirmation(console, confirmation)
        for key, text in self.evidence.items():
            console.print(f"[dim]evidence ({key}): {escape(text)}[/dim]")
        for note in self.notes:
            print_wrapped(console, note, marker="[dim]note:[/dim] ", style="dim")
        for key, path in self.outputs.items():
            console.print(f"{key}: {escape(path)}")

    @staticmethod
    def _cliff(console: Console, cliff: Cliff, said: set[str]) -> None:
        style = _STYLE.get(cliff.verdict, "")

        def at(value: float) -> str:
            return f"alpha {_alpha(value)}" if cliff.axis == "alpha" else f"{value:g} px"

        if cliff.axis == "everywhere":
            where = "at every point scanned"
        elif cliff.last_ok is None:
            where = f"already at {at(cliff.first)}"
        else:
            where = f"{at(cliff.last_ok)} -> {at(cliff.first)}"
        if cliff.axis == "resolution" and cliff.alpha is not None:
            where = f"alpha {_alpha(cliff.alpha)}: {where}"
        if cliff.axis == "alpha":
            where += " (at every size)"
        console.print(
            f"  {cliff.concern} [{style}]{cliff.verdict}[/{style}] {escape(where)}: "
            f"{escape(cliff.cause)}"
        )
        if cliff.detail:
            console.print(f"    {escape(cliff.detail)}")
        if cliff.fix and cliff.fix not in said:
            console.print(f"    fix: {escape(cliff.fix)}")
            said.add(cliff.fix)

    def _table(self) -> Table:
        """Every point in 80 columns: parameters and activations in MiB; the verdict names what does not fit."""
        table = Table(show_edge=False, pad_edge=False, header_style="bold", box=None)
        ops = f"{get_target(self.target).short_name} ops"
        for name in ("alpha", "px", ops, "MACs", "params MiB", "act. MiB", "est. ms"):
            table.add_column(name, justify="right", no_wrap=True)
        table.add_column("verdict", overflow="fold")
        for point in self.points:
            f = point.facts
            px = str(point.size.height) if point.size.height == point.size.width else _px(point)
            px += "*" if point.origin == "converted" else ""
            if f is None:
                table.add_row(
                    _alpha(point.size.alpha),
                    px,
                    "",
                    "",
                    "",
                    "",
                    "",
                    f"[red]{escape(point.error or '')}[/red]",
                )
                continue
            bad = [(name, c) for name, c in f.concerns().items() if c.verdict != "ok"]
            verdict = ", ".join(
                f"[{_STYLE.get(c.verdict, '')}]{_SHORT[name]} {c.verdict}[/]" for name, c in bad
            )
            params = _mib(f.on_chip_bytes) + (
                f" +{_mib(f.streamed_bytes)}" if f.streamed_bytes else ""
            )
            table.add_row(
                _alpha(point.size.alpha),
                px,
                f"{f.tpu_ops + f.risky_ops}/{f.total_ops}",
                "-" if f.mac_share is None else f"{f.mac_share:.0%}",
                params,
                _mib(f.largest_activation_bytes),
                _ms(f.latency_ms),
                verdict or "[green]fits[/green]",
            )
        return table

    def _confirmation(self, console: Console, c: Confirmation) -> None:
        where = (
            f"alpha {_alpha(c.size.alpha)} at {c.size.height} px"
            if c.size.alpha is not None
            else f"{c.size.height} px"
        )
        how = "reused" if c.reused else f"converted in {c.seconds:.0f} s"
        if c.error:
            console.print(
                f"[red]confirm {where} ({c.role}): conversion failed: {escape(c.error)}[/red]"
            )
            return
        if c.agrees:
            console.print(
                f"[green]confirm {where} ({c.role}): the converted model agrees with the fast "
                f"analysis[/green] ({how}; check: {escape(c.check_verdict or '-')})"
            )
        else:
            console.print(
                f"[bold red]confirm {where} ({c.role}): the converted model disagrees with the fast "
                f"analysis[/bold red] ({how}); the table shows the converted truth (*):"
            )
            for line in c.differences:
                console.print(f"    {escape(line)}")
        status, name = c.compile.get("status"), get_target(self.target).column_name
        if status == "not-run":
            console.print(
                f"    {escape(name)} compile: not run (no compiler here; limits.json says why)"
            )
        elif status:
            console.print(
                f"    {escape(name)} compile: {escape(str(status))}"
                + (f" ({escape(str(c.compile.get('reason')))})" if c.compile.get("reason") else "")
            )
