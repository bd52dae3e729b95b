"""Last stage: int8 TFLite -> Edge TPU model, with the real ``edgetpu_compiler``.

Requires: a full-int8 TFLite file on disk.
Ensures: ``<stem>_edgetpu.tflite`` (a real TFLite file written by the compiler) and its
``<stem>_edgetpu.log`` in the output folder, plus the compiler's stdout/stderr.
Raises ``ToolMissingError`` (exit 5) when no compiler can be found, with what is missing and how to get
it; ``CompilationFailedError`` (a ``CompilerError``, exit 6) when the compiler fails, carrying the
report; the compiler's logs are then in the output folder and no ``_edgetpu.tflite`` is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edgedeploy.converters.artifacts import EdgeTPUModel, TFLiteModel
from edgedeploy.errors import UsageError
from edgedeploy.targets.edgetpu.compiler.report import CompileReport
from edgedeploy.targets.edgetpu.compiler.compile import CompilationFailedError, compile_models
from edgedeploy.targets.edgetpu.compiler.options import CompileOptions

NAME = "edgetpu-compile"
REQUIRES = TFLiteModel
ENSURES = EdgeTPUModel


def compile_stage(model: TFLiteModel, options: CompileOptions, out_dir: Path) -> tuple[EdgeTPUModel, CompileReport]:
    if model.quantization != "int8":
        raise UsageError(f"{model.path.name} is a {model.quantization} model; the Edge TPU needs full int8")
    report = compile_models([model.path], out_dir, options)
    if report.failure is not None:
        raise CompilationFailedError(report)
    result = report.models[0]
    return EdgeTPUModel(path=result.compiled[0], log_path=result.log, source=model), report


def options_from(values: dict[str, Any]) -> CompileOptions:
    """``ConvertOptions.compiler_options`` (CompileOptions field names) -> CompileOptions."""
    known = set(CompileOptions.__dataclass_fields__)
    unknown = sorted(set(values) - known)
    if unknown:
        raise UsageError(f"unknown compiler option(s): {', '.join(unknown)}")
    values = dict(values)
    if "intermediate_tensors" in values:
        values["intermediate_tensors"] = tuple(values["intermediate_tensors"] or ())
    return CompileOptions(**values)


def run(model: TFLiteModel, context: Any) -> EdgeTPUModel:
    """Pipeline entry (``StageContext``): compile into the stage's working folder, record the report."""
    try:
        compiled, report = compile_stage(model, options_from(context.options.compiler_options), context.workdir)
    except CompilationFailedError as exc:
        context.record(NAME, **exc.report.to_dict())
        raise
    context.record(NAME, **report.to_dict())
    for result in report.models:
        for line in result.warnings():
            context.note(f"edgetpu compile: {line}")
    return compiled
