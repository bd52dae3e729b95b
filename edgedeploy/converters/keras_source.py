"""A Keras or TensorFlow model file as the pipeline's first artifact: ``.keras``, ``.h5`` or a
SavedModel directory goes straight to the TensorFlow -> TFLite stage (no ONNX on the way), with the
same calibration, preprocessing options, fidelity, sidecar, check and compile as every other input.

Coral's own retraining tutorials are Keras (tf_keras, the Keras 2 that TensorFlow 2.19 ships beside
Keras 3): files are opened with tf_keras first, then Keras 3; a SavedModel without Keras metadata is
called through its serving signature.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edgedeploy.converters.artifacts import TensorFlowModel
from edgedeploy.errors import InputError, UsageError
from edgedeploy.images import default_preprocessing

KERAS_SUFFIXES = {".keras", ".h5", ".hdf5"}
SAVED_MODEL_FILE = "saved_model.pb"


def is_keras_input(path: Path) -> bool:
    return path.suffix.lower() in KERAS_SUFFIXES or (path / SAVED_MODEL_FILE).is_file()


class _Signature:
    """A SavedModel's serving signature called like a Keras model (one image in, its outputs out)."""

    def __init__(self, function: Any):
        self.function = function
        (self.input_name, self.spec), *rest = function.structured_input_signature[1].items()
        if rest:
            raise InputError("the SavedModel's serving signature takes more than one input")
        self.inputs = [self.spec]
        self.output_names = sorted(function.structured_outputs)

    def __call__(self, image):
        found = self.function(**{self.input_name: image})
        outputs = [found[name] for name in self.output_names]
        return outputs[0] if len(outputs) == 1 else outputs


def _open(path: Path) -> Any:
    import tf_keras

    errors = []
    try:
        return tf_keras.models.load_model(str(path), compile=False)
    except Exception as exc:  # noqa: BLE001 - each loader raises its own types for a file it cannot read
        errors.append(f"tf_keras: {type(exc).__name__}")
    if path.suffix.lower() == ".keras":
        try:
            import keras

            return keras.saving.load_model(str(path), compile=False)
        except Exception as exc:  # noqa: BLE001
            errors.append(f"Keras 3: {type(exc).__name__}")
    if path.is_dir():
        import tensorflow as tf

        try:
            loaded = tf.saved_model.load(str(path))
            return _Signature(loaded.signatures["serving_default"])
        except Exception as exc:  # noqa: BLE001
            errors.append(f"SavedModel: {type(exc).__name__}")
    raise InputError(
        f"{path} could not be opened as a Keras/TensorFlow model ({'; '.join(errors)})"
    )


def _input_shape(
    model: Any, given: tuple[int, ...] | None, path: Path
) -> tuple[int, int, int, int]:
    """NHWC, batch 1: the model's own static size, or --input-shape (given as N,C,H,W like elsewhere)."""
    inputs = getattr(model, "inputs", None) or []
    if len(inputs) != 1:
        raise InputError(f"{path.name} has {len(inputs)} inputs: one image input is supported")
    dims = list(inputs[0].shape)
    if len(dims) != 4:
        raise InputError(f"{path.name}'s input has shape {dims}: an NHWC image input is expected")
    if given is not None:
        _, channels, height, width = given
        stated = dims[1:]
        for mine, theirs in zip((height, width, channels), stated):
            if theirs is not None and int(theirs) != mine:
                raise UsageError(
                    f"--input-shape {','.join(map(str, given))} does not fit {path.name}'s input "
                    f"(NHWC {[d if d is None else int(d) for d in dims]})"
                )
        return (1, height, width, channels)
    if any(d is None for d in dims[1:]):
        raise UsageError(
            f"{path.name}'s input size is not fixed (NHWC {dims}): pass --input-shape 1,C,H,W"
        )
    return (1, int(dims[1]), int(dims[2]), int(dims[3]))


def load_keras(path: Path, shape: tuple[int, ...] | None) -> TensorFlowModel:
    model = _open(path)
    nhwc = _input_shape(model, shape, path)
    return TensorFlowModel(
        keras_model=model,
        input_shape=nhwc,
        name=path.stem if path.is_file() else path.resolve().name,
        preprocessing=default_preprocessing(nhwc[1], nhwc[2]),
        onnx=None,
        details={
            "source": "keras" if not isinstance(model, _Signature) else "saved-model signature"
        },
    )
