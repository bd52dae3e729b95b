"""Reading the user's input files: one place that says clearly what is wrong with a path."""

from __future__ import annotations

import stat
from pathlib import Path

from edgedeploy.errors import InputError


def regular_file_size(path: Path, what: str) -> int:
    try:
        status = path.stat()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(status.st_mode):
        # A FIFO or a character device would block the read forever or never end: refused unopened.
        raise InputError(f"{path} is not a regular file (a pipe, device or socket), not {what}")
    return status.st_size


def require_file(path: Path, what: str = "a model file") -> Path:
    """``path`` if it is a non-empty readable regular file, else InputError naming the problem."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path} is a directory, not {what}")
    if regular_file_size(path, what) == 0:
        raise InputError(f"{path} is empty (0 bytes)")
    return path


def read_input(path: Path, what: str = "a model file", limit: int | None = None) -> bytes:
    """The bytes of ``path``; with ``limit``, a larger file is refused before any of it is read."""
    path = require_file(path, what)
    size = regular_file_size(path, what)
    if limit is not None and size > limit:
        raise InputError(
            f"{path} is {size / 2**20:.1f} MiB, more than {what} can be (at most {limit / 2**20:g} MiB)"
        )
    try:
        with path.open("rb") as handle:
            data = handle.read(-1 if limit is None else limit + 1)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if limit is not None and len(data) > limit:  # it grew while we looked
        raise InputError(f"{path} is more than {limit / 2**20:g} MiB, more than {what} can be")
    return data
