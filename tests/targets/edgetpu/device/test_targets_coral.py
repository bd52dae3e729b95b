"""The coral target up to the delegate load: device-string grammar, discovery in sysfs-shaped trees
(link speed, permissions, missing driver), the runtime library (missing, not libedgetpu, a test
double built here with the C compiler), which file it runs, and a delegate that fails to open."""

from __future__ import annotations

import ctypes.util
import shutil
import subprocess
from pathlib import Path

import pytest
from bench_models import float_add_model
from sysfs_trees import usb_device, write

from edgedeploy.bench.harness import MeasurePlan
from edgedeploy.bench.runner import BenchRequest, run_bench
from edgedeploy.errors import ExitCode, InputError, TargetUnavailableError, UsageError
from edgedeploy.targets.contract import NeedsCompilation, TargetOptions
from edgedeploy.targets.edgetpu.device.config import EdgeTpuConfig
from edgedeploy.targets.edgetpu.device.devices import (
    DeviceSpec,
    EdgeTpuDevice,
    SystemPaths,
    discover_devices,
    parse_device,
)
from edgedeploy.targets.edgetpu.device.library import (
    detect_build,
    open_library,
    parse_runtime_version,
)
from edgedeploy.targets.edgetpu.device.runtime import EdgeTpuRuntime
from edgedeploy.targets.inspection import inspect_model
from edgedeploy.targets.registry import create_runtime

MNV1 = "mobilenet_v1_0.25_128_quant"


@pytest.mark.parametrize(
    "text, kind, index, canonical",
    [
        (None, None, None, ""),
        ("", None, None, ""),
        ("usb", "usb", None, "usb"),
        ("usb:0", "usb", 0, "usb:0"),
        ("pci:1", "pci", 1, "pci:1"),
        (":2", None, 2, ":2"),
        ("USB:3", "usb", 3, "usb:3"),
        ("pci", "pci", None, "pci"),
    ],
)
def test_device_strings(text, kind, index, canonical):
    spec = parse_device(text)
    assert (spec.kind, spec.index, str(spec)) == (kind, index, canonical)


@pytest.mark.parametrize(
    "text", ["usb:", ":", "usb:x", "tpu", "usb:-1", "pci0", "usb:1:2", "/dev/apex_0"]
)
def test_bad_device_strings(text):
    with pytest.raises(UsageError, match="usb, usb:N, pci, pci:N or :N"):
        parse_device(text)


def test_device_selection_follows_enumeration_order():
    devices = [EdgeTpuDevice("usb", "a"), EdgeTpuDevice("usb", "b"), EdgeTpuDevice("pci", "c")]
    assert parse_device(":2").select(devices).node == "c"
    assert parse_device("usb:1").select(devices).node == "b"
    assert parse_device("pci").select(devices).node == "c"
    assert parse_device("pci:1").select(devices) is None
    assert DeviceSpec().select(devices).node == "a" and DeviceSpec().select([]) is None


@pytest.fixture
def system(tmp_path) -> SystemPaths:
    paths = SystemPaths(tmp_path / "sys", tmp_path / "dev", tmp_path / "dpkg")
    for folder in (paths.sys_root, paths.dev_root, paths.dpkg_info):
        folder.mkdir()
    return paths


def test_usb_discovery_link_speed_and_firmware_state(system):
    usb_device(system, "2-1", ("18d1", "9302"), "5000", 2, 3)
    usb_device(system, "1-4", ("1a6e", "089a"), "480", 1, 7)
    usb_device(system, "1-2", ("046d", "c52b"), "12", 1, 2)  # a mouse
    devices = discover_devices(system)
    assert [d.sysfs_path.split("/")[-1] for d in devices] == ["1-4", "2-1"]
    usb2, usb3 = devices
    assert usb3.link == "USB 3 (5 Gb/s)" and usb3.state == "ready" and not usb3.usb2_or_slower
    assert (
        usb3.node == str(system.dev_root / "bus" / "usb" / "002" / "003") and usb3.problem is None
    )
    assert usb2.link == "USB 2 (480 Mb/s)" and usb2.usb2_or_slower and "firmware" in usb2.state


def test_permission_denied_and_missing_nodes(system):
    usb_device(system, "2-1", ("18d1", "9302"), "5000", 2, 3)
    usb_device(system, "2-2", ("18d1", "9302"), "5000", 2, 4, node=False)
    write(system.dev_root / "apex_0", "")
    denied = {str(system.dev_root / "bus" / "usb" / "002" / "003"), str(system.dev_root / "apex_0")}
    devices = discover_devices(system, can_access=lambda node: node not in denied)
    problems = [d.problem for d in devices]
    assert "permission denied on" in problems[0] and "udev" in problems[0]
    assert "no device node" in problems[1]
    assert devices[2].kind == "pci" and "permission denied" in problems[2] and "apex" in problems[2]


