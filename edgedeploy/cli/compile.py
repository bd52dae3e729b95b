"""`edgedeploy compile`: run the real Edge TPU compiler on existing int8 TFLite models."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from edgedeploy.cli import compiler_flags as flags
from edgedeploy.report import emit, stderr

NAME = "compile"
NO_ARGS_IS_HELP = True


def command(
    models: list[Path] = typer.Argument(
        ...,
        metavar="MODEL.tflite",
        show_default=False,
        help="Full-int8 TFLite model(s). Several are co-compiled: they share "
        "the Edge TPU's on-chip parameter cache.",
    ),
    output_dir: Path = typer.Option(
        None,
        "--output-dir",
        "-o",
        metavar="DIR",
        help="Where the compiled models, the compiler's logs and report.json go "
        "\\[default: edgedeploy-out/<model>-edgetpu].",
    ),
    min_runtime: int = flags.MIN_RUNTIME,
    multiple_subgraphs: bool = flags.MULTIPLE_SUBGRAPHS,
    segments: int = flags.SEGMENTS,
    intermediate_tensors: str = typer.Option(
        None,
        "--intermediate-tensors",
        "-i",
        metavar="T1,T2",
        help="End the Edge TPU region at these tensors (comma-separated "
        "names); what follows runs on the CPU.",
    ),
    search_delegate: bool = typer.Option(
        False,
        "--search-delegate",
        "-d",
        help="If compiling fails, search back for the largest part of the graph "
        "that compiles (compiler 16).",
    ),
    search_step: int = typer.Option(
        None,
        "--search-step",
        "-k",
        metavar="K",
        help="Operators dropped per --search-delegate step (compiler default 1).",
    ),
    compiler_timeout: int = typer.Option(
        None,
        "--compiler-timeout",
        metavar="SECONDS",
        help="The compiler's own limit per compilation attempt (compiler 16; its default is 180).",
    ),
    compiler: str = flags.COMPILER,
    timeout: float = flags.TIMEOUT,
    target: str = typer.Option(
        "edgetpu", "--target", "-t", help="The accelerator to compile for (alias coral)."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print the report as JSON (the same as report.json)."
    ),
    force: bool = typer.Option(
        False, "--force", help="Write into an output directory that already holds results."
    ),
) -> int:
    """Compile int8 TFLite models for the Edge TPU with the real edgetpu_compiler.

    Where the compiler is looked for: --compiler, $EDGEDEPLOY_EDGETPU_COMPILER, PATH, then the Docker image.

    The image (see docker/README.md) is used when a Docker engine answers. Nothing is ever installed.

    The compiler's stdout, stderr and .log are kept; a compiled model is written only when compiling succeeded.

    The compiler's result per operator is shown beside edgedeploy's prediction, with every disagreement.

    The one-letter options are the compiler's own (-m -a -n -i -d -k), for those who know them;
    -t is --target, as in every command (the compiler's -t is --compiler-timeout).

    Exit codes: 0 all operators mapped, 3 some run on the CPU, 5 no compiler, 6 the compiler failed.

    Examples:

      edgedeploy compile model_int8.tflite --output-dir out/

      edgedeploy compile detector.tflite classifier.tflite -o out/ --json

      edgedeploy compile big.tflite -n 2 --compiler /opt/coral/edgetpu_compiler
    """

    from edgedeploy.targets.registry import call_capability

    report = call_capability(
        target,
        "compile",
        models,
        output_dir,
        force=force,
        min_runtime=min_runtime,
        multiple_subgraphs=multiple_subgraphs,
        segments=segments,
        search_delegate=search_delegate,
        search_step=search_step,
        intermediate_tensors=tuple(t.strip() for t in intermediate_tensors.split(","))
        if intermediate_tensors
        else (),
        compiler_timeout=compiler_timeout,
        compiler=compiler,
        timeout=timeout,
    )
    # A failed compile (exit 6) says so on stderr with or without --json: the report's table on stdout
    # may be piped away, the error line never is.
    if getattr(report, "failure", None) is not None:
        stderr.print(
            f"[bold red]error:[/bold red] Edge TPU compilation failed: {escape(report.failure.reason)}",
            markup=True,
            highlight=False,
            soft_wrap=True,
        )
    return emit(report, as_json, NAME)
