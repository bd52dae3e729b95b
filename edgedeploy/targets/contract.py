"""What every benchmark target provides, so that one harness measures all of them the same way.

A target (``edgedeploy/targets/<name>/``) says whether it can run here and why not, which variants a
run measures (the CPU at N threads and at 1), which file of a model it runs, and loads that file into
a ``LoadedModel`` whose ``invoke`` is the one call the harness times.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from edgedeploy.targets.model_file import ModelFile, TensorSpec
from edgedeploy.errors import InputError


class NeedsCompilation(InputError):
    """The target runs a compiled form of this model that does not exist yet. ``compile()`` makes it
    (bench --compile); without that, this is the one-line error that says how."""

    def __init__(self, message: str, hint: str, compile: Callable[[], ModelFile]):
        super().__init__(message, hint)
        self.compile = compile


@dataclass(frozen=True)
class Availability:
    available: bool
    reason: str | None = None  # why not, one line the user can act on
    details: dict[str, Any] = field(default_factory=dict)  # what was found: library, devices, versions

    def to_dict(self) -> dict[str, Any]:
        return {"available": self.available, "reason": self.reason, "details": self.details}


@dataclass(frozen=True)
class Variant:
    """One column of the comparison table: a target with fixed settings."""

    target: str  # registry name: "cpu", "coral"
    label: str  # "cpu x2", "cpu x1", "coral usb:0"
    settings: dict[str, Any]  # {"threads": 2, "xnnpack": True}


@dataclass
class LoadedModel:
    interpreter: Any
    inputs: tuple[TensorSpec, ...]
    load_seconds: float  # interpreter + delegate creation and tensor allocation
    details: dict[str, Any] = field(default_factory=dict)  # measured at load: delegate partitions, device
    keepalive: list[Any] = field(default_factory=list)  # delegates must outlive the interpreter

    @property
    def invoke(self) -> Callable[[], None]:
        return self.interpreter.invoke

    def set_inputs(self, arrays: list[np.ndarray]) -> None:
        for spec, array in zip(self.inputs, arrays):
            self.interpreter.set_tensor(spec.index, array)

    def close(self) -> None:
        # The interpreter goes first: a delegate freed under a live interpreter crashes the process.
        self.interpreter = None
        self.keepalive.clear()


class Target(Protocol):
    name: str
    summary: str

    def availability(self) -> Availability: ...

    def variants(self) -> list[Variant]: ...

    def model_for(self, model: ModelFile) -> ModelFile:
        """The file this target runs for ``model`` (maybe its compiled or source twin); InputError if none."""
        ...

    def load(self, model: ModelFile, variant: Variant) -> LoadedModel: ...