def test_pcie_module_without_driver(system):
    entry = system.sys_root / "bus" / "pci" / "devices" / "0000:01:00.0"
    write(entry / "vendor", "0x1ac1")
    write(entry / "device", "0x089a")
    write(system.sys_root / "bus" / "pci" / "devices" / "0000:00:1f.0" / "vendor", "0x8086")
    (device,) = discover_devices(system)
    assert device.kind == "pci" and device.node is None and "gasket" in device.problem


def test_runtime_version_and_build_detection(system, tmp_path):
    assert (
        parse_runtime_version("BuildLabel(COMPILER=6.3.0,DATE=redacted), RuntimeVersion(14)") == 14
    )
    assert parse_runtime_version("garbage") is None and parse_runtime_version(None) is None
    library = tmp_path / "usr" / "lib" / "libedgetpu.so.1.0"
    write(library, "")
    write(system.dpkg_info / "libedgetpu1-max:amd64.list", f"/usr/share/doc\n{library}\n")
    write(system.dpkg_info / "libedgetpu1-max-dev:amd64.list", "/usr/include/edgetpu.h\n")
    assert detect_build(str(library), system) == "max"
    assert detect_build(str(tmp_path / "elsewhere.so"), system) is None  # not from Coral's package


def test_missing_library_and_no_device(system, edgetpu_models):
    target = EdgeTpuRuntime(EdgeTpuConfig(library="/nonexistent/libedgetpu.so.1", paths=system))
    availability = target.availability()
    assert not availability.available
    assert "cannot load the Edge TPU runtime library" in availability.reason
    assert "no Edge TPU found" in availability.reason and availability.details["devices"] == []
    with pytest.raises(TargetUnavailableError, match="libedgetpu"):
        target.load(inspect_model(edgetpu_models / f"{MNV1}_edgetpu.tflite"), target.variants()[0])


def test_library_on_search_path_missing_offers_the_package(system):
    with pytest.raises(TargetUnavailableError) as caught:
        open_library("libedgetpu-not-installed.so.1", system)
    assert "not found" in caught.value.message and "libedgetpu1-std" in caught.value.hint


def test_a_library_that_is_not_libedgetpu(system):
    libm = ctypes.util.find_library("m")
    if libm is None:
        pytest.skip("no libm to stand in for a wrong library")
    usb_device(system, "2-1", ("18d1", "9302"), "5000", 2, 3)
    availability = EdgeTpuRuntime(EdgeTpuConfig(library=libm, paths=system)).availability()
    assert (
        not availability.available and "is not the Edge TPU runtime library" in availability.reason
    )
    assert len(availability.details["devices"]) == 1  # the device is still shown to the user


FAKE_LIBEDGETPU = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
struct edgetpu_device { int type; const char* path; };
static struct edgetpu_device devices[1] = {{1, "/sys/bus/usb/devices/2-1"}};
const char* edgetpu_version(void) { return "BuildLabel(test double), RuntimeVersion(14)"; }
struct edgetpu_device* edgetpu_list_devices(size_t* n) { *n = getenv("FAKE_EDGETPU_USB") ? 1 : 0; return *n ? devices : NULL; }
void edgetpu_free_devices(struct edgetpu_device* d) { (void)d; }
void* tflite_plugin_create_delegate(char** keys, char** values, size_t n, void (*report)(const char*)) {
  char said[256] = "test double refuses:";
  for (size_t i = 0; i < n; i++) { strcat(said, " "); strcat(said, keys[i]); strcat(said, "="); strcat(said, values[i]); }
  report(said);
  return NULL;
}
void tflite_plugin_destroy_delegate(void* d) { (void)d; }
"""


@pytest.fixture(scope="module")
def fake_libedgetpu(tmp_path_factory) -> Path:
    """A stand-in libedgetpu with the real C API whose delegate never opens (no hardware anywhere)."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build the libedgetpu test double")
    folder = tmp_path_factory.mktemp("libedgetpu")
    (folder / "fake.c").write_text(FAKE_LIBEDGETPU)
    subprocess.run(
        [
            compiler,
            "-shared",
            "-fPIC",
            "-o",
            str(folder / "libedgetpu.so.1"),
            str(folder / "fake.c"),
        ],
        check=True,
        capture_output=True,
    )
    return folder / "libedgetpu.so.1"


