"""`edgedeploy limits`: the largest input size and width that still map fully, stay on chip and compile."""

from __future__ import annotations

from pathlib import Path

import typer

NAME = "limits"
NO_ARGS_IS_HELP = True
CLOCKS = ("std", "max")


def _check_host(target: str, host: str) -> None:
    """An unknown host profile fails before any work (the estimate's own list of profiles)."""
    from edgedeploy.errors import UsageError
    from edgedeploy.targets.registry import call_capability, get_target

    if not get_target(target, "limits").has("estimate"):
        return
    names = [
        h["name"] for h in call_capability(target, "estimate", None, host="list").to_dict()["hosts"]
    ]
    if host not in names:
        raise UsageError(
            f"unknown host profile {host!r}; profiles: {', '.join(names)}",
            "edgedeploy estimate --host list describes them",
        )


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
    target: str = typer.Option(
        "edgetpu", "--target", "-t", help="The accelerator: edgetpu (alias coral)."
    ),
    # Options of the target's own estimate: unset, the target applies its defaults; a target without
    # them is not handed them (call_capability refuses an option a target does not take).
    host: str = typer.Option(
        None,
        "--host",
        help="Host profile of the latency estimate (see 'edgedeploy estimate --host list') "
        "\\[default: the target's].",
    ),
    clock: str = typer.Option(
        None, "--clock", help="Clock of the estimate: std or max \\[default: the target's]."
    ),
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
    from edgedeploy.errors import UsageError
    from edgedeploy.extras import require
    from edgedeploy.limits.run import run_limits
    from edgedeploy.report import emit

    require("convert", NAME)  # it builds (and confirms by converting) the model at each point
    if clock is not None and clock not in CLOCKS:
        raise UsageError(f"--clock must be std or max, not {clock!r}")
    if host is not None:
        _check_host(target, host)
    if exhaustive and no_confirm:
        raise UsageError(
            "--exhaustive converts every point; --no-confirm converts none: choose one"
        )
    result = run_limits(
        model,
        alphas=alphas,
        resolutions=resolutions,
        target=target,
        host=host,
        clock=clock,
        output_dir=output_dir,
        confirm_points=not no_confirm,
        exhaustive=exhaustive,
        force=force,
    )
    return emit(result, as_json, NAME)
