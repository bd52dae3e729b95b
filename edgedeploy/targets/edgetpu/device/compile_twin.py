"""``bench --compile``: make the compiled twin of an int8 model with edgedeploy's compile stage (the
real edgetpu_compiler, locally or in the project's Docker image), beside the model as
``<stem>_edgetpu.tflite`` where the next run finds it without compiling again."""

from __future__ import annotations

from edgedeploy.targets.model_file import ModelFile, inspect_model
from edgedeploy.errors import CompilerError


def compile_for_coral(model: ModelFile) -> ModelFile:
    from edgedeploy.targets.edgetpu.compiler.compile import CompilationFailedError, compile_models

    report = compile_models([model.path], model.path.parent, predict=False)
    if report.failure is not None:
        raise CompilationFailedError(report)
    compiled = inspect_model(model.compiled_twin()) if model.compiled_twin().is_file() else None
    if compiled is None or not compiled.compiled:
        raise CompilerError(f"the Edge TPU compiler finished but {model.compiled_twin().name} holds no compiled model")
    return compiled
