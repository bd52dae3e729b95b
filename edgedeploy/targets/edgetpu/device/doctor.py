"""The Edge TPU doctor: every known cause of "no Edge TPU found" and of a setup that runs badly, each
checked on its own with one verdict (ok, warning, problem, unknown, absent) and the exact fix.

Checked: the runtime library and its std/max build; the TensorFlow it was built against vs the
interpreter in use (known pairs are data: doctor.json); each USB Accelerator's IDs (1a6e:089a waits
for its firmware, 18d1:9302 is ready), its negotiated link speed and the permission on its node; the
udev rule and the group it names; PCIe modules, their driver modules (gasket, apex), ``/dev/apex_N``
and Secure Boot; and, for a given compiled model, the runtime version it needs vs the one installed
(docs/edgetpu.md section 13 gives the sources).

Everything is read from sysfs, /dev, udev's rule folders and dpkg's database under injectable roots
(``SystemPaths``), so the tests run it on trees shaped like real machines.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from edgedeploy.targets.edgetpu.device.devices import EdgeTpuDevice, SystemPaths
from edgedeploy.targets.edgetpu.device.library import INSTALL_HINT, RuntimeLibrary

VERDICTS = ("ok", "warning", "problem", "unknown", "absent")


@dataclass(frozen=True)
class Check:
    name: str
    verdict: str  # one of VERDICTS
    found: str  # what was seen, one line
    fix: str | None = None  # the exact thing to do when the verdict is not ok

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@cache
def facts() -> dict[str, Any]:
    text = (
        resources.files("edgedeploy.targets.edgetpu").joinpath("device", "doctor.json").read_text()
    )
    return json.loads(text)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(errors="replace").strip()
    except OSError:
        return None


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
        owned = {line.strip() for line in (_read(listing) or "").splitlines()}
        if wanted & (owned | {os.path.realpath(p) for p in owned}):
            owner = listing.name.removesuffix(".list").split(":")[0]
            break
    if owner is None:
        return None
    for stanza in (_read(paths.dpkg_info.parent / "status") or "").split("\n\n"):
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


def _usb_id(device: EdgeTpuDevice) -> str | None:
    if device.sysfs_path is None:
        return None
    entry = Path(device.sysfs_path)
    vendor, product = _read(entry / "idVendor"), _read(entry / "idProduct")
    return f"{vendor}:{product}" if vendor and product else None


def _udev_groups(paths: SystemPaths) -> tuple[set[str], set[str], list[str]]:
    """(vendor IDs some rule matches, groups those rules give, the rule files)."""
    vendors, groups, files = set(), set(), []
    for folder in paths.udev_rules:
        for rules in sorted(folder.glob("*.rules")) if folder.is_dir() else []:
            for line in (_read(rules) or "").splitlines():
                if line.lstrip().startswith("#"):
                    continue
                hit = {
                    v
                    for v in facts()["udev_vendor_ids"]
                    if re.search(rf'idVendor}}=="{v}"', line, re.IGNORECASE)
                }
                if hit:
                    vendors |= hit
                    groups |= set(re.findall(r'GROUP="([^"]+)"', line))
                    files.append(str(rules))
    return vendors, groups, sorted(set(files))


def usb_checks(
    devices: list[EdgeTpuDevice], paths: SystemPaths, user_groups: set[str], is_root: bool
) -> list[Check]:
    data, checks = facts(), []
    usb = [d for d in devices if d.kind == "usb"]
    for device in usb:
        where = Path(device.sysfs_path).name if device.sysfs_path else "?"
        ids = _usb_id(device)
        known = data["usb_ids"].get(ids or "", {"verdict": "unknown", "state": device.state})
        checks.append(
            Check(
                f"USB Accelerator {where}",
                known["verdict"],
                f"{ids}: {known['state']}",
                known.get("fix"),
            )
        )
        speed = (Path(device.sysfs_path) / "speed") if device.sysfs_path else None
        mbps = _read(speed) if speed else None
        verdict = data["usb_links"].get(mbps or "", "unknown")
        checks.append(
            Check(
                f"USB link {where}",
                verdict,
                device.link or "speed not reported",
                data["usb2_fix"] if verdict == "warning" else None,
            )
        )
        if device.problem:
            checks.append(Check(f"USB access {where}", "problem", device.problem, data["udev_fix"]))
        else:
            checks.append(Check(f"USB access {where}", "ok", f"{device.node} can be opened"))
    if usb or not is_root:
        checks.append(udev_check(paths, user_groups, is_root, bool(usb)))
    return checks


def udev_check(
    paths: SystemPaths, user_groups: set[str], is_root: bool, device_present: bool
) -> Check:
    data = facts()
    vendors, groups, files = _udev_groups(paths)
    missing = [v for v in data["udev_vendor_ids"] if v not in vendors]
    if missing:
        return Check(
            "udev rule",
            "problem" if device_present and not is_root else "warning",
            f"no udev rule gives access to USB vendor {', '.join(missing)}",
            data["udev_fix"],
        )
    lacking = sorted(g for g in groups if g not in user_groups)
    if lacking and not is_root:
        return Check(
            "udev rule",
            "problem",
            f"{', '.join(files)} gives group {', '.join(sorted(groups))}, and you are not "
            f"in {', '.join(lacking)}",
            data["group_fix"].format(group=lacking[0]),
        )
    return Check(
        "udev rule",
        "ok",
        f"{', '.join(files)}" + (f" (group {', '.join(sorted(groups))})" if groups else ""),
    )


# ---- PCIe -------------------------------------------------------------------------------------------


def secure_boot(paths: SystemPaths) -> bool | None:
    """True/False from the firmware's SecureBoot variable (its last byte); None when not an EFI system."""
    variable = paths.sys_root / "firmware" / "efi" / "efivars" / facts()["secure_boot_variable"]
    try:
        data = variable.read_bytes()
    except OSError:
        return None
    return bool(data) and data[-1] == 1


