"""Reading the user's input files: one place that says clearly what is wrong with a path."""

from __future__ import annotations

from pathlib import Path

from edgedeploy.errors import InputError


def require_file(path: Path, what: str = "a model file") -> Path:
    """``path`` if it is a non-empty readable file, else InputError naming the problem."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path} is a directory, not {what}")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if size == 0:
        raise InputError(f"{path} is empty (0 bytes)")
    return path


def read_input(path: Path, what: str = "a model file") -> bytes:
    path = require_file(path, what)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
