"""Run a benchmark: check every input first, then measure each model on each target variant with the
one harness, and collect a ``BenchResult``. A target that cannot run here is skipped with its reason
while the others still run; a bad model or option fails before anything is measured."""

from __future__ import annotations

import contextlib
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgedeploy.bench.environment import capture_environment
from edgedeploy.bench.harness import MeasurePlan
from edgedeploy.bench.inputs import InputSet, image_inputs, random_inputs
from edgedeploy.bench.isolation import (
    DEFAULT_INVOKE_TIMEOUT_S,
    CellRun,
    measure_loaded,
    run_in_worker,
)
from edgedeploy.bench.power import PowerSession
from edgedeploy.bench.result import FAILED, SKIPPED, BenchResult, CellResult, TargetStatus
from edgedeploy.bench.stats import repeat_spread, summarize
from edgedeploy.errors import EdgedeployError, UsageError
from edgedeploy.targets.contract import BenchRuntime, NeedsCompilation, TargetOptions, Variant
from edgedeploy.targets.inspection import inspect_model
from edgedeploy.targets.model_file import ModelFile
from edgedeploy.targets.registry import (
    call_capability,
    create_runtime,
    get_target,
    parse_target_names,
)

Progress = Callable[[str], None]
METHOD_NOTES = {
    "timer": "time.perf_counter_ns() around interpreter.invoke() only; setting inputs is outside the timed region",
    "statistics": "percentiles by linear interpolation, std with n-1, FPS = 1000 / mean ms",
    "fixed_rate": "frame k due at k/fps; sleep until due; an overrun drops the frames that arrived meanwhile "
    "except the newest, which runs at once (a camera with a one-frame buffer)",
}


@dataclass(frozen=True)
class BenchRequest:
    models: tuple[Path, ...]
    targets: tuple[str, ...] = ("cpu",)
    target_options: TargetOptions = field(default_factory=TargetOptions)
    plan: MeasurePlan = field(default_factory=MeasurePlan)
    images: Path | None = None
    power: str | None = None
    idle_seconds: float = 2.0
    seed: int = 0
    compile: bool = False  # make missing compiled models with the target's compile step (edgetpu)
    isolate: bool = True  # load and run each cell in a worker process (bench/isolation.py)
    invoke_timeout: float = (
        DEFAULT_INVOKE_TIMEOUT_S  # longest one model load or one inference may take
    )


def _row_names(models: list[ModelFile]) -> list[str]:
    """Model names for the table rows; same-named files from different folders keep their folder."""
    counts: dict[str, int] = {}
    for model in models:
        counts[model.name] = counts.get(model.name, 0) + 1
    return [m.name if counts[m.name] == 1 else f"{m.path.parent.name}/{m.name}" for m in models]


def _ns_to_ms(samples: list[int]) -> list[float]:
    return [round(s / 1e6, 4) for s in samples]


def _isolatable(target: BenchRuntime) -> bool:
    """A runtime a worker process can rebuild (it is sent there by pickling; a class defined inside a
    function, as some test doubles are, cannot be)."""
    try:
        pickle.dumps(target)
    except Exception:  # noqa: BLE001 - pickling fails with several types; any of them means no
        return False
    return True


def _measure(
    target: BenchRuntime,
    variant: Variant,
    model: ModelFile,
    inputs: InputSet,
    plan: MeasurePlan,
    power: PowerSession,
    isolate: bool,
    invoke_timeout: float,
) -> tuple[CellRun, Any, str]:
    if isolate and _isolatable(target):
        run, recorder = run_in_worker(
            target, variant, model, inputs.frames, plan, power.recording, invoke_timeout
        )
        return run, recorder, "worker process"
    recorded: dict[str, Any] = {}

    @contextlib.contextmanager
    def recording():
        with power.recording() as recorder:
            recorded["recorder"] = recorder
            yield

    loaded = target.load(model, variant)
    try:
        run = measure_loaded(loaded, inputs.frames, plan, lambda phase: None, recording)
    finally:
        loaded.close()
    return (
        run,
        recorded.get("recorder"),
        "in-process" if not isolate else "in-process (the runtime cannot be sent to a worker)",
    )


