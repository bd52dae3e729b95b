"""``--plot FILE.png``: the latency distribution of every model on every target (box plots over all
samples) and median latency against model file size, one series per target (error bars: the spread
of the repeat medians). Drawn with matplotlib's Agg backend, so no display is needed."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from edgedeploy.errors import UsageError
from edgedeploy.outputs import atomic_write_bytes

LOG_SCALE_RANGE = 20  # slowest / fastest sample above which the distribution axis goes logarithmic


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:2] if part.isdigit())


def render_png(data: dict[str, Any]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    cells = [c for c in data["results"] if c["status"] == "ok"]
    figure = Figure(figsize=(12, max(4.0, 0.45 * len(cells) + 2)), layout="constrained")
    spread_axes, size_axes = figure.subplots(1, 2, width_ratios=[3, 2])
    labels = [f"{c['model']}\n{c['target']}" for c in cells]
    # matplotlib 3.10 replaced vert=False by orientation="horizontal"; support both sides of that change.
    direction = (
        {"orientation": "horizontal"}
        if _version(matplotlib.__version__) >= (3, 10)
        else {"vert": False}
    )
    spread_axes.boxplot(
        [[s for repeat in c["samples_ms"] for s in repeat] for c in cells],
        **direction,
        showfliers=True,
        flierprops={"markersize": 2},
    )
    spread_axes.set_yticks(range(1, len(cells) + 1), labels, fontsize=8)
    spread_axes.invert_yaxis()
    every = [s for c in cells for repeat in c["samples_ms"] for s in repeat]
    if every and min(every) > 0 and max(every) / min(every) > LOG_SCALE_RANGE:
        spread_axes.set_xscale("log")
    spread_axes.set_xlabel("latency per inference (ms), every sample")
    spread_axes.set_title("latency distribution")
    spread_axes.grid(axis="x", alpha=0.3)
    unit, divisor = (
        ("MiB", 2**20) if any(c["model_size_bytes"] >= 2**20 for c in cells) else ("KiB", 2**10)
    )
    for target in dict.fromkeys(c["target"] for c in cells):
        series = [c for c in cells if c["target"] == target]
        sizes = [c["model_size_bytes"] / divisor for c in series]
        medians = [c["latency"]["p50_ms"] for c in series]
        repeat_medians = [(c["spread"] or {}).get("p50_ms") or [m] for c, m in zip(series, medians)]
        errors = [
            [m - min(r) for m, r in zip(medians, repeat_medians)],
            [max(r) - m for m, r in zip(medians, repeat_medians)],
        ]
        size_axes.errorbar(sizes, medians, yerr=errors, fmt="o", capsize=3, label=target)
        for c, x, y in zip(series, sizes, medians) if target == cells[0]["target"] else ():
            size_axes.annotate(
                c["model"], (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7
            )
    for values, set_scale in (
        ([c["model_size_bytes"] for c in cells], size_axes.set_xscale),
        ([c["latency"]["p50_ms"] for c in cells], size_axes.set_yscale),
    ):
        if values and min(values) > 0 and max(values) / min(values) > LOG_SCALE_RANGE:
            set_scale("log")
    size_axes.set_xlabel(f"model file size ({unit})")
    if size_axes.get_xscale() == "linear":
        size_axes.xaxis.set_major_locator(MaxNLocator(5))
    size_axes.set_ylabel("median latency (ms)")
    size_axes.set_title("latency vs model size")
    size_axes.grid(alpha=0.3)
    if cells:
        size_axes.legend(fontsize=8)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


def write_plot(data: dict[str, Any], path: Path) -> None:
    if Path(path).suffix.lower() != ".png":
        raise UsageError(f"--plot {path}: give a .png file name")
    atomic_write_bytes(path, render_png(data))
