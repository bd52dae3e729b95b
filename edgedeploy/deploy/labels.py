"""Class labels for a classifier's output: the ImageNet names shipped with edgedeploy, or a user's file.

A labels file has one label per line; line N names output N. A file whose first line is ``background``
(TensorFlow's 1001-class ImageNet list, the one shipped here) used with a model of one output fewer is
read with an offset of 1: output N is line N+1. The offset is recorded, so nobody has to guess it.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from edgedeploy.errors import InputError, UsageError
from edgedeploy.files import LABELS, read_input

# Where the shipped file comes from, and its licence: edgedeploy/data/labels/README.md and LICENSE.
IMAGENET_SOURCE = (
    "ImageNet class names shipped with edgedeploy (imagenet_labels.txt of Google's test_data "
    "repository, Apache-2.0)"
)


def shipped_imagenet_labels() -> Path:
    return Path(str(resources.files("edgedeploy") / "data" / "labels" / "imagenet_labels.txt"))


@dataclass(frozen=True)
class LabelFile:
    """The lines of a labels file, as read (before they are matched to a model's outputs)."""

    lines: tuple[str, ...]
    source: (
        str  # what the sidecar says they are: the file the user gave, or the shipped ImageNet list
    )

    @property
    def background_first(self) -> bool:
        return bool(self.lines) and self.lines[0].strip().casefold() == "background"

    def for_outputs(self, classes: int, option: str = "--labels") -> "Labels":
        """The names of ``classes`` outputs in output order; UsageError when the counts cannot be matched."""
        if len(self.lines) == classes:
            return Labels(names=self.lines, offset=0, source=self.source)
        if self.background_first and len(self.lines) == classes + 1:
            return Labels(
                names=self.lines[1:],
                offset=1,
                source=self.source,
                note="line 0 of the file is 'background', which the model has no output for: output N is line N+1",
            )
        raise UsageError(
            f"{option} {self.source}: {len(self.lines)} labels for a model with {classes} outputs",
            "give one label per output, one per line (a leading 'background' line is allowed)",
        )


@dataclass(frozen=True)
class Labels:
    """Labels matched to a model's outputs: ``names[N]`` is output N; ``offset`` is line N+offset of the file."""

    names: tuple[str, ...]
    offset: int
    source: str
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "offset": self.offset,
            "count": len(self.names),
            "offset_note": self.note or "output N is line N of the file",
            "names": list(self.names),
        }


def read_label_file(path: Path, source: str | None = None) -> LabelFile:
    """One label per line (trailing blank lines ignored); InputError for an unreadable or empty file."""
    path = Path(path)

    try:
        text = read_input(path, LABELS, allow_empty=True).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"cannot read labels file {path}: not UTF-8 text") from exc
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise InputError(f"labels file {path} holds no labels (one per line expected)")
    return LabelFile(tuple(line.strip() for line in lines), source or str(path))


def imagenet_labels() -> LabelFile:
    return read_label_file(shipped_imagenet_labels(), IMAGENET_SOURCE)
