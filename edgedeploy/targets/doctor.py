"""``edgedeploy targets``: a doctor for the user's setup. Every benchmark target with whether it can
run here, and if not, the reason to act on (no delegate library, no device, permission denied)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from edgedeploy.targets.contract import Availability
from edgedeploy.targets.registry import ALIASES, FACTORIES, TargetOptions, create_target, parse_target_names
from edgedeploy.errors import ExitCode


@dataclass(frozen=True)
class TargetEntry:
    name: str
    summary: str
    variants: list[str]
    availability: Availability

    def to_dict(self) -> dict[str, Any]:
        aliases = [alias for alias, name in ALIASES.items() if name == self.name]
        return {"name": self.name, "aliases": aliases, "summary": self.summary, "variants": self.variants,
                **self.availability.to_dict()}


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
        missing = [e for e in self.entries if e.name in self.required and not e.availability.available]
        return ExitCode.TARGET_UNAVAILABLE if missing else ExitCode.OK

    def to_dict(self) -> dict[str, Any]:
        return {"targets": [e.to_dict() for e in self.entries], "required": self.required}

    def render(self, console: Console) -> None:
        table = Table(title="benchmark targets", title_justify="left", show_lines=True)
        for column in ("target", "available", "what was found / why not"):
            table.add_column(column)
        for entry in self.entries:
            ok = entry.availability.available
            lines = [escape(line) for line in _describe(entry)]
            if not ok:
                reasons = (entry.availability.reason or "unavailable").split("; ")
                lines[:0] = [f"[red]{escape(reason)}[/red]" for reason in reasons]
            aliases = [a for a, n in ALIASES.items() if n == entry.name]
            name = escape(entry.name) + (f" [dim](alias {', '.join(aliases)})[/dim]" if aliases else "")
            table.add_row(f"{name}\n[dim]{escape(entry.summary)}[/dim]", "[green]yes[/green]" if ok else "[red]no[/red]",
                          "\n".join(lines) or "-")
        console.print(table)


def check_targets(names: list[str] | None = None, options: TargetOptions | None = None) -> TargetsReport:
    required = parse_target_names(names) if names else []
    entries = []
    for name in required or list(FACTORIES):
        target = create_target(name, options or TargetOptions())
        entries.append(TargetEntry(target.name, target.summary, [v.label for v in target.variants()],
                                   target.availability()))
    return TargetsReport(entries, required)
