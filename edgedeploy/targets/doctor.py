"""``edgedeploy targets``: a doctor for the user's setup. Every registered target with what it offers
(check, compile, convert, bench) and whether its runtime can run here, and if not, the reason to act on
(no delegate library, no device, permission denied)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from edgedeploy.errors import ExitCode
from edgedeploy.targets.contract import Availability, TargetOptions
from edgedeploy.targets.registry import all_targets, get_target, parse_target_names


@dataclass(frozen=True)
class TargetEntry:
    name: str
    aliases: list[str]
    summary: str
    offers: list[str]  # check, compile, convert, bench
    variants: list[str]
    availability: Availability
    model_checks: list[dict[str, Any]] = field(
        default_factory=list
    )  # checks of a given model (--model)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "aliases": self.aliases,
            "summary": self.summary,
            "offers": self.offers,
            "variants": self.variants,
            **self.availability.to_dict(),
            "model_checks": self.model_checks,
        }


def _describe(entry: TargetEntry) -> list[str]:
    """What was found, one fact per line (for a missing target too: it helps to see what is there)."""
    details, lines = entry.availability.details, []
    if "runtime" in details:
        lines.append(
            f"{details['runtime']}, {details['cores']} cores, XNNPACK {'on' if details['xnnpack'] else 'off'}"
        )
    if "checks" in details:  # a target with a doctor of its own says everything in its checks
        return lines
    library = details.get("library")
    if library:
        lines.append(
            f"runtime library {library['path'] or library['requested']}, runtime version "
            f"{library['runtime_version'] or 'unknown'}, clock: {library['clock']}"
        )
    for device in details.get("devices", []):
        where = device["node"] or device["sysfs_path"]
        link = f", {device['link']}" if device.get("link") else ""
        lines.append(
            f"{device['kind']} Edge TPU {where}{link}: {device['problem'] or device['state']}"
        )
    return lines


_MARKS = {
    "ok": "[green]ok[/green]",
    "warning": "[yellow]warning[/yellow]",
    "problem": "[red]problem[/red]",
    "unknown": "[dim]unknown[/dim]",
    "absent": "[yellow]absent[/yellow]",
}


def _check_lines(checks: list[dict[str, Any]]) -> list[str]:
    """One line per check (verdict, what, what was found), then the fix under any that is not ok."""
    lines = []
    for check in checks:
        mark = _MARKS.get(check["verdict"], escape(check["verdict"]))
        lines.append(f"{mark} {escape(check['name'])}: {escape(check['found'])}")
        if check.get("fix") and check["verdict"] != "ok":
            lines.append(f"   [bold]fix:[/bold] {escape(check['fix'])}")
    return lines


@dataclass
class TargetsReport:
    entries: list[TargetEntry]
    required: list[str]  # names the user asked about: the exit code says whether they can run

    @property
    def runnable(self) -> list[str]:
        """Listed targets that can run here (and run the --model given, when one was)."""
        return [
            e.name
            for e in self.entries
            if e.availability.available
            and not any(c["verdict"] == "problem" for c in e.model_checks)
        ]

    @property
    def exit_code(self) -> ExitCode:
        # as bench: 0 when at least one listed target can run, 7 when none can. A job that needs one
        # particular target names it (edgedeploy targets coral), so "any of them" is what is asked.
        return ExitCode.OK if self.runnable else ExitCode.TARGET_UNAVAILABLE

    def to_dict(self) -> dict[str, Any]:
        return {
            "targets": [e.to_dict() for e in self.entries],
            "required": self.required,
            "runnable": self.runnable,
        }

    def render(self, console: Console) -> None:
        table = Table(title="targets", title_justify="left", show_lines=True)
        table.add_column("target")
        table.add_column("available")
        table.add_column(
            "what was found / why not", overflow="fold"
        )  # a fix is a command: never cut it short
        for entry in self.entries:
            ok = entry.availability.available
            lines = [escape(line) for line in _describe(entry)]
            checks = entry.availability.details.get("checks", []) + entry.model_checks
            lines += _check_lines(checks)
            if not ok:
                reasons = (entry.availability.reason or "unavailable").split("; ")
                said = [
                    c["found"] for c in checks if c["verdict"] != "ok"
                ]  # a reason a check states already
                reasons = [r for r in reasons if not any(r.startswith(f) for f in said)] or reasons[
                    :1
                ]
                lines[:0] = [f"[red]{escape(reason)}[/red]" for reason in reasons]
            name = escape(entry.name) + (
                f" [dim](alias {', '.join(entry.aliases)})[/dim]" if entry.aliases else ""
            )
            offers = f"\n[dim]offers: {', '.join(entry.offers)}[/dim]"
            table.add_row(
                f"{name}\n[dim]{escape(entry.summary)}[/dim]{offers}",
                "[green]yes[/green]" if ok else "[red]no[/red]",
                "\n".join(lines) or "-",
            )
        console.print(table)


OFFERS = {"check": "check", "compile": "compile", "convert_step": "convert", "runtime": "bench"}
NO_RUNTIME = Availability(
    False, "this target has no runtime: it cannot run models here or anywhere"
)


def check_targets(
    names: list[str] | None = None, options: TargetOptions | None = None, model: Path | None = None
) -> TargetsReport:
    """``model``: a compiled model, checked by every listed target that can (its runtime's ``model_checks``:
    for the Edge TPU, the runtime version the model needs vs the installed one)."""
    required = parse_target_names(names) if names else []
    entries = []
    for spec in [get_target(name) for name in required] or all_targets():
        runtime = spec.runtime(options or TargetOptions()) if spec.runtime else None
        availability = runtime.availability() if runtime else NO_RUNTIME
        checks = (
            runtime.model_checks(Path(model))
            if model is not None and hasattr(runtime, "model_checks")
            else []
        )
        entries.append(
            TargetEntry(
                spec.name,
                list(spec.aliases),
                spec.summary,
                [word for capability, word in OFFERS.items() if spec.has(capability)],
                [v.label for v in runtime.variants()] if runtime else [],
                availability,
                checks,
            )
        )
    return TargetsReport(entries, required)
