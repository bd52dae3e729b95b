"""What ``convert`` writes beside the int8 model for deployment: the I/O sidecar ``<stem>_int8.json`` (how to
feed the model and read its answer) and ``infer.py`` (a runnable example that uses it)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from edgedeploy.converters.artifacts import Preprocessing, TFLiteModel, TorchModel
from edgedeploy.deploy import example, sidecar
from edgedeploy.deploy.labels import LabelFile, imagenet_labels, read_label_file
from edgedeploy.onnx_reader import load_onnx


def label_file(source: Any, labels: Path | None) -> LabelFile | None:
    """``--labels FILE`` if given; the shipped ImageNet names for a built-in (an ImageNet classifier); else none."""
    if labels is not None:
        return read_label_file(labels)
    imagenet_head = getattr(source, "details", {}).get("num_classes", 1000) == 1000
    if isinstance(source, TorchModel) and source.details.get("builtin") and imagenet_head:
        return (
            imagenet_labels()
        )  # a fine-tuned head (--num-classes) has its own classes: none assumed
    return None


def _output_shape(first: Any) -> tuple[int, ...] | None:
    """The first output's shape before any conversion: a forward pass of the PyTorch module on zeros,
    or the ONNX graph's declared static shape; None when it cannot be told cheaply."""
    if isinstance(first, TorchModel):
        import torch

        try:
            with torch.no_grad():
                out = first.module(torch.zeros(first.input_shape))
        except Exception:  # noqa: BLE001 - the conversion itself will say what is wrong
            return None
        out = out[0] if isinstance(out, (tuple, list)) and out else out
        return tuple(int(d) for d in out.shape) if hasattr(out, "shape") else None

    outputs = load_onnx(first.path, external_data=False).graph.output
    dims = outputs[0].type.tensor_type.shape.dim if outputs else []
    shape = tuple(d.dim_value if d.HasField("dim_value") else 0 for d in dims)
    return shape if shape and all(shape) else None


def check_label_count(labels: LabelFile, first: Any) -> None:
    """UsageError before the conversion when ``--labels`` cannot match the model's class outputs."""
    shape = _output_shape(first)
    if shape is None:
        return
    classes = sidecar.class_count(sidecar.TensorIO("output", shape, "float32", None, None))
    if classes is not None:
        labels.for_outputs(classes)


def make_sidecar(
    int8: TFLiteModel, original: Preprocessing, labels: LabelFile | None, raw_input: bool
) -> sidecar.Sidecar:
    """Built as soon as the int8 model exists, so that labels that do not fit the model fail before fidelity
    and the compile. ``original``: the model's own preprocessing (``--raw-input`` moved its mean/std inside)."""
    return sidecar.build(
        int8.path,
        int8.preprocessing,
        normalization_in_model=original if raw_input else None,
        labels=labels,
    )


def publish(staging: Path, made: sidecar.Sidecar, outputs: dict[str, Path]) -> dict[str, Path]:
    """Write the sidecar (naming the float references published beside it) and infer.py into ``staging``."""
    references = ("onnx", "float32_tflite")  # no ONNX when the input was a Keras model
    made = dataclasses.replace(
        made, files={key: outputs[key].name for key in references if key in outputs}
    )
    path = sidecar.write(made, staging / sidecar.sidecar_path(outputs["int8_tflite"]).name)
    return {"sidecar": path, "example": example.write(staging, path.name)}
