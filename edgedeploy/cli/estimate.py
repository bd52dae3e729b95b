"""`edgedeploy estimate`: Edge TPU latency without a device, from the model file and published measurements."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import typer

from edgedeploy.cli.model_flags import resolution_option
from edgedeploy.cli.target_flags import target_option
from edgedeploy.errors import UsageError
from edgedeploy.extras import require
from edgedeploy.report import emit, note

NAME = "estimate"
NO_ARGS_IS_HELP = True


def _is_tflite(model: str) -> bool:
    """Whether MODEL is a TFLite file; a file that cannot be read (a FIFO, a symlink loop, a sparse
    8 GiB .onnx) is refused here, before any framework loads."""
    from edgedeploy.converters.sources import check_model_file, looks_like_path
    from edgedeploy.tflite.files import is_tflite_file

    path = Path(model)
    if looks_like_path(model) or os.path.lexists(path):
        check_model_file(path)

    return path.suffix.lower() == ".tflite" or is_tflite_file(path)


def _converted(
    model: str,
    folder: Path,
    target: str,
    alpha: float,
    resolution: int | None,
    input_shape: str | None,
) -> Path:
    """An ONNX file or a built-in name, converted to full-int8 TFLite with convert's defaults (no compile)."""

    require("convert", f"estimate of {model} (not a .tflite: it is converted first)")
    from edgedeploy.converters.context import ConvertOptions
    from edgedeploy.converters.pipeline import convert
    from edgedeploy.converters.sources import SourceSpec, parse_input_shape

    options = ConvertOptions(
        target=target, compile=False, input_shape=parse_input_shape(input_shape)
    )
    report = convert(SourceSpec(model, alpha, resolution), folder / "converted", options)
    note(
        f"{model} converted to full-int8 TFLite with convert's defaults; to keep it:",
        f"edgedeploy convert {model}",
    )
    return report.output_dir / report.outputs["int8_tflite"]


def command(
    model: list[str] = typer.Argument(
        None,
        help="A full-int8 .tflite, a compiled *_edgetpu.tflite, an .onnx "
        "file or a built-in model name (converted first); with --calibrate: RESULTS files.",
        show_default=False,
    ),
    target: str = target_option("The accelerator to estimate for: {names}.", "estimate"),
    alpha: float = typer.Option(
        1.0, "--alpha", help="Width multiplier of a built-in model, in (0, 2]."
    ),
    resolution: int | None = resolution_option(
        "Input size (rho) of a built-in model \\[default: 224]."
    ),
    input_shape: str | None = typer.Option(
        None, "--input-shape", help="N,C,H,W for an ONNX input with dynamic dims."
    ),
    as_json: bool = typer.Option(
        False,
        "--json",
        help="Print the estimate as JSON: latency_ms, latency_ms_low, "
        "latency_ms_high, the terms and their sources.",
    ),
    target_flags: dict[str, Any] | None = None,  # the target's own options (--host, --clock, ...)
) -> int:
    """Estimate the Edge TPU latency of a model without a device: steady state with a range, the
    first-inference extra, and the breakdown (fixed cost, compute, transfer, streamed parameters, CPU-side ops).

    Which ops run on the Edge TPU comes from the compiled file itself, or from edgedeploy's own mapping
    prediction for an uncompiled model. The CPU-side ops are priced by a per-op cost model at the host's
    rate (nothing is timed here, so the machine's load does not change the answer). The constants are
    fitted to published measurements (--host list shows where each comes from); --calibrate refits a
    host's constants to your own device's measurements. Everything printed is an estimate, labelled so.

    Exit codes: 0 estimated; 2 unknown host profile or option; 4 unreadable input or not a full-int8 model.

    Examples:

      edgedeploy estimate model_int8.tflite

      edgedeploy estimate model_int8_edgetpu.tflite --host rpi4-usb3 --clock std

      edgedeploy estimate mobilenet_v2 --alpha 0.5 -r 160 --json

      edgedeploy estimate --host list

      edgedeploy estimate --calibrate pi.json --host-out my-pi.json
    """
    from edgedeploy.targets.registry import call_capability

    flags = target_flags or {}
    # What the target answers without a model (Edge TPU: --host list, --calibrate RESULTS), if asked
    results = {"results": tuple(map(Path, model))} if model else {}
    answer = call_capability(target, "estimate", None, **results, **flags)
    if answer is not None:
        return emit(answer, as_json, NAME)
    if not model:
        raise UsageError("give a MODEL to estimate", "edgedeploy estimate --help")
    if len(model) > 1:
        raise UsageError(
            f"estimate takes one MODEL (got {len(model)})", "several results go with --calibrate"
        )
    (given_model,) = model
    with tempfile.TemporaryDirectory(prefix="edgedeploy-estimate-") as folder:
        given = _is_tflite(given_model)
        path = (
            Path(given_model)
            if given
            else _converted(given_model, Path(folder), target, alpha, resolution, input_shape)
        )
        report = call_capability(
            target,
            "estimate",
            path,
            label=None if given else f"{given_model} (converted: {path.name})",
            **flags,
        )
    return emit(report, as_json, NAME)
