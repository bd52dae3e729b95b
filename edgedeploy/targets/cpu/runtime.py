"""The CPU target: float and int8 models on the LiteRT interpreter."""

from __future__ import annotations

import time

from edgedeploy.errors import InputError
from edgedeploy.targets.contract import Availability, LoadedModel, Variant
from edgedeploy.targets.cpu.config import CpuConfig, available_cores
from edgedeploy.targets.inspection import inspect_model
from edgedeploy.targets.litert import (
    InterpreterLoadError,
    create_interpreter,
    delegate_partitions,
    litert_version,
)
from edgedeploy.targets.model_file import ModelFile


class CpuRuntime:
    name = "cpu"
    summary = "LiteRT interpreter on this machine's CPU (XNNPACK on by default)"

    def __init__(self, config: CpuConfig | None = None):
        self.config = config or CpuConfig.from_options()

    def availability(self) -> Availability:
        try:
            import ai_edge_litert.interpreter  # noqa: F401
        except ImportError as exc:
            return Availability(
                False, f"the LiteRT runtime is not installed ({exc}); pip install ai-edge-litert"
            )
        runtime, cores = f"ai-edge-litert {litert_version()}", available_cores()
        xnnpack = "on" if self.config.xnnpack else "off"
        return Availability(
            True,
            details={
                "runtime": runtime,
                "cores": cores,
                "threads": list(self.config.threads),
                "xnnpack": self.config.xnnpack,
            },
            found=(f"{runtime}, {cores} cores, XNNPACK {xnnpack}",),
        )

    def variants(self) -> list[Variant]:
        return [
            Variant(self.name, self.config.label(n), {"threads": n, "xnnpack": self.config.xnnpack})
            for n in self.config.threads
        ]

    def model_for(self, model: ModelFile) -> ModelFile:
        if model.compiled_for is None:  # not compiled
            return model
        source = model.source_twin()
        if source is not None and source.is_file():
            return inspect_model(source)
        where = (
            f"({source.name}); it is not beside the compiled file"
            if source
            else "(its name does not say which)"
        )
        from edgedeploy.targets.registry import get_target

        raise InputError(
            f"{model.path.name} is compiled for {get_target(model.compiled_for).display_name} and cannot "
            "run on the CPU target",
            f"give the CPU its uncompiled source {where}",
        )

    def load(self, model: ModelFile, variant: Variant) -> LoadedModel:
        threads, xnnpack = variant.settings["threads"], variant.settings["xnnpack"]
        start = time.perf_counter()
        try:
            interpreter, log = create_interpreter(model.path, threads=threads, xnnpack=xnnpack)
        except InterpreterLoadError as exc:
            raise InputError(
                f"{model.path.name}: the LiteRT interpreter cannot load it: {exc}"
            ) from exc
        load_seconds = time.perf_counter() - start
        details = {
            "threads": threads,
            "xnnpack": xnnpack,
            "delegate_partitions": delegate_partitions(interpreter),
        }
        if log.xnnpack_refused:
            details["xnnpack_refused"] = log.xnnpack_refused
            details["note"] = log.fallback_note()
        elif xnnpack and details["delegate_partitions"] == 0:
            details["note"] = "XNNPACK took no part of this model: LiteRT's own kernels ran it"
        return LoadedModel(
            interpreter=interpreter, inputs=model.inputs, load_seconds=load_seconds, details=details
        )
