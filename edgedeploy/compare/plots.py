"""The study at a glance: one PNG of four to seven panels, drawn with matplotlib's Agg backend.

Latency per model per target (every sample, box plots), latency against MACs and against file size
(median, bars = range of the repeats' medians), parameters and file size, top-1 accuracy (only when
--eval measured it), and, for the mapped target (the requested target with a check), the predicted
share of ops and MACs on it and its estimated latency with the range (its ``estimate`` capability),
titled by the target itself. A panel with nothing to show
says why instead of drawing an empty frame.
"""

from __future__ import annotations

import io
from typing import Any

from edgedeploy.compare.row import OK, LatencyCell, Row
from edgedeploy.targets.contract import TargetSpec

LOG_RANGE = 20  # largest / smallest value above which an axis goes logarithmic
MIB = 2**20


def _empty(ax: Any, title: str, why: str) -> None:
    ax.set_title(title)
    ax.text(
        0.5,
        0.5,
        why,
        ha="center",
        va="center",
        wrap=True,
        fontsize=9,
        color="0.35",
        transform=ax.transAxes,
    )
    ax.set_xticks([])
    ax.set_yticks([])


def _log_if_wide(values: list[float], ax: Any, which: str) -> None:
    """A log scale when the values span more than LOG_RANGE, labelled 1, 2, 5, 10, 20 ... not 2x10^0."""
    from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter

    positive = [v for v in values if v and v > 0]
    if positive and max(positive) / min(positive) > LOG_RANGE:
        (ax.set_xscale if which == "x" else ax.set_yscale)("log")
        axis = ax.xaxis if which == "x" else ax.yaxis
        axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(ScalarFormatter())
        axis.set_minor_formatter(NullFormatter())


def _measured(rows: list[Row], variants: list[str]) -> list[tuple[Row, LatencyCell]]:
    return [
        (r, cell)
        for r in rows
        for v in variants
        if (cell := r.cell(v)) is not None
        and cell.status == OK
        and cell.samples_ms
        and cell.stats is not None
    ]


def _p50(cell: LatencyCell) -> float:
    assert cell.stats is not None  # _measured keeps the measured cells only
    return cell.stats.p50_ms


def latency_panel(ax: Any, rows: list[Row], variants: list[str]) -> None:
    title = "latency per model and target (int8, every timed run)"
    cells = _measured(rows, variants)
    if not cells:
        return _empty(ax, title, "nothing was measured")
    import matplotlib

    # matplotlib 3.10 replaced vert=False by orientation="horizontal"; support both sides of that change.
    major_minor = tuple(int(p) for p in matplotlib.__version__.split(".")[:2])
    direction = {"orientation": "horizontal"} if major_minor >= (3, 10) else {"vert": False}
    ax.boxplot(
        [c.samples_ms for _, c in cells],
        **direction,
        showfliers=True,
        flierprops={"markersize": 2},
        medianprops={"color": "C1"},
    )
    ax.set_yticks(
        range(1, len(cells) + 1), [f"{r.item.label}\n{c.variant}" for r, c in cells], fontsize=7
    )
    ax.invert_yaxis()
    _log_if_wide([s for _, c in cells for s in c.samples_ms], ax, "x")
    ax.set_xlabel("ms per inference")
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    missing = [v for v in variants if not any(c.variant == v for _, c in cells)]
    if missing:  # a target that could not run here is named, not silently left out
        ax.text(
            0.99,
            0.01,
            f"not measured here: {', '.join(missing)}",
            ha="right",
            va="bottom",
            fontsize=7,
            color="0.35",
            transform=ax.transAxes,
        )


