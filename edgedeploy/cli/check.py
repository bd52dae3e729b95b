"""`edgedeploy check`: predict, explain and inspect Edge TPU operator mapping."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from edgedeploy.cli.target_flags import target_option
from edgedeploy.errors import EdgedeployError
from edgedeploy.report import emit

NAME = "check"
NO_ARGS_IS_HELP = True


def command(
    file: Path = typer.Argument(
        ...,
        metavar="FILE",
        help="An int8 .tflite, a compiled *_edgetpu.tflite, an .onnx model, "
        "or an edgetpu_compiler stdout capture / *_edgetpu.log.",
        show_default=False,
    ),
    target: str = target_option("The accelerator whose mapping to check: {names}.", "check"),
    as_json: bool = typer.Option(
        False,
        "--json",
        help="Print the report as JSON (schema: docs/check-schema.md in the "
        "installed edgedeploy package).",
    ),
    all_ops: bool = typer.Option(
        False, "--all-ops", help="List every op in the table, not only those that do not map."
    ),
    no_estimate: bool = typer.Option(
        False,
        "--no-estimate",
        help="Skip the latency estimate (the estimate command's, from the model file).",
    ),
    target_flags: dict[str, Any]
    | None = None,  # the target's own options (--compiler-version, ...)
) -> int:
    """Predict which operators the Edge TPU maps, which fall back to the CPU, why, where the graph is cut, and the fix.

    For a compiled *_edgetpu.tflite it reports what the compiler really did (and how the prediction compares);
    for an .onnx model it lints the patterns before conversion; for compiler output it parses the result.

    Exit codes: 0 every op maps; 3 some ops run on the CPU (or the model will not compile);
    4 unreadable input; 6 the compiler log shows a failed compilation.

    Examples:

      edgedeploy check model_int8.tflite

      edgedeploy check --json model_int8.tflite

      edgedeploy check model_int8_edgetpu.tflite

      edgedeploy check --compiler-version 15 model.onnx
    """
    from edgedeploy.targets.registry import call_capability

    flags = target_flags or {}
    report = call_capability(target, "check", file, all_ops=all_ops, **flags)
    if not no_estimate:
        # the model a compiled file was compiled from, if the target takes one, counts its MACs
        report.estimate = _estimate(target, file, report, flags.get("source"))
    return emit(report, as_json, NAME)


def _estimate(target: str, file: Path, report, source: Path | None) -> dict | None:
    """The latency estimate beside the mapping (edgedeploy estimate's brief), for a model the target can estimate."""
    from edgedeploy.targets.registry import call_capability, get_target

    if not get_target(target).has("estimate") or getattr(report, "kind", None) not in (
        "tflite",
        "compiled",
    ):
        return None
    try:
        return call_capability(target, "estimate", file, source=source).brief().to_dict()
    except EdgedeployError as exc:
        return {
            "label": "estimated",
            "error": exc.message,
            "lines": [f"no latency estimate: {exc.message}"],
        }
