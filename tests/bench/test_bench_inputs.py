"""Benchmark inputs: random data of the model's dtype, photos preprocessed and quantized with the
model's own input scale and zero point, and report.json preprocessing when it sits beside the model."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PIL import Image

from edgedeploy.bench.inputs import IMAGE_SUFFIXES, image_inputs, random_inputs
from edgedeploy.errors import InputError, UsageError
from edgedeploy.targets.inspection import inspect_model

MNV1 = "mobilenet_v1_0.25_128_quant.tflite"  # uint8 input 1x128x128x3, scale 1/128, zero point 128


@pytest.fixture
def solid_images(tmp_path):
    """Two photos of one colour: after preprocessing every pixel has a value known by hand."""
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.new("RGB", (300, 200), (255, 0, 128)).save(folder / "a.png")
    Image.new("RGB", (90, 160), (255, 0, 128)).save(folder / "b.jpg", quality=100)
    (folder / "notes.txt").write_text("not an image")
    return folder


def test_random_inputs_follow_each_input_dtype_and_shape(edgetpu_models):
    model = inspect_model(edgetpu_models / MNV1)
    (array,) = random_inputs(model.inputs, seed=3).frames[0]
    assert array.dtype == np.uint8 and array.shape == (1, 128, 128, 3)
    assert array.min() < 10 and array.max() > 245  # the whole uint8 range is used
    again = random_inputs(model.inputs, seed=3).frames[0][0]
    assert np.array_equal(array, again)


def test_photos_are_normalised_then_quantized_with_the_models_scale_and_zero_point(
    edgetpu_models, solid_images
):
    model = inspect_model(edgetpu_models / MNV1)
    spec = model.inputs[0]
    inputs = image_inputs(solid_images, model)
    assert len(inputs.frames) == 2 and "ImageNet mean/std" in inputs.description
    expected_real = (np.array([1.0, 0.0, 128 / 255]) - [0.485, 0.456, 0.406]) / [
        0.229,
        0.224,
        0.225,
    ]
    expected = np.clip(np.round(expected_real / spec.scale + spec.zero_point), 0, 255)
    png = inputs.frames[0][0]
    assert png.dtype == np.uint8 and png.shape == (1, 128, 128, 3)
    assert np.array_equal(png[0, 64, 64], expected.astype(np.uint8))
    assert np.abs(inputs.frames[1][0][0, 64, 64].astype(int) - expected).max() <= 2  # JPEG rounding


def test_report_json_beside_the_model_sets_the_preprocessing(
    edgetpu_models, solid_images, tmp_path
):
    folder = tmp_path / "converted"
    folder.mkdir()
    shutil.copy(edgetpu_models / MNV1, folder / MNV1)
    prep = {
        "size": [128, 128],
        "resize_size": 146,
        "mean": [0.5, 0.5, 0.5],
        "std": [0.5, 0.5, 0.5],
        "interpolation": "bilinear",
    }
    (folder / "report.json").write_text(json.dumps({"preprocessing": prep}))
    inputs = image_inputs(solid_images, inspect_model(folder / MNV1))
    assert "report.json" in inputs.description
    # (x - 0.5) / 0.5 maps [0, 1] onto [-1, 1], this model's input range (scale 1/128, zero point 128):
    # red 1.0 -> 256 clipped to 255, green 0.0 -> 0, blue 128/255 -> 128.502 -> 129
    assert list(inputs.frames[0][0][0, 10, 10]) == [255, 0, 129]


def test_report_json_for_another_size_is_not_used(edgetpu_models, solid_images, tmp_path):
    folder = tmp_path / "converted"
    folder.mkdir()
    shutil.copy(edgetpu_models / MNV1, folder / MNV1)
    (folder / "report.json").write_text(
        json.dumps(
            {
                "preprocessing": {
                    "size": [224, 224],
                    "resize_size": 256,
                    "mean": [0, 0, 0],
                    "std": [1, 1, 1],
                }
            }
        )
    )
    assert "ImageNet" in image_inputs(solid_images, inspect_model(folder / MNV1)).description


def test_real_photos_all_load(edgetpu_models, photo_dir):
    folder = photo_dir
    count = len([p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES])
    inputs = image_inputs(
        folder, inspect_model(edgetpu_models / "tf2_mobilenet_v2_1.0_224_ptq.tflite")
    )
    assert len(inputs.frames) == count and inputs.frames[0][0].shape == (1, 224, 224, 3)
    assert len({f[0].tobytes() for f in inputs.frames}) == count  # distinct photos, distinct inputs


def test_images_need_an_image_input_and_a_folder_with_images(
    edgetpu_models, tmp_path, solid_images
):
    with pytest.raises(UsageError, match="RGB image input"):
        image_inputs(solid_images, inspect_model(edgetpu_models / "keras_lstm_mnist_ptq.tflite"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no images"):
        image_inputs(tmp_path / "empty", inspect_model(edgetpu_models / MNV1))
    with pytest.raises(InputError, match="not a directory"):
        image_inputs(tmp_path / "missing", inspect_model(edgetpu_models / MNV1))
    (solid_images / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(InputError, match="broken.png"):
        image_inputs(solid_images, inspect_model(edgetpu_models / MNV1))


def test_images_in_sub_folders_are_found_like_convert_calibration_finds_them(
    edgetpu_models, solid_images
):
    nested = solid_images / "class_a" / "deeper"
    nested.mkdir(parents=True)
    Image.new("RGB", (64, 64), (0, 255, 0)).save(nested / "c.png")
    inputs = image_inputs(solid_images, inspect_model(edgetpu_models / MNV1))
    assert len(inputs.frames) == 3 and inputs.description.startswith("3 images")
