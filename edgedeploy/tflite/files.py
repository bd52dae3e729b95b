"""Is this a TFLite file? The one check every command uses before it reads or runs a model.

A TFLite flatbuffer carries the file identifier ``TFL3`` at bytes 4..8; nothing else is trusted (a
``.tflite`` name on a text file, or an ONNX file given where a TFLite model is expected).
"""

from __future__ import annotations

from pathlib import Path

from edgedeploy.errors import InputError
from edgedeploy.files import TFLITE, InputKind, check_input

FILE_IDENTIFIER = b"TFL3"
# Files people hand over by mistake where a TFLite model is expected, and what to do instead.
NOT_TFLITE = {
    ".onnx": "an ONNX model; convert it first: edgedeploy convert {path}",
    ".pt": "a PyTorch file; convert it first: edgedeploy convert {path}",
    ".pth": "a PyTorch file; convert it first: edgedeploy convert {path}",
    ".pt2": "a PyTorch file; convert it first: edgedeploy convert {path}",
    ".pb": "a TensorFlow graph; convert it to .tflite first",
}


def has_tflite_identifier(head: bytes) -> bool:
    """``head``: at least the first 8 bytes of a file."""
    return len(head) >= 8 and head[4:8] == FILE_IDENTIFIER


def is_tflite_file(path: Path) -> bool:
    """Whether ``path`` is a regular file that starts like a TFLite model (a FIFO is never opened)."""
    try:
        check_input(path, TFLITE)
    except InputError:
        return False
    try:
        with open(path, "rb") as handle:
            return has_tflite_identifier(handle.read(8))
    except OSError:
        return False


def require_tflite_file(path: Path, hint: str | None = None) -> Path:
    """``path`` if it is a readable TFLite file; otherwise InputError saying what it is instead."""
    path = Path(path)
    # What the path is first (a FIFO would block the read below forever, a loop never resolves), then
    # what the name says, then the size a flatbuffer can have.
    check_input(path, InputKind("a .tflite model", 1 << 62), allow_empty=True)
    instead = NOT_TFLITE.get(path.suffix.lower())
    if instead:
        raise InputError(f"{path.name} is {instead.format(path=path)}")
    check_input(path, TFLITE, allow_empty=True)
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not has_tflite_identifier(head):
        what = "empty" if not head else "not a TFLite model (no TFL3 identifier)"
        raise InputError(f"{path.name} is {what}", hint)
    return path
