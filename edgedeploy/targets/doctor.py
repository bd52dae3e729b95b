"""``edgedeploy targets``: a doctor for the user's setup. Every registered target with what it offers
(check, compile, convert, bench) and whether its runtime can run here, and if not, the reason to act on
(no delegate library, no device, permission denied)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from edgedeploy.targets.contract import Availability, TargetOptions
from edgedeploy.targets.registry import all_targets, get_target, parse_target_names
from edgedeploy.errors import ExitCode


@dataclass(frozen=True)
class TargetEntry:
    name: str
    aliases: list[str]
    summary: str
    offers: list[str]  # check, compile, convert, bench
    variants: list[str]
    availability: Availability

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "aliases": self.aliases, "summary": self.summary, "offers": self.offers,
                "variants": self.variants, **self.availability.to_dict()}


def _describe(entry: TargetEntry) -> list[str]:
    """What was found, one fact per line (for a missing target too: it helps to see what is there)."""
    details, lines = entry.availability.details, []
    if "runtime" in details:
        lines.append(f"{details['runtime']}, {details['cores']} cores, XNNPACK {'on' if details['xnnpack'] else 'off'}")
    library = details.get("library")
    if library:
        lines.append(f"runtime library {library['path'] or library['requested']}, runtime version "
                     f"{library['runtime_version'] or 'unknown'}, clock: {library['clock']}")
    for device in details.get("devices", []):
        where = device["node"] or device["sysfs_path"]
        link = f", {device['link']}" if device.get("link") else ""
        lines.append(f"{device['kind']} Edge TPU {where}{link}: {device['problem'] or device['state']}")
    return lines


@dataclass
class TargetsReport:
    entries: list[TargetEntry]
    required: list[str]  # names the user asked about: the exit code says whether they can run

    @property
    def exit_code(self) -> ExitCode:
        # every target listed, asked for by name or not: a CI job can gate on "can everything run here"
        missing = [e for e in self.entries if not e.availability.available]
        return ExitCode.TARGET_UNAVAILABLE if missing else ExitCode.OK

    def to_dict(self) -> dict[str, Any]:
        return {"targets": [e.to_dict() for e in self.entries], "required": self.required}

    def render(self, console: Console) -> None:
        table = Table(title="targets", title_justify="left", show_lines=True)
        for column in ("target", "available", "what was found / why not"):
            table.add_column(column)
        for entry in self.entries:
            ok = entry.availability.available
            lines = [escape(line) for line in _describe(entry)]
            if not ok:
                reasons = (entry.availability.reason or "unavailable").split("; ")
                lines[:0] = [f"[red]{escape(reason)}[/red]" for reason in reasons]
            name = escape(entry.name) + (f" [dim](alias {', '.join(entry.aliases)})[/dim]" if entry.aliases else "")
            offers = f"\n[dim]offers: {', '.join(entry.offers)}[/dim]"
            table.add_row(f"{name}\n[dim]{escape(entry.summary)}[/dim]{offers}", "[green]yes[/green]" if ok else "[red]no[/red]",
                          "\n".join(lines) or "-")
        console.print(table)


OFFERS = {"check": "check", "compile": "compile", "convert_step": "convert", "runtime": "bench"}
NO_RUNTIME = Availability(False, "this target has no runtime: it cannot run models here or anywhere")


def check_targets(names: list[str] | None = None, options: TargetOptions | None = None) -> TargetsReport:
    required = parse_target_names(names) if names else []
    entries = []
    for spec in [get_target(name) for name in required] or all_targets():
        runtime = spec.runtime(options or TargetOptions()) if spec.runtime else None
        entries.append(TargetEntry(spec.name, list(spec.aliases), spec.summary,
                                   [word for capability, word in OFFERS.items() if spec.has(capability)],
                                   [v.label for v in runtime.variants()] if runtime else [],
                                   runtime.availability() if runtime else NO_RUNTIME))
    return TargetsReport(entries, required)
