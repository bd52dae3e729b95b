"""`edgedeploy verify`: the same photos through the float reference, the CPU int8 model and the device."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from edgedeploy.cli.target_flags import device_option, target_option
from edgedeploy.report import emit

NAME = "verify"
NO_ARGS_IS_HELP = True


def command(
    model: Path = typer.Argument(
        ...,
        metavar="MODEL.tflite",
        help="The _int8.tflite (or its compiled _edgetpu.tflite) in an output folder of convert.",
    ),
    images: Path = typer.Option(
        ..., "--images", help="Folder of photos (jpg, png, ...; searched recursively)."
    ),
    target: str = target_option(
        "The accelerator that runs the compiled model: {names}.", "runtime"
    ),
    device: str = device_option("The device to run on ({devices}). Default: the first one."),
    min_cosine: float = typer.Option(
        0.99,
        "--min-cosine",
        help="A run whose outputs' cosine similarity to float is "
        "below this departs (exit 8) and int8 is compared layer by layer.",
    ),
    min_top1: float = typer.Option(
        0.9,
        "--min-top1",
        help="A class-score output whose top-1 agreement with float is "
        "below this share departs too.",
    ),
    layers: bool = typer.Option(
        False, "--layers", help="Compare int8 with float layer by layer even when it agrees."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    target_flags: dict[str, Any] | None = None,  # the target's own runtime settings
) -> int:
    """Check that the deployed model answers like the float model it came from.

    The photos go through the float reference (the ONNX beside the model, on ONNX Runtime), the int8
    model on the CPU and, where a device is present, the compiled model on it. Per output: top-1 and
    top-5 agreement, cosine similarity and max abs difference against float. Preprocessing and
    quantization come from the model's sidecar (<model>_int8.json), checked against the model first.

    When a run departs from float (cosine below --min-cosine, or top-1 agreement below
    --min-top1), names the first layer where the int8 activations diverge and what usually fixes
    it. Without a device, the device's column says why and shows no number.

    Exit codes: 0 agrees, 8 departs beyond a threshold, 4 bad input (no readable photo, a sidecar
    that does not match its model).

    Examples:

      edgedeploy verify out/mnv2/mobilenet_v2_1.0_224_int8.tflite --images photos/

      edgedeploy verify model_int8_edgetpu.tflite --images photos/ --device usb

      edgedeploy verify model_int8.tflite --images photos/ --layers --json
    """
    from edgedeploy.targets.contract import TargetOptions
    from edgedeploy.verify.verify import run_verify

    result = run_verify(
        model,
        images,
        target=target,
        options=TargetOptions.of(device=device, **(target_flags or {})),
        min_cosine=min_cosine,
        min_top1=min_top1,
        always_layers=layers,
    )
    return emit(result, as_json, NAME)