def test_doctor_with_runtime_and_device_then_the_delegate_fails_to_open(
    system, fake_libedgetpu, edgetpu_models, monkeypatch
):
    monkeypatch.setenv("FAKE_EDGETPU_USB", "1")
    usb_device(system, "2-1", ("18d1", "9302"), "480", 2, 3)
    write(system.dpkg_info / "libedgetpu1-std:amd64.list", f"{fake_libedgetpu}\n")
    target = EdgeTpuRuntime(EdgeTpuConfig.from_options("usb:0", str(fake_libedgetpu), paths=system))
    availability = target.availability()
    assert availability.available, availability.reason
    library = availability.details["library"]
    assert (
        library["runtime_version"] == 14
        and library["build"] == "std"
        and "250 MHz" in library["clock"]
    )
    device = availability.details["device"]
    assert (
        device["sysfs_path"].endswith("2-1") and device["link"] == "USB 2 (480 Mb/s)"
    )  # runtime order, sysfs facts
    compiled = inspect_model(edgetpu_models / f"{MNV1}_edgetpu.tflite")
    with pytest.raises(
        TargetUnavailableError,
        match="could not open device usb:0: test double refuses: device=usb:0",
    ):
        target.load(compiled, target.variants()[0])


def test_device_asked_for_but_not_there(system, fake_libedgetpu):
    usb_device(system, "2-1", ("18d1", "9302"), "5000", 2, 3)
    availability = EdgeTpuRuntime(
        EdgeTpuConfig.from_options("pci", str(fake_libedgetpu), paths=system)
    ).availability()
    assert not availability.available and "no Edge TPU matches device 'pci'" in availability.reason


def test_which_file_coral_runs(edgetpu_models, tmp_path):
    target = EdgeTpuRuntime(EdgeTpuConfig())
    compiled = target.model_for(inspect_model(edgetpu_models / f"{MNV1}.tflite"))
    assert (
        compiled.path.name == f"{MNV1}_edgetpu.tflite" and compiled.compiled
    )  # the twin beside it
    assert target.model_for(compiled) is compiled
    with pytest.raises(NeedsCompilation) as caught:
        target.model_for(inspect_model(edgetpu_models / "tf2_mobilenet_v2_1.0_224_ptq.tflite"))
    assert "not compiled" in caught.value.message and "edgedeploy compile" in caught.value.hint
    assert caught.value.exit_code == ExitCode.UNREADABLE_INPUT


def test_compile_on_request_uses_the_compile_stage(
    fake_compiler, compiler_logs, edgetpu_models, tmp_path
):
    shutil.copy(edgetpu_models / f"{MNV1}.tflite", tmp_path / f"{MNV1}.tflite")
    fake_compiler.use(
        stdout=next(compiler_logs.glob("*yolov5s-224_sa_c16.txt")),
        compiled=edgetpu_models / f"{MNV1}_edgetpu.tflite",
    )
    with pytest.raises(NeedsCompilation) as caught:
        EdgeTpuRuntime(EdgeTpuConfig()).model_for(inspect_model(tmp_path / f"{MNV1}.tflite"))
    compiled = caught.value.compile()
    assert compiled.path == tmp_path / f"{MNV1}_edgetpu.tflite" and compiled.compiled
    assert fake_compiler.compile_calls()


def test_bench_reports_a_failed_delegate_and_still_runs_the_cpu(
    system, fake_libedgetpu, edgetpu_models
):
    usb_device(system, "2-1", ("18d1", "9302"), "5000", 2, 3)

    def factory(name: str, options: TargetOptions):
        if name == "edgetpu":
            return EdgeTpuRuntime(
                EdgeTpuConfig.from_options(None, str(fake_libedgetpu), paths=system)
            )
        return create_runtime(name, options)

    request = BenchRequest(
        models=(edgetpu_models / f"{MNV1}.tflite",),
        targets=("cpu", "edgetpu"),
        target_options=TargetOptions(threads=(1,)),
        plan=MeasurePlan(min_runs=3, min_time_s=0, warmup_time_s=0, repeats=1),
    )
    result = run_bench(request, target_factory=factory)
    cpu, coral = result.cells
    assert (
        cpu.status == "ok" and cpu.model_path.endswith(f"{MNV1}.tflite") and cpu.latency.count == 3
    )
    assert (
        coral.status == "failed"
        and "could not open an Edge TPU: test double refuses" in coral.reason
    )
    assert coral.model_path.endswith(f"{MNV1}_edgetpu.tflite")
    assert result.exit_code == ExitCode.ERROR


def test_float_model_for_coral_is_refused(tmp_path):
    model = inspect_model(float_add_model(tmp_path / "float_add.tflite"))
    with pytest.raises(InputError, match="float model.*full-int8") as caught:
        EdgeTpuRuntime(EdgeTpuConfig()).model_for(model)
    assert "edgedeploy convert --target edgetpu" in caught.value.hint


def test_threads_reach_the_ops_the_compiler_left_on_the_cpu():
    from edgedeploy.machine import available_cores
    from edgedeploy.targets.registry import create_runtime

    assert create_runtime("edgetpu", TargetOptions(threads=(3, 1))).config.threads == 3
    assert create_runtime("coral", TargetOptions()).config.threads == available_cores()
