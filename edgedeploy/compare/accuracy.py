"""``--eval DIR``: top-1 accuracy of the float32 and the int8 TFLite model on a labelled image folder.

The folder holds one sub-folder per class (``DIR/<class>/*.jpg``, images found recursively inside it).
Which model output index a class is:

- default: the sub-folder names sorted as strings; the first is output 0, the next 1, ... (the
  torchvision ``ImageFolder`` convention: right for a model trained on the same folder layout);
- ``--labels FILE``: one label per line, line N (from 0) is output N (e.g. the ImageNet class names
  or synset ids); every sub-folder name must be a line or one of its comma-separated names ("tench"
  matches "tench, Tinca tinca"), compared case-insensitively. Use this for ImageNet-pretrained models
  evaluated on a few classes. A file whose first line is "background" (TensorFlow's 1001 classes) used
  with a 1000-output model is read as lines 1..1000 = outputs 0..999, and the report says so.

Images are preprocessed exactly as the conversion did (resize, centre crop, mean/std from the
model's report). Both models run on the same images through LiteRT, the int8 one with its own input
quantization and output dequantization.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgedeploy.errors import InputError, UsageError
from edgedeploy.files import LABELS, read_input
from edgedeploy.onnx_reader import load_onnx

SORTED_FOLDERS = "sub-folder names sorted; the first is output 0"
IMAGENET_CLASSES = 1000


@dataclass(frozen=True)
class EvalSet:
    root: Path
    classes: dict[str, int]  # sub-folder name -> model output index (line number with --labels)
    images: tuple[tuple[Path, int], ...]  # (image, output index)
    mapping: str  # how class names became indices, said in the report
    label_lines: int | None = None  # lines of the --labels file
    background_first: bool = False  # its line 0 is "background" (1001-class files)

    def labels_for(self, outputs: int) -> tuple[list[int], str | None]:
        """The output index of every image for a model with ``outputs`` outputs (and a note if shifted)."""
        labels = [label for _, label in self.images]
        if self.background_first and self.label_lines == outputs + 1:
            return [label - 1 for label in labels], (
                "the labels file starts with 'background' and has one line "
                "more than the model has outputs: line N is output N-1"
            )
        return labels, None

    def describe(self) -> dict[str, Any]:
        return {
            "folder": str(self.root),
            "images": len(self.images),
            "classes": len(self.classes),
            "class_index": self.mapping,
            "classes_to_index": self.classes,
        }


def _read_labels(path: Path) -> tuple[dict[str, int], int, bool]:

    try:
        lines = read_input(path, LABELS, allow_empty=True).decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise InputError(f"cannot read --labels {path}: not UTF-8 text") from exc
    labels: dict[str, int] = {}
    for index, line in enumerate(lines):
        for name in [line, *line.split(",")]:  # the whole line first, then each of its names
            if name.strip():
                labels.setdefault(name.strip().casefold(), index)
    if not labels:
        raise InputError(f"--labels {path} holds no labels (one per line expected)")
    return labels, len(lines), bool(lines) and lines[0].strip().casefold() == "background"


def load_eval_set(root: Path, labels_file: Path | None = None) -> EvalSet:
    from edgedeploy.converters.calibration import IMAGE_SUFFIXES

    root = Path(root)
    if not root.is_dir():
        raise InputError(
            f"--eval {root}: not a directory",
            "give a folder with one sub-folder of images per class",
        )
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise InputError(
            f"--eval {root} has no sub-folders", "put each class's images in its own sub-folder"
        )
    lines, background = None, False
    if labels_file is None:
        classes, mapping = {f.name: i for i, f in enumerate(folders)}, SORTED_FOLDERS
    else:
        labels, lines, background = _read_labels(labels_file)
        unknown = [f.name for f in folders if f.name.strip().casefold() not in labels]
        if unknown:
            raise UsageError(
                f"--eval class folder {unknown[0]!r} is not a line of --labels {labels_file}"
                + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else "")
            )
        classes = {f.name: labels[f.name.strip().casefold()] for f in folders}
        mapping = f"line number in {labels_file} (from 0)"
    images = tuple(
        (path, classes[folder.name])
        for folder in folders
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES
    )
    if not images:
        raise InputError(f"--eval {root}: no images (jpg, png, bmp) in its class sub-folders")
    return EvalSet(root, classes, images, mapping, lines, background)


def check_output_count(eval_set: EvalSet, outputs: int, model: str) -> None:
    """Refuse (exit 4) a model whose output count does not fit the classes: scored anyway it gives a
    number that means nothing (a 10-output model against 3 class folders "scores" 20%)."""
    if eval_set.label_lines is None:
        folders = len(eval_set.classes)
        if outputs != folders:
            raise InputError(
                f"--eval: {model} has {outputs} outputs but {eval_set.root} has {folders} class "
                "folders (without --labels, sorted folder N is output N)",
                "for a model trained on other classes, pass --labels FILE whose line N names output N",
            )
        return
    lines = eval_set.label_lines
    if outputs != lines and not (eval_set.background_first and lines == outputs + 1):
        raise InputError(
            f"--eval: {model} has {outputs} outputs but the --labels file has {lines} lines",
            "give the labels file of the model's own classes (line N names output N)",
        )


def expected_outputs(item: Any) -> int | None:
    """A study item's output count, known before converting it: a built-in's classifier width, an ONNX
    file's single output; None when only running the model would tell (TorchScript, several outputs)."""
    if not item.spec.is_file:
        # a built-in is built with ImageNet's 1000 classes unless the item says otherwise
        return getattr(item, "num_classes", None) or IMAGENET_CLASSES
    if item.spec.path.suffix.lower() != ".onnx":
        return None

    graph = load_onnx(item.spec.path, external_data=False).graph
    if len(graph.output) != 1:
        return None
    dims = graph.output[0].type.tensor_type.shape.dim[1:]  # the first is the batch
    if not dims or any(d.dim_value <= 0 for d in dims):
        return None
    count = 1
    for dim in dims:
        count *= dim.dim_value
    return count