def versus_panel(
    ax: Any, rows: list[Row], variants: list[str], key: str, label: str, scale: float
) -> None:
    title = f"median latency vs {label.split(' (')[0]}"
    cells = [(r, c) for r, c in _measured(rows, variants) if getattr(r.model, key)]
    if not cells:
        return _empty(ax, title, "nothing was measured")
    for index, variant in enumerate(v for v in variants if any(c.variant == v for _, c in cells)):
        series = [(r, c) for r, c in cells if c.variant == variant]
        xs = [getattr(r.model, key) / scale for r, _ in series]
        ys = [_p50(c) for _, c in series]
        lows = [y - min(c.repeat_p50_ms or [y]) for (_, c), y in zip(series, ys)]
        highs = [max(c.repeat_p50_ms or [y]) - y for (_, c), y in zip(series, ys)]
        ax.errorbar(xs, ys, yerr=[lows, highs], fmt="o", capsize=3, label=variant)
        # points of a family sit close together: stagger their names over three heights so none overlaps
        placed = (
            sorted(zip(series, xs, ys), key=lambda item: (item[1], item[2])) if index == 0 else []
        )
        for number, ((r, _), x, y) in enumerate(placed):
            ax.annotate(
                r.item.label,
                (x, y),
                textcoords="offset points",
                xytext=(4, 3 + 9 * (number % 3)),
                fontsize=6,
            )
    _log_if_wide([getattr(r.model, key) for r, _ in cells], ax, "x")
    _log_if_wide([_p50(c) for _, c in cells], ax, "y")
    ax.margins(x=0.25, y=0.1)  # room for the model names written beside the points
    ax.set_xlabel(label)
    ax.set_ylabel("median latency (ms)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)


def _grouped_bars(
    ax: Any, labels: list[str], series: list[tuple[str, list[float | None]]], fmt: str
) -> None:
    """Horizontal bars per label; a value that is None (not known) gets no bar and says "n/a"."""
    height = 0.8 / len(series)
    for index, (name, values) in enumerate(series):
        positions = [i + (index - (len(series) - 1) / 2) * height for i in range(len(labels))]
        bars = ax.barh(positions, [v or 0 for v in values], height=height, label=name)
        ax.bar_label(
            bars,
            labels=["n/a" if v is None else fmt.format(v) for v in values],
            fontsize=6,
            padding=2,
        )
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.margins(x=0.15)  # room for the value labels
    # below the axes, so it never covers a bar (constrained layout makes room for it)
    ax.legend(
        fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=len(series), frameon=False
    )
    ax.grid(axis="x", alpha=0.3)


def _percent(share: float | None) -> float | None:
    return None if share is None else 100 * share


def mapping_panel(ax: Any, rows: list[Row], mapped: TargetSpec) -> None:
    """The mapped target's predicted share of each model's ops and MACs."""
    title = f"on {mapped.display_name} (predicted, not compiled)"
    shown = [r for r in rows if r.mapping is not None and r.mapping.mapped_op_share is not None]
    if not shown:
        return _empty(ax, title, "no model was checked")
    _grouped_bars(
        ax,
        [r.item.label for r in shown],
        [
            ("share of ops", [100 * (r.mapping.mapped_op_share or 0) for r in shown if r.mapping]),
            (
                "share of MACs",
                [_percent(r.mapping.mapped_mac_share) for r in shown if r.mapping],
            ),
        ],
        "{:.0f}%",
    )
    ax.set_xlim(0, 115)
    ax.set_xlabel(f"% of the model on {mapped.display_name}")
    ax.set_title(title)


def estimate_panel(ax: Any, rows: list[Row], mapped: TargetSpec) -> None:
    """The mapped target's estimated latency per model, the bar at the estimate, the whisker its range."""
    from edgedeploy.compare.tables import estimate_of

    # (row, latency, low, high, host) of the rows with an estimate
    shown = [
        (r, *numbers, e.host)
        for r in rows
        if (e := estimate_of(r)) is not None and (numbers := e.range_ms()) is not None
    ]
    title = f"{mapped.column_name} latency, estimated (not measured)"
    if not shown:
        return _empty(ax, title, "no model was estimated")
    values = [mid for _, mid, _, _, _ in shown]
    errors = [
        [mid - low for _, mid, low, _, _ in shown],
        [high - mid for _, mid, _, high, _ in shown],
    ]
    ax.barh(range(len(shown)), values, xerr=errors, color="C2", alpha=0.7, capsize=3)
    ax.set_yticks(range(len(shown)), [r.item.label for r, *_ in shown], fontsize=7)
    ax.invert_yaxis()
    _log_if_wide([high for *_, high, _ in shown] + [low for _, _, low, _, _ in shown], ax, "x")
    ax.set_xlabel(f"ms per inference, estimated for {shown[0][4]} (whiskers: the estimate's range)")
    ax.set_title(title)


def size_panel(ax: Any, rows: list[Row]) -> None:
    title = "parameters and int8 file size"
    shown = [r for r in rows if r.model.int8_bytes]
    if not shown:
        return _empty(ax, title, "no model converted")
    _grouped_bars(
        ax,
        [r.item.label for r in shown],
        [
            (
                "parameters (millions)",
                [r.model.params / 1e6 if r.model.params else None for r in shown],
            ),
            ("int8 file (MiB)", [(r.model.int8_bytes or 0) / MIB for r in shown]),
        ],
        "{:.2f}",
    )
    ax.set_xlabel("millions of parameters / MiB")
    ax.set_title(title)


def accuracy_panel(ax: Any, rows: list[Row]) -> None:
    title = "top-1 accuracy"
    shown = [r for r in rows if r.accuracy.evaluated]
    if not shown:
        reason = next((r.accuracy.reason for r in rows if r.accuracy.reason), "")
        return _empty(ax, title, f"not evaluated\n({reason})")
    _grouped_bars(
        ax,
        [r.item.label for r in shown],
        [
            ("float32", [_percent(r.accuracy.float_top1) for r in shown]),
            ("int8", [_percent(r.accuracy.int8_top1) for r in shown]),
        ],
        "{:.1f}%",
    )
    ax.set_xlim(0, 115)
    ax.set_xlabel(f"% top-1 on {shown[0].accuracy.images} images")
    ax.set_title(title)


def overview_png(
    rows: list[Row], variants: list[str], subtitle: str, mapped: TargetSpec | None = None
) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    panels = [
        lambda ax: latency_panel(ax, rows, variants),
        lambda ax: versus_panel(ax, rows, variants, "macs", "MACs (millions)", 1e6),
        lambda ax: versus_panel(ax, rows, variants, "int8_bytes", "int8 file size (MiB)", MIB),
        lambda ax: size_panel(ax, rows),
    ]
    if mapped is not None:  # the requested target with a check: its panels next to the measurements
        panels.insert(3, lambda ax: mapping_panel(ax, rows, mapped))
        if mapped.has("estimate"):
            panels.append(lambda ax: estimate_panel(ax, rows, mapped))
    if any(
        r.accuracy.evaluated for r in rows
    ):  # without --eval the panel would only say "not evaluated"
        panels.append(lambda ax: accuracy_panel(ax, rows))
    cells = len(_measured(rows, variants))
    height = max(3.2, 0.32 * max(cells, len(rows)) + 1.6)
    grid_rows = (len(panels) + 1) // 2
    figure = Figure(figsize=(14, grid_rows * height), layout="constrained")
    axes = [ax for pair in figure.subplots(grid_rows, 2) for ax in pair]
    for draw, ax in zip(panels, axes):
        draw(ax)
    for ax in axes[len(panels) :]:
        ax.set_axis_off()
    figure.suptitle(subtitle, fontsize=10)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()
