"""Model and conversion options shared by `convert` and `compare`: one definition, one help text, one check."""

from __future__ import annotations

import typer

from edgedeploy.models.registry import check_resolution


def _checked_resolution(value: int | None) -> int | None:
    """0 and negative sizes are usage errors here, not "use the default" further down (0 is falsy)."""

    return None if value is None else check_resolution(value)


def resolution_option(help_text: str):
    return typer.Option(None, "--resolution", "-r", help=help_text, callback=_checked_resolution)


CALIBRATION = typer.Option(
    None,
    "--calibration",
    help="Folder of calibration images (jpg/png/bmp, searched "
    "recursively) \\[default: photos shipped with edgedeploy].",
)
FIX_ACTIVATIONS = typer.Option(
    False,
    "--fix-activations",
    help="Rewrite hard-swish / hard-sigmoid into ADD, RELU6 "
    "and MUL (same math) so the Edge TPU can map them.",
)
INPUT_SHAPE = typer.Option(
    None,
    "--input-shape",
    help="N,C,H,W for model files with dynamic dims or TorchScript, e.g. 1,3,224,224.",
)
PRESET = typer.Option(
    None,
    "--preset",
    help="How the model's input was normalised: imagenet, unit (inputs in "
    "[0,1]) or signed ([-1,1]) \\[default: a built-in's own; ImageNet, said so, for a model file].",
)
MEAN = typer.Option(
    None,
    "--mean",
    help="Per-channel mean, e.g. 0.485,0.456,0.406 or 123.7,116.3,103.5 (pixel units).",
)
STD = typer.Option(None, "--std", help="Per-channel std, e.g. 0.229,0.224,0.225 or 58.4,57.1,57.4.")
CHANNEL_ORDER = typer.Option(
    None,
    "--channel-order",
    help="rgb or bgr: the channel order the model expects \\[default: rgb].",
)