def run_cell(
    target: BenchRuntime,
    variant: Variant,
    model: ModelFile,
    inputs: InputSet,
    plan: MeasurePlan,
    power: PowerSession,
    cell: CellResult,
    isolate: bool = True,
    invoke_timeout: float = DEFAULT_INVOKE_TIMEOUT_S,
) -> CellResult:
    run, recorder, where = _measure(
        target, variant, model, inputs, plan, power, isolate, invoke_timeout
    )
    cell.load_ms, cell.details = run.load_seconds * 1e3, {**run.details, "isolation": where}
    cell.first_inference_ms, cell.warmup_runs = run.first_inference_ms, run.warmup_runs
    repeats = run.repeats
    every_sample = [s for r in repeats for s in r.samples_ns]
    cell.latency = summarize(every_sample)
    cell.repeats = [summarize(r.samples_ns) for r in repeats]
    cell.spread = repeat_spread(cell.repeats)
    cell.samples_ms = [_ns_to_ms(r.samples_ns) for r in repeats]
    cell.capped = any(r.capped for r in repeats)
    if plan.fps:
        wall = sum(r.wall_ns for r in repeats)
        cell.fixed_rate = {
            "target_fps": plan.fps,
            "achieved_fps": len(every_sample) * 1e9 / wall,
            "dropped_frames": sum(r.dropped_frames for r in repeats),
            "frames": len(every_sample),
        }
    cell.power = power.report(recorder, len(every_sample), plan.fps)
    return cell


def _file_for(
    target: BenchRuntime,
    model: ModelFile,
    status: TargetStatus,
    request: BenchRequest,
    progress: Progress,
    pending: dict[Path, str],
) -> ModelFile:
    """The file ``target`` runs for ``model``; compiled on request, but only for a target that can run it."""
    try:
        return target.model_for(model)
    except NeedsCompilation as needs:
        if not status.available:
            # Skipped with the target's own reason anyway (no library, no device): neither an error nor
            # minutes of compiling for a target that cannot run; the other targets still run. The skip
            # reason also says what the model itself still needs, so the hint is not lost.
            pending[model.path] = str(needs)
            return model
        if not request.compile:
            raise
        progress(f"compiling {model.path.name} for {target.name}")
        return needs.compile()


def _estimate_for(
    name: str, model: ModelFile, done: dict[tuple[str, Path], dict[str, Any]]
) -> dict[str, Any] | None:
    """A target that cannot run here may still estimate its latency (labelled estimated, never measured)."""
    if not get_target(name).has("estimate") or not model.integer_only:
        return None
    if (name, model.path) not in done:
        try:
            brief = call_capability(name, "estimate", model.path).brief()
            done[(name, model.path)] = brief.to_dict()  # the cell's details: its JSON
        except EdgedeployError as exc:
            done[(name, model.path)] = {"label": "estimated", "error": exc.message}
    return done[(name, model.path)]


def _warnings_for(cell: CellResult) -> list[str]:
    where = f"{cell.model} on {cell.target}"
    found = []
    if cell.capped:
        found.append(
            f"{where}: --max-time ended a repeat before --min-runs and --min-time were met"
        )
    if cell.spread is not None and cell.spread.level in ("noisy", "very noisy"):
        found.append(
            f"{where}: the medians of the repeats differ by {cell.spread.relative:.0%}; "
            "differences smaller than that are noise"
        )
    for key in ("warning", "note"):
        if cell.details.get(key):
            found.append(f"{where}: {cell.details[key]}")
    return found


def _statuses(targets: list[BenchRuntime]) -> list[TargetStatus]:
    statuses = []
    for target in targets:
        availability = target.availability()
        statuses.append(
            TargetStatus(
                target.name,
                [v.label for v in target.variants()],
                availability.available,
                availability.reason,
                availability.details,
            )
        )
    return statuses


