"""Tiny models converted end to end: ONNX (dynamic batch), TorchScript, interruption, report content."""

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from tiny_models import export_onnx, tiny_cnn

from edgedeploy.errors import ExitCode
from edgedeploy.tflite import read_model


@pytest.fixture(scope="module")
def tiny_onnx(tmp_path_factory):
    path = tmp_path_factory.mktemp("src") / "tiny.onnx"
    return export_onnx(tiny_cnn(), path, dynamic={"x": {0: "batch"}})


@pytest.fixture(scope="module")
def converted(tiny_onnx, tmp_path_factory):
    """One real conversion of the tiny ONNX model through the CLI, shared by the tests below."""
    from edgedeploy.cli.app import run

    out = tmp_path_factory.mktemp("conv") / "tiny"
    code = run(
        [
            "convert",
            "--target",
            "edgetpu",
            str(tiny_onnx),
            "-o",
            str(out),
            "--json",
            "--calibration-count",
            "5",
            "--no-compile",
        ]
    )
    return code, out


@pytest.mark.slow  # `converted` is a real conversion (onnx2tf + TensorFlow's converter)
def test_onnx_with_dynamic_batch_converts_to_int8_io(converted):
    code, out = converted
    assert code == ExitCode.OK
    graph = read_model(out / "tiny_int8.tflite")
    assert [t.dtype for t in graph.inputs] == ["int8"] and [t.dtype for t in graph.outputs] == [
        "int8"
    ]
    assert graph.inputs[0].shape == (1, 32, 32, 3)  # batch fixed to 1, NHWC
    assert all(not t.dtype.startswith("float") for t in graph.tensors if not t.is_constant)
    assert "TRANSPOSE" not in graph.op_histogram()
    assert read_model(out / "tiny_float32.tflite").inputs[0].dtype == "float32"


@pytest.mark.slow  # `converted` is a real conversion (onnx2tf + TensorFlow's converter)
def test_report_json_has_stages_io_ops_and_fidelity(converted):
    _, out = converted
    report = json.loads((out / "report.json").read_text())
    names = [s["name"] for s in report["stages"]]
    assert names[:2] == ["load-model", "load-images"]
    assert "pytorch-to-onnx" not in names  # an ONNX input starts at the ONNX stage
    assert (
        names.index("onnx-to-tensorflow")
        < names.index("tensorflow-to-tflite")
        < names.index("fidelity")
    )
    assert all(s["seconds"] >= 0 for s in report["stages"])
    assert report["int8"]["inputs"][0]["dtype"] == "int8" and isinstance(
        report["int8"]["inputs"][0]["scale"], float
    )
    assert sum(report["int8"]["op_histogram"].values()) == report["int8"]["ops"]
    assert report["tools"]["tensorflow"] and report["tools"]["onnx2tf"]
    # 8 shipped photos, 5 calibrate, the other 3 are held back and fidelity is measured on them only.
    assert (
        len(report["calibration"]["images"]) == 5 and len(report["calibration"]["held_back"]) == 3
    )
    assert not set(report["calibration"]["images"]) & set(report["calibration"]["held_back"])
    fid = report["fidelity"]
    assert fid["measured"] and fid["images"] == 3
    assert fid["onnx_vs_float_tflite_max_abs_diff"] < 1e-4
    assert 0.9 < fid["int8_vs_float_tflite"]["cosine_similarity"] <= 1.0001
    assert report["preprocessing"]["size"] == [32, 32]
    assert report["edgetpu"]["compile"]["status"] == "skipped"
    prediction = report["edgetpu"]["prediction"]
    assert (
        prediction["kind"] == "tflite"
        and prediction["summary"]["total_ops"] == report["int8"]["ops"]
    )
    assert (
        prediction["summary"]["cpu_ops"] == 0
    )  # conv, depthwise, relu6, mean, fully-connected all map


@pytest.mark.slow  # `converted` is a real conversion (onnx2tf + TensorFlow's converter)
def test_int8_model_is_close_to_float_on_a_real_photo(converted, photo_dir):
    from edgedeploy.converters.artifacts import Preprocessing
    from edgedeploy.converters.calibration import load_image
    from edgedeploy.converters.fidelity import run_tflite

    _, out = converted
    prep = Preprocessing.from_dict(json.loads((out / "report.json").read_text())["preprocessing"])
    image = load_image(photo_dir / "parrot.jpg", prep)[None]
    (float_out,) = run_tflite(out / "tiny_float32.tflite", [image])
    (int8_out,) = run_tflite(out / "tiny_int8.tflite", [image])
    assert np.argmax(float_out) == np.argmax(int8_out)
    assert np.max(np.abs(float_out - int8_out)) < 0.1 * np.max(np.abs(float_out)) + 1e-3


