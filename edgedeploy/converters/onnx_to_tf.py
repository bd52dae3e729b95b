"""Stage 2: ONNX -> TensorFlow (a Keras model in memory, made by onnx2tf).

Requires: a static batch-1 NCHW OnnxModel. Ensures: a Keras model taking NHWC float32 input.

onnx2tf's SavedModel serialisation is most of its run time and nothing downstream needs it, so the
model is taken in memory (``disable_model_save``). Its three onnx-simplifier passes run in one child
process instead of three (``onnx_simplify``: the same file, ~1.6 s sooner). onnx2tf downloads a
calibration sample from the internet when the input looks like an image unless a file of that name is
in the working directory: it runs inside our working directory where
``calibration.write_onnx2tf_sample`` has put one.
"""

from __future__ import annotations

import contextlib
import os

from edgedeploy.converters.artifacts import OnnxModel, TensorFlowModel
from edgedeploy.converters.calibration import ONNX2TF_SAMPLE_NAME, write_onnx2tf_sample
from edgedeploy.converters.context import StageContext
from edgedeploy.converters.maxpool_padding import pad_maxpools_in_place
from edgedeploy.converters.onnx_simplify import needs_onnx2tf, simplify_in_place
from edgedeploy.converters.quiet import captured_output
from edgedeploy.errors import ConversionError, first_line

NAME = "onnx-to-tensorflow"
REQUIRES = OnnxModel
ENSURES = TensorFlowModel


def run(model: OnnxModel, context: StageContext) -> TensorFlowModel:
    write_onnx2tf_sample(context.images, context.workdir)
    log = context.workdir / "onnx2tf.log"
    previous = os.getcwd()
    try:
        os.chdir(context.workdir)
        with captured_output(log):
            # As in onnx2tf, a failed simplification is in the log and the conversion goes on.
            simplified = not needs_onnx2tf(model.path) and simplify_in_place(model.path)
            padded = pad_maxpools_in_place(model.path)
            if padded:
                context.records.setdefault(NAME, {})["maxpools_padded_with_zero"] = padded
            import onnx2tf
            import tf_keras  # onnx2tf's Keras

            # Fresh layer-name counters: the tensor names in the TFLite files (and so their bytes) then do
            # not depend on what this process converted before (a study converts many models in one).
            tf_keras.backend.clear_session()
            keras_model = onnx2tf.convert(
                input_onnx_file_path=str(model.path),
                output_folder_path=str(context.workdir / "onnx2tf"),
                disable_model_save=True,
                non_verbose=True,
                not_use_onnxsim=simplified,
            )
    except SystemExit as exc:  # onnx2tf calls sys.exit on some failures
        raise ConversionError(
            f"onnx2tf could not convert {model.path.name} (exit {exc.code}); see {log.name}"
        ) from exc
    except Exception as exc:
        first = first_line(exc)
        raise ConversionError(f"ONNX -> TensorFlow failed in onnx2tf: {first}") from exc
    finally:
        os.chdir(previous)
    with contextlib.suppress(OSError):
        (context.workdir / ONNX2TF_SAMPLE_NAME).unlink()
    if keras_model is None or len(keras_model.inputs) != 1:
        raise ConversionError("onnx2tf returned no single-input model")
    shape = tuple(int(d) if d is not None else -1 for d in keras_model.inputs[0].shape)
    n, c, h, w = model.input_shape
    if shape != (1, h, w, c):
        raise ConversionError(f"onnx2tf produced input shape {shape}, expected NHWC {(1, h, w, c)}")
    return TensorFlowModel(
        keras_model=keras_model,
        input_shape=shape,
        name=model.name,
        preprocessing=model.preprocessing,
        onnx=model,
    )
