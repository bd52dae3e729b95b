"""The latency estimate's parts: the additive terms (pure functions of the per-op facts), the per-op
facts and what is read from compiled and uncompiled files, and the CPU-side cost model."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from estimate_constants import BANDS, chip, host_profile
from tflite_builder import GraphBuilder

from edgedeploy.errors import UsageError
from edgedeploy.targets.edgetpu.estimate import estimate_file, load_constants
from edgedeploy.targets.edgetpu.estimate.op_facts import OpFact, WorkloadFacts
from edgedeploy.targets.edgetpu.estimate.profiles import CYCLE_KEYS, PROFILE_KEYS
from edgedeploy.targets.edgetpu.estimate.result import op_ranges
from edgedeploy.targets.edgetpu.estimate.terms import (
    TermInputs,
    cpu_units,
    estimate_terms,
    tpu_work,
)
from edgedeploy.targets.edgetpu.estimate.workload import compiled_workload
from edgedeploy.targets.edgetpu.predict.rules import load_rules
from edgedeploy.tflite import read_model

LATENCY = "edgetpu/latency/models"
HOST = host_profile(
    "usb3", fixed_ms=0.2, io_mb_per_s=250.0, link_mb_per_s=250.0, cpu_ms_per_gunit=2000.0
)
CHIP = chip(
    cycles={**{k: 0.0 for k in CYCLE_KEYS}, "conv": 1e-3, "op": 1000.0},
    cpu_units_per_value=10.0,
    cpu_units_per_custom_value=100.0,
)
INPUTS = TermInputs(
    compiled=True,
    tpu_work={**{k: 0.0 for k in CYCLE_KEYS}, "conv": 1e9, "op": 500},
    compiler_cycles=None,
    transfer_bytes=2_000_000,
    streamed_bytes=0,
    streamed_bytes_high=0,
    on_chip_bytes=5_000_000,
    cpu_units=1.5e6,
)


def _model(test_data, folder: str, name: str):
    return next((test_data / LATENCY).glob(f"{folder}*")) / name


# --- the terms -------------------------------------------------------------------------------------------


def test_terms_are_the_documented_sums():
    e = estimate_terms(INPUTS, HOST, CHIP, BANDS, clock_mhz=500.0)
    ms = {t.name: t.ms for t in e.terms}
    assert (
        ms
        == pytest.approx(
            {
                "fixed": 0.2,
                "compute": 3.0,
                "transfer": 8.0,
                "streamed_parameters": 0.0,
                "cpu_ops": 3.0,
            }
        )
    )  # (1e9 MAC x 1e-3 + 500 ops x 1000) cycles / 500 MHz = 3 ms; 2 MB / 250 MB/s; 1.5e6 units x 2e-6 ms
    assert e.latency_ms == pytest.approx(sum(ms.values())) == pytest.approx(14.2)
    assert e.first_inference_extra_ms == pytest.approx(20.0)  # 5 MB / 250 MB/s
    assert e.latency_ms_low == pytest.approx(14.2 / 1.1)
    assert e.latency_ms_high == pytest.approx(14.2 * 1.1)
    assert e.wider_because == ()


def test_outputs_cross_at_the_hosts_output_rate():
    """Outputs are re-laid out of the chip's tiles on the host: a profile since constants version 5
    has its own output rate; one written before (None) moves them at its input rate."""
    inputs = replace(INPUTS, output_bytes=500_000)  # of the 2 MB: 1.5 MB in, 0.5 MB out
    own = replace(HOST, out_mb_per_s=50.0)
    transfer = estimate_terms(inputs, own, CHIP, BANDS, clock_mhz=500.0).term("transfer")
    assert transfer.ms == pytest.approx(1.5 / 250 * 1e3 + 0.5 / 50 * 1e3)  # 6 + 10 ms
    assert "1.5 MB in / 250 MB/s" in transfer.basis and "0.5 MB out / 50 MB/s" in transfer.basis
    older = estimate_terms(inputs, HOST, CHIP, BANDS, clock_mhz=500.0).term("transfer")
    assert HOST.out_mb_per_s is None and older.ms == pytest.approx(8.0)  # 2 MB / 250 MB/s


def test_a_profile_file_keeps_its_output_rate_and_an_older_one_has_none():
    from edgedeploy.targets.edgetpu.estimate.profiles import (
        HOST_KEYS,
        OUT_KEY,
        host_entry,
        parse_host,
    )

    sources = {k: "assumed" for k in (*HOST_KEYS, OUT_KEY)}
    entry = host_entry(replace(HOST, out_mb_per_s=42.0, sources=sources))
    assert parse_host("h", entry).output_mb_per_s == 42.0
    del entry[OUT_KEY]
    assert parse_host("h", entry).output_mb_per_s == HOST.io_mb_per_s


def test_work_and_cpu_units_per_op_class():
    ops = [
        OpFact(0, "CONV_2D", "conv", 1000, 10, 5, 7, "tpu"),
        OpFact(1, "DEPTHWISE_CONV_2D", "depthwise", 200, 1, 7, 7, "risky"),
        OpFact(2, "ADD", "elementwise", 0, 0, 14, 7, "tpu"),
        OpFact(3, "RESIZE_BILINEAR", "pool", 0, 8, 7, 28, "cpu"),
        OpFact(4, "TFLite_Detection_PostProcess", "custom", 0, 0, 50, 0, "cpu", detections=20),
    ]
    facts = WorkloadFacts("m", tuple(ops), 5, 7)
    work = tpu_work(facts.tpu_ops)
    assert (work["conv"], work["depthwise"], work["elementwise"], work["op"]) == (1000, 200, 7, 3)
    assert work["pool"] == 0  # the resize runs on the CPU
    assert (
        cpu_units(facts.cpu_ops, 10.0, 100.0) == 28 * 10.0 + 50 * 100.0
    )  # written / read by custom
    # ... and per value read and box kept (the suppression's passes over the candidates)
    assert cpu_units(facts.cpu_ops, 10.0, 100.0, 2.0) == 28 * 10.0 + 50 * (100.0 + 2.0 * 20)
    assert WorkloadFacts.from_dict(facts.to_dict()) == facts
    assert "detections" in facts.to_dict()["op_columns"]  # written only where some op has it
    plain = WorkloadFacts("m", tuple(replace(o, detections=None) for o in ops), 5, 7)
    assert "detections" not in plain.to_dict()["op_columns"]


def test_the_compilers_cycle_estimate_is_used_without_per_op_facts():
    no_facts = replace(INPUTS, tpu_work={k: 0.0 for k in CYCLE_KEYS}, compiler_cycles=250_000)
    e = estimate_terms(no_facts, HOST, CHIP, BANDS, clock_mhz=500.0)
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
    assert streaming.term("streamed_parameters").ms == pytest.approx(4.0)
    assert streaming.latency_ms_high == pytest.approx((14.2 + 4.0) * 1.1 + 8.0 * 1.1)  # 2 MB more
    assert any("near the on-chip cache" in why for why in streaming.wider_because)
    risky = estimate_terms(
        replace(INPUTS, cpu_units_if_risky_refused=4.0e6), HOST, CHIP, BANDS, clock_mhz=500.0
    )
    assert risky.latency_ms == base.latency_ms  # risky ops are assumed to map ...
    assert risky.latency_ms_high == pytest.approx(base.latency_ms_high + 2.5e6 * 2e-6 * 1.1)
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
    assert constants.version == 5 and constants.path.name == "hosts-v2.json"
    assert set(constants.hosts) == {"x86-usb3", "x86-pcie", "devboard", "rpi4-usb3", "rpi3-usb2"}
    for host in constants.hosts.values():
        assert set(host.sources) == set(PROFILE_KEYS)
        assert all(
            source.split(":")[0] in ("fitted", "derived", "assumed")
            for source in host.sources.values()
        ), host.sources
    assert set(constants.chip.cycles) == set(CYCLE_KEYS)
    assert all(constants.chip.sources.values()) and all(constants.bands.sources.values())
    assert constants.chip.sources["cpu_units_per_detection_value"].startswith("fitted")
    assert not constants.host("x86-pcie").validated and constants.host("x86-usb3").validated


def test_op_ranges():
    assert op_ranges([2, 3, 4, 7, 9, 10]) == "ops 2-4, 7, 9-10"
    assert op_ranges([83]) == "op 83"


# --- what the files say ----------------------------------------------------------------------------------


def test_compiled_workload_reads_the_package(test_data):
    path = _model(
        test_data,
        "deeplab_mobilenet_edgetpu_slim",
        "deeplab_mobilenet_edgetpu_slim_cityscapes_quant_edgetpu.tflite",
    )
    source = path.with_name("deeplab_mobilenet_edgetpu_slim_cityscapes_quant.tflite")
    w = compiled_workload(read_model(path), read_model(source), load_rules(), str(path))
    assert (w.on_chip_bytes, w.streamed_bytes, w.compiler_cycles) == (2654784, 0, None)
    assert w.cpu_ops == [1, 2] and w.cpu_op_names == {1: "RESIZE_BILINEAR", 2: "ARG_MAX"}
    assert w.tpu_ops == 82 and w.tpu_macs > 4e9
    assert [o.op for o in w.facts.cpu_ops] == ["RESIZE_BILINEAR", "ARG_MAX"]  # the source's view
    rps = _model(test_data, "rps", "rps_edgetpu.tflite")
    alone = compiled_workload(read_model(rps), None, load_rules(), str(rps))
    assert alone.compiler_cycles == 406416 and alone.tpu_ops is None  # no source needed


def test_the_cpu_side_is_priced_per_value_not_per_byte(test_data):
    """DeepLab's ARG_MAX writes int64 indices: eight bytes, one value each; the CPU cost counts the
    values (a kernel's work follows its elements). One-byte tensors carry no value count."""
    from edgedeploy.targets.edgetpu.estimate.workload import uncompiled_facts

    path = _model(test_data, "deeplabv3_mnv2_dm05", "deeplabv3_mnv2_dm05_pascal_quant.tflite")
    facts = uncompiled_facts(read_model(path), load_rules(), "deeplab")
    arg_max = next(o for o in facts.ops if o.op == "ARG_MAX")
    assert arg_max.output_bytes == 8 * arg_max.values_written == 8 * 513 * 513
    assert arg_max.input_values is None and arg_max.values_read == arg_max.input_bytes
    assert cpu_units([arg_max], 10.0, 0.0) == arg_max.macs + 10.0 * 513 * 513
    assert WorkloadFacts.from_dict(facts.to_dict()) == facts
    assert "output_values" in facts.to_dict()["op_columns"]


def test_compiled_file_without_cycles_or_source_is_refused(test_data, tmp_path):
    from edgedeploy.errors import InputError

    lone = tmp_path / "model_edgetpu.tflite"
    lone.write_bytes(
        _model(
            test_data, "mobilenet_v1_0.25", "mobilenet_v1_0.25_128_quant_edgetpu.tflite"
        ).read_bytes()
    )
    with pytest.raises(InputError, match="--source"):
        estimate_file(lone)


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
    report = estimate_file(path)
    assert (
        report.workload.streamed_bytes > 1_000_000
        and report.estimate.term("streamed_parameters").ms > 0
    )
    assert any("stream" in why for why in report.estimate.wider_because)
    assert (
        report.to_dict()["workload"]["streamed_parameter_bytes"] == report.workload.streamed_bytes
    )


def test_risky_squeeze_excite_gets_a_wider_range(tiny_models):
    report = estimate_file(tiny_models["se_5x5"])
    assert report.workload.risky_ops and report.workload.cpu_ops_if_risky_refused
    assert set(report.workload.cpu_ops) < set(report.workload.cpu_ops_if_risky_refused)
    assert any("risky" in why for why in report.estimate.wider_because)


def test_a_cut_model_puts_the_cut_ops_on_the_cpu(tiny_models):
    report = estimate_file(tiny_models["hard_swish_fused"])
    ops = report.workload.cpu_ops
    assert len(ops) > 3 and report.cpu_units > 0
    assert report.estimate.term("cpu_ops").ms == pytest.approx(
        report.cpu_units / 1e9 * report.host.cpu_ms_per_gunit
    )
    assert report.cpu_line().startswith(f"{op_ranges(ops)} on the CPU: about ")
