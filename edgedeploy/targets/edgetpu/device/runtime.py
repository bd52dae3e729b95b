"""The Edge TPU bench runtime: availability (a doctor for the user's setup), which file to run, and loading it
with the Edge TPU delegate. The first inference uploads the model to the TPU; the harness times it
apart from the steady state."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from edgedeploy.errors import InputError, TargetUnavailableError
from edgedeploy.targets.contract import Availability, LoadedModel, NeedsCompilation, Variant
from edgedeploy.targets.edgetpu.device.compile_twin import compile_twin
from edgedeploy.targets.edgetpu.device.config import EdgeTpuConfig
from edgedeploy.targets.edgetpu.device.devices import (
    EdgeTpuDevice,
    discover_devices,
    merge_runtime_order,
)
from edgedeploy.targets.edgetpu.device.doctor import runtime_version_check, setup_checks
from edgedeploy.targets.edgetpu.device.library import (
    RuntimeLibrary,
    open_delegate,
    open_library,
    probe_library,
    runtime_devices,
)
from edgedeploy.targets.edgetpu.naming import CUSTOM_OP, compiled_path
from edgedeploy.targets.inspection import inspect_model
from edgedeploy.targets.litert import InterpreterLoadError, create_interpreter, delegate_partitions
from edgedeploy.targets.model_file import ModelFile

NO_DEVICE = "no Edge TPU found (no USB device 18d1:9302 or 1a6e:089a, no /dev/apex_N)"


class EdgeTpuRuntime:
    name = "edgetpu"
    summary = "Google Coral Edge TPU (USB Accelerator, PCIe/M.2) through the libedgetpu delegate"

    def __init__(self, config: EdgeTpuConfig | None = None):
        self.config = config or EdgeTpuConfig()

    def _library(self) -> RuntimeLibrary:
        return open_library(self.config.library, self.config.paths)

    def _devices(self, library: RuntimeLibrary | None) -> list[EdgeTpuDevice]:
        found = discover_devices(self.config.paths, self.config.can_access)
        return merge_runtime_order(runtime_devices(library), found) if library else found

    def availability(self) -> Availability:
        problems: list[str] = []
        details: dict[str, Any] = {}
        enumerated: list[tuple[str, str]] = []
        library, library_error = None, None
        try:
            # in a worker process: a damaged library must not end the run that asks about it
            library, enumerated = probe_library(self.config.library, self.config.paths)
            details["library"] = library.to_dict()
        except TargetUnavailableError as exc:
            library_error = exc.message
            problems.append(str(exc))
        self._probed = library
        found = discover_devices(self.config.paths, self.config.can_access)
        devices = merge_runtime_order(enumerated, found) if enumerated else found
        details["checks"] = [
            check.to_dict()
            for check in setup_checks(
                self.config.paths,
                library,
                library_error,
                devices,
                self.config.can_access,
                self.config.user_groups(),
                self.config.is_root(),
            )
        ]
        details["devices"] = [d.to_dict() for d in devices]
        chosen = self.config.device.select(devices)
        if not devices:
            problems.append(NO_DEVICE)
        elif chosen is None:
            problems.append(
                f"no Edge TPU matches device '{self.config.device}' "
                f"(found {len(devices)}: {', '.join(d.kind for d in devices)})"
            )
        elif chosen.problem:
            problems.append(chosen.problem)
        if chosen is not None:
            details["device"] = chosen.to_dict()
        return Availability(not problems, "; ".join(problems) or None, details)

    def model_checks(self, path: Path) -> list[dict]:
        """The doctor's checks that need a model: the runtime version a compiled model needs vs the installed one."""
        needed = _needed_runtime(path)
        library = getattr(self, "_probed", None)
        if library is None:
            try:
                library, _ = probe_library(self.config.library, self.config.paths)
            except TargetUnavailableError:
                library = None
        installed = library.runtime_version if library is not None else None
        return [runtime_version_check(path.name, needed, installed).to_dict()]

    def variants(self) -> list[Variant]:
        return [
            Variant(
                self.name,
                self.config.label,
                {"device": str(self.config.device), "threads": self.config.threads},
            )
        ]

    def model_for(self, model: ModelFile) -> ModelFile:
        if model.compiled:
            return model
        if not model.integer_only:
            raise InputError(
                f"{model.path.name} is a float model; the Edge TPU runs only full-int8 models compiled by "
                "edgetpu_compiler",
                "convert the source model (ONNX or PyTorch) with edgedeploy convert "
                "--target edgetpu, then compile its _int8.tflite with edgedeploy compile",
            )
        twin = compiled_path(model.path)
        if twin.is_file():
            compiled = inspect_model(twin)
            if compiled.compiled:
                return compiled
        raise NeedsCompilation(
            f"{model.path.name} is int8 but not compiled for the Edge TPU (no edgetpu-custom-op in it)",
            f"compile it first: edgedeploy compile {model.path} (or add --compile to bench)",
            lambda: compile_twin(model),
        )

    def load(self, model: ModelFile, variant: Variant) -> LoadedModel:
        library = self._library()
        # A package newer than the runtime fails deep in the delegate ("Package requires runtime version 14"):
        # said here with the fix instead.
        check = runtime_version_check(
            model.path.name, _needed_runtime(model.path), library.runtime_version
        )
        if check.verdict == "problem":
            raise TargetUnavailableError(check.found, check.fix)
        chosen = self.config.device.select(self._devices(library))
        start = time.perf_counter()
        delegate = open_delegate(library, self.config.device)
        try:
            interpreter, _ = create_interpreter(
                model.path,
                threads=self.config.threads,
                xnnpack=self.config.xnnpack,
                delegates=[delegate],
            )
        except InterpreterLoadError as exc:
            raise TargetUnavailableError(
                f"{model.path.name} did not load on the Edge TPU: {exc}"
            ) from exc
        load_seconds = time.perf_counter() - start
        details: dict[str, Any] = {
            "library": library.to_dict(),
            "device": chosen.to_dict() if chosen else {"requested": str(self.config.device)},
            "delegate_partitions": delegate_partitions(interpreter),
            "cpu_threads": self.config.threads,
            "cpu_ops": {op: n for op, n in model.op_counts.items() if op != CUSTOM_OP},
        }
        if chosen is not None and chosen.kind == "pci":
            details["clock"] = "PCIe modules always run at the maximum clock"
        if chosen is not None and chosen.usb2_or_slower:
            details["warning"] = (
                f"the Edge TPU is on a {chosen.link} link: USB 2 is 4-12x slower than USB 3"
            )
        return LoadedModel(
            interpreter=interpreter,
            inputs=model.inputs,
            load_seconds=load_seconds,
            details=details,
            keepalive=[delegate],
        )


def _needed_runtime(path: Path) -> int | None:
    """The oldest Edge TPU runtime a compiled model loads on (its DarwiNN packages say; the newest of them)."""
    from edgedeploy.targets.edgetpu.inspect.compiled import read_regions
    from edgedeploy.tflite import read_model

    regions = read_regions(read_model(path))
    if not regions:
        raise InputError(
            f"{path.name} holds no edgetpu-custom-op: give the compiled *_edgetpu.tflite to check it "
            "against the runtime"
        )
    return max(
        (r.package.min_runtime_version for r in regions if r.package is not None), default=None
    )
