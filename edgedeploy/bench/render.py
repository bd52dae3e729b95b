"""The terminal view of a bench result: a models x targets comparison table, the full statistics per
cell, what was skipped and why, power, the comparison with a baseline, and warnings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from edgedeploy.report import fmt_bytes, fmt_ms

if TYPE_CHECKING:
    from edgedeploy.bench.baseline import Comparison
    from edgedeploy.bench.result import BenchResult, CellResult

STAT_COLUMNS = ("load", "1st", "runs", "mean", "std", "min", "p50", "p90", "p99", "max", "FPS")
NARROW_STAT_COLUMNS = ("load", "1st", "runs", "mean", "p50", "p90", "p99", "FPS")
WIDE_CONSOLE = 110  # below this, the full statistics table would squeeze the model names away
VERDICT_STYLES = {
    "regression": "bold red",
    "improvement": "green",
    "within tolerance": "dim",
    "inconclusive: noisy": "yellow",
}


def _cell_text(cell: "CellResult") -> str:
    if cell.status != "ok" or cell.latency is None:
        style = "dim" if cell.status == "skipped" else "red"
        estimate = cell.details.get("estimate") or {}
        if (
            estimate.get("latency_ms") is not None
        ):  # a target without its device: edgedeploy estimate's answer
            return (
                f"[{style}]{cell.status}[/{style}]\n[cyan]est. {fmt_ms(estimate['latency_ms'])} ms[/cyan]\n"
                f"[dim]({fmt_ms(estimate['latency_ms_low'])}-{fmt_ms(estimate['latency_ms_high'])}, "
                f"estimated, {escape(estimate['host'])})[/dim]"
            )
        return f"[{style}]{cell.status}[/{style}]"
    stats = cell.latency
    lines = [
        f"[bold]{fmt_ms(stats.p50_ms)} ms[/bold]",
        f"[dim]p90 {fmt_ms(stats.p90_ms)} · {stats.fps:.0f} FPS[/dim]",
    ]
    if cell.spread is not None and len(cell.spread.p50_ms) > 1:
        lines.append(f"[dim]spread {cell.spread.relative:.1%} ({cell.spread.level})[/dim]")
    if cell.fixed_rate:
        rate = cell.fixed_rate
        lines[1] = (
            f"[dim]{rate['achieved_fps']:.1f}/{rate['target_fps']:g} FPS, {rate['dropped_frames']} dropped[/dim]"
        )
    if cell.power and cell.power.status == "measured":
        lines.append(
            f"{cell.power.active_w:.2f} W · {cell.power.energy_per_inference_mj:.2f} mJ/inf"
        )
    return "\n".join(lines)


def _comparison_table(result: "BenchResult") -> Table:
    columns = list(dict.fromkeys(c.target for c in result.cells))
    table = Table(
        title="median latency (p50) per model and target", title_justify="left", show_lines=True
    )
    table.add_column("model", overflow="fold")
    table.add_column("size", justify="right", no_wrap=True)
    for column in columns:
        table.add_column(escape(column), justify="right", min_width=14)
    cells = {(c.model, c.target): c for c in result.cells}
    for model in result.models:
        row = [escape(model["name"]), fmt_bytes(model["size_bytes"])]
        row += [
            _cell_text(cells[(model["name"], col)]) if (model["name"], col) in cells else "-"
            for col in columns
        ]
        table.add_row(*row)
    return table


def _comparison_width(result: "BenchResult") -> int:
    """Columns the comparison table needs with every model name whole (borders and padding included)."""
    from rich.text import Text

    names = max((len(m["name"]) for m in result.models), default=5)
    targets = list(dict.fromkeys(c.target for c in result.cells))

    def widest(target: str) -> int:  # its widest cell line ("p90 0.698 · 1604 FPS"), as shown
        lines = [
            Text.from_markup(line).cell_len
            for c in result.cells
            if c.target == target
            for line in _cell_text(c).split("\n")
        ]
        return max([14, len(target), *lines])

    return names + 10 + sum(widest(t) for t in targets) + 3 * (len(targets) + 2) + 1


def _comparison_list(result: "BenchResult", console: Console) -> None:
    """The comparison for a narrow terminal: a block per model, one line per target; names never fold."""
    console.print("[bold]median latency (p50) per model and target[/bold]")
    cells = {(c.model, c.target): c for c in result.cells}
    for model in result.models:
        console.print(
            f"[bold]{escape(model['name'])}[/bold] ({fmt_bytes(model['size_bytes'])})",
            soft_wrap=True,
        )
        for target in dict.fromkeys(c.target for c in result.cells):
            cell = cells.get((model["name"], target))
            text = " · ".join(line for line in _cell_text(cell).split("\n")) if cell else "-"
            console.print(f"  {escape(target)}: {text}", soft_wrap=True)


def _details_table(
    result: "BenchResult", width: int, only: str | None = None, titled: bool = True
) -> Table:
    columns = STAT_COLUMNS if width >= WIDE_CONSOLE else NARROW_STAT_COLUMNS
    title = "all statistics (ms; runs over all repeats)" + (
        "" if columns is STAT_COLUMNS else "; std/min/max in --json"
    )
    table = Table(
        title=title if titled else None,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
        pad_edge=False,
    )
    table.add_column("model / target" if only is None else "target", overflow="fold", ratio=1)
    for name in columns:
        table.add_column(name, justify="right", no_wrap=True)
    for cell in (c for c in result.measured if only is None or c.model == only):
        s = cell.latency
        if s is None:  # a measured cell always has its latency; this keeps the type checker told
            continue
        values = {
            "load": fmt_ms(cell.load_ms),
            "1st": fmt_ms(cell.first_inference_ms),
            "runs": str(s.count),
            "mean": fmt_ms(s.mean_ms),
            "std": fmt_ms(s.std_ms),
            "min": fmt_ms(s.min_ms),
            "p50": fmt_ms(s.p50_ms),
            "p90": fmt_ms(s.p90_ms),
            "p99": fmt_ms(s.p99_ms),
            "max": fmt_ms(s.max_ms),
            "FPS": f"{s.fps:.1f}",
        }
        name = (
            f"[dim]{escape(cell.target)}[/dim]"
            if only
            else f"{escape(cell.model)}\n[dim]{escape(cell.target)}[/dim]"
        )
        table.add_row(name, *(values[c] for c in columns))
    return table


def _baseline_table(comparison: "Comparison") -> Table:
    table = Table(
        title=f"against {escape(comparison.baseline)} (tolerance {comparison.tolerance:.0%})",
        title_justify="left",
    )
    for name in ("model", "target", "old p50", "new p50", "change", "verdict"):
        table.add_column(
            name, justify="right" if name in ("old p50", "new p50", "change") else "left"
        )
    for delta in comparison.deltas:
        style = VERDICT_STYLES[delta.verdict]
        table.add_row(
            escape(delta.model),
            escape(delta.target),
            fmt_ms(delta.old_p50_ms),
            fmt_ms(delta.new_p50_ms),
            f"{delta.ratio - 1:+.1%}",
            f"[{style}]{delta.verdict}[/{style}]",
        )
    for delta in comparison.deltas:
        if delta.why:
            table.caption = (table.caption + "\n" if table.caption else "") + escape(
                f"{delta.model} on {delta.target}: {delta.why}"
            )
    return table


def _header(result: "BenchResult") -> str:
    env, method = result.environment, result.method
    governor = env.get("governor") or "unknown"
    runs = (
        f"warm-up >= {method['warmup_runs']} run(s) and {method['warmup_time_s']:g} s; each repeat >= "
        f"{method['min_runs']} runs and {method['min_time_s']:g} s (cap {method['max_time_s']:g} s); "
        f"{method['repeats']} repeat(s)"
    )
    if method.get("fps"):
        runs += f"; fixed rate {method['fps']:g} FPS"
    return (
        f"[dim]{escape(env['cpu_model'])}, {env['usable_cores']} cores, governor {escape(governor)}; "
        f"ai-edge-litert {env['versions'].get('ai-edge-litert')}\n{runs}[/dim]"
    )


def render_bench(result: "BenchResult", console: Console) -> None:
    console.print(_header(result))
    if result.cells and _comparison_width(result) <= console.width:
        console.print(_comparison_table(result))
    elif result.cells:
        _comparison_list(result, console)
    if (
        result.measured
        and max(len(c.model) for c in result.measured) + 8 * len(NARROW_STAT_COLUMNS)
        <= console.width
    ):
        console.print(_details_table(result, console.width))
    elif result.measured:  # a narrow terminal: each model's name on a line of its own, never folded
        console.print(f"[bold]{_details_table(result, console.width).title}[/bold]")
        for model in dict.fromkeys(c.model for c in result.measured):
            console.print(f"[bold]{escape(model)}[/bold]", soft_wrap=True)
            console.print(_details_table(result, console.width, only=model, titled=False))
    for cell in result.cells:
        if cell.status != "ok":
            style = "yellow" if cell.status == "skipped" else "red"
            console.print(
                f"[{style}]{cell.status}[/{style}] {escape(cell.model)} on {escape(cell.target)}: "
                f"{escape(cell.reason or '')}"
            )
            for line in (cell.details.get("estimate") or {}).get("lines", []):
                console.print(f"    [cyan]{escape(line)}[/cyan]")
    inputs = sorted({c.inputs for c in result.measured if c.inputs})
    for line in inputs:
        console.print(f"[dim]inputs: {escape(line)}[/dim]")
    power = result.power
    if power["status"] == "measured":
        console.print(
            f"power: {escape(power['description'])}, idle baseline {power['idle_w']:.2f} W "
            f"over {power['idle_seconds']:.1f} s; cells show average active power and energy per inference"
        )
    else:
        console.print(f"[dim]power: not measured: {escape(power['reason'] or '')}[/dim]")
    if result.comparison is not None:
        console.print(_baseline_table(result.comparison))
        for line in result.comparison.only_new + result.comparison.only_old:
            console.print(f"[dim]not in both results: {escape(line)}[/dim]")
    for warning in result.warnings + (result.comparison.warnings if result.comparison else []):
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}")