def _input_sets(
    files: dict[tuple[int, str], ModelFile], available: set[str], request: BenchRequest
) -> dict[Path, InputSet]:
    """Inputs for every file an available target will run; photos are loaded once per file."""
    inputs: dict[Path, InputSet] = {}
    for (_, name), model in files.items():
        if name in available and model.path not in inputs:
            inputs[model.path] = (
                image_inputs(request.images, model)
                if request.images
                else random_inputs(model.inputs, request.seed)
            )
    return inputs


def run_bench(
    request: BenchRequest,
    progress: Progress = lambda message: None,
    target_factory: Callable[[str, TargetOptions], BenchRuntime] = create_runtime,
    power_session: Callable[[str | None, float], PowerSession] = PowerSession,
) -> BenchResult:
    plan = request.plan.validate()
    if not request.invoke_timeout > 0:
        raise UsageError("--invoke-timeout must be more than 0 seconds")
    if request.power is not None and not request.idle_seconds > 0:
        raise UsageError("--idle-time must be more than 0 seconds")
    if not request.models:
        raise UsageError("no model given")
    names = parse_target_names(list(request.targets), "runtime")
    # A meter that was asked for and cannot be read here is refused before any model is measured.
    power = power_session(request.power, request.idle_seconds)
    if request.power is not None and not power.active:
        raise EdgedeployError(
            f"--power {power.reason}", "check the meter's name with --power, or leave --power out"
        )
    # Each file is checked before its path is resolved: resolving a symlink loop raises RuntimeError.
    inspected = [inspect_model(Path(p)) for p in request.models]
    models = list({m.path.resolve(): m for m in inspected}.values())
    rows = _row_names(models)
    targets = [target_factory(name, request.target_options) for name in names]
    statuses = _statuses(targets)
    # Every (model, target) pair is checked before anything runs: bad input fails in one line, early.
    pending: dict[Path, str] = {}
    files = {
        (i, t.name): _file_for(t, m, status, request, progress, pending)
        for i, m in enumerate(models)
        for t, status in zip(targets, statuses)
    }
    inputs = _input_sets(files, {s.name for s in statuses if s.available}, request)
    environment = capture_environment()
    if power.active and inputs:
        progress(f"power: idle baseline for {request.idle_seconds:g} s (keep the machine idle)")
        power.measure_baseline()
    cells: list[CellResult] = []
    estimates: dict[tuple[str, Path], dict[str, Any]] = {}
    for index, row in enumerate(rows):
        for target, status in zip(targets, statuses):
            chosen = files[(index, target.name)]
            for variant in target.variants():
                cell = CellResult(
                    row,
                    variant.label,
                    target.name,
                    model_path=str(chosen.path),
                    model_size_bytes=chosen.size_bytes,
                    quantization=chosen.quantization,
                )
                cells.append(cell)
                if not status.available:
                    also = (
                        f"; the model also needs: {pending[chosen.path]}"
                        if chosen.path in pending
                        else ""
                    )
                    cell.status, cell.reason = SKIPPED, (status.reason or "") + also
                    if estimate := _estimate_for(target.name, chosen, estimates):
                        cell.details["estimate"] = estimate
                    continue
                cell.inputs = inputs[chosen.path].description
                progress(f"measuring {row} on {variant.label}")
                try:
                    run_cell(
                        target,
                        variant,
                        chosen,
                        inputs[chosen.path],
                        plan,
                        power,
                        cell,
                        request.isolate,
                        request.invoke_timeout,
                    )
                except (
                    EdgedeployError
                ) as exc:  # e.g. the device went away: this cell fails, the others run
                    cell.status, cell.reason = FAILED, str(exc)
    model_rows = [
        {
            "name": row,
            "path": str(m.path),
            "size_bytes": m.size_bytes,
            "quantization": m.quantization,
            "compiled": m.compiled,
        }
        for row, m in zip(rows, models)
    ]
    method = {
        **plan.to_dict(),
        **METHOD_NOTES,
        "seed": request.seed,
        "images": str(request.images) if request.images else None,
    }
    warnings = environment.warnings + [w for cell in cells for w in _warnings_for(cell)]
    return BenchResult(
        environment.data, method, power.to_dict(), statuses, model_rows, cells, warnings
    )
