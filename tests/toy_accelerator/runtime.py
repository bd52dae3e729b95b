"""The toy NPU's bench runtime double: the LiteRT CPU interpreter at one thread, named as the toy device."""

from __future__ import annotations

import time

from edgedeploy.targets.contract import Availability, LoadedModel, Variant
from edgedeploy.targets.litert import create_interpreter
from edgedeploy.targets.model_file import ModelFile


class ToyRuntime:
    name = "toy"
    summary = "toy NPU (a test double running on the CPU)"

    def __init__(self, device: str | None = None, firmware: str | None = None):
        self.device = device or "toy:0"
        self.firmware = firmware or "built-in"  # the toy's own --toy-firmware runtime setting

    def availability(self) -> Availability:
        return Availability(True, details={"device": self.device, "firmware": self.firmware})

    def variants(self) -> list[Variant]:
        return [Variant(self.name, f"toy {self.device}", {"device": self.device})]

    def model_for(self, model: ModelFile) -> ModelFile:
        return model

    def load(self, model: ModelFile, variant: Variant) -> LoadedModel:
        start = time.perf_counter()
        interpreter, _ = create_interpreter(model.path, threads=1, xnnpack=False)
        return LoadedModel(
            interpreter=interpreter,
            inputs=model.inputs,
            load_seconds=time.perf_counter() - start,
            details={"device": self.device},
        )
