"""`edgedeploy limits`: the largest input size and width that still map fully, stay on chip and compile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from edgedeploy.cli.target_flags import target_option
from edgedeploy.errors import UsageError
from edgedeploy.extras import require
from edgedeploy.report import emit

NAME = "limits"
NO_ARGS_IS_HELP = True


def command(
    model: str = typer.Argument(
        ...,
        metavar="MODEL",
        help="A built-in model name (see 'edgedeploy models') or an "
        "ONNX file whose height and width are dynamic.",
    ),
    alphas: str = typer.Option(
        None,
        "--alphas",
        help="Width multipliers of a built-in: 0.5,1.0 or 0.5..1.5:0.25 "
        "\\[default: its published alphas].",
    ),
    resolutions: str = typer.Option(
        None,
        "--resolutions",
        "-r",
        help="Input sizes: 224, 96,160,224, 96..1024 "
        "(10 sizes) or 96..1024:64 \\[default: 96..1024].",
    ),
    target: str = target_option("The accelerator: {names}.", "limits"),
    exhaustive: bool = typer.Option(
        False,
        "--exhaustive",
        help="Convert every point (slow: ~15-60 s each) "
        "instead of the limit and the first point past it.",
    ),
    no_confirm: bool = typer.Option(
        False, "--no-confirm", help="Only the fast analysis: no real conversion."
    ),
    output_dir: Path = typer.Option(
        None,
        "--output-dir",
        "-o",
        help="Where limits.json, limits.png and the "
        "confirming conversions go \\[default: edgedeploy-out/<model>_limits].",
    ),
    force: bool = typer.Option(
        False,
        "--force",
        help="Overwrite limits.json and limits.png already there, and "
        "convert again instead of reusing earlier confirmations.",
    ),
    as_json: bool = typer.Option(
        False,
        "--json",
        help="Print the result as JSON (it is always saved as "
        "limits.json): every point, the limits, the cliffs, the confirmations.",
    ),
    # The target's own options (Edge TPU: --host and --clock of its estimate), checked when parsed
    target_flags: dict[str, Any] | None = None,
) -> int:
    """Find the largest input size (per alpha) that maps 100% to the Edge TPU, keeps every parameter in
    the on-chip memory and keeps its activations within sizes seen compiling; where each cliff starts,
    which op or tensor causes it, and the fix.

    Every point is analysed from shapes and the mapping rules, without a TensorFlow conversion (a
    forecast of the int8 TFLite graph; milliseconds per point). The reported limit and the first point
    past it are then converted for real and checked; a disagreement is reported and the converted
    truth is used. Latency is estimated (edgedeploy estimate's method), never measured here.

    Exit codes: 0 done; 1 a confirming conversion failed; 2 bad option, unknown model, empty range,
    or other sizes asked of a model with a fixed input size; 4 unreadable model file.

    Examples:

      edgedeploy limits mobilenet_v2 --alphas 0.5,0.75,1.0,1.4

      edgedeploy limits mobilenet_edgetpu -r 96..1024:32 --no-confirm

      edgedeploy limits model.onnx -r 128..640 --json
    """
    from edgedeploy.limits.run import run_limits

    require("convert", NAME)  # it builds (and confirms by converting) the model at each point
    if exhaustive and no_confirm:
        raise UsageError(
            "--exhaustive converts every point; --no-confirm converts none: choose one"
        )
    result = run_limits(
        model,
        alphas=alphas,
        resolutions=resolutions,
        target=target,
        target_options=target_flags or {},
        output_dir=output_dir,
        confirm_points=not no_confirm,
        exhaustive=exhaustive,
        force=force,
    )
    return emit(result, as_json, NAME)
