"""The Edge TPU doctor (issue 15) on sysfs, /dev, udev and dpkg trees shaped like real machines: each check
has one verdict and, when it is not ok, the exact fix."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from sysfs_trees import usb_device, write

from edgedeploy.errors import ExitCode
from edgedeploy.targets.edgetpu.device.config import EdgeTpuConfig
from edgedeploy.targets.edgetpu.device.devices import SystemPaths, discover_devices
from edgedeploy.targets.edgetpu.device.doctor import runtime_version_check, tensorflow_check
from edgedeploy.targets.edgetpu.device.doctor_access import (
    pcie_checks,
    secure_boot,
    udev_check,
    usb_checks,
)
from edgedeploy.targets.edgetpu.device.runtime import EdgeTpuRuntime

CORAL_RULE = 'SUBSYSTEM=="usb",ATTRS{idVendor}=="1a6e",GROUP="plugdev"\nSUBSYSTEM=="usb",ATTRS{idVendor}=="18d1",GROUP="plugdev"'
SECURE_BOOT = "SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"


@pytest.fixture
def machine(tmp_path) -> SystemPaths:
    paths = SystemPaths(
        tmp_path / "sys",
        tmp_path / "dev",
        tmp_path / "var/lib/dpkg/info",
        (tmp_path / "etc/udev/rules.d", tmp_path / "lib/udev/rules.d"),
    )
    for folder in (paths.sys_root, paths.dev_root, paths.dpkg_info, *paths.udev_rules):
        folder.mkdir(parents=True)
    return paths


def by_name(checks):
    return {c.name: c for c in checks}


def test_usb_firmware_state_and_link_speed(machine):
    usb_device(machine, "1-4", ("1a6e", "089a"), "480", 1, 7)
    usb_device(machine, "2-1", ("18d1", "9302"), "5000", 2, 3)
    write(machine.udev_rules[1] / "60-libedgetpu1-std.rules", CORAL_RULE)
    checks = by_name(
        usb_checks(
            discover_devices(machine, lambda node: True), machine, {"plugdev"}, is_root=False
        )
    )
    waiting, ready = checks["USB Accelerator 1-4"], checks["USB Accelerator 2-1"]
    assert waiting.verdict == "warning" and "1a6e:089a: waiting for firmware" in waiting.found
    assert "uploads the firmware" in waiting.fix
    assert (
        ready.verdict == "ok"
        and ready.found == "18d1:9302: ready (firmware loaded)"
        and ready.fix is None
    )
    slow, fast = checks["USB link 1-4"], checks["USB link 2-1"]
    assert (
        slow.verdict == "warning" and slow.found == "USB 2 (480 Mb/s)" and "USB 3 port" in slow.fix
    )
    assert fast.verdict == "ok" and fast.found == "USB 3 (5 Gb/s)"
    assert checks["udev rule"].verdict == "ok" and "group plugdev" in checks["udev rule"].found


def test_udev_rule_missing_or_naming_a_group_the_user_is_not_in(machine):
    missing = udev_check(machine, set(), is_root=False, device_present=True)
    assert missing.verdict == "problem" and "1a6e, 18d1" in missing.found
    assert "99-edgetpu-accelerator.rules" in missing.fix and "udevadm trigger" in missing.fix
    write(machine.udev_rules[0] / "99-edgetpu-accelerator.rules", "# Coral\n" + CORAL_RULE)
    outside = udev_check(machine, {"users"}, is_root=False, device_present=True)
    assert outside.verdict == "problem" and "you are not in plugdev" in outside.found
    assert outside.fix.startswith("sudo usermod -aG plugdev $USER")
    assert (
        udev_check(machine, {"users", "plugdev"}, is_root=False, device_present=True).verdict
        == "ok"
    )
    assert (
        udev_check(machine, set(), is_root=True, device_present=True).verdict == "ok"
    )  # root needs no group


def test_a_commented_out_rule_does_not_count(machine):
    write(
        machine.udev_rules[0] / "99-edgetpu.rules",
        "\n".join("#" + line for line in CORAL_RULE.splitlines()),
    )
    assert udev_check(machine, {"plugdev"}, is_root=False, device_present=True).verdict == "problem"


def _pcie_card(paths: SystemPaths, name: str = "0000:01:00.0") -> Path:
    entry = paths.sys_root / "bus" / "pci" / "devices" / name
    write(entry / "vendor", "0x1ac1")
    write(entry / "device", "0x089a")
    return entry


def test_pcie_card_without_its_modules_under_secure_boot(machine):
    _pcie_card(machine)
    efivars = machine.sys_root / "firmware" / "efi" / "efivars"
    efivars.mkdir(parents=True)
    (efivars / SECURE_BOOT).write_bytes(b"\x06\x00\x00\x00\x01")
    assert secure_boot(machine) is True
    checks = by_name(pcie_checks(machine, discover_devices(machine), lambda node: True, set()))
    card = checks["PCIe module 0000:01:00.0"]
    assert card.verdict == "problem" and "not bound" in card.found and "gasket-dkms" in card.fix
    modules = checks["kernel modules"]
    assert (
        modules.verdict == "problem"
        and "gasket, apex" in modules.found
        and "Secure Boot is on" in modules.found
    )
    assert "mokutil --import" in modules.fix and "gasket-driver" in modules.fix
    assert checks["device node /dev/apex_N"].verdict == "problem"


def test_pcie_card_working_but_its_node_not_accessible(machine):
    card = _pcie_card(machine)
    (card / "apex").mkdir()
    for module in ("gasket", "apex"):
        (machine.sys_root / "module" / module).mkdir(parents=True)
    write(machine.dev_root / "apex_0", "")
    node = str(machine.dev_root / "apex_0")
    denied = by_name(
        pcie_checks(machine, discover_devices(machine), lambda path: path != node, {"users"})
    )
    assert (
        denied["PCIe module 0000:01:00.0"].verdict == "ok"
        and denied["kernel modules"].verdict == "ok"
    )
    assert denied[f"device node {node}"].verdict == "problem"
    assert (
        "not in group apex" in denied[f"device node {node}"].found
        and "usermod -aG apex" in denied[f"device node {node}"].fix
    )
    allowed = by_name(pcie_checks(machine, discover_devices(machine), lambda path: True, {"apex"}))
    assert allowed[f"device node {node}"].verdict == "ok"
    assert secure_boot(machine) is None  # no EFI variables: not an EFI system, nothing said


def test_no_pcie_checks_without_a_pcie_device(machine):
    assert pcie_checks(machine, [], lambda node: True, set()) == []


@pytest.mark.parametrize(
    "package, interpreter, verdict",
    [
        (
            "16.0",
            ("ai-edge-litert", "2.1.0"),
            "problem",
        ),  # Coral's 16.0 is TF 2.5; every ai-edge-litert is 2.17 or newer
        ("16.0", ("tflite-runtime", "2.5.0.post1"), "ok"),  # what pycoral 2.0 pins
        ("14.1", ("tflite-runtime", "2.5.0"), "problem"),  # google-coral/pycoral#1
        (
            "16.0tf2.20.0-1",
            ("ai-edge-litert", "1.3.0"),
            "ok",
        ),  # a community build naming its TensorFlow
        ("16.0tf2.17.1-1", ("ai-edge-litert", "1.3.0"), "problem"),
        (
            "16.0tf2.17.1-1",
            ("ai-edge-litert", "2.1.0"),
            "unknown",
        ),  # this litert is 2.17 or newer: cannot tell
        (None, ("ai-edge-litert", "2.1.0"), "unknown"),
    ],
)
def test_tensorflow_of_the_library_vs_the_interpreter(package, interpreter, verdict):
    check = tensorflow_check(package, interpreter)
    assert check.verdict == verdict, check
    if verdict == "problem":
        assert (
            "Unsupported data type in custom op handler" in check.found
            and "libedgetpu built against" in check.fix
        )
    if verdict == "ok":
        assert check.fix is None


def test_compiled_model_needs_a_newer_runtime():
    old = runtime_version_check("m_edgetpu.tflite", needed=14, installed=13)
    assert old.verdict == "problem" and "needs runtime 14, this libedgetpu is 13" in old.found
    assert "--min-runtime 13" in old.fix
    assert runtime_version_check("m", needed=13, installed=14).verdict == "ok"
    assert runtime_version_check("m", needed=14, installed=None).verdict == "unknown"


LIBRARY = r"""
#include <stddef.h>
struct edgetpu_device { int type; const char* path; };
const char* edgetpu_version(void) { return "BuildLabel(doctor double), RuntimeVersion(13)"; }
struct edgetpu_device* edgetpu_list_devices(size_t* n) { *n = 0; return NULL; }
void* tflite_plugin_create_delegate(void) { return 0; }
"""


@pytest.fixture
def runtime_13(tmp_path) -> Path:
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build the libedgetpu double")
    (tmp_path / "lib.c").write_text(LIBRARY)
    library = tmp_path / "usr" / "lib" / "libedgetpu.so.1"
    library.parent.mkdir(parents=True)
    subprocess.run(
        [compiler, "-shared", "-fPIC", "-o", str(library), str(tmp_path / "lib.c")],
        check=True,
        capture_output=True,
    )
    return library


def test_whole_doctor_on_a_machine_shaped_tree(
    machine, runtime_13, edgetpu_models, cli, monkeypatch
):
    usb_device(machine, "1-4", ("1a6e", "089a"), "480", 1, 7)
    write(
        machine.dpkg_info / "libedgetpu1-max:amd64.list",
        f"/usr/share/doc/libedgetpu1-max\n{runtime_13}\n",
    )
    write(
        machine.dpkg_info.parent / "status",
        "Package: libedgetpu1-max\nStatus: install ok installed\nVersion: 16.0\n\n"
        "Package: other\nVersion: 1\n",
    )
    config = EdgeTpuConfig.from_options(
        None,
        str(runtime_13),
        paths=machine,
        can_access=lambda node: False,
        user_groups=lambda: {"users"},
        is_root=lambda: False,
    )
    availability = EdgeTpuRuntime(config).availability()
    checks = {c["name"]: c for c in availability.details["checks"]}
    assert (
        checks["runtime library"]["verdict"] == "ok"
        and "runtime version 13" in checks["runtime library"]["found"]
    )
    assert checks["runtime build"]["found"].startswith("max (500 MHz")
    assert checks["TensorFlow match"]["verdict"] in (
        "problem",
        "unknown",
    )  # depends on the interpreter installed here
    assert checks["USB Accelerator 1-4"]["verdict"] == "warning"
    assert checks["USB link 1-4"]["verdict"] == "warning"
    assert checks["USB access 1-4"]["verdict"] == "problem"
    assert checks["udev rule"]["verdict"] == "problem"
    assert not availability.available

    # the compiled model needs runtime 13 (mobilenet) or 14 (compiled without -m 13): both against runtime 13
    from edgedeploy.targets.doctor import check_targets
    from edgedeploy.targets.registry import TargetOptions

    monkeypatch.setattr(EdgeTpuConfig, "from_options", classmethod(lambda cls, *a, **k: config))
    for model in sorted(edgetpu_models.glob("*_edgetpu.tflite")):
        (check,) = check_targets(["edgetpu"], TargetOptions(), model).entries[0].model_checks
        assert check["verdict"] in ("ok", "problem"), check
        if check["verdict"] == "problem":
            assert "this libedgetpu is 13" in check["found"] and "--min-runtime 13" in check["fix"]
    result = cli(
        "targets", "edgetpu", "--json", "--model", edgetpu_models / "split_concat_edgetpu.tflite"
    )
    assert result.code == ExitCode.TARGET_UNAVAILABLE
    (entry,) = json.loads(result.out)["targets"]
    assert [c["name"] for c in entry["model_checks"]] == ["runtime for split_concat_edgetpu.tflite"]
    table = cli("targets", "edgetpu").out
    assert "problem udev rule" in table and "fix:" in table
    assert "/etc/udev/rules.d/99-edgetpu-accelerator.rules" in table.replace("│", "").replace(
        "\n", ""
    ).replace(" ", "")


def test_model_option_needs_a_compiled_model(cli, edgetpu_models):
    result = cli("targets", "edgetpu", "--model", edgetpu_models / "split_concat.tflite")
    assert result.code == ExitCode.UNREADABLE_INPUT and "holds no edgetpu-custom-op" in result.err
