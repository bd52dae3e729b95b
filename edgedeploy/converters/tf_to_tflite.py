"""Stage 3: TensorFlow -> float32 TFLite and full-int8 TFLite.

Requires: a TensorFlowModel (NHWC float input) and calibration images preprocessed like the model expects.
Ensures: ``<name>_float32.tflite`` and ``<name>_int8.tflite``; the int8 model is full-integer (builtin
int8 kernels only, int8 input and output), weights per-channel unless ``per_tensor``.

The Keras model is traced once and its variables frozen into constants once; both converters start
from that frozen function. Handing the converter the Keras model as its trackable object instead
makes it serialise a SavedModel first, ~20 s per conversion of a MobileNetV2 against ~2-5 s this way,
for the same graph (pinned by tests/test_int8_graph_pinned.py: same ops, quantization and weights).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from edgedeploy.converters.artifacts import TensorFlowModel, TFLiteModel
from edgedeploy.converters.context import StageContext
from edgedeploy.converters.quiet import captured_output
from edgedeploy.errors import ConversionError, first_line

NAME = "tensorflow-to-tflite"
REQUIRES = TensorFlowModel
ENSURES = TFLiteModel


def frozen_function(model: TensorFlowModel):
    """The model's forward pass at its input shape, traced, with every variable made a constant."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    try:
        function = tf.function(lambda image: model.keras_model(image))
        concrete = function.get_concrete_function(tf.TensorSpec(model.input_shape, tf.float32))
        return convert_variables_to_constants_v2(concrete)
    except Exception as exc:
        first = first_line(exc)
        raise ConversionError(f"TensorFlow model could not be traced for TFLite: {first}") from exc


def _converter(frozen):
    import tensorflow as tf

    return tf.lite.TFLiteConverter.from_concrete_functions([frozen])


def _representative(batches: list[np.ndarray]):
    def generate() -> Iterator[list[np.ndarray]]:
        for batch in batches:
            yield [batch]
            yield [
                batch[:, :, ::-1, :].copy()
            ]  # the mirrored photo: more real samples for the ranges

    return generate


def _convert(converter, what: str) -> bytes:
    try:
        return converter.convert()
    except Exception as exc:
        first = first_line(exc)
        raise ConversionError(f"TensorFlow -> {what} TFLite failed: {first}") from exc


def run(model: TensorFlowModel, context: StageContext) -> TFLiteModel:
    import time

    import tensorflow as tf

    log = context.workdir / "tflite_converter.log"
    float_path = context.workdir / f"{model.name}_float32.tflite"
    int8_path = context.workdir / f"{model.name}_int8.tflite"
    with captured_output(log):
        start = time.perf_counter()
        frozen = frozen_function(
            model
        )  # timed with the float32 conversion, which used to do this itself
        float_path.write_bytes(_convert(_converter(frozen), "float32"))
        float_seconds = time.perf_counter() - start

        start = time.perf_counter()
        converter = _converter(frozen)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = _representative(context.images.calibration)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = converter.inference_output_type = getattr(
            tf, context.options.io_type
        )
        if context.options.per_tensor:
            # TF exposes per-tensor weight quantization only through this experimental switch.
            converter._experimental_disable_per_channel = True
        int8_path.write_bytes(_convert(converter, "int8"))
        int8_seconds = time.perf_counter() - start
    context.record(
        NAME,
        float32_seconds=round(float_seconds, 3),
        int8_seconds=round(int8_seconds, 3),
        calibration_samples=2 * len(context.images.calibration),
        weight_quantization="per-tensor" if context.options.per_tensor else "per-channel",
    )
    float_model = TFLiteModel(
        path=float_path, quantization="float32", name=model.name, preprocessing=model.preprocessing
    )
    return TFLiteModel(
        path=int8_path,
        quantization="int8",
        name=model.name,
        preprocessing=model.preprocessing,
        float_model=float_model,
    )
