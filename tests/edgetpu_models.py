"""Tiny Keras models with the ops the Edge TPU check must judge, converted to full-int8 TFLite by
TensorFlow's own converter (representative dataset of random data). The conversions are committed in
tests/data/tiny_models (``python tests/edgetpu_models.py`` rewrites them); a slow test converts them
again and holds the committed files to the same operators.

tests/conftest.py registers this module as a plugin: request the ``tiny_models`` fixture as a
parameter; it maps a name to the .tflite path. TensorFlow is imported only when it is built.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

SIZE = 32


def _convert(model, quantize: bool = True, float_io: bool = False) -> bytes:
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if quantize:
        shape = [1, *model.input_shape[1:]]

        def representative():
            rng = np.random.default_rng(0)
            for _ in range(8):
                yield [rng.uniform(-1, 1, shape).astype(np.float32)]

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        if not float_io:
            converter.inference_input_type = tf.int8
            converter.inference_output_type = tf.int8
    return converter.convert()


def _builders():
    import tensorflow as tf
    import tf_keras as keras  # Keras 2 API: TF ops on symbolic tensors become layers

    L = keras.layers

    def inputs(batch: int | None = 1):
        return keras.Input((SIZE, SIZE, 3), batch_size=batch)

    def head(x):
        x = L.GlobalAveragePooling2D()(x)
        return L.Dense(10)(x)

    def hard_swish_fused():  # x*relu6(x+3)/6: TF fuses it into one HARD_SWISH
        x = i = inputs()
        x = L.Conv2D(16, 3, strides=2, padding="same")(x)
        x = x * tf.nn.relu6(x + 3.0) / 6.0
        x = L.DepthwiseConv2D(3, padding="same", activation="relu")(x)
        x = L.Conv2D(16, 1)(x)
        return keras.Model(i, head(x))

    def hard_swish_rewritten():  # (x*(1/6))*relu6(x+3): stays ADD(RELU6)+MUL+MUL
        x = i = inputs()
        x = L.Conv2D(16, 3, strides=2, padding="same")(x)
        x = (x * (1.0 / 6.0)) * tf.nn.relu6(x + 3.0)
        x = L.Conv2D(16, 1, activation="relu")(x)
        return keras.Model(i, head(x))

    def se_5x5():  # squeeze-and-excite with a hard-sigmoid gate, and a 5x5 depthwise
        x = i = inputs()
        x = L.Conv2D(16, 3, strides=2, padding="same", activation="relu")(x)
        x = L.DepthwiseConv2D(5, padding="same", activation="relu")(x)
        s = tf.reduce_mean(x, axis=[1, 2], keepdims=True)
        s = L.Conv2D(8, 1, activation="relu")(s)
        s = L.Conv2D(16, 1)(s)
        s = tf.nn.relu6(s + 3.0) * (1.0 / 6.0)
        x = x * s
        x = L.Conv2D(16, 1, activation="relu")(x)
        return keras.Model(i, head(x))

    def leaky_branch():  # LEAKY_RELU on one branch; a TPU-only branch after it in execution order
        x = i = inputs()
        a = L.Conv2D(8, 3, padding="same", activation="relu")(x)
        b = L.LeakyReLU(0.1)(a)
        b = L.Conv2D(8, 1, activation="relu")(b)
        c = L.Conv2D(8, 3, padding="same", activation="relu")(a)
        c = L.Conv2D(8, 1, activation="relu")(c)
        return keras.Model(i, [L.GlobalAveragePooling2D()(b), L.GlobalAveragePooling2D()(c)])

    def plain():  # every op maps; converted with float input/output -> QUANTIZE / DEQUANTIZE at the edges
        x = i = inputs()
        x = L.Conv2D(8, 3, strides=2, padding="same", activation="relu")(x)
        x = L.DepthwiseConv2D(3, padding="same", activation="relu")(x)
        x = L.Conv2D(16, 1, activation="relu")(x)
        return keras.Model(i, head(x))

    def dynamic_batch():  # batch None + Reshape: SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE
        x = i = inputs(batch=None)
        x = L.Conv2D(8, 3, strides=4, padding="same", activation="relu")(x)
        x = L.Reshape((-1,))(x)
        return keras.Model(i, L.Dense(10)(x))

    return {
        "hard_swish_fused": (hard_swish_fused, {}),
        "hard_swish_rewritten": (hard_swish_rewritten, {}),
        "se_5x5": (se_5x5, {}),
        "leaky_branch": (leaky_branch, {}),
        "plain": (plain, {}),
        "plain_float_io": (plain, {"float_io": True}),
        "plain_float": (plain, {"quantize": False}),
        "dynamic_batch": (dynamic_batch, {}),
    }


COMMITTED = Path(__file__).resolve().parent / "data" / "tiny_models"


def build_all(folder: Path) -> dict[str, Path]:
    """Build and convert every tiny model into ``folder`` (TensorFlow; ~20 s): the committed files' recipe."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    paths = {}
    for name, (build, options) in _builders().items():
        tf.random.set_seed(0)
        path = folder / f"{name}.tflite"
        path.write_bytes(_convert(build(), **options))
        paths[name] = path
    return paths


@pytest.fixture(scope="session")
def tiny_models() -> dict[str, Path]:
    """The committed conversions (tests/data/tiny_models): no TensorFlow in the fast tier."""
    return {name: COMMITTED / f"{name}.tflite" for name in MODEL_NAMES}


@pytest.fixture(scope="session")
def tiny_models_rebuilt(tmp_path_factory) -> dict[str, Path]:
    """The same models converted again by this machine's TensorFlow (slow tests only)."""
    return build_all(tmp_path_factory.mktemp("edgetpu_models"))


MODEL_NAMES = (
    "hard_swish_fused",
    "hard_swish_rewritten",
    "se_5x5",
    "leaky_branch",
    "plain",
    "plain_float_io",
    "plain_float",
    "dynamic_batch",
)

if __name__ == "__main__":  # rewrites the committed files: python tests/edgetpu_models.py
    print("\n".join(str(p) for p in build_all(COMMITTED).values()))
