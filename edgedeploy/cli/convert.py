"""`edgedeploy convert`: PyTorch / ONNX / built-in model -> full-int8 TFLite for the Edge TPU."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from edgedeploy.cli import model_flags
from edgedeploy.cli.target_flags import target_option
from edgedeploy.extras import require
from edgedeploy.models.registry import BUILTINS, format_alpha
from edgedeploy.report import emit

NAME = "convert"
NO_ARGS_IS_HELP = True


def default_output_dir(spec: str, alpha: float, resolution: int | None) -> Path:
    from edgedeploy.converters.sources import looks_like_path

    if spec in BUILTINS and not looks_like_path(spec):
        size = resolution or BUILTINS[spec].default_resolution
        return Path("edgedeploy-out") / f"{spec}_{format_alpha(alpha)}_{size}"
    return Path("edgedeploy-out") / Path(spec).stem


def compiler_options(**given) -> dict:
    """Only what the user set: the rest stays the compiler's default."""
    return {key: value for key, value in given.items() if value not in (None, False)}


def command(
    model: str = typer.Argument(
        ...,
        metavar="MODEL",
        help="A .onnx file, a TorchScript (.pt) or torch.export (.pt2) file, "
        "or a built-in model name (see 'edgedeploy models').",
    ),
    target: str = target_option("The accelerator to convert for: {names}.", "convert_step"),
    output_dir: Path = typer.Option(
        None, "--output-dir", "-o", help="Where the results go \\[default: edgedeploy-out/<model>]."
    ),
    alpha: float = typer.Option(
        1.0, "--alpha", help="Width multiplier of a built-in model, in (0, 2]."
    ),
    resolution: int = model_flags.resolution_option(
        "Input size (rho) of a built-in model \\[default: 224]."
    ),
    weights: Path = typer.Option(
        None, "--weights", help="Load this state dict into the built-in model."
    ),
    pretrained: bool = typer.Option(
        False, "--pretrained", help="Download timm's pretrained weights (needs internet)."
    ),
    seed: int = typer.Option(
        None,
        "--seed",
        help=r"Seed of a built-in's random weights \[default: derived from the name, --alpha and "
        "--resolution, so the same command writes the same model].",
    ),
    num_classes: int = typer.Option(
        None,
        "--num-classes",
        help=r"Classes of a built-in's head, for fine-tuned --weights \[default: 1000, or what "
        "--weights holds].",
    ),
    input_shape: str = model_flags.INPUT_SHAPE,
    trust_pickle: bool = typer.Option(
        False,
        "--trust-pickle",
        help="Load a whole model saved with torch.save(model). Unpickling runs code named in the "
        "file: only for files you trust.",
    ),
    calibration: Path = model_flags.CALIBRATION,
    calibration_count: int = typer.Option(
        None,
        "--calibration-count",
        help="Calibrate on this many images; the rest "
        "(up to 32) are held back to measure fidelity.",
    ),
    preset: str = model_flags.PRESET,
    mean: str = model_flags.MEAN,
    std: str = model_flags.STD,
    channel_order: str = model_flags.CHANNEL_ORDER,
    per_tensor: bool = typer.Option(
        False, "--per-tensor", help="Per-tensor weight quantization (default per-channel)."
    ),
    fix_activations: bool = model_flags.FIX_ACTIVATIONS,
    io: str = typer.Option(
        None,
        "--io",
        metavar="int8|uint8",
        help="Input and output type of the int8 model \\[default: int8; uint8 with --raw-input].",
    ),
    raw_input: bool = typer.Option(
        False,
        "--raw-input",
        help="Move the mean/std normalization into the model: "
        "its uint8 input is the camera's RGB pixels as they come (scale 1/255).",
    ),
    labels: Path = typer.Option(
        None,
        "--labels",
        help="Class names, one per line, for the sidecar and infer.py "
        "\\[default: ImageNet names for built-in models, none otherwise].",
    ),
    opset: int = typer.Option(17, "--opset", help="ONNX opset for PyTorch export (13..20)."),
    outputs: str = typer.Option(
        None,
        "--outputs",
        metavar="NAME,...",
        help="Cut the ONNX graph so these tensors are its outputs (drop a detector's box decoding "
        "and NMS, to run on the host); check of the ONNX file names them.",
    ),
    no_compile: bool = typer.Option(
        False,
        "--no-compile",
        help="Stop after the int8 model and the predicted mapping "
        "(exit 0 even when no Edge TPU compiler is installed).",
    ),
    force: bool = typer.Option(
        False, "--force", help="Overwrite results already in the output directory."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print the report as JSON (it is always saved as report.json)."
    ),
    target_flags: dict[str, Any] | None = None,  # the target's own options (the compiler's -m, ...)
) -> int:
    """Convert a model to a calibrated full-int8 TFLite model for the Edge TPU.

    Stages: PyTorch -> ONNX -> TensorFlow -> float32 and int8 TFLite; fidelity on held-back images; the
    predicted Edge TPU mapping; then edgetpu_compiler when it is installed (or in the Docker image).
    The output directory gets the ONNX, both .tflite files, the compiled model, report.json, the
    I/O sidecar <model>_int8.json (how to feed the model and read its output) and infer.py (a
    runnable example: python infer.py photo.jpg).

    Exit codes: 0 done, 5 no Edge TPU compiler (the int8 model and the prediction are still written;
    --no-compile makes that a success), 6 the compiler failed.

    Examples:

      edgedeploy convert --target edgetpu mobilenet_v2

      edgedeploy convert mobilenet_v3_small --alpha 0.5 -r 160 --fix-activations

      edgedeploy convert model.onnx --calibration photos/ -o out/model

      edgedeploy convert model.onnx --raw-input --labels classes.txt
    """
    from edgedeploy.converters.context import ConvertOptions
    from edgedeploy.converters.pipeline import convert
    from edgedeploy.converters.preprocessing_options import parse_preprocessing
    from edgedeploy.converters.sources import SourceSpec, parse_input_shape
    from edgedeploy.targets.registry import get_target

    require("convert", NAME)
    options = ConvertOptions(
        target=get_target(target, "convert_step").name,
        opset=opset,
        calibration_dir=calibration,
        calibration_count=calibration_count,
        per_tensor=per_tensor,
        fix_activations=fix_activations,
        input_shape=parse_input_shape(input_shape),
        preprocessing=parse_preprocessing(preset, mean, std, channel_order),
        compile=not no_compile,
        io=io,
        raw_input=raw_input,
        labels=labels,
        outputs=tuple(n.strip() for n in outputs.split(",") if n.strip()) if outputs else None,
        compiler_options=compiler_options(**(target_flags or {})),
    )
    directory = output_dir or default_output_dir(model, alpha, resolution)
    source = SourceSpec(
        model,
        alpha,
        resolution,
        weights,
        pretrained,
        seed=seed,
        num_classes=num_classes,
        trust_pickle=trust_pickle,
    )
    report = convert(source, directory, options, force=force)
    return emit(report, as_json, NAME)
