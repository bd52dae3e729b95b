"""`edgedeploy compile`: run the real Edge TPU compiler on existing int8 TFLite models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from edgedeploy.cli.target_flags import target_option
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
        "\\[default: edgedeploy-out/<model>-<target>].",
    ),
    target: str = target_option("The accelerator to compile for: {names}.", "compile"),
    as_json: bool = typer.Option(
        False, "--json", help="Print the report as JSON (the same as report.json)."
    ),
    force: bool = typer.Option(
        False, "--force", help="Write into an output directory that already holds results."
    ),
    target_flags: dict[str, Any]
    | None = None,  # the target's own options (the compiler's -m, -a, ...)
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

    from edgedeploy.targets.registry import call_capability, get_target

    report = call_capability(
        target, "compile", models, output_dir, force=force, **(target_flags or {})
    )
    # A failed compile (exit 6) says so on stderr with or without --json: the report's table on stdout
    # may be piped away, the error line never is.
    if getattr(report, "failure", None) is not None:
        stderr.print(
            f"[bold red]error:[/bold red] {escape(get_target(target).column_name)} compilation failed: "
            f"{escape(report.failure.reason)}",
            markup=True,
            highlight=False,
            soft_wrap=True,
        )
    return emit(report, as_json, NAME)
