"""The result of one ``edgetpu_compiler`` run: what ``report.json`` holds and the terminal shows.

Every number here was parsed from the compiler's own output or measured (wall time); a figure the
compiler did not print stays ``None`` / "-", never guessed.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from edgedeploy.errors import ExitCode
from edgedeploy.report import fmt_bytes, plural
from edgedeploy.targets.edgetpu.compiler.compare import Comparison
from edgedeploy.targets.edgetpu.compiler.locate import CompilerLocation
from edgedeploy.targets.edgetpu.compiler.log import CompilerOutput
from edgedeploy.targets.edgetpu.compiler.options import CompileOptions
from edgedeploy.targets.edgetpu.compiler.outcome import Failure

SUMMARY_FIELDS = (
    "total_ops",
    "tpu_ops",
    "cpu_ops",
    "subgraphs",
    "on_chip_used_bytes",
    "on_chip_remaining_bytes",
    "off_chip_bytes",
    "compile_ms",
)


@dataclass
class ModelResult:
    input: Path
    compiler: CompilerOutput  # what the compiler said about this model
    compiled: list[Path] = field(
        default_factory=list
    )  # in the output dir; empty when the run failed
    log: Path | None = None  # the compiler's <stem>_edgetpu.log, kept even on failure
    comparison: Comparison | None = None  # prediction vs compiler; None when there is no prediction
    prediction_note: str | None = None  # why there is no prediction

    def warnings(self) -> list[str]:
        out = self.compiler
        said = []
        if out.off_chip_bytes:
            said.append(
                f"{fmt_bytes(out.off_chip_bytes)} of parameters do not fit the on-chip cache and are "
                "streamed from the host on every inference (slow over USB)"
            )
        if out.subgraphs and out.subgraphs > 1:
            said.append(
                f"{out.subgraphs} Edge TPU subgraphs: each CPU<->Edge TPU hop costs a transfer"
            )
        return said + list(out.notes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "input": str(self.input),
            "compiled": [str(p) for p in self.compiled],
            "log": str(self.log) if self.log else None,
            "summary": {name: getattr(self.compiler, name) for name in SUMMARY_FIELDS},
            "compiler_output": self.compiler.to_dict(),
            "prediction_vs_compiler": self.comparison.to_dict() if self.comparison else None,
            "prediction_note": self.prediction_note,
            "warnings": self.warnings(),
        }


@dataclass
class CompileResult:
    out_dir: Path
    location: CompilerLocation
    version: str | None
    options: CompileOptions
    argv: list[str]
    returncode: int | None
    timed_out: bool
    seconds: float
    failure: Failure | None
    models: list[ModelResult]
    stdout_file: Path | None = None
    stderr_file: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return self.failure is None

    @property
    def exit_code(self) -> ExitCode:
        if self.failure is not None:
            return ExitCode.COMPILER_FAILED
        if any(m.compiler.cpu_ops for m in self.models):
            return ExitCode.OPS_ON_CPU
        return ExitCode.OK

    def compiled_paths(self) -> list[Path]:
        return [p for m in self.models for p in m.compiled]

    def relocate(self, old: Path, new: Path) -> None:
        """The files were moved from ``old`` (a staging folder) to ``new``: make every path say so."""

        def moved(path: Path) -> Path:
            return new / path.relative_to(old) if path.is_relative_to(old) else path

        def moved_if_any(path: Path | None) -> Path | None:
            return moved(path) if path is not None else None

        self.out_dir, self.stdout_file, self.stderr_file = (
            moved(self.out_dir),
            moved_if_any(self.stdout_file),
            moved_if_any(self.stderr_file),
        )
        self.argv = [arg.replace(str(old), str(new)) for arg in self.argv]
        for model in self.models:
            model.input, model.log = moved(model.input), moved_if_any(model.log)
            model.compiled = [moved(p) for p in model.compiled]

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": "compiled" if self.succeeded else "failed",
            "failure": {
                "code": self.failure.code,
                "reason": self.failure.reason,
                "advice": self.failure.advice,
            }
            if self.failure
            else None,
            "exit_code": int(self.exit_code),
            "compiler": dict(self.location.to_dict(), version=self.version),
            "compiler_command": self.argv,
            "options": self.options.to_dict(),
            "returncode": self.returncode,
            "timed_out": self.timed_out,
            "seconds": round(self.seconds, 3),
            "output_dir": str(self.out_dir),
            "stdout_file": str(self.stdout_file) if self.stdout_file else None,
            "stderr_file": str(self.stderr_file) if self.stderr_file else None,
            "models": [m.to_dict() for m in self.models],
            "notes": self.notes,
        }

    def render(self, console: Console) -> None:
        failure = self.failure
        if failure is None:  # succeeded
            console.print(
                f"[bold green]compiled[/] {plural(len(self.models), 'model')} in {self.seconds:.1f} s"
            )
        else:
            console.print(
                f"[bold red]compilation failed[/] ({failure.code}): {escape(failure.reason)}"
            )
            if failure.advice:
                console.print(f"[bold]what to do:[/] {escape(failure.advice)}")
        console.print(
            f"compiler  {escape(self.version or 'version unknown')}  {escape(self.location.describe())}"
        )
        console.print(f"command   {escape(shlex.join(self.argv))}", soft_wrap=True)
        kept = [p.name for p in (self.stdout_file, self.stderr_file) if p] + [
            m.log.name for m in self.models if m.log
        ]
        console.print(
            f"output    {escape(str(self.out_dir))}  (kept: {escape(', '.join(kept) or 'nothing')})"
        )
        self.render_models(console)

    def render_models(self, console: Console) -> None:
        """What the compiler did per model (op counts, parameter memory, its table, prediction vs compiler)."""
        for model in self.models:
            _render_model(console, model, self.succeeded)
        for line in self.notes:
            console.print(f"[dim]note:[/dim] {escape(line)}")


def _render_model(console: Console, model: ModelResult, succeeded: bool) -> None:
    out = model.compiler
    console.print()
    target = ", ".join(p.name for p in model.compiled) if model.compiled else "(no compiled model)"
    console.print(f"[bold]{escape(model.input.name)}[/] -> {escape(target)}")
    if out.total_ops is not None:
        subgraphs = f"; {out.subgraphs} Edge TPU subgraph(s)" if out.subgraphs is not None else ""
        console.print(
            f"  operations  {out.total_ops} total: {_n(out.tpu_ops)} on the Edge TPU, {_n(out.cpu_ops)} "
            f"on the CPU{subgraphs}"
        )
    if out.on_chip_used_bytes is not None or out.off_chip_bytes is not None:
        console.print(
            f"  parameters  on-chip {fmt_bytes(out.on_chip_used_bytes)} used, "
            f"{fmt_bytes(out.on_chip_remaining_bytes)} remaining; off-chip {fmt_bytes(out.off_chip_bytes)}"
        )
    for line in model.warnings():
        console.print(f"  [yellow]warning:[/] {escape(line)}")
    if out.operators:
        table = Table(
            "Operator",
            "Count",
            "Compiler status",
            title="compiler's operator table",
            title_justify="left",
        )
        for row in out.operators:
            style = "green" if row.mapped else "yellow"
            table.add_row(row.op, str(row.count), f"[{style}]{escape(row.status)}[/]")
        console.print(table)
    _render_comparison(console, model, succeeded)


def _render_comparison(console: Console, model: ModelResult, succeeded: bool) -> None:
    comparison = model.comparison
    if comparison is None or comparison.unavailable:
        why = model.prediction_note or (comparison.unavailable if comparison else None)
        if succeeded and why:
            console.print(f"  [dim]prediction vs compiler: not available ({escape(why)})[/dim]")
        return
    table = Table(
        "Operator",
        "Predicted TPU/CPU",
        "Compiler TPU/CPU",
        "",
        title="prediction vs compiler",
        title_justify="left",
    )
    for row in comparison.rows:
        verdict = "[green]agree[/]" if row.agrees else "[red]DIFFER[/]"
        table.add_row(
            row.op,
            f"{row.predicted_tpu}/{row.predicted_cpu}",
            f"{row.compiler_tpu}/{row.compiler_cpu}",
            verdict,
        )
    console.print(table)
    if not comparison.disagreements:
        console.print("  prediction and compiler agree on every operator type")
        return
    console.print(
        f"  [bold]{len(comparison.disagreements)} operator type(s) where prediction and compiler disagree:[/]"
    )
    for row in comparison.disagreements:
        console.print(f"  - {escape(row.explain())}", soft_wrap=True)


def _n(value: int | None) -> str:
    return "-" if value is None else str(value)
