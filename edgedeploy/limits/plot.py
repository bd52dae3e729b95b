"""The scan at a glance: one PNG (matplotlib, Agg backend), written atomically.

Three panels against the input size, one colour per alpha: the target's estimated latency with its
range (points without an estimate are left out and the panel says why); the share of ops and of MACs on
the Edge TPU; the largest activation tensor and the predicted parameter bytes against the evidence
(largest activation seen compiling; the ~6-8 MiB parameter memory). Every cliff along the sizes is a
dashed vertical line at the first size past it, labelled with its concern.
"""

from __future__ import annotations

import io
from pathlib import Path

from edgedeploy.limits.cliffs import Cliff, by_alpha
from edgedeploy.limits.scan import Point
from edgedeploy.models.registry import format_alpha
from edgedeploy.outputs import atomic_write_bytes
from edgedeploy.targets.contract import TargetSpec

MIB = 2**20
_LABEL = {"mapping": "cut", "parameters": "params", "activations": "act."}


def _cliff_lines(ax, cliffs: list[Cliff], colours: dict) -> None:
    for cliff in cliffs:
        if cliff.axis != "resolution":
            continue
        colour = colours.get(cliff.alpha, "0.3")
        ax.axvline(cliff.first, color=colour, linestyle="--", linewidth=1, alpha=0.8)
        ax.annotate(
            f"{_LABEL.get(cliff.concern, cliff.concern)} {cliff.verdict}",
            (cliff.first, 1.0),
            xycoords=("data", "axes fraction"),
            rotation=90,
            va="top",
            ha="right",
            fontsize=7,
            color=colour,
        )


def draw(
    points: list[Point],
    cliffs: list[Cliff],
    title: str,
    path: Path,
    evidence_bytes: int | None,
    cache_band: tuple[int, int] | None,
    target: TargetSpec,
) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = by_alpha(points)
    colours = {alpha: f"C{i % 10}" for i, alpha in enumerate(groups)}
    figure, (latency, share, memory) = plt.subplots(3, 1, figsize=(9, 10), sharex=True)
    drawn = False
    for alpha, group in groups.items():
        label = "model" if alpha is None else f"alpha {format_alpha(alpha)}"
        colour = colours[alpha]
        judged = [(p.size.height, p.facts) for p in group if p.facts is not None]
        timed = [(height, f) for height, f in judged if f.latency_ms is not None]
        if timed:
            drawn = True
            xs = [height for height, _ in timed]
            latency.plot(
                xs,
                [f.latency_ms for _, f in timed],
                "o-",
                color=colour,
                label=label,
                markersize=3,
            )
            latency.fill_between(
                xs,
                [f.latency_ms_low for _, f in timed],
                [f.latency_ms_high for _, f in timed],
                color=colour,
                alpha=0.15,
            )
        xs = [height for height, _ in judged]
        share.plot(
            xs,
            [100 * f.op_share for _, f in judged],
            "o-",
            color=colour,
            label=f"{label} ops",
            markersize=3,
        )
        share.plot(
            xs,
            [100 * (f.mac_share or 0) for _, f in judged],
            "s--",
            color=colour,
            label=f"{label} MACs",
            markersize=3,
            alpha=0.7,
        )
        memory.plot(
            xs,
            [f.largest_activation_bytes / MIB for _, f in judged],
            "o-",
            color=colour,
            label=f"{label} largest activation",
            markersize=3,
        )
        memory.plot(
            xs,
            [(f.on_chip_bytes + f.streamed_bytes) / MIB for _, f in judged],
            ":",
            color=colour,
            label=f"{label} parameters (predicted)",
        )
    if not drawn:
        latency.text(
            0.5,
            0.5,
            "no estimate: at every point some ops run on the CPU (their time is measured "
            "on a converted model)",
            ha="center",
            va="center",
            wrap=True,
            fontsize=9,
            color="0.35",
            transform=latency.transAxes,
        )
    else:
        latency.legend(fontsize=7)
    latency.set_ylabel(f"{target.column_name} latency, ms\n(estimated, not measured)")
    share.set_ylabel(f"on {target.display_name}, %")
    share.set_ylim(-5, 105)
    share.legend(fontsize=7, ncol=2)
    if evidence_bytes:
        memory.axhline(evidence_bytes / MIB, color="0.2", linewidth=1)
        memory.annotate(
            "largest activation seen compiling",
            (0.01, evidence_bytes / MIB),
            fontsize=7,
            xycoords=("axes fraction", "data"),
            va="bottom",
        )
    if cache_band:
        memory.axhspan(cache_band[0] / MIB, cache_band[1] / MIB, color="0.5", alpha=0.15)
        memory.annotate(
            "on-chip parameter memory (usable ~6-8 MiB)",
            (0.01, cache_band[1] / MIB),
            fontsize=7,
            xycoords=("axes fraction", "data"),
            va="bottom",
        )
    memory.set_ylabel("MiB")
    memory.set_xlabel("input size, px")
    memory.legend(fontsize=7, ncol=2)
    for ax in (latency, share, memory):
        _cliff_lines(ax, cliffs, colours)
        ax.grid(True, alpha=0.3)
    figure.suptitle(title, fontsize=10)
    wide = [c for c in cliffs if c.axis != "resolution"]
    if wide:
        lines = [
            f"{c.concern} {c.verdict} "
            + (
                "at every point"
                if c.axis == "everywhere"
                else f"from alpha {format_alpha(c.first)}"
                + ("" if c.last_ok is None else f" (ok at {format_alpha(c.last_ok)})")
            )
            + f": {c.cause}"
            for c in wide
        ]
        figure.text(0.01, 0.005, "\n".join(lines), fontsize=7, va="bottom")
    figure.tight_layout(rect=(0, 0.012 * (len(wide) + 1) if wide else 0, 1, 1))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    atomic_write_bytes(path, buffer.getvalue())
    return path
