"""sysfs- and /dev-shaped trees for the Edge TPU device tests (discovery and the doctor)."""

from __future__ import annotations

from pathlib import Path

from edgedeploy.targets.edgetpu.device.devices import SystemPaths


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")


def usb_device(
    paths: SystemPaths,
    name: str,
    ids: tuple[str, str],
    speed: str,
    bus: int,
    dev: int,
    node: bool = True,
) -> None:
    entry = paths.sys_root / "bus" / "usb" / "devices" / name
    for file, value in (
        ("idVendor", ids[0]),
        ("idProduct", ids[1]),
        ("speed", speed),
        ("busnum", str(bus)),
        ("devnum", str(dev)),
    ):
        write(entry / file, value)
    if node:
        write(paths.dev_root / "bus" / "usb" / f"{bus:03d}" / f"{dev:03d}", "")
