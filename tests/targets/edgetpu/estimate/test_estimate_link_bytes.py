"""What crosses the host link on every inference besides the inputs and outputs (constants v3): the
streamed parameters, the instruction bitstreams (read from a compiled package, predicted from the ops
and the bytes they write otherwise) and the activations a compiled file spills to host memory."""

from __future__ import annotations

from dataclasses import replace

import pytest
from estimate_constants import BANDS, chip, host_profile

from edgedeploy.targets.edgetpu.estimate import estimate_file, load_constants
from edgedeploy.targets.edgetpu.estimate import fit as F
from edgedeploy.targets.edgetpu.estimate.op_facts import OpFact
from edgedeploy.targets.edgetpu.estimate.profiles import CYCLE_KEYS
from edgedeploy.targets.edgetpu.estimate.terms import TermInputs, estimate_terms
from edgedeploy.targets.edgetpu.estimate.workload import compiled_workload, instruction_bytes
from edgedeploy.targets.edgetpu.predict.rules import load_rules
from edgedeploy.tflite import read_model

LATENCY = "edgetpu/latency/models"
CHIP = chip(instruction_bytes_per_op=2000.0, instruction_bytes_per_output_byte=0.01)
HOST = host_profile(
    "usb2", fixed_ms=0.0, io_mb_per_s=20.0, link_mb_per_s=40.0, cpu_ms_per_gunit=1.0
)
NOTHING = TermInputs(
    compiled=False,
    tpu_work={k: 0.0 for k in CYCLE_KEYS},
    compiler_cycles=None,
    transfer_bytes=0,
    streamed_bytes=0,
    streamed_bytes_high=0,
    on_chip_bytes=0,
    cpu_units=0.0,
)


def _conv(index: int, written: int) -> OpFact:
    return OpFact(index, "CONV_2D", "conv", 1000, 100, written, written, "tpu")


def _path(test_data, folder: str, name: str):
    return next((test_data / LATENCY).glob(f"{folder}*")) / name


def _compiled(test_data, folder: str, source: str):
    """``source``'s compiled twin in the test data, read with the source beside it; and its path."""
    path = _path(test_data, folder, source.replace(".tflite", "_edgetpu.tflite"))
    model = compiled_workload(
        read_model(path), read_model(path.with_name(source)), load_rules(), ""
    )
    return model, path


def test_instruction_bytes_grow_with_the_ops_and_the_bytes_they_write():
    few = [_conv(i, 10_000) for i in range(10)]
    many = [_conv(i, 10_000) for i in range(20)]
    big = [_conv(i, 1_000_000) for i in range(10)]
    assert instruction_bytes(few, CHIP) == 10 * 2000 + 0.01 * 100_000
    assert instruction_bytes(many, CHIP) == 2 * instruction_bytes(few, CHIP)  # twice the ops
    assert instruction_bytes(big, CHIP) > instruction_bytes(few, CHIP)  # big layers are tiled
    assert instruction_bytes([], CHIP) == 0


def test_instructions_and_spilled_activations_cross_the_link_with_the_parameters():
    alone = estimate_terms(NOTHING, HOST, CHIP, BANDS, clock_mhz=500.0)
    assert alone.term("streamed_parameters").ms == 0.0
    sent = replace(
        NOTHING, streamed_bytes=400_000, instruction_bytes=200_000, spilled_bytes=1_000_000
    )
    e = estimate_terms(sent, HOST, CHIP, BANDS, clock_mhz=500.0)
    assert e.term("streamed_parameters").ms == pytest.approx(1.6e6 / 40e6 * 1e3)  # 40 ms at 40 MB/s
    assert "instructions" in e.term("streamed_parameters").basis
    assert "spilled" in e.term("streamed_parameters").basis
    assert e.latency_ms == pytest.approx(alone.latency_ms + 40.0)
    # The first inference uploads only the cached parameters: instructions are not part of it.
    assert e.first_inference_extra_ms == alone.first_inference_extra_ms


def test_a_compiled_file_says_its_instruction_and_spilled_bytes(test_data):
    """EdgeTPU-DeepLab-slim spills activations to host memory (the package's DMA hints: 1.39 MB out,
    8.36 MB back in per inference); PoseNet 721x1281, with far larger activations, is tiled instead."""
    w, slim = _compiled(
        test_data,
        "deeplab_mobilenet_edgetpu_slim",
        "deeplab_mobilenet_edgetpu_slim_cityscapes_quant.tflite",
    )
    assert w.instruction_bytes == 365_664  # the running executable's; not the caching one's
    assert w.spilled_bytes == 1_393_920 + 8_363_520
    assert w.to_dict()["spilled_activation_bytes"] == w.spilled_bytes
    tiled, _ = _compiled(
        test_data,
        "posenet_mobilenet_v1_075_721",
        "posenet_mobilenet_v1_075_721_1281_16_quant_decoder.tflite",
    )
    assert tiled.spilled_bytes == 0 and tiled.instruction_bytes == 785_376
    report = estimate_file(slim, host="x86-usb3")
    rate = report.host.link_mb_per_s
    assert report.estimate.term("streamed_parameters").ms == pytest.approx(
        (365_664 + 9_757_440) / rate / 1e3
    )


def test_an_uncompiled_file_gets_instruction_bytes_that_grow_with_its_size(test_data):
    """The same PoseNet at three input sizes: the compiled packages hold 123, 241 and 790 KB of
    instructions; the prediction from the uncompiled files rises with them."""
    sizes = ("353_481", "481_641", "721_1281")
    predicted = [
        estimate_file(
            _path(
                test_data,
                f"posenet_mobilenet_v1_075_{s}",
                f"posenet_mobilenet_v1_075_{s}_16_quant_decoder.tflite",
            )
        ).workload.instruction_bytes
        for s in sizes
    ]
    assert 0 < predicted[0] < predicted[1] < predicted[2]
    constants = load_constants()
    assert constants.chip.instruction_bytes_per_op > 0
    assert "compiled files" in constants.chip.sources["instruction_bytes_per_op"]


def test_the_instruction_rates_are_recovered_from_compiled_files():
    truth = (1800.0, 0.004)
    samples = [
        F.InstructionSample(f"a{i}", ops, written, truth[0] * ops + truth[1] * written)
        for i, (ops, written) in enumerate(((13, 2.5e6), (37, 8e7), (79, 5e6), (82, 3.4e7)))
    ]
    assert F.fit_instructions(samples) == pytest.approx(truth, rel=1e-6)
    assert F.fit_instructions([]) == (0.0, 0.0)
    point = F.Point(
        "a", 0, "h", "usb3", 500.0, 1.0, {k: 0.0 for k in CYCLE_KEYS}, 0.0, 0.0, 0.0,
        tpu_ops=10, tpu_written_bytes=1e6,
    )  # fmt: skip
    (with_bytes,) = F.with_instructions([point], *truth)
    assert with_bytes.instruction_bytes == pytest.approx(1800.0 * 10 + 0.004 * 1e6)
    assert with_bytes.per_inference_bytes == with_bytes.instruction_bytes
