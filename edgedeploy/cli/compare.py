"""`edgedeploy compare`: the accelerator-aware model study in one command."""

from __future__ import annotations

from pathlib import Path

import typer

from edgedeploy.cli import bench_flags as flags
from edgedeploy.cli import model_flags
from edgedeploy.cli.target_flags import target_option
from edgedeploy.errors import UsageError
from edgedeploy.extras import require
from edgedeploy.report import emit

NAME = "compare"
NO_ARGS_IS_HELP = True


def command(
    specs: list[str] = typer.Argument(
        ...,
        metavar="SPEC",
        help="Built-in models with optional alphas "
        "(mobilenet_v3_small:0.2,0.5) or model files (.onnx, .pt, .pt2).",
    ),
    target: list[str] = target_option(
        "Bench targets, comma-separated: {names}. Unavailable ones are listed with the reason.",
        "runtime",
        ["cpu"],
    ),
    resolution: str = typer.Option(
        None,
        "--resolution",
        "-r",
        help="Input sizes of the built-ins, e.g. 96,224 \\[default: each model's own, 224].",
    ),
    output_dir: Path = typer.Option(
        Path("edgedeploy-compare"),
        "--output-dir",
        "-o",
        help="Study directory: reports, and cache/ with every conversion (re-runs reuse it).",
    ),
    weights: list[str] = typer.Option(
        [],
        "--weights",
        help="State dict for a built-in: FILE (a single built-in) "
        "or NAME[:ALPHA]=FILE; repeatable.",
    ),
    pretrained: bool = typer.Option(
        False, "--pretrained", help="timm's published weights (needs internet)."
    ),
    eval_dir: Path = typer.Option(
        None,
        "--eval",
        help="Image folder with one sub-folder per class: top-1 of the "
        "float and int8 models (needs --weights or --pretrained for built-ins).",
    ),
    labels: Path = typer.Option(
        None,
        "--labels",
        help="With --eval: label file, line N = output N; sub-folders "
        "are matched by name. Default: sorted sub-folder names are outputs 0, 1, ...",
    ),
    input_shape: str = model_flags.INPUT_SHAPE,
    calibration: Path = model_flags.CALIBRATION,
    fix_activations: bool = model_flags.FIX_ACTIVATIONS,
    preset: str = model_flags.PRESET,
    mean: str = model_flags.MEAN,
    std: str = model_flags.STD,
    channel_order: str = model_flags.CHANNEL_ORDER,
    threads: str = typer.Option(
        None, "--threads", help="CPU thread counts to measure, e.g. 1,2 \\[default: all cores]."
    ),
    min_runs: int = flags.MIN_RUNS,
    min_time: float = flags.MIN_TIME,
    max_time: float = flags.MAX_TIME,
    repeats: int = flags.REPEATS,
    recommend: bool = typer.Option(
        False, "--recommend", help="Name the best model under the constraints and why."
    ),
    max_latency_ms: float = typer.Option(
        None, "--max-latency-ms", help="--recommend: p90 latency limit (ms)."
    ),
    max_size_mb: float = typer.Option(
        None, "--max-size-mb", help="--recommend: int8 file size limit (MiB)."
    ),
    recommend_target: str = typer.Option(
        None,
        "--recommend-target",
        help="--recommend for this target \\[default: the first --target].",
    ),
    jobs: int = typer.Option(
        None,
        "--jobs",
        "-j",
        help="Conversions at once, each in its own worker process; "
        "benchmarks wait until all are done and run one at a time \\[default: from cores and "
        "memory, one per core and 2 GiB].",
    ),
    ray: str = typer.Option(
        None,
        "--ray",
        metavar="ADDRESS",
        help="Convert and check as Ray tasks on an existing Ray "
        "cluster: auto (the cluster this machine is in), HOST:PORT, or ray://HOST:10001. "
        "Needs: pip install 'edgedeploy\\[ray]'.",
    ),
    force: bool = typer.Option(
        False, "--force", help="Use an output directory that holds other files."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print results.json instead of the table."),
) -> int:
    """Compare models for the CPU and the Edge TPU: size, MACs, mapping, latency, accuracy.

    Each model x alpha x resolution is converted to full-int8 TFLite (cached in DIR/cache by content, so a
    re-run or an interrupted run only does new work), checked for the Edge TPU (predicted mapping),
    benchmarked on each available target and, with --eval, scored for top-1 accuracy.

    Conversions run in --jobs worker processes (or as Ray tasks with --ray); benchmarks run one at a time,
    after the last conversion, so no conversion disturbs a measurement.

    Writes DIR/results.json, results.csv, report.md, report.html (self-contained) and report.png. A model
    that fails shows its error in the table and the others still run (exit 1 at the end).

    --recommend: best = the highest int8 top-1 among the models within --max-latency-ms (p90) and
    --max-size-mb when all were evaluated, else the most MACs (a stand-in, and it says so); for the Edge TPU
    only models predicted to map every op, and without a device its estimated latency (upper end of the
    range, labelled estimated). A ruled-out model lists every limit it breaks.

    Examples:

      edgedeploy compare mobilenet_v2:0.5,1.0 mobilenet_edgetpu -r 96,224

      edgedeploy compare mobilenet_v3_small mobilenet_v3_small_minimal -t edgetpu

      edgedeploy compare mobilenet_v2:0.35,0.5,1.0 --recommend --max-latency-ms 15

      edgedeploy compare mobilenet_v2 --weights w.pth --eval val/ --labels l.txt

      edgedeploy compare mobilenet_v2:0.5,1.0 -r 96,224 --ray ray://head:10001
    """
    from edgedeploy.compare import CompareRequest, Constraints, parse_resolutions, run_compare

    require("convert", NAME)  # every point is a conversion (--ray too: the plan is made here)
    constraints = None
    if recommend:
        from edgedeploy.targets.registry import parse_target_names

        chosen = parse_target_names(recommend_target or target)[0]
        constraints = Constraints(chosen, max_latency_ms, max_size_mb)
        for value, flag in ((max_latency_ms, "--max-latency-ms"), (max_size_mb, "--max-size-mb")):
            if value is not None and not value > 0:
                raise UsageError(f"{flag} must be more than 0")
    elif max_latency_ms is not None or max_size_mb is not None or recommend_target is not None:
        raise UsageError(
            "--max-latency-ms, --max-size-mb and --recommend-target go with --recommend"
        )
    request = CompareRequest(
        specs=tuple(specs),
        output_dir=output_dir,
        targets=tuple(target),
        resolutions=tuple(r for r in parse_resolutions(resolution) if r is not None),
        weights=tuple(weights),
        pretrained=pretrained,
        convert_options=_convert_options(
            calibration, fix_activations, input_shape, (preset, mean, std, channel_order)
        ),
        target_options=_target_options(flags.thread_counts(threads)),
        plan=_plan(min_runs, min_time, max_time, repeats),
        eval_dir=eval_dir,
        labels=labels,
        constraints=constraints,
        force=force,
        jobs=jobs,
        ray_address=ray,
    )
    return emit(run_compare(request), as_json, NAME)


def _convert_options(
    calibration: Path | None,
    fix_activations: bool,
    input_shape: str | None,
    preprocessing: tuple[str | None, str | None, str | None, str | None],
):
    from edgedeploy.converters.context import ConvertOptions
    from edgedeploy.converters.preprocessing_options import parse_preprocessing
    from edgedeploy.converters.sources import parse_input_shape

    return ConvertOptions(
        calibration_dir=calibration,
        fix_activations=fix_activations,
        compile=False,
        input_shape=parse_input_shape(input_shape),
        preprocessing=parse_preprocessing(*preprocessing),
    )


def _target_options(threads: tuple[int, ...] | None):
    from edgedeploy.bench import TargetOptions

    return TargetOptions(threads=threads)  # None: run_compare's default


def _plan(min_runs: int, min_time: float, max_time: float, repeats: int):
    from edgedeploy.bench import MeasurePlan

    return MeasurePlan(min_runs=min_runs, min_time_s=min_time, max_time_s=max_time, repeats=repeats)
