"""When XNNPACK cannot prepare a graph, every LiteRT interpreter edgedeploy makes (fidelity, bench, the
estimate's CPU-side timing, verify, infer.py) runs it with LiteRT's built-in kernels and says so.

The real case: Google's 2019 DeepLab v3, whose RESIZE_BILINEAR XNNPACK refuses (tests/data/edgetpu/
regressions/README.md). timm's resnet18 ("failed to create XNNPACK runtime") is converted in
tests/converters/test_convert_architectures.py."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
from bench_models import QUICK_BENCH

from edgedeploy.errors import ExitCode
from edgedeploy.targets import litert
from edgedeploy.targets.litert import create_interpreter, separate_messages

QUICK = QUICK_BENCH


@pytest.fixture(scope="session")
def deeplab_2019(test_data):
    return test_data / "edgetpu" / "regressions" / "deeplabv3_mnv2_pascal_quant_2019.tflite"


def test_the_runtimes_run_together_messages_are_separated():
    assert separate_messages(
        "failed to delegate RESIZE_BILINEAR node #63Node number 72 (TfLiteXNNPackDelegate) failed "
        "to prepare."
    ) == (
        "failed to delegate RESIZE_BILINEAR node #63; Node number 72 (TfLiteXNNPackDelegate) "
        "failed to prepare."
    )
    assert separate_messages("failed to create XNNPACK runtimeNode number 37 (X) failed") == (
        "failed to create XNNPACK runtime; Node number 37 (X) failed"
    )
    assert separate_messages("Node number 5 failed") == "Node number 5 failed"


def test_the_factory_falls_back_to_builtin_kernels_and_says_why(deeplab_2019):
    interpreter, log = create_interpreter(deeplab_2019, threads=1)
    assert log.xnnpack_refused.startswith(
        "failed to delegate RESIZE_BILINEAR node #63; Node number"
    )
    assert "built-in kernels" in log.fallback_note()
    (inp,) = interpreter.get_input_details()
    interpreter.set_tensor(inp["index"], np.zeros(inp["shape"], inp["dtype"]))
    interpreter.invoke()  # it really runs
    assert litert.delegate_partitions(interpreter) == 0
    _, asked_without = create_interpreter(deeplab_2019, threads=1, xnnpack=False)
    assert asked_without.xnnpack_refused is None  # no fallback when XNNPACK was not asked for


def test_fidelity_runs_it_and_names_the_kernels(deeplab_2019):
    from edgedeploy.converters.fidelity import run_tflite_outputs

    image = np.random.default_rng(0).uniform(-1, 1, (1, 513, 513, 3)).astype(np.float32)
    run = run_tflite_outputs(deeplab_2019, [image])
    assert run.xnnpack_refused and "RESIZE_BILINEAR" in run.xnnpack_refused
    assert run.outputs[0][0].size == 513 * 513


def test_bench_row_is_measured_and_says_builtin_kernels(cli, deeplab_2019):
    result = cli("bench", deeplab_2019, *QUICK, "--threads", "1", "--json")
    assert result.code == ExitCode.OK, result
    data = json.loads(result.out)
    (cell,) = [c for c in data["results"] if c["target_name"] == "cpu"]
    assert cell["status"] == "ok" and cell["latency"]["p50_ms"] > 0, cell
    assert "RESIZE_BILINEAR" in cell["details"]["xnnpack_refused"]
    assert "LiteRT's built-in kernels ran it" in cell["details"]["note"]
    table = cli("bench", deeplab_2019, *QUICK, "--threads", "1")
    assert table.code == ExitCode.OK and "built-in kernels" in table.out + table.err


def test_the_estimate_answers_on_the_graph_xnnpack_refuses(cli, deeplab_2019):
    """Estimate v2 prices the CPU-side ops by its per-op cost model (no interpreter): the 2019 DeepLab
    whose RESIZE_BILINEAR XNNPACK refuses gets an estimate, its CPU-side ops priced."""
    result = cli("estimate", "--json", deeplab_2019)
    assert result.code == ExitCode.OK, result
    cpu = json.loads(result.out)["cpu_ops"]
    assert cpu["cost_units"] > 0


def test_the_layer_comparison_loads_it(deeplab_2019):
    from edgedeploy.verify.layers import _interpreter

    assert _interpreter(deeplab_2019).get_input_details()[0]["shape"].tolist() == [1, 513, 513, 3]


def test_infer_py_carries_its_own_fallback(deeplab_2019, tmp_path, capsys):
    from ai_edge_litert import interpreter as runtime

    from edgedeploy.deploy.example import render

    written = tmp_path / "infer.py"  # as convert writes it
    written.write_text(render("model_int8.json"), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("infer_copy", written)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model, where = module.cpu_interpreter(runtime, deeplab_2019)
    assert where.endswith("(LiteRT's built-in kernels)")
    assert "node #63; Node number 72" in capsys.readouterr().err
    model.allocate_tensors()
    model.invoke()


def test_verify_table_says_which_kernels_ran(cli, tiny_deployed, photo_dir, monkeypatch, tmp_path):
    """A stand-in refusal (the real one needs a DeepLab-sized conversion): the first load with XNNPACK
    fails as LiteRT does, and the table says the built-in kernels ran the CPU int8 model."""
    real = litert._load

    def xnnpack_refuses(content, threads, xnnpack, *rest):
        if xnnpack:
            raise litert.InterpreterLoadError("failed to create XNNPACK runtime; Node number 3 ...")
        return real(content, threads, xnnpack, *rest)

    monkeypatch.setattr(litert, "_load", xnnpack_refuses)
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("parrot.jpg", "cat.jpg"):
        (photos / name).write_bytes((photo_dir / name).read_bytes())
    no_tpu = ("--edgetpu-lib", str(tmp_path / "none.so"))
    result = cli("verify", tiny_deployed / "tiny_int8.tflite", "--images", photos, *no_tpu)
    assert result.code == ExitCode.OK, result
    said = " ".join(result.out.split())  # the table wraps at the terminal width
    assert "XNNPACK could not prepare the graph (failed to create XNNPACK runtime" in said


def test_a_broken_calibration_scale_is_refused_not_an_abort(tmp_path):
    """LiteRT's ADD kernel aborts the process on a 1.3e36 scale (what onnx2tf's max-pool padding once
    made): the factory refuses such a model in one line. In a child process, so a regression is a
    failed test rather than a crashed test run."""
    import subprocess
    import sys

    from tflite_builder import GraphBuilder

    builder = GraphBuilder()
    a, b = builder.tensor("a", [1, 8, 8, 4]), builder.tensor("b", [1, 8, 8, 4])
    builder.graph.tensors[b].quantization.scale = [1.3344405750530544e36]
    out = builder.op("ADD", [a, b], [1, 8, 8, 4], options=("AddOptions", {}))
    model = builder.save(tmp_path / "broken.tflite", [a, b], [out])
    code = (
        "import sys; from pathlib import Path\n"
        "from edgedeploy.targets.litert import create_interpreter, InterpreterLoadError\n"
        "try:\n"
        f"    create_interpreter(Path({str(model)!r}), threads=1)\n"
        "except InterpreterLoadError as exc:\n"
        "    print(exc); sys.exit(3)\n"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert ran.returncode == 3, (ran.returncode, ran.stderr[-500:])
    assert "tensor 'b' has an int8 scale of 1.33e+36: a broken calibration range" in ran.stdout
