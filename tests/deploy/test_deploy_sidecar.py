"""The I/O sidecar convert writes beside the int8 model: it states what the model file states, bench and
compare read it instead of guessing, and one that does not match its model is one line naming the field."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest
from deploy_fixtures import LABELS, copy_folder
from PIL import Image

from edgedeploy.deploy import sidecar
from edgedeploy.deploy.labels import IMAGENET_SOURCE, LabelFile, imagenet_labels
from edgedeploy.errors import ExitCode, InputError, UsageError
from edgedeploy.images import Preprocessing
from edgedeploy.tflite import read_model

MNV1 = "mobilenet_v1_0.25_128_quant"  # uint8 input 1x128x128x3, scale 1/128, zero point 128; compiled twin beside


def _doc(folder):
    return json.loads((folder / "tiny_int8.json").read_text())


def test_convert_writes_a_sidecar_that_states_what_the_model_file_states(tiny_deployed):
    doc = _doc(tiny_deployed)
    assert (
        list(doc)[:3] == ["schema_version", "command", "edgedeploy_version"]
        and doc["kind"] == "io-sidecar"
    )
    graph = read_model(tiny_deployed / doc["model"])
    (inp,), (out,) = graph.inputs, graph.outputs
    assert doc["input"] == {
        "name": inp.name,
        "shape": list(inp.shape),
        "dtype": "int8",
        "scale": inp.scale[0],
        "zero_point": inp.zero_point[0],
        "layout": "NHWC",
        "raw_pixels": False,
    }
    (output,) = doc["outputs"]
    assert (output["name"], output["shape"], output["scale"], output["zero_point"]) == (
        out.name,
        list(out.shape),
        out.scale[0],
        out.zero_point[0],
    )
    assert "(q - zero_point) * scale" in output["dequantize"]
    report = json.loads((tiny_deployed / "report.json").read_text())
    prep = doc["preprocessing"]
    assert prep["normalize"]["where"] == "host" and prep["channel_order"] == "RGB"
    assert prep["normalize"]["mean"] == pytest.approx(
        [v * 255 for v in report["preprocessing"]["mean"]]
    )
    assert prep["normalize"]["std"] == pytest.approx(
        [v * 255 for v in report["preprocessing"]["std"]]
    )
    assert (
        prep["crop"]["size"] == [32, 32]
        and prep["resize"]["short_side"] == report["preprocessing"]["resize_size"]
    )
    assert doc["labels"]["names"] == LABELS and doc["labels"]["offset"] == 0
    assert doc["files"] == {"onnx": "tiny.onnx", "float32_tflite": "tiny_float32.tflite"}
    assert (
        report["outputs"]["sidecar"] == "tiny_int8.json"
        and report["outputs"]["example"] == "infer.py"
    )
    loaded, where = sidecar.load_for(tiny_deployed / "tiny_int8.tflite")
    assert where.name == "tiny_int8.json" and loaded.preprocessing.mean == pytest.approx(
        tuple(report["preprocessing"]["mean"])
    )


def test_shipped_imagenet_labels_have_background_first_and_are_read_with_offset_1():
    shipped = imagenet_labels()
    assert len(shipped.lines) == 1001 and shipped.background_first
    matched = shipped.for_outputs(1000)
    assert (
        matched.offset == 1
        and matched.names[0] == "tench, Tinca tinca"
        and len(matched.names) == 1000
    )
    assert (
        matched.to_dict()["source"] == IMAGENET_SOURCE and "N+1" in matched.to_dict()["offset_note"]
    )
    assert shipped.for_outputs(1001).offset == 0  # TensorFlow's own 1001-class models


def test_labels_that_do_not_fit_the_outputs_are_a_usage_error():
    with pytest.raises(UsageError, match="3 labels for a model with 10 outputs"):
        LabelFile(("a", "b", "c"), "labels.txt").for_outputs(10)


def test_an_unreadable_labels_file_fails_before_converting(cli, tmp_path):
    from tiny_models import export_onnx, tiny_cnn

    onnx = export_onnx(tiny_cnn(), tmp_path / "tiny.onnx")
    result = cli(
        "convert",
        onnx,
        "-o",
        tmp_path / "out",
        "--labels",
        tmp_path / "missing.txt",
        "--no-compile",
    )
    assert (
        result.code == ExitCode.UNREADABLE_INPUT
        and "missing.txt" in result.err
        and "Traceback" not in result.err
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "path, value, field",
    [
        (("input", "scale"), 0.5, "input.scale"),
        (("input", "zero_point"), 3, "input.zero_point"),
        (("input", "shape"), [1, 64, 64, 3], "input.shape"),
        (("outputs", 0, "scale"), 1.0, "outputs[0].scale"),
        (("outputs", 0, "dtype"), "uint8", "outputs[0].dtype"),
    ],
)
def test_an_edited_sidecar_is_one_error_naming_the_field(
    tiny_deployed, tmp_path, path, value, field
):
    folder = copy_folder(tiny_deployed, tmp_path)
    doc = _doc(folder)
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    (folder / "tiny_int8.json").write_text(json.dumps(doc))
    with pytest.raises(InputError, match=re.escape(f"'{field}' is")) as raised:
        sidecar.load_for(folder / "tiny_int8.tflite")
    assert "tiny_int8.json" in raised.value.message and "\n" not in str(raised.value)


@pytest.mark.parametrize(
    "edit, field",
    [
        (lambda d: d["input"].pop("scale"), "'input.scale' is missing"),
        (lambda d: d["input"].update(layout="NCHW"), "'input.layout' is NCHW"),
        (
            lambda d: d["preprocessing"]["normalize"].update(std=[0, 1, 1]),
            "'preprocessing.normalize.std' must be positive",
        ),
        (lambda d: d["labels"].update(names=["a"]), "'labels.names' holds 1 labels"),
        (
            lambda d: d["preprocessing"]["crop"].update(size=[64, 64]),
            "'preprocessing.crop.size' is [64, 64] but the input takes [32, 32]",
        ),
    ],
)
def test_a_sidecar_missing_or_contradicting_a_field_names_it(tiny_deployed, tmp_path, edit, field):
    folder = copy_folder(tiny_deployed, tmp_path)
    doc = _doc(folder)
    edit(doc)
    (folder / "tiny_int8.json").write_text(json.dumps(doc))
    with pytest.raises(InputError, match=re.escape(field)):
        sidecar.load_for(folder / "tiny_int8.tflite")


def test_a_sidecar_from_another_model_is_refused(tiny_deployed, edgetpu_models, tmp_path):
    shutil.copy(edgetpu_models / f"{MNV1}.tflite", tmp_path / f"{MNV1}.tflite")
    shutil.copy(tiny_deployed / "tiny_int8.json", tmp_path / f"{MNV1}.json")
    with pytest.raises(
        InputError,
        match=r"'input.name' is 'image' but mobilenet_v1_0.25_128_quant.tflite has 'input'",
    ):
        sidecar.load_for(tmp_path / f"{MNV1}.tflite")
    (tmp_path / f"{MNV1}.json").write_text("{ not json")
    with pytest.raises(InputError, match="is not valid JSON"):
        sidecar.load_for(tmp_path / f"{MNV1}.tflite")
    (tmp_path / f"{MNV1}.json").write_text(json.dumps({"kind": "something else"}))
    assert (
        sidecar.load_for(tmp_path / f"{MNV1}.tflite") is None
    )  # a JSON file of the same name that is not ours


@pytest.fixture
def mnv1_pair(edgetpu_models, tmp_path):
    """Google's MobileNet v1 and its compiled twin, with a sidecar written for the source (mean/std 0.5)."""
    for name in (f"{MNV1}.tflite", f"{MNV1}_edgetpu.tflite"):
        shutil.copy(edgetpu_models / name, tmp_path / name)
    prep = Preprocessing(
        size=(128, 128), resize_size=146, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5)
    )
    sidecar.write(sidecar.build(tmp_path / f"{MNV1}.tflite", prep), tmp_path / f"{MNV1}.json")
    return tmp_path