@pytest.mark.slow  # `converted` is a real conversion (onnx2tf + TensorFlow's converter)
def test_second_run_without_force_is_refused_and_force_overwrites(converted, tiny_onnx, cli):
    _, out = converted
    before = (out / "tiny_int8.tflite").stat().st_mtime_ns
    refused = cli("convert", str(tiny_onnx), "-o", str(out))
    assert refused.code == ExitCode.ERROR and "--force" in refused.err
    assert (out / "tiny_int8.tflite").stat().st_mtime_ns == before


@pytest.mark.slow  # a real conversion (onnx2tf + TensorFlow's converter)
def test_torchscript_input_needs_shape_then_converts(tmp_path, cli):
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.trace(tiny_cnn(), torch.rand(1, 3, 32, 32)).save(str(tmp_path / "tiny.pt"))
    missing = cli("convert", str(tmp_path / "tiny.pt"), "-o", str(tmp_path / "a"))
    assert missing.code == ExitCode.USAGE and "--input-shape" in missing.err
    result = cli(
        "convert",
        str(tmp_path / "tiny.pt"),
        "--input-shape",
        "1,3,32,32",
        "-o",
        str(tmp_path / "b"),
        "--json",
        "--no-compile",
    )
    assert result.code == 0, result
    report = json.loads(result.out)
    assert report["fidelity"]["pytorch_vs_float_tflite_max_abs_diff"] < 1e-4
    assert (tmp_path / "b" / "tiny_int8.tflite").is_file()


@pytest.mark.parametrize("exception", [KeyboardInterrupt, RuntimeError])
def test_interrupted_or_failing_run_leaves_no_partial_output(
    tmp_path, cli, tiny_onnx, monkeypatch, exception
):
    from edgedeploy.converters import tf_to_tflite

    def explode(model, context):
        (context.workdir / "half.tflite").write_bytes(b"half")
        raise exception("stop")

    monkeypatch.setattr(tf_to_tflite, "run", explode)
    out = tmp_path / "out"
    result = cli("convert", str(tiny_onnx), "-o", str(out))
    assert result.code == (
        ExitCode.INTERRUPTED if exception is KeyboardInterrupt else ExitCode.ERROR
    )
    assert "Traceback" not in result.err
    assert not out.exists()


@pytest.mark.slow  # a real conversion (onnx2tf + TensorFlow's converter)
def test_without_a_compiler_the_int8_model_and_prediction_are_kept_and_exit_is_5(
    tmp_path, cli, tiny_onnx, no_docker, monkeypatch
):
    monkeypatch.setenv(
        "PATH", str(no_docker)
    )  # a docker client whose engine does not answer, no compiler
    monkeypatch.delenv("EDGEDEPLOY_EDGETPU_COMPILER", raising=False)
    out = tmp_path / "out"
    result = cli("convert", str(tiny_onnx), "-o", str(out), "--json")
    assert result.code == ExitCode.TOOL_MISSING, result
    report = json.loads(result.out)
    assert report["edgetpu"]["compile"]["status"] == "not-run"
    assert "edgetpu-compiler" in report["edgetpu"]["compile"]["how_to_get_it"]
    assert "docker build" in report["edgetpu"]["compile"]["how_to_get_it"]
    assert (out / "tiny_int8.tflite").is_file() and (out / "report.json").is_file()
    assert report["edgetpu"]["prediction"]["summary"]["tpu_ops"] > 0
    assert not list(out.glob("*_edgetpu.tflite"))


@pytest.mark.slow  # a real conversion (onnx2tf + TensorFlow's converter)
def test_convert_runs_the_compiler_and_keeps_its_report(
    tmp_path, cli, tiny_onnx, fake_compiler, compiler_logs
):
    fake_compiler.use(
        stdout=compiler_logs / "WongKinYiu_yolov7_1672__partial_search_delegate_c16.txt"
    )
    out = tmp_path / "out"
    result = cli("convert", str(tiny_onnx), "-o", str(out), "--json", "--min-runtime", "13")
    assert result.code == ExitCode.OK, result
    report = json.loads(result.out)
    assert report["edgetpu"]["compile"]["status"] == "compiled"
    assert (out / "tiny_int8_edgetpu.tflite").is_file() and (
        out / "tiny_int8_edgetpu.log"
    ).is_file()
    (argv,) = fake_compiler.compile_calls()
    assert "-s" in argv and "-o" in argv and argv[argv.index("-m") + 1] == "13"
    assert argv[-1].endswith("tiny_int8.tflite")
    for saved in (report, json.loads((out / "report.json").read_text())):
        compiled = {
            k: v for k, v in saved["edgetpu"]["compile"]["report"].items() if k != "compiler"
        }
        compiled["compiler_command"] = compiled["compiler_command"][
            1:
        ]  # [0] is the compiler itself
        paths = [p for p in _strings(compiled) if p.startswith("/")]
        assert len(paths) >= 8 and all(Path(p).is_relative_to(out.resolve()) for p in paths), (
            paths
        )  # not scratch