def top1_accuracy(outputs: list, labels: list[int]) -> float:
    import numpy as np

    width = outputs[0].size
    if max(labels) >= width or min(labels) < 0:
        raise UsageError(
            f"the model has {width} outputs but --eval needs class index {max(labels)}",
            "check the class mapping (--labels) against the model's classes",
        )
    return float(np.mean([int(np.argmax(out) == label) for out, label in zip(outputs, labels)]))


@dataclass(frozen=True)
class Accuracy:
    """Top-1 of a row's float and int8 models on the --eval set, or why there is none."""

    evaluated: bool
    reason: str | None = None  # why not evaluated
    images: int | None = None
    classes: int | None = None
    float_top1: float | None = None  # a fraction in [0, 1]
    int8_top1: float | None = None
    note: str | None = None  # e.g. labels shifted by a "background" line

    @classmethod
    def not_evaluated(cls, reason: str) -> "Accuracy":
        return cls(False, reason)

    def to_dict(self) -> dict[str, Any]:
        if not self.evaluated:
            return {"evaluated": False, "reason": self.reason}
        found = {
            "evaluated": True,
            "images": self.images,
            "classes": self.classes,
            "float_top1": self.float_top1,
            "int8_top1": self.int8_top1,
        }
        return found | ({"note": self.note} if self.note else {})


def evaluate(
    eval_set: EvalSet, preprocessing: dict[str, Any], float_model: Path, int8_model: Path
) -> Accuracy:
    """Top-1 of both models on every image of the set (a fraction in [0, 1])."""
    from edgedeploy.converters.artifacts import Preprocessing
    from edgedeploy.converters.calibration import load_image
    from edgedeploy.converters.fidelity import run_tflite

    prep = Preprocessing.from_dict(preprocessing)
    batches = [load_image(path, prep)[None] for path, _ in eval_set.images]
    float_out, int8_out = run_tflite(float_model, batches), run_tflite(int8_model, batches)
    # after conversion, for the models whose output count only running them tells
    check_output_count(eval_set, float_out[0].size, float_model.stem)
    labels, shifted = eval_set.labels_for(float_out[0].size)
    return Accuracy(
        True,
        images=len(labels),
        classes=len(eval_set.classes),
        float_top1=top1_accuracy(float_out, labels),
        int8_top1=top1_accuracy(int8_out, labels),
        note=shifted or None,
    )
