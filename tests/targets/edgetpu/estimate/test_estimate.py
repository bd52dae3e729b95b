"""The latency estimate's parts: the additive terms (one pure function), the CPU-side sub-model and its
timing, and what is read from compiled and uncompiled files."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from tflite_builder import GraphBuilder

from edgedeploy.errors import UsageError
from edgedeploy.targets.edgetpu.estimate import estimate_file, load_constants
from edgedeploy.targets.edgetpu.estimate.cpu_ops import CpuOpsTiming, sub_model, time_cpu_ops
from edgedeploy.targets.edgetpu.estimate.profiles import Bands, Chip, HostProfile
from edgedeploy.targets.edgetpu.estimate.result import op_ranges
from edgedeploy.targets.edgetpu.estimate.terms import TermInputs, estimate_terms
from edgedeploy.targets.edgetpu.estimate.workload import compiled_workload
from edgedeploy.tflite import parse_model, read_model

LATENCY = "edgetpu/latency/models"
HOST = HostProfile(
    name="h",
    description="test host",
    interface="usb3",
    cpu="test cpu",
    fixed_ms=0.2,
    io_ms_per_mb=4.0,
    stream_mb_per_s=500.0,
    cpu_factor=2.0,
    validated=True,
    sources={},
)
CHIP = Chip(
    clock_mhz={"std": 250.0, "max": 500.0},
    cycles_per_mac=1e-3,
    instruction_bytes_per_op=0.0,
    instruction_bytes_per_activation_byte=0.0,
    parameter_overhead=1.0,
    sources={},
)
BANDS = Bands(
    compiled=0.1,
    uncompiled=0.2,
    instructions=1.0,
    cpu=0.5,
    stream=0.5,
    unvalidated_host=0.5,
    sources={},
)
INPUTS = TermInputs(
    compiled=True,
    tpu_macs=1_000_000_000,
    compiler_cycles=None,
    transfer_bytes=2_000_000,
    streamed_bytes=0,
    streamed_bytes_high=0,
    on_chip_bytes=5_000_000,
    cpu_here_ms=1.5,
)


def no_cpu(data: bytes, ops: list[int]) -> CpuOpsTiming:
    return CpuOpsTiming(op_indices=sorted(ops), measured_ops=sorted(ops), median_ms=0.0, cpu="stub")


def fixed_cpu(ms: float):
    return lambda data, ops: CpuOpsTiming(
        op_indices=sorted(ops), measured_ops=sorted(ops), median_ms=ms if ops else 0.0, cpu="stub"
    )


def _model(test_data, folder: str, name: str):
    return next((test_data / LATENCY).glob(f"{folder}*")) / name


# --- the terms -------------------------------------------------------------------------------------------


def test_terms_are_the_documented_sums():
    e = estimate_terms(INPUTS, HOST, CHIP, BANDS, clock_mhz=500.0)
    ms = {t.name: t.ms for t in e.terms}
    assert ms == pytest.approx(
        {"fixed": 0.2, "compute": 2.0, "transfer": 8.0, "streamed_parameters": 0.0, "cpu_ops": 3.0}
    )  # 1e9 MAC x 1e-3 cycles/MAC / 500 MHz = 2 ms; 2 MB x 4 ms/MB
    assert e.latency_ms == pytest.approx(sum(ms.values())) == pytest.approx(13.2)
    assert e.first_inference_extra_ms == pytest.approx(10.0)  # 5 MB / 500 MB/s
    assert e.latency_ms_low == pytest.approx(10.2 / 1.1 + 3.0 / 1.5)
    assert e.latency_ms_high == pytest.approx(10.2 * 1.1 + 3.0 * 1.5)
    assert e.wider_because == ()


def test_the_compilers_cycle_estimate_wins_over_macs():
    e = estimate_terms(replace(INPUTS, compiler_cycles=250_000), HOST, CHIP, BANDS, clock_mhz=500.0)
    assert e.term("compute").ms == pytest.approx(0.5)
    assert "compiler's estimate" in e.term("compute").basis


def test_std_clock_doubles_compute_only_on_usb():
    constants = load_constants()
    usb, pcie = constants.host("x86-usb3"), constants.host("devboard")
    assert constants.clock_mhz(usb, "std") * 2 == constants.clock_mhz(usb, "max")
    assert constants.clock_mhz(pcie, "std") == constants.clock_mhz(pcie, "max")
    std = estimate_terms(INPUTS, HOST, CHIP, BANDS, clock_mhz=constants.clock_mhz(usb, "std"))
    full = estimate_terms(INPUTS, HOST, CHIP, BANDS, clock_mhz=constants.clock_mhz(usb, "max"))
    assert std.term("compute").ms == pytest.approx(2 * full.term("compute").ms)
    assert std.term("transfer").ms == full.term("transfer").ms


def test_streaming_risky_ops_and_unvalidated_hosts_widen_the_range_and_say_why():
    base = estimate_terms(INPUTS, HOST, CHIP, BANDS, clock_mhz=500.0)
    streaming = estimate_terms(
        replace(INPUTS, streamed_bytes=1_000_000, streamed_bytes_high=3_000_000),
        HOST,
        CHIP,
        BANDS,
        clock_mhz=500.0,
    )
    assert streaming.term("streamed_parameters").ms == pytest.approx(2.0)
    margin = base.latency_ms_high - base.latency_ms
    assert streaming.latency_ms_high - streaming.latency_ms == pytest.approx(
        margin + 2.0 * 0.5 + 4.0 * 1.5
    )  # 2 MB more
    assert any("stream" in why for why in streaming.wider_because)
    assert any("near the on-chip cache" in why for why in streaming.wider_because)
    risky = estimate_terms(
        replace(INPUTS, cpu_here_ms_if_risky_refused=4.0), HOST, CHIP, BANDS, clock_mhz=500.0
    )
    assert risky.latency_ms == base.latency_ms  # risky ops are assumed to map ...
    assert risky.latency_ms_high == pytest.approx(
        base.latency_ms_high + (4.0 - 1.5) * 2.0 * 1.5
    )  # ... the range says if not
    assert any("risky" in why for why in risky.wider_because)
    unchecked = estimate_terms(INPUTS, replace(HOST, validated=False), CHIP, BANDS, clock_mhz=500.0)
    assert unchecked.latency_ms_high == pytest.approx(base.latency_ms_high * 1.5)
    assert any("no published measurement" in why for why in unchecked.wider_because)


def test_unknown_host_and_clock_are_usage_errors_listing_the_choices():
    constants = load_constants()
    with pytest.raises(UsageError, match="x86-usb3, x86-pcie, devboard, rpi4-usb3, rpi3-usb2"):
        constants.host("jetson")
    with pytest.raises(UsageError, match="std, max"):
        constants.clock_mhz(constants.host("x86-usb3"), "turbo")


def test_every_constant_has_a_source():
    constants = load_constants()
    assert set(constants.hosts) == {"x86-usb3", "x86-pcie", "devboard", "rpi4-usb3", "rpi3-usb2"}
    for host in constants.hosts.values():
        assert set(host.sources) == {"fixed_ms", "io_ms_per_mb", "stream_mb_per_s", "cpu_factor"}
        assert all(
            source.split(":")[0] in ("fitted", "derived", "assumed") or "x86-usb3" in source
            for source in host.sources.values()
        ), host.sources
    assert all(constants.chip.sources.values()) and all(constants.bands.sources.values())
    assert not constants.host("x86-pcie").validated and constants.host("x86-usb3").validated


def test_op_ranges():
    assert op_ranges([2, 3, 4, 7, 9, 10]) == "ops 2-4, 7, 9-10"
    assert op_ranges([83]) == "op 83"


# --- the CPU-side sub-model ------------------------------------------------------------------------------


def _three_ops(tmp_path):
    b = GraphBuilder()
    x = b.tensor("x", [1, 8, 8, 4])
    w = b.tensor("w", [4, 1, 1, 4], data=np.ones((4, 1, 1, 4)))
    bias = b.tensor("bias", [4], dtype="int32", data=np.zeros(4))
    conv = b.op(
        "CONV_2D",
        [x, w, bias],
        [1, 8, 8, 4],
        options=("Conv2DOptions", {"strideW": 1, "strideH": 1}),
    )
    swish = b.op("HARD_SWISH", [conv], [1, 8, 8, 4])
    out = b.op("ADD", [swish, conv], [1, 8, 8, 4], options=("AddOptions", {}))
    return b.save(tmp_path / "three.tflite", inputs=[x], outputs=[out]), (conv, swish, out)


def test_sub_model_runs_exactly_the_kept_ops(tmp_path):
    path, (conv, swish, out) = _three_ops(tmp_path)
    graph = parse_model(sub_model(path.read_bytes(), [1, 2]))
    assert [op.opcode for op in graph.ops] == ["HARD_SWISH", "ADD"]
    assert graph.input_indices == [conv] and graph.output_indices == [
        out
    ]  # fed by the dropped op, as in the model
    first = parse_model(sub_model(path.read_bytes(), [0]))
    assert [op.opcode for op in first.ops] == ["CONV_2D"] and first.output_indices == [
        conv
    ]  # read by dropped ops
    timing = time_cpu_ops(path.read_bytes(), [1, 2])
    assert (
        timing.measured_ops == [1, 2] and timing.median_ms > 0 and timing.runs >= 20 and timing.cpu
    )


def test_cpu_ops_of_real_compiled_models(test_data):
    deeplab = _model(test_data, "deeplabv3", "deeplabv3_mnv2_dm05_pascal_quant_edgetpu.tflite")
    graph = read_model(deeplab)
    cpu = [op.index for op in graph.ops if op.opcode != "edgetpu-custom-op"]
    timing = time_cpu_ops(deeplab.read_bytes(), cpu)
    assert (
        timing.measured_ops == cpu == list(range(1, 9)) and timing.median_ms > 0.5
    )  # RESIZE_BILINEAR ... ARG_MAX
    posenet = _model(
        test_data,
        "posenet_mobilenet_v1_075_353",
        "posenet_mobilenet_v1_075_353_481_16_quant_decoder_edgetpu.tflite",
    )
    decoder = time_cpu_ops(posenet.read_bytes(), [1])
    assert decoder.measured_ops == [] and decoder.median_ms == 0.0
    assert decoder.unmeasured_ops == [
        (1, "PosenetDecoderOp", "custom op not available in this LiteRT build")
    ]


# --- what the files say ----------------------------------------------------------------------------------


def test_compiled_workload_reads_the_package(test_data):
    path = _model(
        test_data,
        "deeplab_mobilenet_edgetpu_slim",
        "deeplab_mobilenet_edgetpu_slim_cityscapes_quant_edgetpu.tflite",
    )
    source = path.with_name("deeplab_mobilenet_edgetpu_slim_cityscapes_quant.tflite")
    w = compiled_workload(read_model(path), read_model(source), str(path))
    assert (w.input_bytes, w.output_bytes, w.instruction_bytes) == (789512, 21784, 365664)
    assert (
        w.scratch_bytes == 1393920 + 8363520
    )  # spilled activations: written out once, read back 6 times
    assert (w.on_chip_bytes, w.streamed_bytes, w.compiler_cycles) == (2654784, 0, None)
    assert w.cpu_ops == [1, 2] and w.cpu_op_names == {1: "RESIZE_BILINEAR", 2: "ARG_MAX"}
    assert w.tpu_ops == 82 and w.tpu_macs > 4e9
    rps = _model(test_data, "rps", "rps_edgetpu.tflite")
    assert (
        compiled_workload(read_model(rps), None, str(rps)).compiler_cycles == 406416
    )  # no source needed


def test_compiled_file_without_cycles_or_source_is_refused(test_data, tmp_path):
    from edgedeploy.errors import InputError

    lone = tmp_path / "model_edgetpu.tflite"
    lone.write_bytes(
        _model(
            test_data, "mobilenet_v1_0.25", "mobilenet_v1_0.25_128_quant_edgetpu.tflite"
        ).read_bytes()
    )
    with pytest.raises(InputError, match="--source"):
        estimate_file(lone, timer=no_cpu)


def test_parameters_over_the_cache_stream_and_widen_the_range(tmp_path):
    b = GraphBuilder()
    x = b.tensor("x", [1, 8, 8, 1024])
    w = b.tensor(
        "w", [1024, 3, 3, 1024], data=np.ones((1024, 3, 3, 1024))
    )  # 9.4 MB of int8 weights
    bias = b.tensor("bias", [1024], dtype="int32", data=np.zeros(1024))
    y = b.op(
        "CONV_2D",
        [x, w, bias],
        [1, 8, 8, 1024],
        options=("Conv2DOptions", {"strideW": 1, "strideH": 1, "padding": 0}),
    )
    path = b.save(tmp_path / "big.tflite", inputs=[x], outputs=[y])
    report = estimate_file(path, timer=no_cpu)
    assert (
        report.workload.streamed_bytes > 1_000_000
        and report.estimate.term("streamed_parameters").ms > 0
    )
    assert any("stream" in why for why in report.estimate.wider_because)
    assert (
        report.to_dict()["workload"]["streamed_parameter_bytes"] == report.workload.streamed_bytes
    )


def test_risky_squeeze_excite_gets_a_wider_range(tiny_models):
    report = estimate_file(tiny_models["se_5x5"], timer=fixed_cpu(0.5))
    assert report.workload.risky_ops and report.workload.cpu_ops_if_risky_refused
    assert set(report.workload.cpu_ops) < set(report.workload.cpu_ops_if_risky_refused)
    assert any("risky" in why for why in report.estimate.wider_because)


def test_a_cut_model_puts_the_cut_ops_on_the_cpu(tiny_models):
    report = estimate_file(tiny_models["hard_swish_fused"])
    ops = report.workload.cpu_ops
    assert (
        len(ops) > 3 and report.cpu_timing.measured_ops == ops and report.cpu_timing.median_ms > 0
    )
    assert report.estimate.term("cpu_ops").ms == pytest.approx(
        report.cpu_timing.median_ms * report.host.cpu_factor
    )
    assert report.cpu_line().startswith(f"{op_ranges(ops)} on the CPU: about ")
