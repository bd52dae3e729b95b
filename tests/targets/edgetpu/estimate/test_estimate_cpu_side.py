"""The CPU-side term does not depend on this machine: the same file and host profile give the same
estimate on an idle and on a loaded machine, no model kernel runs in the CLI process, and the models
that crashed the old in-process timing (SIGSEGV / SIGABRT) get an answer."""

from __future__ import annotations

import gzip
import multiprocessing
import subprocess
import sys
import time

import pytest

from edgedeploy.targets.edgetpu.estimate import estimate_file

REPRODUCERS = (
    "estimate_crash_hardswish_selfloop",
    "estimate_crash_mean_input_is_graph_output",
    "estimate_crash_reshape_input_type_changed",
)


def _burn(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        sum(i * i for i in range(1000))


def _latency_deeplab(test_data) -> float:
    folder = next((test_data / "edgetpu/latency/models").glob("deeplabv3_mnv2_dm05*"))
    return estimate_file(folder / "deeplabv3_mnv2_dm05_pascal_quant.tflite", host="devboard")


def test_the_same_file_gives_the_same_estimate_idle_and_under_load(test_data):
    idle = _latency_deeplab(test_data)
    assert idle.estimate.term("cpu_ops").ms > 1  # DeepLab's CPU-side ops are a real share here
    context = multiprocessing.get_context("spawn")
    burners = [context.Process(target=_burn, args=(20.0,), daemon=True) for _ in range(3)]
    for burner in burners:
        burner.start()
    try:
        time.sleep(0.5)  # the load is on before the second estimate starts
        loaded = _latency_deeplab(test_data)
    finally:
        for burner in burners:
            burner.kill()
            burner.join(5)
    assert loaded.latency_ms == pytest.approx(idle.latency_ms, rel=0.05)
    assert loaded.estimate.term("cpu_ops").ms == pytest.approx(
        idle.estimate.term("cpu_ops").ms, rel=0.05
    )


def test_no_model_kernel_runs_while_estimating(test_data, monkeypatch):
    import edgedeploy.targets.litert as litert

    def refuse(*args, **kwargs):
        raise AssertionError("estimate must not load an interpreter")

    monkeypatch.setattr(litert, "create_interpreter", refuse)
    report = _latency_deeplab(test_data)
    assert report.workload.cpu_ops and report.cpu_units > 0


@pytest.mark.parametrize("name", REPRODUCERS)
def test_crash_reproducers_get_an_answer(test_data, tmp_path, name):
    model = tmp_path / f"{name}.tflite"
    model.write_bytes(
        gzip.decompress((test_data / "regressions" / f"{name}.tflite.gz").read_bytes())
    )
    for args in (["estimate", model], ["check", model], ["check", "--json", model]):
        done = subprocess.run(
            [sys.executable, "-m", "edgedeploy", *map(str, args)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        # 0 estimated; 3 check: ops on the CPU; 4 refused naming the operator. Never a signal.
        assert done.returncode in (0, 3, 4), (args, done.returncode, done.stderr[-500:])
        assert done.stdout.strip() or done.stderr.strip()
        assert "Traceback" not in done.stderr
        if args[0] == "estimate" and done.returncode == 0:
            assert "estimated" in done.stdout


def test_the_post_processing_is_priced_at_the_hosts_own_rate(test_data):
    """A custom op (the detection post-processing) costs each host its own units per byte read (scalar
    code, not the int8 kernels of the CPU rate); a profile written before constants version 4 has
    none and is priced at the chip's value."""
    from dataclasses import replace

    from edgedeploy.targets.edgetpu.estimate import load_constants

    folder = next((test_data / "edgetpu/latency/models").glob("ssd_mobilenet_v1_075*"))
    model = folder / "mobilenet_v1.tflite"
    loaded = load_constants()
    # the per-value weight alone (the boxes kept are priced by a chip constant: the next test)
    chip = replace(loaded.chip, cpu_units_per_detection_value=0.0)
    constants = replace(loaded, chip=chip)
    host = constants.host("devboard")
    base = estimate_file(model, host="devboard", constants=constants).estimate.term("cpu_ops").ms
    assert base > 0  # the file ends in TFLite_Detection_PostProcess, on the CPU
    own = host.custom_units_per_value
    assert own is not None and own != constants.chip.cpu_units_per_custom_value
    doubled = constants.with_hosts({"d2": replace(host, name="d2", custom_units_per_value=2 * own)})
    older = constants.with_hosts({"old": replace(host, name="old", custom_units_per_value=None)})
    twice = estimate_file(model, host="d2", constants=doubled).estimate.term("cpu_ops").ms
    fallback = estimate_file(model, host="old", constants=older).estimate.term("cpu_ops").ms
    assert twice == pytest.approx(2 * base, rel=0.01)  # only the custom op is on the CPU here
    chip_share = constants.chip.cpu_units_per_custom_value / own
    assert fallback == pytest.approx(base * chip_share, rel=0.01)


def test_the_boxes_the_post_processing_keeps_are_priced(test_data):
    """The post-processing's suppression passes over the candidates once per box it keeps: its
    ``max_detections`` (read from the op's options) prices values read x boxes kept."""
    from dataclasses import replace

    from edgedeploy.targets.edgetpu.estimate import load_constants
    from edgedeploy.targets.edgetpu.estimate.op_facts import POSTPROCESS, op_fact
    from edgedeploy.tflite import read_model

    folder = next((test_data / "edgetpu/latency/models").glob("ssd_mobilenet_v1_075*"))
    model = folder / "mobilenet_v1.tflite"
    graph = read_model(model)
    post = next(op for op in graph.ops if op.opcode == POSTPROCESS)
    fact = op_fact(graph, post, "cpu", 0)
    assert fact.detections == 10  # TF1's export default: max_detections 10, one class a box
    constants = load_constants()
    per_box = constants.chip.cpu_units_per_detection_value
    assert per_box > 0
    more = replace(
        constants, chip=replace(constants.chip, cpu_units_per_detection_value=2 * per_box)
    )
    host = constants.host("devboard")
    base = estimate_file(model, host="devboard").estimate.term("cpu_ops").ms
    doubled = estimate_file(model, host="devboard", constants=more).estimate.term("cpu_ops").ms
    boxes_ms = fact.values_read * fact.detections * per_box / 1e9 * host.cpu_ms_per_gunit
    assert doubled - base == pytest.approx(boxes_ms, rel=1e-6)
    assert "10 boxes" in estimate_file(model, host="devboard").estimate.term("cpu_ops").basis
    damaged = replace(post, custom_options=b"\x00\x01")  # unreadable options: not priced, no crash
    assert op_fact(graph, damaged, "cpu", 0).detections is None
