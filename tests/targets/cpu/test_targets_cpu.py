"""The CPU target, the target registry, `edgedeploy targets` (the doctor) and the recorded environment."""

from __future__ import annotations

import json
import shutil

import pytest
from bench_models import float_add_model

from edgedeploy.bench.environment import capture_environment, cpu_model, governors
from edgedeploy.bench.inputs import random_inputs
from edgedeploy.errors import ExitCode, InputError, UsageError
from edgedeploy.machine import available_cores
from edgedeploy.targets.cpu.config import CpuConfig
from edgedeploy.targets.cpu.runtime import CpuRuntime
from edgedeploy.targets.inspection import inspect_model
from edgedeploy.targets.registry import parse_target_names

MNV1 = "mobilenet_v1_0.25_128_quant"


def test_target_names_and_alias():
    assert parse_target_names("cpu,coral") == [
        "cpu",
        "edgetpu",
    ]  # one canonical name, coral its alias
    assert parse_target_names(["EdgeTPU", "cpu,coral"]) == ["edgetpu", "cpu"]
    with pytest.raises(UsageError, match=r"unknown target 'gpu'.*cpu, edgetpu \(alias coral\)"):
        parse_target_names("cpu,gpu")
    with pytest.raises(UsageError, match="no target"):
        parse_target_names(" , ")


def test_default_threads_are_all_cores_and_one():
    config = CpuConfig.from_options()
    assert config.threads == tuple(dict.fromkeys([available_cores(), 1])) and config.xnnpack
    assert CpuConfig.from_options([4, 4, 1]).threads == (4, 1)
    assert CpuConfig(threads=(1,), xnnpack=False).label(1) == "cpu (1 thread, no XNNPACK)"
    with pytest.raises(UsageError, match="--threads"):
        CpuConfig.from_options([0])


@pytest.mark.parametrize("xnnpack", [True, False])
def test_xnnpack_switch_reaches_the_runtime(edgetpu_models, xnnpack):
    target = CpuRuntime(CpuConfig.from_options([1], xnnpack=xnnpack))
    model = inspect_model(edgetpu_models / f"{MNV1}.tflite")
    loaded = target.load(model, target.variants()[0])
    try:
        assert (
            loaded.details["delegate_partitions"] > 0
        ) is xnnpack  # as the runtime itself reports
        loaded.set_inputs(random_inputs(model.inputs).frames[0])
        loaded.invoke()
        assert loaded.load_seconds > 0
    finally:
        loaded.close()


def test_cpu_runs_float_models_and_the_source_of_a_compiled_one(edgetpu_models, tmp_path):
    target = CpuRuntime(CpuConfig.from_options([1]))
    float_model = inspect_model(float_add_model(tmp_path / "add.tflite"))
    assert target.model_for(float_model) is float_model and float_model.quantization == "float"
    compiled = inspect_model(edgetpu_models / "split_concat_edgetpu.tflite")
    assert (
        compiled.compiled
        and target.model_for(compiled).path == edgetpu_models / "split_concat.tflite"
    )
    shutil.copy(
        edgetpu_models / "split_concat_edgetpu.tflite", tmp_path / "split_concat_edgetpu.tflite"
    )
    with pytest.raises(InputError, match="compiled for the Edge TPU"):
        target.model_for(inspect_model(tmp_path / "split_concat_edgetpu.tflite"))


