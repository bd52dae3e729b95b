"""`edgedeploy estimate`: the answer on the terminal and as JSON, and one clear line for bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from bench_models import float_add_model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tflite_builder import GraphBuilder

from edgedeploy import __version__
from edgedeploy.errors import ExitCode
from edgedeploy.targets.edgetpu.estimate.profiles import PROFILE_KEYS

PROFILES = ["x86-usb3", "x86-pcie", "devboard", "rpi4-usb3", "rpi3-usb2"]


def _latency_model(test_data, folder: str, name: str):
    return next((test_data / "edgetpu/latency/models").glob(f"{folder}*")) / name


@pytest.fixture
def deeplab(test_data):
    return _latency_model(test_data, "deeplabv3", "deeplabv3_mnv2_dm05_pascal_quant_edgetpu.tflite")


def test_json_follows_the_envelope_and_the_terms_add_up(cli, deeplab):
    result = cli("estimate", "--json", "--host", "rpi4-usb3", deeplab)
    assert result.code == ExitCode.OK, result
    data = json.loads(result.out)
    assert list(data)[:3] == ["schema_version", "command", "edgedeploy_version"]
    assert data["command"] == "estimate" and data["edgedeploy_version"] == __version__
    assert (
        data["label"] == "estimated"
        and data["kind"] == "compiled"
        and data["host"]["name"] == "rpi4-usb3"
    )
    assert data["latency_ms_low"] < data["latency_ms"] < data["latency_ms_high"]
    assert data["latency_ms"] == pytest.approx(sum(t["ms"] for t in data["terms"]))
    assert [t["name"] for t in data["terms"]] == [
        "fixed",
        "compute",
        "transfer",
        "streamed_parameters",
        "cpu_ops",
    ]
    cpu = data["cpu_ops"]
    assert cpu["ops"] == list(range(1, 9)) and cpu["cost_units"] > 0
    assert cpu["host_ms"] == pytest.approx(cpu["cost_units"] / 1e9 * cpu["host_ms_per_gunit"])
    assert cpu["summary"].startswith("ops 1-8 on the CPU: about ")
    assert data["schema_version"] == 2 and data["method"]["constants"] == "hosts-v2.json"
    assert (
        data["first_inference_extra_ms"] > 0
        and data["workload"]["on_chip_parameter_bytes"] == 766720
    )


def test_terminal_answer_is_labelled_estimated_with_its_breakdown(cli, deeplab):
    result = cli("estimate", deeplab)
    assert result.code == ExitCode.OK, result
    text = " ".join(result.out.split())
    assert (
        "Edge TPU latency estimated, not measured" in text
        and "estimated" in text.split("per inference")[0]
    )
    for title in (
        "fixed per-invoke cost",
        "Edge TPU compute",
        "input/output transfer",
        "streamed parameters",
        "CPU-side ops",
        "first inference: about",
    ):
        assert title in text
    assert "ops 1-8 on the CPU: about" in text and "per-op cost model" in text
    assert "leave-one-architecture-out" in text and "inside the range" in text


def test_clock_std_is_slower_on_usb_only(cli, test_data):
    rps = _latency_model(test_data, "rps", "rps_edgetpu.tflite")
    runs = {
        (host, clock): json.loads(
            cli("estimate", "--json", "--host", host, "--clock", clock, rps).out
        )
        for host in ("x86-usb3", "devboard")
        for clock in ("std", "max")
    }
    compute = {
        key: next(t["ms"] for t in data["terms"] if t["name"] == "compute")
        for key, data in runs.items()
    }
    assert compute[("x86-usb3", "std")] == pytest.approx(2 * compute[("x86-usb3", "max")])
    assert compute[("devboard", "std")] == compute[("devboard", "max")]
    assert any("full speed" in note for note in runs[("devboard", "std")]["notes"])


def test_host_list(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))  # no profile calibrated on this machine
    result = cli("estimate", "--host", "list")
    assert result.code == ExitCode.OK and all(name in result.out for name in PROFILES)
    data = json.loads(cli("estimate", "--host", "list", "--json").out)
    assert [h["name"] for h in data["hosts"]] == PROFILES
    assert all(set(h["sources"]) == set(PROFILE_KEYS) for h in data["hosts"])
    # each host's own post-processing weight and output rate (outputs are re-laid out on the host)
    assert all(h["custom_units_per_value"] >= 0 and h["out_mb_per_s"] > 0 for h in data["hosts"])
    assert len({h["out_mb_per_s"] for h in data["hosts"]}) > 1
    assert "post ms/M" in result.out and "out MB/s" in result.out


def _one_line(result, code: int, *words: str) -> None:
    assert result.code == code, result
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.err
    assert all(word in lines[0] for word in words), lines[0]


def test_unknown_host_lists_the_profiles(cli, deeplab):
    _one_line(cli("estimate", "--host", "jetson", deeplab), ExitCode.USAGE, "jetson", *PROFILES)


def test_bad_clock(cli, deeplab):
    _one_line(cli("estimate", "--clock", "turbo", deeplab), ExitCode.USAGE, "--clock")


def test_float_model_needs_full_int8(cli, tmp_path):
    _one_line(
        cli("estimate", float_add_model(tmp_path / "float.tflite")),
        ExitCode.UNREADABLE_INPUT,
        "estimate needs a full-int8 model",
    )


def test_dynamic_range_model_needs_full_int8(cli, tmp_path):
    b = GraphBuilder()
    x = b.tensor("x", [1, 16], dtype="float32", quantized=False)
    w = b.tensor("w", [4, 16], data=np.ones((4, 16)))  # int8 weights, float activations
    y = b.op(
        "FULLY_CONNECTED", [x, w], [1, 4], dtype="float32", options=("FullyConnectedOptions", {})
    )
    path = b.save(tmp_path / "dynamic_range.tflite", inputs=[x], outputs=[y])
    _one_line(
        cli("estimate", path),
        ExitCode.UNREADABLE_INPUT,
        "dynamic-range",
        "estimate needs a full-int8 model",
    )


def test_missing_and_corrupt_files(cli, tmp_path):
    _one_line(
        cli("estimate", tmp_path / "absent.tflite"), ExitCode.UNREADABLE_INPUT, "absent.tflite"
    )
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"\x00" * 64)
    _one_line(cli("estimate", junk), ExitCode.UNREADABLE_INPUT, "junk.tflite")


@pytest.mark.slow  # a real conversion (onnx2tf + TensorFlow's converter)
def test_onnx_is_converted_first(cli, tmp_path):
    from tiny_models import export_onnx, tiny_cnn

    onnx = export_onnx(tiny_cnn(), tmp_path / "tiny.onnx")
    result = cli("estimate", "--json", onnx)
    assert result.code == ExitCode.OK, result
    data = json.loads(result.out)
    assert data["kind"] == "uncompiled" and "converted" in data["model"] and data["latency_ms"] > 0
    assert not list(tmp_path.glob("**/*_int8.tflite"))  # the converted model was temporary


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_mutated_models_never_show_a_traceback(cli, tmp_path, edgetpu_models, data):
    sources = sorted(p for p in edgetpu_models.glob("*.tflite") if p.stat().st_size < 2_000_000)
    original = bytearray(data.draw(st.sampled_from(sources)).read_bytes())
    for _ in range(data.draw(st.integers(1, 12))):
        original[data.draw(st.integers(0, min(len(original) - 1, 4096)))] = data.draw(
            st.integers(0, 255)
        )
    path = tmp_path / "mutated.tflite"
    path.write_bytes(bytes(original))
    result = cli("estimate", "--json", path)
    assert result.code in (ExitCode.OK, ExitCode.UNREADABLE_INPUT), result
    assert "Traceback" not in result.err and "unexpected failure" not in result.err
    if result.code == ExitCode.OK:
        data_out = json.loads(result.out)
        assert data_out["latency_ms_low"] <= data_out["latency_ms"] <= data_out["latency_ms_high"]


@pytest.mark.slow
def test_builtin_name_is_converted_first(cli):
    result = cli("estimate", "--json", "mobilenet_v3_small", "--alpha", "0.5", "-r", "96")
    assert result.code == ExitCode.OK, result
    data = json.loads(result.out)
    assert (
        data["model"].startswith("mobilenet_v3_small (converted: ") and data["kind"] == "uncompiled"
    )
    assert data["cpu_ops"]["ops"] and data["cpu_ops"]["summary"].startswith(
        "ops "
    )  # hard-swish cuts the graph early
    assert (
        data["cpu_ops"]["host_ms"] > 0
        and data["latency_ms_low"] < data["latency_ms"] < data["latency_ms_high"]
    )
