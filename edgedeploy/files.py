"""Reading the user's input files: the one place that checks a path before any reader opens it.

Every reader of a file the user names goes through ``check_input`` (or ``read_input`` / ``load_json``,
which call it): the path must be a regular file - a FIFO would block the read forever, ``/dev/zero`` never
ends, a directory or a socket cannot be read, a symlink loop resolves to nothing - and no larger than its
kind of file can be (``InputKind.cap``), so no input, however made, costs more memory than the format
allows. JSON is parsed with a nesting limit (``MAX_JSON_DEPTH``): a 100,000-deep array is an input error,
never a ``RecursionError``. The caps are documented in docs/commands/check.md.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgedeploy.errors import EdgedeployError, InputError

GiB, MiB = 2**30, 2**20


@dataclass(frozen=True)
class InputKind:
    """A kind of input file: what to call it in a message, and the largest such file can be."""

    what: str
    cap: int


# A flatbuffer addresses its contents with 32-bit signed offsets: no TFLite model exceeds 2 GiB.
TFLITE = InputKind("a TFLite model", 2 * GiB)
# protobuf refuses messages over 2 GiB; bigger weights live in external data files, checked one by one.
ONNX = InputKind("an ONNX model", 2 * GiB)
# TorchScript / torch.export archives of the vision models edgedeploy converts are far below this.
TORCH = InputKind("a PyTorch model file", 8 * GiB)
MODEL = InputKind("a model file", 8 * GiB)  # a model whose kind is decided from its content later
# edgetpu_compiler prints a few KiB (its .log a few hundred KiB for the largest models).
COMPILER_LOG = InputKind("Edge TPU compiler output", 5 * MiB)
# bench --json keeps every sample: ~20 bytes each, 10^6 samples per cell, many cells.
BENCH_RESULT = InputKind("a saved bench result", 256 * MiB)
# A sidecar is ~2 KiB plus its labels (ImageNet's 1,001 names: 30 KiB).
SIDECAR = InputKind("an I/O sidecar", 16 * MiB)
LABELS = InputKind("a labels file", 16 * MiB)
CONVERT_REPORT = InputKind("a convert report", 64 * MiB)
CSV = InputKind("a CSV file", 256 * MiB)
WEIGHTS = InputKind("a weights file", 8 * GiB)
# A 50-megapixel camera's uncompressed TIFF is ~150 MiB; Pillow's own bomb check limits the pixels.
IMAGE = InputKind("an image", 256 * MiB)
MAX_JSON_DEPTH = 64  # edgedeploy's own documents nest 6 levels; a sane hand-edit never reaches 64

_DELETED_CWD = "the current directory was deleted"


class CwdDeletedError(EdgedeployError):
    """The process's working directory no longer exists, and a relative path was given (exit 1)."""


_left_deleted_cwd = False


def leave_deleted_cwd() -> bool:
    """When the working directory was deleted: move to ``/``, so that what calls ``getcwd`` (torch's
    library loader, multiprocessing's fork server) works with absolute paths; every relative path is
    refused from then on (``require_absolute``). True when it was deleted. Call before any framework."""
    global _left_deleted_cwd
    try:
        os.getcwd()
        return False
    except FileNotFoundError:
        os.chdir(os.sep)
        _left_deleted_cwd = True
        return True


def cwd_deleted() -> bool:
    if _left_deleted_cwd:
        return True
    try:
        os.getcwd()
    except FileNotFoundError:
        return True
    return False


def require_absolute(path: Path) -> None:
    """CwdDeletedError (exit 1) for a relative ``path`` when the working directory was deleted."""
    if not Path(path).is_absolute() and cwd_deleted():
        raise CwdDeletedError(
            f"{_DELETED_CWD}; cannot find {path}", "give an absolute path or change directory"
        )


def _kind_of(mode: int) -> str | None:
    """What a path that is not a regular file is, in words (None for a regular file)."""
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return None if stat.S_ISREG(mode) else "not a regular file"


