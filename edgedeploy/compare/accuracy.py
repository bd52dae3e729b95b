"""``--eval DIR``: top-1 accuracy of the float32 and the int8 TFLite model on a labelled image folder.

The folder holds one sub-folder per class (``DIR/<class>/*.jpg``, images found recursively inside it).
Which model output index a class is:

- default: the sub-folder names sorted as strings; the first is output 0, the next 1, ... (the
  torchvision ``ImageFolder`` convention: right for a model trained on the same folder layout);
- ``--labels FILE``: one label per line, line N (from 0) is output N (e.g. the 1000 ImageNet class
  names or synset ids); every sub-folder name must be one of the lines (compared without surrounding
  spaces, case-insensitively). Use this for ImageNet-pretrained models evaluated on a few classes.

Images are preprocessed exactly as the conversion did (resize, centre crop, mean/std from the
model's report). Both models run on the same images through LiteRT, the int8 one with its own input
quantization and output dequantization.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgedeploy.errors import InputError, UsageError

SORTED_FOLDERS = "sub-folder names sorted; the first is output 0"


@dataclass(frozen=True)
class EvalSet:
    root: Path
    classes: dict[str, int]  # sub-folder name -> model output index
    images: tuple[tuple[Path, int], ...]  # (image, output index)
    mapping: str  # how class names became indices, said in the report

    def describe(self) -> dict[str, Any]:
        return {"folder": str(self.root), "images": len(self.images), "classes": len(self.classes),
                "class_index": self.mapping, "classes_to_index": self.classes}


def _read_labels(path: Path) -> dict[str, int]:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read --labels {path}: {exc}") from exc
    labels: dict[str, int] = {}
    for index, line in enumerate(lines):
        if line.strip():
            labels.setdefault(line.strip().casefold(), index)
    if not labels:
        raise InputError(f"--labels {path} holds no labels (one per line expected)")
    return labels


def load_eval_set(root: Path, labels_file: Path | None = None) -> EvalSet:
    from edgedeploy.converters.calibration import IMAGE_SUFFIXES

    root = Path(root)
    if not root.is_dir():
        raise InputError(f"--eval {root}: not a directory", "give a folder with one sub-folder of images per class")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise InputError(f"--eval {root} has no sub-folders", "put each class's images in its own sub-folder")
    if labels_file is None:
        classes, mapping = {f.name: i for i, f in enumerate(folders)}, SORTED_FOLDERS
    else:
        labels = _read_labels(labels_file)
        unknown = [f.name for f in folders if f.name.strip().casefold() not in labels]
        if unknown:
            raise UsageError(f"--eval class folder {unknown[0]!r} is not a line of --labels {labels_file}"
                             + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""))
        classes = {f.name: labels[f.name.strip().casefold()] for f in folders}
        mapping = f"line number in {labels_file} (from 0)"
    images = tuple((path, classes[folder.name]) for folder in folders for path in sorted(folder.rglob("*"))
                   if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES)
    if not images:
        raise InputError(f"--eval {root}: no images (jpg, png, bmp) in its class sub-folders")
    return EvalSet(root, classes, images, mapping)


def top1_accuracy(model_path: Path, batches: list, labels: list[int]) -> float:
    import numpy as np

    from edgedeploy.converters.fidelity import run_tflite

    outputs = run_tflite(model_path, batches)
    width = outputs[0].size
    if max(labels) >= width:
        raise UsageError(f"the model has {width} outputs but --eval needs class index {max(labels)}",
                         "check the class mapping (--labels) against the model's classes")
    return float(np.mean([int(np.argmax(out) == label) for out, label in zip(outputs, labels)]))


def evaluate(eval_set: EvalSet, preprocessing: dict[str, Any], float_model: Path, int8_model: Path) -> dict[str, Any]:
    """Top-1 of both models on every image of the set (a fraction in [0, 1])."""
    from edgedeploy.converters.artifacts import Preprocessing
    from edgedeploy.converters.calibration import load_image

    prep = Preprocessing.from_dict(preprocessing)
    batches = [load_image(path, prep)[None] for path, _ in eval_set.images]
    labels = [label for _, label in eval_set.images]
    return {"evaluated": True, "images": len(labels), "classes": len(eval_set.classes),
            "float_top1": top1_accuracy(float_model, batches, labels),
            "int8_top1": top1_accuracy(int8_model, batches, labels)}
