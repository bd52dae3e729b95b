"""``edgedeploy targets``: a doctor for the user's setup. Every registered target with what it offers
(check, compile, convert, bench) and whether its runtime can run here, and if not, the reason to act on
(no delegate library, no device, permission denied)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from edgedeploy.errors import ExitCode
from edgedeploy.report import print_wrapped
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
    """What was found, one fact per line, as the target's runtime words it (for a missing target too:
    it helps to see what is there); a target with a doctor of its own says the rest in its checks."""
    return list(entry.availability.found)


_MARKS = {
    "ok": "[green]ok[/green]",
    "warning": "[yellow]warning[/yellow]",
    "problem": "[red]problem[/red]",
    "unknown": "[dim]unknown[/dim]",
    "absent": "[yellow]absent[/yellow]",
}


def _print_checks(console: Console, checks: list[dict[str, Any]]) -> None:
    """One line per check (verdict, what, what was found), then the fix under any that is not ok: on a
    line of its own and never broken by rich, as it is often a command to copy."""
    for check in checks:
        mark = _MARKS.get(check["verdict"], escape(check["verdict"]))
        print_wrapped(console, f"{check['name']}: {check['found']}", marker=f"  {mark} ")
        if check.get("fix") and check["verdict"] != "ok":
            console.print("     [bold]fix:[/bold] " + escape(check["fix"]), soft_wrap=True)


@dataclass
class TargetsResult:
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
        # One block per target rather than a table: the doctor's findings and fixes are sentences and
        # commands, which a table column at 80 terminal columns squeezes into a few words a line.
        console.print("[bold]targets[/bold]")
        for entry in self.entries:
            ok = entry.availability.available
            verdict = "[green]can run here[/green]" if ok else "[red]cannot run here[/red]"
            alias = f" (alias {', '.join(entry.aliases)})" if entry.aliases else ""
            console.print()
            console.print(f"[bold]{escape(entry.name)}[/bold]{escape(alias)}: {verdict}")
            print_wrapped(console, entry.summary, marker="  ", style="dim")
            print_wrapped(console, f"offers: {', '.join(entry.offers)}", marker="  ", style="dim")
            checks = entry.availability.details.get("checks", []) + entry.model_checks
            if not ok:
                reasons = (entry.availability.reason or "unavailable").split("; ")
                said = [
                    c["found"] for c in checks if c["verdict"] != "ok"
                ]  # a check says it already
                reasons = [r for r in reasons if not any(r.startswith(f) for f in said)] or reasons[
                    :1
                ]
                for reason in reasons:
                    print_wrapped(console, reason, marker="  ", style="red")
            for line in _describe(entry):
                print_wrapped(console, line, marker="  ")
            _print_checks(console, checks)


OFFERS = {"check": "check", "compile": "compile", "convert_step": "convert", "runtime": "bench"}
NO_RUNTIME = Availability(
    False, "this target has no runtime: it cannot run models here or anywhere"
)


def check_targets(
    names: list[str] | None = None, options: TargetOptions | None = None, model: Path | None = None
) -> TargetsResult:
    """``model``: a compiled model, checked by every listed target that can (its runtime's ``model_checks``:
    for the Edge TPU, the runtime version the model needs vs the installed one)."""
    required = parse_target_names(names) if names else []
    entries = []
    for spec in [get_target(name) for name in required] or all_targets():
        runtime = spec.runtime(options or TargetOptions()) if spec.runtime else None
        availability = runtime.availability() if runtime else NO_RUNTIME
        checks = (
            runtime.model_checks(Path(model))
            if model is not None and runtime is not None and hasattr(runtime, "model_checks")
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
    return TargetsResult(entries, required)