def pcie_checks(
    paths: SystemPaths,
    devices: list[EdgeTpuDevice],
    can_access: Callable[[str], bool],
    user_groups: set[str],
) -> list[Check]:
    data, checks = facts(), []
    vendor, product = data["pci_id"].split(":")
    root = paths.sys_root / "bus" / "pci" / "devices"
    cards = [
        e
        for e in (sorted(root.iterdir()) if root.is_dir() else [])
        if (_read(e / "vendor"), _read(e / "device")) == (f"0x{vendor}", f"0x{product}")
    ]
    nodes = sorted(str(d.node) for d in devices if d.kind == "pci" and d.node)
    if not cards and not nodes:
        return []
    loaded = [m for m in data["pcie_modules"] if (paths.sys_root / "module" / m).is_dir()]
    missing = [m for m in data["pcie_modules"] if m not in loaded]
    for card in cards:
        bound = (card / "driver").exists() or (card / "apex").is_dir()
        checks.append(
            Check(
                f"PCIe module {card.name}",
                "ok" if bound else "problem",
                f"{data['pci_id']}, driver {'bound' if bound else 'not bound (no /dev/apex_N for it)'}",
                None if bound else data["pcie_module_fix"],
            )
        )
    if missing:
        fix = data["pcie_module_fix"]
        if secure_boot(paths):
            fix = data["secure_boot_fix"] + "; if the modules are not installed at all: " + fix
        checks.append(
            Check(
                "kernel modules",
                "problem",
                f"not loaded: {', '.join(missing)}"
                + (" (Secure Boot is on)" if secure_boot(paths) else ""),
                fix,
            )
        )
    else:
        checks.append(Check("kernel modules", "ok", f"loaded: {', '.join(loaded)}"))
    for node in nodes:
        if can_access(node):
            checks.append(Check(f"device node {node}", "ok", "can be opened"))
        else:
            lacking = "" if "apex" in user_groups else " (you are not in group apex)"
            checks.append(
                Check(
                    f"device node {node}",
                    "problem",
                    f"permission denied{lacking}",
                    data["apex_group_fix"],
                )
            )
    if cards and not nodes:
        checks.append(
            Check(
                "device node /dev/apex_N",
                "problem",
                "none: the driver did not create one",
                checks[-1].fix or data["pcie_module_fix"],
            )
        )
    return checks


def no_device_check(devices: list[EdgeTpuDevice]) -> Check | None:
    if devices:
        return None
    return Check(
        "Edge TPU devices",
        "absent",
        "none found: no USB device 1a6e:089a or 18d1:9302, no PCIe device "
        f"{facts()['pci_id']}, no /dev/apex_N",
        "plug the USB Accelerator in (lsusb lists it as 1a6e:089a "
        "before its first use, 18d1:9302 after); for an M.2 or PCIe module, lspci must list 1ac1:089a",
    )


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