def test_a_compiled_model_finds_its_sources_sidecar(mnv1_pair):
    loaded, where = sidecar.load_for(mnv1_pair / f"{MNV1}_edgetpu.tflite")
    assert (
        where.name == f"{MNV1}.json"
        and loaded.input.dtype == "uint8"
        and loaded.input.zero_point == 128
    )
    assert loaded.preprocessing.mean == pytest.approx((0.5, 0.5, 0.5))


@pytest.fixture
def solid_photos(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.new("RGB", (300, 200), (255, 0, 128)).save(folder / "a.png")
    return folder


def test_bench_images_are_preprocessed_as_the_sidecar_says(mnv1_pair, solid_photos):
    from edgedeploy.bench.inputs import image_inputs
    from edgedeploy.targets.inspection import inspect_model

    for name in (
        f"{MNV1}.tflite",
        f"{MNV1}_edgetpu.tflite",
    ):  # the compiled twin reads its source's sidecar
        inputs = image_inputs(solid_photos, inspect_model(mnv1_pair / name))
        assert f"{MNV1}.json" in inputs.description
        # (x - 0.5) / 0.5 onto scale 1/128, zero point 128: red 255 -> 256 clipped to 255, green 0, blue 128 -> 129
        assert list(inputs.frames[0][0][0, 10, 10]) == [255, 0, 129]


def test_bench_with_a_sidecar_that_does_not_match_exits_4_naming_the_field(
    mnv1_pair, solid_photos, cli
):
    doc = json.loads((mnv1_pair / f"{MNV1}.json").read_text())
    doc["input"]["zero_point"] = 0
    (mnv1_pair / f"{MNV1}.json").write_text(json.dumps(doc))
    result = cli(
        "bench",
        "--images",
        solid_photos,
        "--threads",
        "1",
        "--min-runs",
        "1",
        "--min-time",
        "0",
        mnv1_pair / f"{MNV1}.tflite",
    )
    assert result.code == ExitCode.UNREADABLE_INPUT, result
    assert "'input.zero_point' is 0 but" in result.err and "Traceback" not in result.err
    assert (
        len([line for line in result.err.splitlines() if line.strip()]) <= 3
    )  # one message (wrapped at most)


def test_compare_reads_the_preprocessing_from_the_sidecar(tiny_deployed, tmp_path):
    from edgedeploy.compare.stages import model_preprocessing

    folder = copy_folder(tiny_deployed, tmp_path)
    report = json.loads((folder / "report.json").read_text())
    doc = _doc(folder)
    doc["preprocessing"]["normalize"]["mean"] = [
        127.5,
        127.5,
        127.5,
    ]  # not a field the model file states
    (folder / "tiny_int8.json").write_text(json.dumps(doc))
    assert model_preprocessing(report, folder)["mean"] == pytest.approx([0.5, 0.5, 0.5])
    (folder / "tiny_int8.json").unlink()  # a cache entry written before sidecars: report.json's
    assert model_preprocessing(report, folder) == report["preprocessing"]


def test_sidecar_round_trips_through_its_json(tiny_deployed):
    loaded, _ = sidecar.load_for(tiny_deployed / "tiny_int8.tflite")
    again = sidecar.parse(json.loads(json.dumps(loaded.to_dict())), tiny_deployed / "x.json")
    assert (
        again.input == loaded.input
        and again.outputs == loaded.outputs
        and again.labels == loaded.labels
    )
    assert np.allclose(again.preprocessing.std, loaded.preprocessing.std)
