"""Edge TPU devices: the device-string grammar the delegate takes, and what sysfs says is plugged in.

Discovery reads sysfs and /dev only (no driver calls), so it works without the runtime library and can
say what is wrong: the device is there but the node is not writable, a PCIe card has no driver, the
USB link is USB 2. Every root is injectable so tests use directory trees shaped like sysfs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from edgedeploy.errors import UsageError

DEVICE_GRAMMAR = "usb, usb:N, pci, pci:N or :N (the N-th Edge TPU of any kind)"
_DEVICE_PATTERN = re.compile(r"^(?P<kind>usb|pci)?(?::(?P<index>\d+))?$")

# USB IDs of the Coral USB Accelerator: it enumerates as 1a6e:089a until the runtime uploads its
# firmware, then re-enumerates as 18d1:9302.
USB_IDS = {
    ("18d1", "9302"): "ready",
    ("1a6e", "089a"): "firmware not loaded yet (the runtime loads it on first use)",
}
PCI_ID = ("0x1ac1", "0x089a")  # Coral M.2 / Mini PCIe (Global Unichip)
# sysfs `speed` (Mb/s) -> what the link is. USB 2 makes the Accelerator 4-12x slower (docs/edgetpu.md section 9).
USB_LINKS = {
    "1.5": "USB 1 (1.5 Mb/s)",
    "12": "USB 1 (12 Mb/s)",
    "480": "USB 2 (480 Mb/s)",
    "5000": "USB 3 (5 Gb/s)",
    "10000": "USB 3 (10 Gb/s)",
    "20000": "USB 3 (20 Gb/s)",
}
USB_FIX = "install Coral's udev rules (package libedgetpu1-std adds them) or add your user to group plugdev, then re-plug"
PCI_FIX = "add your user to group apex (sudo usermod -aG apex $USER) and log in again"


@dataclass(frozen=True)
class DeviceSpec:
    kind: str | None = None  # "usb" | "pci" | None (any)
    index: int | None = None  # N-th of that kind; None = the first one

    def __str__(self) -> str:
        if self.index is None:
            return self.kind or ""
        return f"{self.kind or ''}:{self.index}"

    @property
    def is_any(self) -> bool:
        return self.kind is None and self.index is None

    def select(self, devices: list["EdgeTpuDevice"]) -> "EdgeTpuDevice | None":
        matching = [d for d in devices if self.kind in (None, d.kind)]
        position = self.index or 0
        return matching[position] if position < len(matching) else None


def parse_device(text: str | None) -> DeviceSpec:
    """``usb``, ``usb:N``, ``pci``, ``pci:N``, ``:N``; empty or None means any Edge TPU."""
    value = (text or "").strip().lower()
    match = _DEVICE_PATTERN.match(value)
    if match is None or value == ":":
        raise UsageError(f"invalid Edge TPU device {text!r}", f"use {DEVICE_GRAMMAR}")
    index = match.group("index")
    return DeviceSpec(match.group("kind"), int(index) if index is not None else None)


@dataclass(frozen=True)
class SystemPaths:
    sys_root: Path = Path("/sys")
    dev_root: Path = Path("/dev")
    dpkg_info: Path = Path(
        "/var/lib/dpkg/info"
    )  # its parent holds dpkg's "status" (installed package versions)
    udev_rules: tuple[Path, ...] = (
        Path("/etc/udev/rules.d"),
        Path("/lib/udev/rules.d"),
        Path("/usr/lib/udev/rules.d"),
    )


@dataclass(frozen=True)
class EdgeTpuDevice:
    kind: str  # "usb" | "pci"
    node: str | None  # what the runtime opens: /dev/bus/usb/BBB/DDD or /dev/apex_N
    sysfs_path: str | None = None
    state: str = "ready"
    link: str | None = None  # USB link speed as sysfs reports it
    problem: str | None = None  # why it cannot be used: permission, missing driver

    @property
    def usb2_or_slower(self) -> bool:
        return self.kind == "usb" and self.link is not None and not self.link.startswith("USB 3")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def can_read_write(path: str) -> bool:
    return os.access(path, os.R_OK | os.W_OK)


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _usb_devices(paths: SystemPaths, can_access: Callable[[str], bool]) -> list[EdgeTpuDevice]:
    found = []
    root = paths.sys_root / "bus" / "usb" / "devices"
    for entry in sorted(root.iterdir()) if root.is_dir() else []:
        ids = (_read(entry / "idVendor"), _read(entry / "idProduct"))
        if ids not in USB_IDS:
            continue
        speed, bus, dev = _read(entry / "speed"), _read(entry / "busnum"), _read(entry / "devnum")
        node = (
            str(paths.dev_root / "bus" / "usb" / f"{int(bus):03d}" / f"{int(dev):03d}")
            if bus and dev
            else None
        )
        problem = None
        if node is None or not os.path.exists(node):
            problem = f"USB Edge TPU at {entry.name} has no device node{f' {node}' if node else ''}"
        elif not can_access(node):
            problem = f"permission denied on {node} (USB Edge TPU {':'.join(ids)}): {USB_FIX}"
        link = USB_LINKS.get(speed or "", f"{speed} Mb/s" if speed else None)
        found.append(EdgeTpuDevice("usb", node, str(entry), USB_IDS[ids], link, problem))
    return found


def _apex_number(node: Path) -> int:
    suffix = node.name.removeprefix("apex_")
    return int(suffix) if suffix.isdigit() else 1 << 30


def _pci_devices(paths: SystemPaths, can_access: Callable[[str], bool]) -> list[EdgeTpuDevice]:
    found = []
    for node in sorted(paths.dev_root.glob("apex_*"), key=_apex_number):
        problem = None if can_access(str(node)) else f"permission denied on {node}: {PCI_FIX}"
        found.append(EdgeTpuDevice("pci", str(node), problem=problem))
    pci_root = paths.sys_root / "bus" / "pci" / "devices"
    for entry in sorted(pci_root.iterdir()) if pci_root.is_dir() else []:
        if (_read(entry / "vendor"), _read(entry / "device")) == PCI_ID and not (
            entry / "apex"
        ).is_dir():
            found.append(
                EdgeTpuDevice(
                    "pci",
                    None,
                    str(entry),
                    "no driver",
                    problem=f"PCIe Edge TPU at {entry.name} has no driver bound (no /dev/apex_N): "
                    "install gasket-dkms and reboot",
                )
            )
    return found


def discover_devices(
    paths: SystemPaths | None = None, can_access: Callable[[str], bool] = can_read_write
) -> list[EdgeTpuDevice]:
    """USB Accelerators first, then PCIe modules, each in sysfs order."""
    paths = paths or SystemPaths()
    return _usb_devices(paths, can_access) + _pci_devices(paths, can_access)


def merge_runtime_order(
    runtime: list[tuple[str, str]], found: list[EdgeTpuDevice]
) -> list[EdgeTpuDevice]:
    """Devices in the order the runtime enumerates them (that order is what ``usb:N`` means to it),
    with what sysfs knows about each; devices only sysfs sees (e.g. not accessible) come last."""
    ordered, rest = [], list(found)
    for kind, path in runtime:
        match = next(
            (
                d
                for d in rest
                if d.kind == kind
                and (
                    path in (d.node, d.sysfs_path)
                    or (d.sysfs_path and Path(d.sysfs_path).name == Path(path).name)
                )
            ),
            None,
        )
        if match is not None:
            rest.remove(match)
        ordered.append(
            match
            or EdgeTpuDevice(kind, path if kind == "pci" else None, path if kind == "usb" else None)
        )
    return ordered + rest
