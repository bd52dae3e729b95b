"""The target registry is the one place commands find targets: a toy accelerator that lives under
tests/ works with `targets`, `check` and `bench` after one registration line and no other edit."""

from __future__ import annotations

import json
import re

import pytest
from bench_models import QUICK_BENCH, float_add_model

from edgedeploy.errors import ExitCode, UsageError
from edgedeploy.targets import registry

QUICK = QUICK_BENCH


@pytest.fixture
def toy():
    import toy_accelerator

    registry.register(toy_accelerator.TARGET)  # the one registration line
    yield toy_accelerator.TARGET
    registry.unregister("toy")


def test_the_toy_is_listed_by_the_doctor_with_what_it_offers(cli, toy):
    result = cli("targets", "--json")
    assert result.code in (ExitCode.OK, ExitCode.TARGET_UNAVAILABLE), (
        result
    )  # edgetpu needs a device
    by_name = {t["name"]: t for t in json.loads(result.out)["targets"]}
    assert by_name["toy"]["offers"] == ["check", "bench"] and by_name["toy"]["aliases"] == [
        "toy-npu"
    ]
    assert by_name["toy"]["available"] and by_name["toy"]["variants"] == ["toy toy:0"]
    assert cli("targets", "toy-npu").code == ExitCode.OK


def test_check_runs_the_toy_rules(cli, toy, edgetpu_models):
    model = edgetpu_models / "mobilenet_v1_0.25_128_quant.tflite"
    result = cli("check", "--target", "toy", "--json", model)
    data = json.loads(result.out)
    assert (
        set(data["mapped"]) <= {"CONV_2D", "DEPTHWISE_CONV_2D", "ADD"}
        and "CONV_2D" in data["mapped"]
    )
    assert "SOFTMAX" in data["refused"] and result.code == ExitCode.OPS_ON_CPU
    refused = cli(
        "check", "--target", "toy", "--compiler-version", "15", model
    )  # an Edge TPU option
    assert (
        refused.code == ExitCode.USAGE and "'toy' does not take --compiler-version" in refused.err
    )


def test_bench_measures_on_the_toy_runtime(cli, toy, tmp_path):
    model = float_add_model(tmp_path / "add.tflite")
    result = cli("bench", "--target", "cpu,toy", "--threads", "1", "--json", *QUICK, model)
    assert result.code == ExitCode.OK, result
    cells = {c["target_name"]: c for c in json.loads(result.out)["results"]}
    assert cells["toy"]["status"] == "ok" and cells["toy"]["latency"]["count"] == 3
    assert cells["toy"]["details"]["device"] == "toy:0"


def test_capabilities_a_target_lacks_are_usage_errors(cli, toy, tmp_path):
    model = float_add_model(tmp_path / "add.tflite")
    assert "cannot compile" in cli("compile", "--target", "toy", model).err
    converted = cli("convert", "--target", "toy", "mobilenet_v2")
    assert converted.code == ExitCode.USAGE and "cannot be converted for" in converted.err
    assert (
        cli("check", "--target", "cpu", model).code == ExitCode.USAGE
    )  # the CPU has no mapping check


def test_names_and_aliases_are_unique():
    import toy_accelerator

    clash = toy_accelerator.TARGET.__class__(name="other", summary="x", aliases=("coral",))
    with pytest.raises(ValueError, match="already taken by 'edgetpu'"):
        registry.register(clash)
    with pytest.raises(UsageError, match="unknown target 'toy'"):
        registry.get_target("toy")  # not registered outside the fixture


def test_an_option_the_toy_declares_is_on_check_and_reaches_its_check(cli, toy, edgetpu_models):
    model = edgetpu_models / "mobilenet_v1_0.25_128_quant.tflite"
    assert "--toy-refuse" in cli("check", "--help").out
    assert "--toy-refuse" not in cli("bench", "--help").out  # only on the commands it names
    plain = json.loads(cli("check", "--target", "toy", "--json", model).out)
    refusing = json.loads(
        cli("check", "--target", "toy", "--toy-refuse", "CONV_2D", "--json", model).out
    )
    assert "CONV_2D" in plain["mapped"] and "CONV_2D" not in plain["refused"]
    assert "CONV_2D" not in refusing["mapped"] and "CONV_2D" in refusing["refused"]
    other = cli(
        "check", "--toy-refuse", "ADD", model
    )  # given to the default target, which lacks it
    assert other.code == ExitCode.USAGE and "'edgetpu' does not take --toy-refuse" in other.err


def test_a_runtime_option_the_toy_declares_reaches_its_runtime(cli, toy):
    result = cli("targets", "toy", "--toy-firmware", "v2.bin", "--json")
    assert result.code == ExitCode.OK, result
    (found,) = json.loads(result.out)["targets"]
    assert found["details"]["firmware"] == "v2.bin"
    (default,) = json.loads(cli("targets", "toy", "--json").out)["targets"]
    assert default["details"]["firmware"] == "built-in"


def test_an_option_no_registered_target_declares_is_unknown(cli, edgetpu_models):
    model = edgetpu_models / "mobilenet_v1_0.25_128_quant.tflite"
    result = cli("check", "--toy-refuse", "ADD", model)
    assert result.code == ExitCode.USAGE and "No such option" in result.err


def _help(cli, command: str) -> str:
    """A command's --help as one line of words (the rich panel's borders and wrapping removed)."""
    return " ".join(re.sub("[\u2500-\u257f]", " ", cli(command, "--help").out).split())


def test_target_help_and_default_come_from_the_registry(cli, toy):
    assert f"[default: {registry.DEFAULT_TARGET}]" in _help(cli, "check")
    assert "cpu, edgetpu (alias coral), toy (alias toy-npu)." in _help(cli, "bench")
    assert "toy" not in _help(cli, "compile")  # the toy cannot compile: not offered
    # --device's help names each registered target's device syntax (the CLI names no accelerator)
    for command in ("bench", "verify", "targets"):
        assert "Edge TPU: usb, usb:N, pci, pci:N or :N; toy: toy:N" in _help(cli, command), command


def test_declared_options_of_a_command_and_runtime_settings():
    from edgedeploy.targets.contract import TargetOptions

    names = [o.name for o in registry.command_options("check")]
    assert len(names) == len(set(names)) and "compiler_version" in names
    assert [o.flags[0] for o in registry.command_options("targets")] == ["--edgetpu-lib"]
    options = TargetOptions.of(device="usb", library="lib.so", firmware="x.bin")
    assert (options.device, options.library, dict(options.extra)) == (
        "usb",
        "lib.so",
        {"firmware": "x.bin"},
    )


def test_a_device_delegate_without_the_linux_fallback_is_refused_when_declared():
    """infer.py falls back to a delegate's Linux library on any other system; a target that declared
    none would write a script that fails on the device, so the declaration itself fails."""
    from edgedeploy.targets.contract import DeviceDelegate

    with pytest.raises(ValueError, match="Linux"):
        DeviceDelegate("_npu.tflite", {"Windows": "npu.dll"}, "an NPU")
    declared = [s.device_delegate for s in registry.all_targets() if s.device_delegate]
    assert declared and all("Linux" in d.libraries for d in declared)
