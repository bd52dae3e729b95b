"""--raw-input's graph rewrite, without a conversion: the rewritten ONNX fed pixels / 255 answers exactly
like the original fed normalized input, and so does the wrapped PyTorch model fidelity compares with."""

from __future__ import annotations

import numpy as np
import pytest
from tiny_models import export_onnx, tiny_cnn

from edgedeploy.converters.raw_input import as_pixels, normalizing, prepend_normalization
from edgedeploy.images import Preprocessing
from edgedeploy.onnx_reader import load_onnx

PREP = Preprocessing(size=(32, 32), resize_size=36)  # ImageNet mean/std


def _run(path, x):
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def test_prepended_normalization_is_the_same_math(tmp_path):
    import onnx

    original = export_onnx(tiny_cnn(), tmp_path / "tiny.onnx")
    proto = load_onnx(original)
    name = proto.graph.input[0].name
    prepend_normalization(proto, name, np.asarray(PREP.mean), np.asarray(PREP.std))
    onnx.checker.check_model(proto)
    rewritten = tmp_path / "raw.onnx"
    onnx.save(proto, str(rewritten))
    assert proto.graph.input[0].name == name and [n.op_type for n in proto.graph.node[:2]] == [
        "Mul",
        "Add",
    ]
    pixels = np.random.default_rng(0).integers(0, 256, (1, 3, 32, 32)).astype(np.float32) / 255
    mean, std = (
        np.asarray(PREP.mean, np.float32).reshape(1, 3, 1, 1),
        np.asarray(PREP.std, np.float32).reshape(1, 3, 1, 1),
    )
    assert np.allclose(_run(rewritten, pixels), _run(original, (pixels - mean) / std), atol=1e-5)


def test_the_pytorch_model_is_wrapped_the_same_way():
    import torch

    model = tiny_cnn()
    pixels = torch.rand(1, 3, 32, 32)
    mean, std = (
        torch.tensor(PREP.mean).reshape(1, 3, 1, 1),
        torch.tensor(PREP.std).reshape(1, 3, 1, 1),
    )
    with torch.no_grad():
        assert torch.allclose(
            normalizing(model, PREP)(pixels), model((pixels - mean) / std), atol=1e-6
        )


def test_calibration_images_become_the_exact_pixels_they_came_from(photo_dir):
    from edgedeploy.images import load_image

    normalized = load_image(photo_dir / "owl.jpg", PREP)[None]
    unit = load_image(
        photo_dir / "owl.jpg",
        Preprocessing(size=(32, 32), resize_size=36, mean=(0, 0, 0), std=(1, 1, 1)),
    )
    (back,) = as_pixels([normalized], PREP)
    assert np.array_equal(back[0], unit)  # k / 255 exactly, not k / 255 plus rounding noise
    assert back.min() >= 0 and back.max() <= 1


@pytest.mark.parametrize("order", ["RGB", "BGR"])
def test_the_sidecar_keeps_the_channel_order(order):
    from edgedeploy.deploy.sidecar import Sidecar, TensorIO

    prep = Preprocessing(size=(8, 8), resize_size=9, channel_order=order)
    made = Sidecar(
        "m.tflite",
        TensorIO("x", (1, 8, 8, 3), "int8", 0.1, 0),
        "NHWC",
        False,
        prep,
        None,
        (TensorIO("y", (1, 4), "int8", 0.1, 0),),
        ("none",),
    )
    doc = made.to_dict()
    assert doc["preprocessing"]["channel_order"] == order and (
        "BGR" in doc["preprocessing"]["steps"]
    ) == (order == "BGR")
