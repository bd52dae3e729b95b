"""Keras / TensorFlow models in: .keras, .h5 and SavedModel directories go straight to the TFLite stage
with the same calibration, preprocessing options, fidelity, sidecar, check and verify."""

from __future__ import annotations

import json

import pytest

from edgedeploy.errors import ExitCode

pytestmark = pytest.mark.slow  # TensorFlow and real conversions


def _small_keras():
    import tf_keras

    tf_keras.utils.set_random_seed(0)
    layers = tf_keras.layers
    inputs = tf_keras.Input((48, 48, 3))
    x = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(inputs)
    x = layers.DepthwiseConv2D(3, padding="same", activation="relu")(x)
    x = layers.Conv2D(16, 1, activation="relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    return tf_keras.Model(inputs, outputs)


@pytest.fixture(scope="module")
def keras_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keras")
    model = _small_keras()
    model.save(folder / "small.h5")
    model.save(folder / "small_savedmodel")  # a SavedModel directory
    return folder


@pytest.mark.parametrize("name", ["small.h5", "small_savedmodel"])
def test_a_small_keras_model_converts_from_h5_and_savedmodel(cli, keras_files, tmp_path, name):
    out = tmp_path / "out"
    result = cli(
        "convert", keras_files / name, "--preset", "unit", "-o", out, "--no-compile",
        "--calibration-count", "5", "--json",
    )  # fmt: skip
    assert result.code == ExitCode.OK, result
    report = json.loads(result.out)
    assert set(report["outputs"]) >= {"float32_tflite", "int8_tflite", "sidecar", "example"}
    assert "onnx" not in report["outputs"]
    fidelity = report["fidelity"]
    assert fidelity["keras_vs_float_tflite_max_abs_diff"] < 1e-4, fidelity
    assert fidelity["int8_vs_float_tflite"]["cosine_similarity"] > 0.98, fidelity
    assert report["preprocessing"]["mean"] == [0.0, 0.0, 0.0]  # --preset unit applied
    int8 = report["int8"]
    assert int8["inputs"][0]["dtype"] == "int8" and int8["inputs"][0]["shape"] == [1, 48, 48, 3]
    assert report["edgetpu"]["prediction"]  # the target's check ran on it


def test_keras_mobilenet_v2_converts_checks_and_verifies(cli, tmp_path, photo_dir):
    import tf_keras

    tf_keras.utils.set_random_seed(0)
    model = tf_keras.applications.MobileNetV2(
        input_shape=(96, 96, 3), alpha=0.35, weights=None, classifier_activation=None
    )
    path = tmp_path / "mnv2.keras"
    model.save(path)
    out = tmp_path / "out"
    result = cli("convert", path, "--preset", "signed", "-o", out, "--no-compile", "--json")
    assert result.code == ExitCode.OK, result
    report = json.loads(result.out)
    # Keras' random MobileNetV2 outputs ~1e-10 (its initialisation collapses): no fidelity to hold it
    # to; the small model above is held to it. Here: the whole path runs on a real architecture.
    assert report["fidelity"]["measured"] and report["int8"]["inputs"][0]["shape"] == [1, 96, 96, 3]
    assert report["edgetpu"]["prediction"]
    check = cli("check", out / "mnv2_int8.tflite", "--json")
    assert check.code == ExitCode.OK, check
    verify = cli("verify", out / "mnv2_int8.tflite", "--images", photo_dir, "--target", "cpu")
    assert verify.code in (ExitCode.OK, ExitCode.REGRESSION), verify
    assert "float reference: mnv2_float32.tflite on LiteRT" in " ".join(verify.out.split())


def test_onnx_rewrites_are_refused_for_keras_models(cli, keras_files, tmp_path):
    for option in (("--raw-input",), ("--outputs", "dense")):
        result = cli("convert", keras_files / "small.h5", *option, "-o", tmp_path / "out")
        assert result.code == ExitCode.USAGE, result
        assert "Keras/TensorFlow model" in result.err and not (tmp_path / "out").exists()
