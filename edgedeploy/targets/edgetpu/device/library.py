"""The Edge TPU runtime library (libedgetpu): find it, ask its version and devices, open the delegate.

The library's C API (edgetpu_c.h) is called through ctypes: ``edgetpu_version()`` and
``edgetpu_list_devices()``. Whether the std (250 MHz on USB) or max (500 MHz) build is installed is
not in the library itself; it can be told from which Debian package owns the file, otherwise it is
reported as unknown.
"""

from __future__ import annotations

import ctypes
import os
import platform
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from edgedeploy.errors import TargetUnavailableError
from edgedeploy.targets.edgetpu.device.devices import DeviceSpec, SystemPaths
from edgedeploy.targets.edgetpu.naming import LIBRARY_NAMES
from edgedeploy.worker import WorkerCrashed, WorkerHung, call_in_worker

INSTALL_HINT = (
    "install the Edge TPU runtime: apt-get install libedgetpu1-std from Coral's package repository"
)
# Debian packages that ship the library, and the clock each build runs a USB Accelerator at.
BUILD_PACKAGES = {
    "libedgetpu1-max": "max",
    "libedgetpu1-std": "std",
    "libedgetpu1-legacy-max": "max",
    "libedgetpu1-legacy-std": "std",
}
BUILD_CLOCKS = {"std": "250 MHz on USB", "max": "500 MHz on USB (runs hotter)"}
_DEVICE_TYPES = {0: "pci", 1: "usb"}  # enum edgetpu_device_type
PROBE_TIMEOUT_S = (
    30.0  # loading the library and listing devices takes well under a second when they work
)


class _Device(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("path", ctypes.c_char_p)]


@dataclass(frozen=True)
class RuntimeLibrary:
    requested: str  # the name or path that was loaded
    path: str | None  # the file actually mapped, when it can be found
    version: str | None  # edgetpu_version(), verbatim
    build: str | None  # "std" | "max" | None (cannot be told)
    handle: Any = None

    @property
    def runtime_version(self) -> int | None:
        return parse_runtime_version(self.version)

    def to_dict(self) -> dict[str, Any]:
        return {
            "requested": self.requested,
            "path": self.path,
            "version": self.version,
            "runtime_version": self.runtime_version,
            "build": self.build,
            "clock": BUILD_CLOCKS.get(self.build or "", "unknown: std or max build cannot be told"),
        }


def default_library_name(system: str | None = None) -> str:
    return LIBRARY_NAMES.get(system or platform.system(), LIBRARY_NAMES["Linux"])


def parse_runtime_version(version: str | None) -> int | None:
    """``BuildLabel(...), RuntimeVersion(14)`` -> 14."""
    match = re.search(r"RuntimeVersion\((\d+)\)", version or "")
    return int(match.group(1)) if match else None


def _mapped_path(basename: str) -> str | None:
    """Where the dynamic loader found the library (Linux: the process's memory map)."""
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                if basename in line and "/" in line:
                    return line[line.index("/") :].strip()
    except OSError:
        pass
    return None


def detect_build(library_path: str | None, paths: SystemPaths) -> str | None:
    """std or max from the dpkg file list that owns the library; None when no package owns it."""
    if library_path is None:
        return None
    wanted = {library_path, os.path.realpath(library_path)}
    for package, build in BUILD_PACKAGES.items():
        for listing in paths.dpkg_info.glob(f"{package}*.list"):
            if not re.fullmatch(rf"{re.escape(package)}(:[a-z0-9_-]+)?\.list", listing.name):
                continue
            owned = {line.strip() for line in listing.read_text(errors="replace").splitlines()}
            if wanted & (owned | {os.path.realpath(p) for p in owned}):
                return build
    return None


