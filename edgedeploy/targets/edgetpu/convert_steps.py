"""The Edge TPU end of `convert`: predict the mapping of the int8 model, then compile it.

A missing compiler is not a failed conversion: the int8 model and the prediction are still delivered,
the report says exactly what is missing and how to get it, and the exit code says so (5); --no-compile
makes stopping after int8 a plain success. A compiler that fails (6) keeps its logs, never a model.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from edgedeploy.targets.edgetpu import convert_compile as tflite_to_edgetpu
from edgedeploy.converters.artifacts import TFLiteModel
from edgedeploy.converters.context import StageContext
from edgedeploy.converters.progress import StageProgress
from edgedeploy.errors import ExitCode, ToolMissingError
from edgedeploy.targets.edgetpu.compiler.compile import STDERR_FILE, STDOUT_FILE, CompilationFailedError

COMPILER_FILES = ("*_edgetpu.tflite", "*_edgetpu.log", STDOUT_FILE, STDERR_FILE)


def predict(int8: TFLiteModel, context: StageContext, progress: StageProgress) -> dict[str, Any]:
    from edgedeploy.targets.edgetpu.check import check_model

    with progress.stage("edgetpu-predict") as timer:
        report = check_model(int8.path, min_runtime=context.options.compiler_options.get("min_runtime"))
    context.record("edgetpu-predict", seconds=round(timer.seconds, 3))
    prediction = report.to_dict()
    prediction["path"] = int8.path.name  # the scratch path means nothing to the user
    return prediction


def compile_int8(int8: TFLiteModel, context: StageContext, progress: StageProgress,
                 staging: Path) -> tuple[dict[str, Any], ExitCode]:
    """Run the compile stage; copy what the compiler wrote into ``staging``; say what happened."""
    if not context.options.compile:
        return {"status": "skipped", "reason": "--no-compile: stopped after the int8 model"}, ExitCode.OK
    try:
        with progress.stage(tflite_to_edgetpu.NAME) as timer:
            try:
                compiled = tflite_to_edgetpu.run(int8, context)
            except ToolMissingError as exc:
                timer.outcome = "not run: no Edge TPU compiler found"
                missing = exc
        if timer.outcome:
            return {"status": "not-run", "reason": missing.message, "how_to_get_it": missing.hint}, missing.exit_code
    except CompilationFailedError as exc:
        _copy_compiler_files(context.workdir, staging)
        return {"status": "failed", "reason": exc.report.failure.reason,
                "report": context.records.get(tflite_to_edgetpu.NAME, {})}, exc.exit_code
    _copy_compiler_files(context.workdir, staging)
    return {"status": "compiled", "model": compiled.path.name,
            "report": context.records.get(tflite_to_edgetpu.NAME, {})}, ExitCode.OK


def _copy_compiler_files(workdir: Path, staging: Path) -> None:
    for pattern in COMPILER_FILES:
        for path in workdir.glob(pattern):
            shutil.copyfile(path, staging / path.name)
