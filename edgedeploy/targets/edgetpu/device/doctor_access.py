"""The Edge TPU doctor's device checks: each USB Accelerator's IDs, link speed and node permission, the
udev rule and the group it names, PCIe modules with their drivers (gasket, apex), ``/dev/apex_N`` and
Secure Boot, and the check that says no Edge TPU was found at all (docs/edgetpu.md section 13)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from edgedeploy.targets.edgetpu.device.devices import EdgeTpuDevice, SystemPaths
from edgedeploy.targets.edgetpu.device.doctor_check import Check, facts, read_or_none


def _usb_id(device: EdgeTpuDevice) -> str | None:
    if device.sysfs_path is None:
        return None
    entry = Path(device.sysfs_path)
    vendor, product = read_or_none(entry / "idVendor"), read_or_none(entry / "idProduct")
    return f"{vendor}:{product}" if vendor and product else None


def _udev_groups(paths: SystemPaths) -> tuple[set[str], set[str], list[str]]:
    """(vendor IDs some rule matches, groups those rules give, the rule files)."""
    vendors, groups, files = set(), set(), []
    for folder in paths.udev_rules:
        for rules in sorted(folder.glob("*.rules")) if folder.is_dir() else []:
            for line in (read_or_none(rules) or "").splitlines():
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
        mbps = read_or_none(speed) if speed else None
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
        if (read_or_none(e / "vendor"), read_or_none(e / "device"))
        == (f"0x{vendor}", f"0x{product}")
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