def open_library(requested: str | None = None, paths: SystemPaths | None = None) -> RuntimeLibrary:
    """Load the runtime library; TargetUnavailableError with the reason if it is missing or not libedgetpu."""
    paths = paths or SystemPaths()
    name = requested or default_library_name()
    try:
        handle = ctypes.CDLL(name)
    except OSError as exc:
        if os.sep not in name:  # the loader's message only repeats the name
            raise TargetUnavailableError(
                f"no Edge TPU runtime library ({name} not found)", INSTALL_HINT
            ) from exc
        raise TargetUnavailableError(
            f"cannot load the Edge TPU runtime library {name}: {exc}", INSTALL_HINT
        ) from exc
    for symbol in ("tflite_plugin_create_delegate", "edgetpu_version"):
        if not hasattr(handle, symbol):
            raise TargetUnavailableError(
                f"{name} is not the Edge TPU runtime library (no {symbol})", INSTALL_HINT
            )
    handle.edgetpu_version.restype = ctypes.c_char_p
    version = (handle.edgetpu_version() or b"").decode("utf-8", errors="replace") or None
    path = os.path.realpath(name) if os.sep in name else _mapped_path(Path(name).name.split(".")[0])
    return RuntimeLibrary(
        requested=name, path=path, version=version, build=detect_build(path, paths), handle=handle
    )


def runtime_devices(library: RuntimeLibrary) -> list[tuple[str, str]]:
    """(kind, path) of every Edge TPU the runtime enumerates, in its order."""
    handle = library.handle
    if handle is None or not hasattr(handle, "edgetpu_list_devices"):
        return []
    handle.edgetpu_list_devices.restype = ctypes.POINTER(_Device)
    handle.edgetpu_list_devices.argtypes = [ctypes.POINTER(ctypes.c_size_t)]
    count = ctypes.c_size_t(0)
    listed = handle.edgetpu_list_devices(ctypes.byref(count))
    if not listed:
        return []
    try:
        return [
            (
                _DEVICE_TYPES.get(listed[i].type, str(listed[i].type)),
                (listed[i].path or b"").decode(),
            )
            for i in range(count.value)
        ]
    finally:
        if hasattr(handle, "edgetpu_free_devices"):
            handle.edgetpu_free_devices.argtypes = [ctypes.POINTER(_Device)]
            handle.edgetpu_free_devices(listed)


def _probe(
    requested: str | None, paths: SystemPaths
) -> tuple[RuntimeLibrary, list[tuple[str, str]]]:
    library = open_library(requested, paths)
    return replace(library, handle=None), runtime_devices(library)


def probe_library(
    requested: str | None = None, paths: SystemPaths | None = None, timeout: float = PROBE_TIMEOUT_S
) -> tuple[RuntimeLibrary, list[tuple[str, str]]]:
    """``open_library`` and ``runtime_devices`` in a worker process, for the doctor and bench's availability:
    a truncated or foreign library that kills the dynamic loader (SIGBUS, SIGSEGV) or a device enumeration
    that never returns is the target's unavailability reason, not the end of the run. The library comes
    back without its handle: the process that runs the model loads it again (in its own worker)."""
    name = requested or default_library_name()
    try:
        return call_in_worker(
            _probe,
            requested,
            paths or SystemPaths(),
            timeout=timeout,
            what=f"loading the Edge TPU runtime library {name}",
        )
    except WorkerCrashed as exc:
        raise TargetUnavailableError(
            exc.message, f"{INSTALL_HINT} (reinstall it if the file is damaged)"
        ) from None
    except WorkerHung as exc:
        raise TargetUnavailableError(
            exc.message, "unplug and re-plug the Edge TPU, then run edgedeploy targets"
        ) from None


def open_delegate(library: RuntimeLibrary, device: DeviceSpec) -> Any:
    """The Edge TPU delegate on ``device``; TargetUnavailableError with what the runtime said."""
    from ai_edge_litert.interpreter import load_delegate

    options = {} if device.is_any else {"device": str(device)}
    try:
        return load_delegate(library.path or library.requested, options)
    except (OSError, ValueError) as exc:
        said = " ".join(str(exc).split("\n")[1:]).strip() or "the runtime gave no reason"
        wanted = f"device {device}" if not device.is_any else "an Edge TPU"
        raise TargetUnavailableError(
            f"the Edge TPU delegate could not open {wanted}: {said}",
            "run edgedeploy targets to see what is plugged in",
        ) from exc
