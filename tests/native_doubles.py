"""Bench runtimes that fail the way native code does (in the worker process that bench/isolation.py
starts): a segfault, an abort, an inference that never returns. Module-level classes, so the worker can
rebuild them by pickling, as it rebuilds the real CPU and Edge TPU runtimes."""

from __future__ import annotations

import ctypes
import os
import time

from edgedeploy.targets.contract import Availability, LoadedModel, Variant


class _Interpreter:
    def __init__(self, invoke):
        self.invoke = invoke

    def set_tensor(self, index, array) -> None:
        pass


class FailingRuntime:
    """``how``: "segfault-on-load", "abort-on-load", "segfault-on-invoke" (the 5th inference), "hang-on-invoke"
    (the 3rd inference sleeps for an hour), "hang-on-load"."""

    name = "failing"
    summary = "a runtime double that crashes or hangs"

    def __init__(self, how: str):
        self.how = how

    def availability(self) -> Availability:
        return Availability(True)

    def variants(self) -> list[Variant]:
        return [Variant(self.name, f"failing ({self.how})", {})]

    def model_for(self, model):
        return model

    def load(self, model, variant) -> LoadedModel:
        if self.how == "segfault-on-load":
            ctypes.string_at(0)  # reads address 0: SIGSEGV, as a kernel on a damaged model does
        if self.how == "abort-on-load":
            os.abort()
        if self.how == "hang-on-load":
            time.sleep(3600)
        calls = [0]

        def invoke() -> None:
            calls[0] += 1
            if self.how == "segfault-on-invoke" and calls[0] == 5:
                ctypes.string_at(0)
            if self.how == "hang-on-invoke" and calls[0] == 3:
                time.sleep(3600)

        return LoadedModel(
            interpreter=_Interpreter(invoke), inputs=model.inputs, load_seconds=0.001
        )


_LOADS_IN_THIS_PROCESS = [0]


class TellingRuntime(FailingRuntime):
    """Works, and says where it ran: the process id and how many models this process loaded before (a
    worker shared between cells would count up)."""

    name = "telling"

    def __init__(self):
        super().__init__("none")

    def load(self, model, variant) -> LoadedModel:
        loaded = super().load(model, variant)
        loaded.details.update(pid=os.getpid(), earlier_loads=_LOADS_IN_THIS_PROCESS[0])
        _LOADS_IN_THIS_PROCESS[0] += 1
        return loaded
