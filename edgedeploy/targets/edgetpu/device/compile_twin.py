"""``bench --compile``: make the compiled twin of an int8 model with edgedeploy's compile stage (the
real edgetpu_compiler, locally or in the project's Docker image), beside the model as
``<stem>_edgetpu.tflite`` where the next run finds it without compiling again."""

from __future__ import annotations

from edgedeploy.errors import CompilerError
from edgedeploy.targets.edgetpu.naming import compiled_path
from edgedeploy.targets.inspection import inspect_model
from edgedeploy.targets.model_file import ModelFile


def compile_twin(model: ModelFile) -> ModelFile:
    from edgedeploy.targets.edgetpu.compiler.compile import CompilationFailedError, compile_models

    report = compile_models([model.path], model.path.parent)
    if report.failure is not None:
        raise CompilationFailedError(report)
    twin = compiled_path(model.path)
    compiled = inspect_model(twin) if twin.is_file() else None
    if compiled is None or not compiled.compiled:
        raise CompilerError(
            f"the Edge TPU compiler finished but {twin.name} holds no compiled model"
        )
    return compiled
