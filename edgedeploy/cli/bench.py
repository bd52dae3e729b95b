"""`edgedeploy bench`: comparable latency (and power, with a meter) of models on the CPU and Coral."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from edgedeploy.cli import bench_flags as flags
from edgedeploy.cli.target_flags import device_option, target_option
from edgedeploy.errors import UsageError
from edgedeploy.extras import require
from edgedeploy.outputs import check_output_path, held_outputs
from edgedeploy.report import emit, note, stderr

NAME = "bench"
NO_ARGS_IS_HELP = True


def _progress(message: str) -> None:
    from rich.markup import escape

    stderr.print(f"[dim]bench: {escape(message)}[/dim]")


def command(
    models: list[Path] = typer.Argument(
        ...,
        metavar="MODEL.tflite",
        help="TFLite models (.tflite); a compiled "
        "X_edgetpu.tflite beside X.tflite is used for the target it was compiled for.",
    ),
    target: list[str] = target_option("Targets, comma-separated: {names}.", "runtime", ["cpu"]),
    threads: str = typer.Option(
        None, "--threads", help="CPU thread counts, e.g. 4 or 1,4 or all. Default: all cores and 1."
    ),
    no_xnnpack: bool = typer.Option(
        False, "--no-xnnpack", help="Run LiteRT's own kernels instead of the XNNPACK delegate."
    ),
    device: str = device_option("The device to run on ({devices}). Default: the first one."),
    compile_missing: bool = typer.Option(
        False,
        "--compile",
        help="Compile the int8 models that have no compiled twin beside them, for each target "
        "that compiles.",
    ),
    invoke_timeout: float = typer.Option(
        60.0,
        "--invoke-timeout",
        help="Seconds one model load or one inference may take before it counts as "
        "hung and its cell is stopped (each cell runs in its own worker process).",
    ),
    min_runs: int = flags.MIN_RUNS,
    min_time: float = flags.MIN_TIME,
    max_time: float = flags.MAX_TIME,
    warmup_runs: int = typer.Option(1, "--warmup-runs", help="Untimed warm-up runs (at least)."),
    warmup_time: float = typer.Option(0.5, "--warmup-time", help="Seconds of warm-up (at least)."),
    repeats: int = flags.REPEATS,
    fps: float = typer.Option(
        None, "--fps", help="Fixed-rate mode: invoke at this many frames per second."
    ),
    images: Path = typer.Option(
        None, "--images", help="Feed these photos (preprocessed, quantized) instead of random data."
    ),
    power: str = typer.Option(
        None, "--power", help="Power meter: rapl, hwmon, hwmon:CHIP/SENSOR or 'cmd:COMMAND'."
    ),
    idle_time: float = typer.Option(
        2.0, "--idle-time", help="Seconds of idle baseline before the runs (with --power)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the random input data."),
    as_json: bool = typer.Option(
        False, "--json", help="Print the full result (every sample) as JSON."
    ),
    csv_path: Path = typer.Option(
        None, "--csv", help="Also write one CSV row per model and target to this file."
    ),
    plot: Path = typer.Option(
        None, "--plot", help="Also draw latency distributions and latency vs size to this PNG."
    ),
    save: Path = typer.Option(
        None, "--save", help="Also write the JSON result to this file (for --compare later)."
    ),
    compare_with: Path = typer.Option(
        None, "--compare", help="A saved bench JSON: flag models and targets that got slower."
    ),
    tolerance: float = typer.Option(
        0.3,
        "--tolerance",
        help="With --compare: slower by more than this fraction (and "
        "beyond the noise) is a regression.",
    ),
    target_flags: dict[str, Any] | None = None,  # the targets' own runtime settings
) -> int:
    """Measure latency (and power, with a meter) of models on the CPU and Coral Edge TPU, one method for all.

    Warm-up, then at least --min-runs and --min-time per repeat, capped by --max-time; every sample is kept.

    Load time and the first inference (on the Edge TPU: the model upload) are reported apart.

    Targets that are unavailable here are skipped with the reason; the others still run.

    Exit codes: 7 when every target was unavailable, 8 when --compare found a regression.

    Examples:

      edgedeploy bench mobilenet_v1_0.25_128_quant.tflite

      edgedeploy bench -t cpu,coral --device usb:0 out/*_int8.tflite --plot b.png

      edgedeploy bench model.tflite --images photos/ --fps 30 --power hwmon:ina260

      edgedeploy bench model.tflite --save base.json

      edgedeploy bench model.tflite --compare base.json --tolerance 0.3
    """
    from edgedeploy.bench.baseline import compare, load_baseline
    from edgedeploy.bench.export import write_csv, write_json
    from edgedeploy.bench.harness import MeasurePlan
    from edgedeploy.bench.plot import write_plot
    from edgedeploy.bench.runner import BenchRequest, run_bench
    from edgedeploy.targets.contract import TargetOptions

    if not tolerance >= 0:
        raise UsageError("--tolerance must be 0 or more (0.3 = 30% slower is a regression)")
    if plot is not None and plot.suffix.lower() != ".png":
        raise UsageError(f"--plot {plot}: give a .png file name")
    # Every file this run writes is checked before minutes of measuring (read-only, a directory, no room).
    for option, path in (("--csv", csv_path), ("--save", save), ("--plot", plot)):
        if path is not None:
            check_output_path(path, option)
    if plot is not None:
        require("plots", "bench --plot")  # before minutes of measuring, not after
    baseline = (
        load_baseline(compare_with) if compare_with else None
    )  # fail before minutes of measuring
    plan = MeasurePlan(
        min_runs=min_runs,
        min_time_s=min_time,
        max_time_s=max_time,
        warmup_runs=warmup_runs,
        warmup_time_s=warmup_time,
        repeats=repeats,
        fps=fps,
    )
    options = TargetOptions.of(
        threads=flags.thread_counts(threads),
        xnnpack=not no_xnnpack,
        device=device,
        **(target_flags or {}),
    )
    request = BenchRequest(
        models=tuple(models),
        targets=tuple(target),
        target_options=options,
        plan=plan,
        images=images,
        power=power,
        idle_seconds=idle_time,
        seed=seed,
        compile=compile_missing,
        invoke_timeout=invoke_timeout,
    )
    files = [path for path in (csv_path, save, plot) if path is not None]
    with held_outputs(files):  # a second bench writing the same file is refused now, not after
        result = run_bench(request, progress=_progress)
        if baseline is not None:
            result.comparison = compare(result.to_dict(), baseline, str(compare_with), tolerance)
        data = result.to_dict()
        for path, writer in ((csv_path, write_csv), (save, write_json)):
            if path is not None:
                writer(data, path)
                note(f"wrote {path}")
        if plot is not None:
            if result.measured:
                write_plot(data, plot)
                note(f"wrote {plot}")
            else:
                note(f"no plot written to {plot}: nothing was measured")
    return emit(result, as_json, NAME)
