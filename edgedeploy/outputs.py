"""Never leave a half-written output: write into a staging place, move into place only on success."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from edgedeploy.errors import OutputError

STAGING_PREFIX = ".edgedeploy-partial-"


def _writable_dir(directory: Path) -> None:
    if directory.exists() and not directory.is_dir():
        raise OutputError(f"output path {directory} exists and is not a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=directory, prefix=STAGING_PREFIX, delete=True)
        probe.close()
    except OSError as exc:
        raise OutputError(f"cannot write to output directory {directory}: {exc.strerror or exc}") from exc


def _existing_results(directory: Path) -> list[str]:
    if not directory.is_dir():
        return []
    return sorted(p.name for p in directory.iterdir() if not p.name.startswith(STAGING_PREFIX))


@contextlib.contextmanager
def staged_directory(directory: Path, force: bool) -> Iterator[Path]:
    """Yield an empty staging directory inside ``directory``; on success move its files into
    ``directory`` (replacing same-named files only when ``force``), on any failure or Ctrl-C delete it.

    A directory that already holds results is refused without ``force`` so that a second run never
    silently mixes with, or destroys, the first one.
    """
    directory = Path(directory)
    created = not directory.exists()
    existing = _existing_results(directory)
    if existing and not force:
        shown = ", ".join(existing[:3]) + (", ..." if len(existing) > 3 else "")
        raise OutputError(f"output directory {directory} already holds results ({shown})", "pass --force to overwrite")
    _writable_dir(directory)
    staging = Path(tempfile.mkdtemp(dir=directory, prefix=STAGING_PREFIX))
    try:
        yield staging
        for item in sorted(staging.iterdir()):
            target = directory / item.name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            os.replace(item, target)
    except BaseException:
        if created:
            shutil.rmtree(directory, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory and a rename."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=STAGING_PREFIX)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; results are ordinary files
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))