def _mib(size: int) -> str:
    return f"{size / MiB:.1f} MiB"


def _cap(size: int) -> str:
    return f"{size // GiB} GiB" if size >= GiB and size % GiB == 0 else f"{size / MiB:g} MiB"


def check_input(path: Path, kind: InputKind = MODEL, *, allow_empty: bool = False) -> int:
    """The size of ``path`` when it is a regular file within ``kind``'s cap; otherwise InputError (exit 4)
    naming what it is instead. Nothing is opened: a FIFO or a device is refused from its ``stat``."""
    path = Path(path)
    require_absolute(path)
    try:
        status = os.stat(path)  # follows symlinks: the file a link names is what gets read
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError(f"{path} is a symlink loop, not {kind.what}") from None
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            raise InputError(f"{path}: no such file") from None
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    instead = _kind_of(status.st_mode)
    if instead is not None:
        hint = "give a file" if instead == "a directory" else None
        raise InputError(f"{path} is {instead}, not {kind.what}", hint)
    if status.st_size > kind.cap:
        raise InputError(
            f"{path} is {_mib(status.st_size)}, more than {kind.what} can be "
            f"(at most {_cap(kind.cap)})"
        )
    if status.st_size == 0 and not allow_empty:
        raise InputError(f"{path} is empty (0 bytes)")
    return status.st_size


def read_input(path: Path, kind: InputKind = MODEL, *, allow_empty: bool = False) -> bytes:
    """The bytes of ``path``; a file larger than ``kind``'s cap is refused before any of it is read,
    and a file that grows while it is read is cut at the cap and refused."""
    size = check_input(path, kind, allow_empty=allow_empty)
    try:
        with Path(path).open("rb") as handle:
            # read(n) allocates n bytes up front: ask for the size stat gave, not for the cap.
            chunks = [handle.read(size + 1)]
            total = len(chunks[0])
            while size < total <= kind.cap:  # it grew while we looked: on, up to the cap
                more = handle.read(min(1 << 20, kind.cap + 1 - total))
                if not more:
                    break
                chunks.append(more)
                total += len(more)
            data = b"".join(chunks) if len(chunks) > 1 else chunks[0]
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if len(data) > kind.cap:  # it grew while we looked
        raise InputError(f"{path} is more than {_cap(kind.cap)}, more than {kind.what} can be")
    return data


# A JSON string (escapes included) or one bracket: what a nesting scan has to look at.
_JSON_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def _nests_deeper(raw: bytes, limit: int) -> bool:
    """Whether the brackets of ``raw`` (outside strings) nest deeper than ``limit``. Scanned before
    parsing: the C parser recurses once per level, and where a library has raised the recursion limit
    (some do) a 100,000-deep document overflows the C stack instead of raising RecursionError."""
    depth = 0
    for token in _JSON_TOKENS.finditer(raw):
        char = token.group()[:1]
        if char in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif char in (b"]", b"}"):
            depth -= 1
    return False


def parse_json(text: str | bytes, label: str, what: str, hint: str | None = None) -> Any:
    """JSON from ``text`` (``label`` names it in messages) with the nesting limit; InputError otherwise."""
    deep = f"{label}: JSON nested deeper than {MAX_JSON_DEPTH} levels; not {what}"
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if _nests_deeper(raw, MAX_JSON_DEPTH):
        raise InputError(deep, hint)
    try:
        data = json.loads(text)
    except UnicodeDecodeError:
        raise InputError(f"{label}: not UTF-8 text; not {what}", hint) from None
    except ValueError as exc:
        raise InputError(f"{label} is not valid JSON ({exc}); not {what}", hint) from None
    return data


def load_json(path: Path, kind: InputKind, hint: str | None = None) -> Any:
    """The JSON document in ``path``: checked as a file of ``kind`` (type, cap), then ``parse_json``."""
    return parse_json(read_input(path, kind), str(path), kind.what, hint)
