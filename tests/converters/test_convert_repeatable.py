"""A conversion's files do not depend on what the process converted before: a study converts many
models in one process (or in a few workers), and each must come out byte for byte as it would alone."""

import hashlib

import pytest
from tiny_models import export_onnx, tiny_cnn

from edgedeploy.converters.context import ConvertOptions
from edgedeploy.converters.pipeline import convert

pytestmark = pytest.mark.slow  # three real (tiny) conversions: ~15 s with TensorFlow's import


def _digests(onnx_path, out) -> dict[str, str]:
    report = convert(str(onnx_path), out, ConvertOptions(compile=False))
    return {
        key: hashlib.sha256((out / name).read_bytes()).hexdigest()
        for key, name in report.outputs.items()
        if key in ("onnx", "float32_tflite", "int8_tflite")
    }


def test_the_same_model_converts_to_the_same_bytes_after_another_conversion(tmp_path):
    first = export_onnx(tiny_cnn(), tmp_path / "first.onnx", size=32)
    second = export_onnx(tiny_cnn(hard_swish=True), tmp_path / "second.onnx", size=40)
    alone = _digests(second, tmp_path / "alone")
    _digests(first, tmp_path / "other")
    after_another = _digests(second, tmp_path / "after")
    assert after_another == alone
