"""``run_limits``: scan, find the limits and cliffs, confirm with real conversions, plot, report.

    run_limits("mobilenet_v2", alphas="0.5,0.75,1.0,1.4", resolutions="96..1024") -> LimitsResult

Writes ``limits.json`` (the ``--json`` document) and ``limits.png`` into the output folder, atomically;
converted points go to ``<output>/confirm/``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from edgedeploy.errors import OutputError
from edgedeploy.limits import cliffs as find
from edgedeploy.limits.confirm import confirm
from edgedeploy.limits.plot import draw
from edgedeploy.limits.result import LimitsResult
from edgedeploy.limits.scan import Point, scan
from edgedeploy.limits.source import ScanSource, resolve
from edgedeploy.outputs import atomic_write_text, check_output_path, held_outputs
from edgedeploy.report import envelope_json, note, stderr
from edgedeploy.targets.registry import DEFAULT_TARGET, get_target

OUTPUT_FILES = ("limits.json", "limits.png")


def default_output_dir(model: str) -> Path:
    return Path("edgedeploy-out") / f"{Path(model).stem}_limits"


def _refuse_overwrite(folder: Path, force: bool) -> None:
    existing = [name for name in OUTPUT_FILES if (folder / name).exists()]
    if existing and not force:
        raise OutputError(
            f"{folder} already holds {', '.join(existing)}", "pass --force to overwrite them"
        )


def _to_confirm(points: list[Point], found, exhaustive: bool) -> list[tuple[Point, str]]:
    if exhaustive:
        return [(p, "exhaustive") for p in points]
    limit, past = find.headline(points, found)
    return [(p, role) for p, role in ((limit, "limit"), (past, "past")) if p is not None]


def _confirm_all(
    source: ScanSource,
    points: list[Point],
    chosen: list[tuple[Point, str]],
    folder: Path,
    target: str,
    options: dict[str, Any],
    force: bool,
) -> list:
    done = []
    for point, role in chosen:
        note(f"confirming {source.name} {point.size.label} ({role}) with a real conversion")
        confirmation = confirm(source, point, role, folder, target, options, force=force)
        if (
            confirmation.converted is not None
            and confirmation.differences
            and point.facts is not None
        ):
            point.facts, point.origin = confirmation.converted, "converted"
        done.append(confirmation)
    return done


def _evidence(points: list[Point]) -> dict[str, str]:
    judged = next((p.facts for p in points if p.facts is not None), None)
    if judged is None:
        return {}
    return {"activations": judged.activations.evidence, "parameters": judged.parameters.evidence}


def run_limits(
    model: str,
    *,
    alphas: str | None = None,
    resolutions: str | None = None,
    target: str = DEFAULT_TARGET,
    target_options: Mapping[str, Any] | None = None,
    output_dir: Path | None = None,
    confirm_points: bool = True,
    exhaustive: bool = False,
    force: bool = False,
) -> LimitsResult:
    spec = get_target(target, "limits")
    folder = Path(output_dir) if output_dir is not None else default_output_dir(model)
    # Where the results go is checked first: a read-only folder found after minutes of scanning and
    # converting would cost them all.
    _refuse_overwrite(folder, force)
    check_output_path(folder, "--output-dir", directory=True)
    with held_outputs([folder]):  # a second limits run into this folder is refused now
        source, grid = resolve(model, alphas, resolutions)
        # the target's own options (Edge TPU: host, clock), for its limits capability at every point
        options = {key: value for key, value in (target_options or {}).items() if value}
        start = time.perf_counter()
        with stderr.status("fast analysis ...") as status:
            points = scan(source, grid, spec.name, options, progress=status.update)
        scan_seconds = time.perf_counter() - start
        found = find.limits(points)
        confirmations, start = [], time.perf_counter()
        if confirm_points or exhaustive:
            chosen = _to_confirm(points, found, exhaustive)
            confirmations = _confirm_all(source, points, chosen, folder, spec.name, options, force)
        confirm_seconds = time.perf_counter() - start
        notes = []
        if any(p.origin == "converted" for p in points):
            notes.append(
                "a converted model disagreed with the fast analysis: its facts replace the forecast (*) and the "
                "limits were found again from them"
            )
            found = find.limits(points)
        result = LimitsResult(
            model=source.name,
            source="builtin" if source.builtin else "onnx",
            target=spec.name,
            options={**options, "alphas": alphas, "resolutions": resolutions},
            points=points,
            limits=found,
            cliffs=find.cliffs(points),
            confirmations=confirmations,
            scan_seconds=scan_seconds,
            confirm_seconds=confirm_seconds,
            evidence=_evidence(points),
            notes=notes,
        )
        _write(result, folder)
    return result


def _write(result: LimitsResult, folder: Path) -> None:
    plot, document = folder / "limits.png", folder / "limits.json"
    thresholds = next((p.facts.thresholds for p in result.points if p.facts is not None), {})
    band = None
    if "parameters_ok_up_to" in thresholds:
        band = (thresholds["parameters_ok_up_to"], thresholds["parameters_risky_up_to"])
    title = f"{result.model} on {result.target}: latency estimated, not measured"
    draw(
        result.points,
        result.cliffs,
        title,
        plot,
        thresholds.get("activations_seen_compiling"),
        band,
        get_target(result.target),
    )
    result.outputs = {"plot": str(plot), "json": str(document)}
    atomic_write_text(document, envelope_json("limits", result.to_dict()))
