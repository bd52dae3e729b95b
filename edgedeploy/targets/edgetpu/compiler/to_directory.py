"""``edgedeploy compile``: compile int8 models into an output directory, all or nothing.

The compiled models, the compiler's stdout, stderr and ``.log`` files and ``report.json`` are staged and
moved into the output directory together; results already there are not overwritten without --force.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from edgedeploy.files import require_absolute
from edgedeploy.outputs import atomic_write_text, staged_directory
from edgedeploy.report import envelope_json
from edgedeploy.targets.edgetpu.compiler.compile import (
    check_input_models,
    compile_models,
    remove_stale_models,
)
from edgedeploy.targets.edgetpu.compiler.options import CompileOptions, options_from
from edgedeploy.targets.edgetpu.compiler.predictions import Predictor
from edgedeploy.targets.edgetpu.compiler.report import CompileResult


def compile_to_directory(
    models: Sequence[Path],
    output_dir: Path | None = None,
    *,
    force: bool = False,
    predict: Predictor | None = None,
    **options: Any,
) -> CompileResult:
    """``options``: CompileOptions fields (min_runtime, segments, ...); unknown names are a UsageError.
    ``predict``: the mapping predictor set beside the compiler's table (the target passes check's)."""
    compile_options: CompileOptions = options_from(options)
    compile_options.validate()
    inputs = check_input_models(models)  # before anything is written
    out_dir = Path(output_dir or Path("edgedeploy-out") / f"{inputs[0].stem}-edgetpu")
    require_absolute(out_dir)  # resolving against a deleted working directory would go elsewhere
    out_dir = out_dir.resolve()
    with staged_directory(out_dir, force) as stage:
        stage = stage.resolve()
        report = compile_models(inputs, stage, compile_options, predict=predict)
        if report.failure is not None:
            remove_stale_models(
                out_dir, inputs
            )  # from an earlier run (--force): not this run's result
        report.relocate(stage, out_dir)
        atomic_write_text(stage / "report.json", envelope_json("compile", report.to_dict()))
    return report
