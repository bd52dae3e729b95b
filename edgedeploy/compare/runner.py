"""Run a study: check every input first (a typo fails in one line, before minutes of work), then each
model x alpha x resolution through convert (cached), check, bench and eval, then write the reports.

Ctrl-C ends the study; every conversion finished so far stays in the cache and the same command
resumes from there. A model that fails is a row with its error; the others still run.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgedeploy.compare.accuracy import check_output_count, expected_outputs, load_eval_set
from edgedeploy.compare.cache import ConversionCache
from edgedeploy.compare.distribute import Backend
from edgedeploy.compare.export import write_reports
from edgedeploy.compare.plan import StudyItem, build_plan
from edgedeploy.compare.progress import StudyProgress
from edgedeploy.compare.recommend import Constraints, recommend
from edgedeploy.compare.result import CompareResult
from edgedeploy.compare.row import OK
from edgedeploy.compare.specs import parse_spec, parse_weights
from edgedeploy.compare.stages import Study, mapped_target, run_row
from edgedeploy.converters.tools import tool_versions
from edgedeploy.errors import OutputError, UsageError
from edgedeploy.files import require_absolute
from edgedeploy.machine import available_cores
from edgedeploy.outputs import check_output_path
from edgedeploy.report import note

CACHE_DIR = "cache"


@dataclass(frozen=True)
class CompareRequest:
    specs: tuple[str, ...]
    output_dir: Path
    targets: tuple[str, ...] = ("cpu",)
    resolutions: tuple[int, ...] = ()  # empty: each built-in at its default resolution
    weights: tuple[str, ...] = ()  # FILE or NAME[:ALPHA]=FILE
    pretrained: bool = False
    convert_options: Any = (
        None  # ConvertOptions; default ConvertOptions(); compile is always off here
    )
    target_options: Any = None  # bench TargetOptions; default: the CPU at all usable cores only
    plan: Any = None  # bench MeasurePlan; default MeasurePlan()
    eval_dir: Path | None = None
    labels: Path | None = None
    constraints: Constraints | None = None  # set: recommend under these
    force: bool = False  # allow an output directory that holds other files
    jobs: int | None = (
        None  # conversion worker processes; None: from cores and memory (workers.default_jobs)
    )
    ray_address: str | None = (
        None  # convert as Ray tasks on this cluster ("auto": the one this machine is in)
    )


def check_output_dir(directory: Path, force: bool) -> None:
    """A compare directory is re-used on purpose (that is how a study resumes); anything else is refused,
    and so is a directory that cannot be written or has no room - all before any model is read."""
    directory = Path(directory)
    require_absolute(directory)
    if directory.exists() and not directory.is_dir():
        raise OutputError(f"output path {directory} exists and is not a directory")
    is_study = (directory / CACHE_DIR).is_dir() or (directory / "results.json").is_file()
    if directory.is_dir() and any(directory.iterdir()) and not is_study and not force:
        raise OutputError(
            f"output directory {directory} holds other files and no earlier compare",
            "choose an empty or new directory, or pass --force",
        )
    check_output_path(directory, "--output-dir", directory=True)


def prepare_output_dir(directory: Path, force: bool) -> None:
    check_output_dir(directory, force)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"cannot create output directory {directory}: {exc.strerror or exc}"
        ) from exc


def _defaults(request: CompareRequest) -> tuple[Any, Any, Any]:
    from edgedeploy.bench import MeasurePlan, TargetOptions
    from edgedeploy.converters.context import ConvertOptions

    options = dataclasses.replace(request.convert_options or ConvertOptions(), compile=False)
    # The study's thread default, decided here only: every core (one column per target, not bench's
    # "all cores and 1"); --threads replaces it.
    targets = request.target_options or TargetOptions()
    if targets.threads is None:
        targets = dataclasses.replace(targets, threads=(available_cores(),))
    return options, targets, (request.plan or MeasurePlan()).validate()


def _target_statuses(names: list[str], options: Any) -> list[dict[str, Any]]:
    from edgedeploy.targets.registry import create_runtime

    statuses = []
    for name in names:
        target = create_runtime(name, options)
        availability = target.availability()
        statuses.append(
            {
                "name": name,
                "available": availability.available,
                "reason": availability.reason,
                "variants": [v.label for v in target.variants()],
            }
        )
    return statuses


def _bench_runner(target_options: Any, plan: Any) -> Callable:
    from edgedeploy.bench import run_bench
    from edgedeploy.bench.runner import BenchRequest
    from edgedeploy.targets.registry import get_target

    def bench(int8_file: Path, target: str, progress: Callable[[str], None]):
        # An accelerator with a compile step runs the compiled twin; bench compiles it only when a device
        # is there to run it.
        return run_bench(
            BenchRequest(
                models=(int8_file,),
                targets=(target,),
                target_options=target_options,
                plan=plan,
                compile=get_target(target).has("compile"),
            ),
            progress=progress,
        )

    return bench


def _validate(request: CompareRequest, items: list[StudyItem], targets: list[str]) -> Any:
    if request.labels is not None and request.eval_dir is None:
        raise UsageError("--labels goes with --eval DIR")
    if request.constraints is not None and request.constraints.target not in targets:
        raise UsageError(
            f"recommendation target {request.constraints.target!r} is not one of --target {','.join(targets)}"
        )
    if request.eval_dir is None:
        return None
    untrained = [
        i.label for i in items if not i.spec.is_file and i.weights is None and not i.pretrained
    ]
    if untrained:
        raise UsageError(
            f"--eval needs trained weights, but {untrained[0]} would have random weights "
            "(accuracy would be chance)",
            "add --pretrained or --weights NAME:ALPHA=FILE",
        )
    eval_set = load_eval_set(request.eval_dir, request.labels)
    for item in items:  # before any conversion: a model that cannot be scored on these classes
        outputs = expected_outputs(item)
        if outputs is not None:
            check_output_count(eval_set, outputs, item.label)
    return eval_set


def _method(
    request: CompareRequest, study: Study, items: list[StudyItem], plan: Any, rows: list
) -> dict[str, Any]:
    options = study.options
    fed = sorted({c.inputs for r in rows for c in r.latency if c.inputs})
    return {
        "specs": list(request.specs),
        "resolutions": list(request.resolutions) or "each model's default",
        "targets": list(study.targets),
        "bench_plan": plan.to_dict(),
        "threads": study.variants.get("cpu"),
        "bench_input": ", ".join(fed) or "nothing was measured",
        "measured_model": "the int8 TFLite model (the float32 one is used only for --eval)",
        "calibration": str(options.calibration_dir)
        if options.calibration_dir
        else "the photos shipped with edgedeploy",
        "convert_options": json.loads(json.dumps(vars(options), default=str)),
        "weights": ", ".join(sorted({i.weights_kind for i in items})),
        "eval": study.eval_set.describe() if study.eval_set else None,
        "cache_dir": str(study.cache.root),
    }


def _outcome(row) -> str:
    from rich.markup import escape

    done = ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in row.seconds.items())
    if row.status == OK:
        cached = " (conversion cached)" if row.cache.hit else ""
        return f"[green]v[/green] {escape(row.item.label)}{cached}: {done}"
    return f"[red]x[/red] {escape(row.item.label)}: failed at {row.error.stage}: {escape(row.error.message)}"


def _run_rows(
    items: list[StudyItem], study: Study, backend: Backend, progress_factory: Callable
) -> list:
    cached = [study.cache.lookup(study.key(item)[0]) is not None for item in items]
    rows = []
    try:
        with progress_factory(len(items), cached.count(False)) as display:
            conversions = backend.convert_first(items, cached, study, display)
            for item, hit in zip(items, cached):
                conversion = conversions.get(item.label)
                display.start_item(item.label, hit or conversion is not None)
                row = run_row(item, study, display.stage, conversion)
                rows.append(row)
                converted_here = conversion is None and row.cache.hit is False
                display.finish_item(
                    row.seconds.get("convert", 0.0) if conversion is None else 0.0,
                    converted_here,
                    _outcome(row),
                )
    except KeyboardInterrupt:  # said once the live display is gone, so the line is not drawn over
        note(
            f"interrupted after {len(rows)} of {len(items)} models; finished conversions stay in {study.cache.root}: "
            "run the same command again to resume"
        )
        raise
    return rows


def run_compare(
    request: CompareRequest,
    progress_factory: Callable[..., StudyProgress] = StudyProgress,
    bench: Callable | None = None,
) -> CompareResult:
    from edgedeploy.targets.registry import parse_target_names

    check_output_dir(request.output_dir, request.force)  # within a second, before any model is read
    specs = [parse_spec(s) for s in request.specs]
    if not specs:
        raise UsageError(
            "no model given", "name built-in models (see 'edgedeploy models') or model files"
        )
    items = build_plan(
        specs,
        tuple(request.resolutions) or (None,),
        parse_weights(list(request.weights)),
        request.pretrained,
    )
    names = parse_target_names(list(request.targets), "runtime")
    eval_set = _validate(request, items, names)
    options, target_options, plan = _defaults(request)
    statuses = _target_statuses(names, target_options)
    backend = Backend.choose(
        request.jobs, request.ray_address
    )  # an unreachable cluster: before any output
    try:
        parallelism = backend.describe(tuple(names))
        prepare_output_dir(request.output_dir, request.force)
        cache = ConversionCache(Path(request.output_dir) / CACHE_DIR)
        with cache.session() as removed:
            notes = ["removed conversions left half-done by an interrupted run"] if removed else []
            study = Study(
                options,
                cache,
                tool_versions(),
                tuple(names),
                {s["name"]: s["variants"] for s in statuses},
                backend.bench_runner(bench or _bench_runner(target_options, plan)),
                eval_set,
                mapped_target(names),
            )
            rows = _run_rows(items, study, backend, progress_factory)
    finally:
        backend.close()
    recommendation = None
    if request.constraints is not None:
        reason = next(
            (s["reason"] for s in statuses if s["name"] == request.constraints.target), None
        )
        recommendation = recommend(rows, request.constraints, reason)
    method = {**_method(request, study, items, plan, rows), **parallelism}
    result = CompareResult(
        rows,
        statuses,
        method,
        Path(request.output_dir),
        recommendation,
        study.environment,
        study.summarized_warnings(),
        notes,
    )
    write_reports(result, Path(request.output_dir))
    return result
