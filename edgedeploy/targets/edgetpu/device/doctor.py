"""The Edge TPU doctor: every known cause of "no Edge TPU found" and of a setup that runs badly, each
checked on its own with one verdict (ok, warning, problem, unknown, absent) and the exact fix.

Checked: the runtime library and its std/max build; the TensorFlow it was built against vs the
interpreter in use (known pairs are data: doctor.json); each USB Accelerator's IDs (1a6e:089a waits
for its firmware, 18d1:9302 is ready), its negotiated link speed and the permission on its node; the
udev rule and the group it names; PCIe modules, their driver modules (gasket, apex), ``/dev/apex_N``
and Secure Boot; and, for a given compiled model, the runtime version it needs vs the one installed
(docs/edgetpu.md section 13 gives the sources).

Everything is read from sysfs, /dev, udev's rule folders and dpkg's database under injectable roots
(``SystemPaths``), so the tests run it on trees shaped like real machines. This module checks the runtime
library, its TensorFlow and the runtime version, and puts every check in order (``setup_checks``); the
USB, udev and PCIe checks are in ``doctor_access.py``, what a check is and doctor.json in ``doctor_check.py``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

from edgedeploy.targets.edgetpu.device.devices import EdgeTpuDevice, SystemPaths
from edgedeploy.targets.edgetpu.device.doctor_access import (
    no_device_check,
    pcie_checks,
    usb_checks,
)
from edgedeploy.targets.edgetpu.device.doctor_check import Check, facts, read_or_none
from edgedeploy.targets.edgetpu.device.library import INSTALL_HINT, RuntimeLibrary


def _minor(version: str | None) -> str | None:
    """``2.17`` from ``2.17.1``, ``16.0tf2.17.1-1`` (the TF part) or ``2.5.0.post1``."""
    match = re.search(r"(\d+)\.(\d+)", version or "")
    return f"{match.group(1)}.{match.group(2)}" if match else None


def _older(a: str, b: str) -> bool:
    return tuple(map(int, a.split("."))) < tuple(map(int, b.split(".")))


# ---- the library --------------------------------------------------------------------------------------


def installed_package(
    paths: SystemPaths, library_path: str | None
) -> tuple[str, str | None] | None:
    """(Debian package, its version if dpkg's status has it) that installed ``library_path``, from
    dpkg's file lists and status."""
    if library_path is None or not paths.dpkg_info.is_dir():
        return None
    wanted = {library_path, os.path.realpath(library_path)}
    owner = None
    for listing in sorted(paths.dpkg_info.glob("libedgetpu*.list")):
        owned = {line.strip() for line in (read_or_none(listing) or "").splitlines()}
        if wanted & (owned | {os.path.realpath(p) for p in owned}):
            owner = listing.name.removesuffix(".list").split(":")[0]
            break
    if owner is None:
        return None
    for stanza in (read_or_none(paths.dpkg_info.parent / "status") or "").split("\n\n"):
        fields = dict(
            line.split(": ", 1)
            for line in stanza.splitlines()
            if ": " in line and not line.startswith(" ")
        )
        if fields.get("Package") == owner and "Version" in fields:
            return owner, fields["Version"]
    return owner, None


def interpreter_in_use() -> tuple[str, str | None]:
    """The Python TFLite interpreter edgedeploy loads: ("ai-edge-litert", "2.1.0") or ("tflite-runtime", ...)."""
    from importlib.metadata import PackageNotFoundError, version

    for name in ("ai-edge-litert", "tflite-runtime"):
        try:
            return name, version(name)
        except PackageNotFoundError:
            continue
    return "ai-edge-litert", None


def library_checks(
    library: RuntimeLibrary | None, error: str | None, package: tuple[str, str | None] | None
) -> list[Check]:
    if library is None:
        return [
            Check(
                "runtime library", "problem", error or "no Edge TPU runtime library", INSTALL_HINT
            )
        ]
    where = library.path or library.requested
    checks = [
        Check(
            "runtime library",
            "ok",
            f"{where}, runtime version {library.runtime_version or 'unknown'}",
        )
    ]
    if library.build is not None:
        clock = "250 MHz on USB" if library.build == "std" else "500 MHz on USB (runs hotter)"
        checks.append(
            Check(
                "runtime build",
                "ok",
                f"{library.build} ({clock}), from package {package[0] if package else '?'}",
            )
        )
    else:
        checks.append(
            Check(
                "runtime build",
                "unknown",
                f"no Debian package owns {where}: std (250 MHz) or max (500 MHz) cannot be told",
                f"dpkg -S {where} says which package installed it, if any",
            )
        )
    return checks


def tensorflow_check(package_version: str | None, interpreter: tuple[str, str | None]) -> Check:
    """The TensorFlow libedgetpu was built against vs the one of the interpreter that will load it."""
    data = facts()["tensorflow"]
    name, version = interpreter
    community = re.search(
        r"tf(\d+\.\d+)", package_version or ""
    )  # "16.0tf2.17.1-1": built against TF 2.17
    library_tf = community.group(1) if community else None
    if library_tf is None and package_version is not None:
        library_tf = data["libedgetpu_packages"].get(_minor(package_version) or "")
    if name == "tflite-runtime":
        interpreter_tf, at_least = _minor(version), False
    else:
        known = data["interpreters"].get(name, {})
        interpreter_tf = known.get(_minor(version) or "") if isinstance(known, dict) else None
        at_least = interpreter_tf is None
        interpreter_tf = interpreter_tf or data["interpreters"].get(f"{name}-minimum")
    said = (
        f"libedgetpu {package_version or '(version unknown)'} built against TensorFlow {library_tf or '?'}; "
        f"interpreter {name} {version or '?'} (TensorFlow {'>= ' if at_least else ''}{interpreter_tf or '?'})"
    )
    if library_tf is None or interpreter_tf is None:
        return Check("TensorFlow match", "unknown", said, data["fix_unknown"])
    if at_least and not _older(library_tf, interpreter_tf):
        return Check("TensorFlow match", "unknown", said, data["fix_unknown"])
    if library_tf == interpreter_tf:
        return Check("TensorFlow match", "ok", said)
    fix = data["fix_newer_interpreter"].format(interpreter=interpreter_tf, library=library_tf)
    return Check(
        "TensorFlow match",
        "problem",
        f"{said}: a known-bad pair (loading a compiled model fails with "
        "'Unsupported data type in custom op handler' or crashes)",
        fix,
    )


# ---- USB --------------------------------------------------------------------------------------------


def runtime_version_check(name: str, needed: int | None, installed: int | None) -> Check:
    """A compiled model's minimum runtime (from its DarwiNN package) vs the runtime library's version."""
    if needed is None:
        return Check(
            f"runtime for {name}", "unknown", "the model does not say which runtime it needs"
        )
    if installed is None:
        return Check(
            f"runtime for {name}",
            "unknown",
            f"needs runtime {needed}; no runtime library here to compare with",
            INSTALL_HINT,
        )
    if installed >= needed:
        return Check(
            f"runtime for {name}", "ok", f"needs runtime {needed}, this one is {installed}"
        )
    return Check(
        f"runtime for {name}",
        "problem",
        f"needs runtime {needed}, this libedgetpu is {installed} (it refuses: "
        f"'Package requires runtime version {needed}')",
        facts()["runtime_fix"].format(installed=installed),
    )


def setup_checks(
    paths: SystemPaths,
    library: RuntimeLibrary | None,
    error: str | None,
    devices: list[EdgeTpuDevice],
    can_access: Callable[[str], bool],
    user_groups: set[str],
    is_root: bool,
    interpreter: tuple[str, str | None] | None = None,
) -> list[Check]:
    """Every check of the setup, in the order a user fixes things: library, its TensorFlow, devices, access."""
    package = installed_package(paths, library.path) if library is not None else None
    checks = library_checks(library, error, package)
    if library is not None:
        checks.append(
            tensorflow_check(package[1] if package else None, interpreter or interpreter_in_use())
        )
    absent = no_device_check(devices)
    if absent is not None:
        checks.append(absent)
    checks += usb_checks(devices, paths, user_groups, is_root)
    checks += pcie_checks(paths, devices, can_access, user_groups)
    return checks


def current_groups() -> set[str]:
    """The names of the groups this process runs with (what a device node's group is checked against)."""
    try:
        import grp
    except ImportError:  # not a POSIX system: no groups to check
        return set()

    names = set()
    for gid in {*os.getgroups(), os.getgid()}:
        try:
            names.add(grp.getgrgid(gid).gr_name)
        except KeyError:
            continue
    return names


def running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0