def test_cpu_model_and_governor_from_proc_and_sys_trees(tmp_path):
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "cpuinfo").write_text(
        "processor\t: 0\nmodel name\t: Intel(R) Core(TM) i7-8700\n"
    )
    assert cpu_model(tmp_path / "proc") == "Intel(R) Core(TM) i7-8700"
    (tmp_path / "proc" / "cpuinfo").write_text(
        "processor\t: 0\nHardware\t: BCM2835\nModel\t: Raspberry Pi 4 Model B\n"
    )
    assert cpu_model(tmp_path / "proc") == "Raspberry Pi 4 Model B"
    sys_root = tmp_path / "sys"
    for cpu, governor in (("cpu0", "powersave"), ("cpu1", "performance")):
        path = sys_root / "devices" / "system" / "cpu" / cpu / "cpufreq" / "scaling_governor"
        path.parent.mkdir(parents=True)
        path.write_text(governor + "\n")
    assert governors(sys_root) == ["performance", "powersave"]
    env = capture_environment(tmp_path / "proc", sys_root)
    assert env.data["governor"] == "performance,powersave"
    assert any("not 'performance'" in w for w in env.warnings)
    (sys_root / "devices" / "system" / "cpu" / "cpu0" / "cpufreq" / "scaling_governor").write_text(
        "performance"
    )
    assert not any(
        "governor" in w for w in capture_environment(tmp_path / "proc", sys_root).warnings
    )
    bare = capture_environment(tmp_path / "proc", tmp_path / "no-sys")
    assert bare.data["governor"] is None and "not exposed" in bare.data["governor_note"]
    assert bare.data["versions"]["ai-edge-litert"] != "not installed"


def test_targets_doctor(cli):
    result = cli("targets", "--json")
    report = json.loads(result.out)
    # as its help says: 0 when at least one listed target can run (the CPU always can), 7 when none can
    assert result.code == ExitCode.OK, result
    assert "cpu" in report["runnable"]
    assert cli("targets", "cpu").code == ExitCode.OK
    by_name = {t["name"]: t for t in report["targets"]}
    assert by_name["cpu"]["available"] and by_name["cpu"]["details"]["cores"] == available_cores()
    coral = by_name["edgetpu"]
    assert coral["aliases"] == ["coral"] and coral["offers"] == [
        "check",
        "compile",
        "convert",
        "bench",
    ]
    assert by_name["cpu"]["offers"] == ["bench"]
    assert coral["available"] or coral["reason"]  # never unavailable without saying why
    single = cli("targets", "coral", "--json")
    assert single.code == (ExitCode.OK if coral["available"] else ExitCode.TARGET_UNAVAILABLE)
    no_device = ("--edgetpu-lib", "/nonexistent/libedgetpu.so.1")  # the Edge TPU cannot run, surely
    assert cli("targets", "coral", *no_device).code == ExitCode.TARGET_UNAVAILABLE  # none can
    assert cli("targets", "cpu", "coral", *no_device).code == ExitCode.OK  # one of them can
    assert [t["name"] for t in json.loads(single.out)["targets"]] == ["edgetpu"]
    table = cli("targets")
    assert (
        "coral" in table.out
        and "edgetpu" in table.out
        and (coral["available"] or "no " in table.out)
    )
    assert cli("targets", "gpu").code == ExitCode.USAGE
    assert cli("targets", "--device", "usb:first").code == ExitCode.USAGE


def test_the_model_reader_agrees_with_the_litert_interpreter(test_data):
    """bench reads models with edgedeploy's own reader (no native code before the worker): on every real model
    it must say what the interpreter says about inputs, op counts and integer-only."""
    from collections import Counter

    from ai_edge_litert.interpreter import Interpreter

    from edgedeploy.targets.inspection import inspect_model
    from edgedeploy.targets.model_file import BOUNDARY_OPS

    models = sorted(test_data.rglob("*.tflite"))
    assert len(models) >= 20
    for path in models:
        if "fuzz" in path.parts:
            continue
        ours = inspect_model(path)
        interpreter = Interpreter(model_content=path.read_bytes())
        ops = interpreter._get_ops_details()
        tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
        assert ours.op_counts == dict(Counter(op["op_name"] for op in ops)), path.name
        integer_only = not any(
            op["op_name"] not in BOUNDARY_OPS
            and any(tensors[i]["dtype"].__name__ == "float32" for i in op["outputs"] if i >= 0)
            for op in ops
        )
        assert ours.integer_only == integer_only, path.name
        theirs = [
            (
                d["name"],
                int(d["index"]),
                tuple(int(x) for x in d["shape"]),
                d["dtype"].__name__,
                float(d["quantization"][0]),
                int(d["quantization"][1]),
            )
            for d in interpreter.get_input_details()
        ]
        assert [
            (s.name, s.index, s.shape, s.dtype, s.scale, s.zero_point) for s in ours.inputs
        ] == theirs, path.name
