"""The runnable example convert writes beside the model: infer.py classifies a real photo on the CPU with
the sidecar's preprocessing and decoding, and its top-1 is the pipeline's own int8 result. With
--raw-input the model takes the camera's uint8 pixels as they are."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from deploy_fixtures import LABELS, copy_folder

from edgedeploy.converters.fidelity import run_tflite
from edgedeploy.deploy import sidecar
from edgedeploy.errors import ExitCode
from edgedeploy.images import load_image
from edgedeploy.tflite import read_model

PHOTOS = ("parrot.jpg", "grace_hopper.jpg")


def run_infer(folder: Path, photo: Path, *extra: str) -> subprocess.CompletedProcess:
    """``python infer.py PHOTO`` from another working directory, as a user would run it."""
    return subprocess.run(
        [sys.executable, str(folder / "infer.py"), str(photo), *extra],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=folder.parent,
    )


def pipeline_top1(folder: Path, int8_name: str, photo: Path) -> int:
    """The conversion's own int8 answer: edgedeploy's preprocessing and quantization (fidelity's path)."""
    loaded, _ = sidecar.load_for(folder / int8_name)
    (scores,) = run_tflite(folder / int8_name, [load_image(photo, loaded.preprocessing)[None]])
    return int(np.argmax(scores))


@pytest.mark.parametrize("photo", PHOTOS)
def test_infer_py_top1_is_the_pipelines_int8_result(tiny_deployed, photo_dir, photo):
    done = run_infer(tiny_deployed, photo_dir / photo, "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["model"] == "tiny_int8.tflite on the CPU"
    top = result["top5"]
    assert len(top) == 5 and [t["score"] for t in top] == sorted(
        (t["score"] for t in top), reverse=True
    )
    assert top[0]["class"] == pipeline_top1(tiny_deployed, "tiny_int8.tflite", photo_dir / photo)
    assert all(t["label"] == LABELS[t["class"]] for t in top)


def test_infer_py_prints_top5_with_labels(tiny_deployed, photo_dir):
    done = run_infer(tiny_deployed, photo_dir / "owl.jpg")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "owl.jpg: tiny_int8.tflite on the CPU" and len(lines) == 6
    for rank, line in enumerate(lines[1:], 1):
        number, _, index, kind, score, *label = line.split()
        assert number == f"{rank}." and kind == "score" and np.isfinite(float(score))
        assert " ".join(label) == LABELS[int(index)]


def test_infer_py_refuses_a_sidecar_that_does_not_match_and_a_bad_photo(
    tiny_deployed, tmp_path, photo_dir
):
    folder = copy_folder(tiny_deployed, tmp_path)
    doc = json.loads((folder / "tiny_int8.json").read_text())
    doc["input"]["scale"] = 1.0
    (folder / "tiny_int8.json").write_text(json.dumps(doc))
    done = run_infer(folder, photo_dir / "owl.jpg")
    assert done.returncode == ExitCode.UNREADABLE_INPUT, done.stderr
    # LiteRT's own "INFO: Created ... delegate" line may come first; ours is the one error line, last
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .startswith("error: tiny_int8.json: 'input.scale' is 1.0 but the model has")
    )
    assert "Traceback" not in done.stderr
    not_a_photo = tmp_path / "notes.jpg"
    not_a_photo.write_text("not an image")
    done = run_infer(tiny_deployed, not_a_photo)
    assert done.returncode == ExitCode.UNREADABLE_INPUT and done.stderr.strip().startswith("error:")
    assert "Traceback" not in done.stderr


def test_infer_py_falls_back_to_the_cpu_when_the_edgetpu_runtime_is_missing(
    tiny_deployed, tmp_path, photo_dir
):
    folder = copy_folder(tiny_deployed, tmp_path)
    shutil.copy(
        folder / "tiny_int8.tflite", folder / "tiny_int8_edgetpu.tflite"
    )  # stands in for the compiled twin
    done = run_infer(folder, photo_dir / "owl.jpg", "--json")
    if json.loads(done.stdout or "{}").get("model", "").endswith("on the Edge TPU"):
        pytest.skip("this machine has the Edge TPU runtime: the compiled model ran on it")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["model"] == "tiny_int8.tflite on the CPU"
    assert "note: Edge TPU not usable" in done.stderr and "running on the CPU" in done.stderr
    forced = run_infer(folder, photo_dir / "owl.jpg", "--cpu", "--json")
    assert (
        json.loads(forced.stdout)["model"] == "tiny_int8.tflite on the CPU"
        and "note:" not in forced.stderr
    )


def test_raw_input_takes_uint8_camera_pixels(tiny_raw_deployed, photo_dir):
    graph = read_model(tiny_raw_deployed / "tiny_int8.tflite")
    (inp,), (out,) = graph.inputs, graph.outputs
    assert (inp.dtype, inp.zero_point, out.dtype) == ("uint8", [0], "uint8")
    assert inp.scale[0] == pytest.approx(
        1 / 255, rel=1e-6
    )  # real = q / 255: the uint8 value is the pixel
    doc = json.loads((tiny_raw_deployed / "tiny_int8.json").read_text())
    assert doc["input"]["raw_pixels"] and doc["preprocessing"]["normalize"]["where"] == "model"
    assert doc["preprocessing"]["normalize"]["mean"] == pytest.approx([123.675, 116.28, 103.53])
    report = json.loads((tiny_raw_deployed / "report.json").read_text())
    assert report["fidelity"]["onnx_vs_float_tflite_max_abs_diff"] < 1e-4
    assert report["fidelity"]["int8_vs_float_tflite"]["cosine_similarity"] > 0.99
    # The boundary ops --raw-input adds (uint8 -> int8 QUANTIZE in, MUL and ADD of the normalization, int8 ->
    # uint8 QUANTIZE out) all map: Google's keras_lstm_mnist_ptq pair shows the compiler mapping both
    # uint8<->int8 QUANTIZE ops of a uint8-I/O model (tests/test_check_compiled.py holds us to that pair).
    ops = report["edgetpu"]["prediction"]["ops"]
    assert [op["op"] for op in ops][:3] == ["QUANTIZE", "MUL", "ADD"] and ops[-1][
        "op"
    ] == "QUANTIZE"
    assert (
        all(op["verdict"] == "tpu" for op in ops)
        and report["edgetpu"]["prediction"]["summary"]["cpu_ops"] == 0
    )


def test_raw_input_example_and_bench_feed_the_pixels_themselves(
    tiny_raw_deployed, photo_dir, tmp_path
):
    from PIL import Image

    from edgedeploy.bench.inputs import image_inputs
    from edgedeploy.targets.inspection import inspect_model

    done = run_infer(tiny_raw_deployed, photo_dir / "parrot.jpg", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["top5"][0]["class"] == pipeline_top1(
        tiny_raw_deployed, "tiny_int8.tflite", photo_dir / "parrot.jpg"
    )
    folder = tmp_path / "photo"
    folder.mkdir()
    Image.new("RGB", (40, 40), (200, 17, 3)).save(folder / "solid.png")
    (frame,) = image_inputs(folder, inspect_model(tiny_raw_deployed / "tiny_int8.tflite")).frames
    assert frame[0].dtype == np.uint8 and list(frame[0][0, 5, 5]) == [200, 17, 3]


def test_raw_input_with_io_int8_is_a_usage_error(cli, tmp_path):
    result = cli("convert", tmp_path / "x.onnx", "--raw-input", "--io", "int8")
    assert result.code == ExitCode.USAGE and "--raw-input" in result.err
    assert cli("convert", tmp_path / "x.onnx", "--io", "int16").code == ExitCode.USAGE


@pytest.mark.slow
def test_infer_py_on_a_real_mobilenet_matches_the_pipeline(photo_dir, convert_builtin):
    out = convert_builtin("mobilenet_v2")  # the session's one MobileNetV2 conversion
    int8 = "mobilenet_v2_1.0_224_int8.tflite"
    doc = json.loads((out / "mobilenet_v2_1.0_224_int8.json").read_text())
    assert doc["labels"]["offset"] == 1 and doc["labels"]["names"][0] == "tench, Tinca tinca"
    for photo in PHOTOS:
        done = run_infer(out, photo_dir / photo, "--json")
        assert done.returncode == 0, done.stderr
        top1 = json.loads(done.stdout)["top5"][0]
        assert top1["class"] == pipeline_top1(out, int8, photo_dir / photo)
        assert top1["label"] == doc["labels"]["names"][top1["class"]]


def test_infer_py_is_quiet_and_a_reader_that_stops_early_is_no_error(tiny_deployed, photo_dir):
    """No runtime INFO line on stderr; `| head -1` (the reader gone before the output) exits 0 with no
    BrokenPipeError traceback."""
    done = run_infer(tiny_deployed, photo_dir / "owl.jpg")
    assert done.returncode == 0 and done.stdout, done.stderr
    assert done.stderr == "", (
        done.stderr
    )  # "INFO: Created TensorFlow Lite XNNPACK delegate" is gone
    for extra in ((), ("--json",)):
        piped = subprocess.Popen(
            [sys.executable, str(tiny_deployed / "infer.py"), str(photo_dir / "owl.jpg"), *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=tiny_deployed.parent,
        )
        piped.stdout.close()  # the reader is gone before a byte is written: every write fails
        _, err = piped.communicate(timeout=120)
        assert piped.returncode == 0, err.decode()
        assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()