def _strings(data) -> list[str]:
    if isinstance(data, dict):
        return [s for value in data.values() for s in _strings(value)]
    if isinstance(data, list):
        return [s for value in data for s in _strings(value)]
    return [data] if isinstance(data, str) else []


@pytest.mark.slow  # a real conversion (onnx2tf + TensorFlow's converter)
def test_convert_shows_what_the_compiler_did(
    tmp_path, cli, tiny_onnx, fake_compiler, compiler_logs
):
    fake_compiler.use(
        stdout=compiler_logs / "jveitchmichaelis_edgetpu-yolo__export_md__yolov5s-224_sa_c16.txt"
    )
    result = cli("convert", str(tiny_onnx), "-o", str(tmp_path / "out"))
    assert result.code == ExitCode.OK, result
    assert (
        "on the Edge TPU" in result.out and "off-chip" in result.out
    )  # the compiler's counts and memory
    assert "prediction vs compiler" in result.out and "disagree" in result.out


@pytest.mark.slow  # a real conversion (onnx2tf + TensorFlow's converter)
def test_convert_prints_what_to_do_when_the_compiler_fails(
    tmp_path, cli, tiny_onnx, fake_compiler, compiler_logs
):
    fake_compiler.use(
        stdout=compiler_logs / "google-coral_edgetpu_512__large_activation_fail_c16.txt"
    )
    result = cli("convert", str(tiny_onnx), "-o", str(tmp_path / "out"))
    assert result.code == ExitCode.COMPILER_FAILED, result
    assert "what to do:" in result.out and "lower the input resolution" in result.out


@pytest.mark.slow  # a real conversion (onnx2tf + TensorFlow's converter)
def test_a_failing_compiler_keeps_its_output_not_a_model(
    tmp_path, cli, tiny_onnx, fake_compiler, compiler_logs
):
    fake_compiler.use(
        stdout=compiler_logs / "google-coral_edgetpu_829__dynamic_tensors_fail_c16.txt"
    )
    out = tmp_path / "out"
    result = cli("convert", str(tiny_onnx), "-o", str(out), "--json")
    assert result.code == ExitCode.COMPILER_FAILED, result
    report = json.loads(result.out)
    assert report["edgetpu"]["compile"]["status"] == "failed"
    assert "dynamic" in report["edgetpu"]["compile"]["reason"].lower()
    assert (out / "tiny_int8.tflite").is_file()
    assert not list(out.glob("*_edgetpu.tflite"))
    assert (out / "edgetpu_compiler.stdout.txt").is_file()


def _conv_weight_scales(path):
    graph = read_model(path)
    return [len(graph.tensors[op.inputs[1]].scale) for op in graph.ops if op.opcode == "CONV_2D"]


@pytest.mark.slow  # a real conversion (onnx2tf + TensorFlow's converter)
def test_weights_are_per_channel_by_default_and_per_tensor_on_request(
    converted, tiny_onnx, tmp_path, cli
):
    _, per_channel = converted
    assert all(n > 1 for n in _conv_weight_scales(per_channel / "tiny_int8.tflite"))
    result = cli(
        "convert",
        str(tiny_onnx),
        "-o",
        str(tmp_path / "pt"),
        "--per-tensor",
        "--no-compile",
        "--json",
    )
    assert result.code == 0, result
    assert json.loads(result.out)["stages"][-2]["weight_quantization"] == "per-tensor"
    assert _conv_weight_scales(tmp_path / "pt" / "tiny_int8.tflite") == [1, 1]


@pytest.mark.slow  # a real conversion (onnx2tf + TensorFlow's converter)
def test_exported_program_input_converts_with_its_own_input_size(tmp_path, cli):
    import torch

    program = torch.export.export(tiny_cnn(), (torch.rand(1, 3, 40, 40),))
    torch.export.save(program, str(tmp_path / "tiny.pt2"))
    result = cli(
        "convert", str(tmp_path / "tiny.pt2"), "-o", str(tmp_path / "out"), "--no-compile", "--json"
    )
    assert result.code == 0, result
    report = json.loads(result.out)
    assert report["int8"]["inputs"][0]["shape"] == [1, 40, 40, 3]
    assert report["fidelity"]["pytorch_vs_float_tflite_max_abs_diff"] < 1e-4
