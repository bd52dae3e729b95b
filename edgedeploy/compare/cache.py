"""The conversion cache: a finished conversion is kept under ``DIR/cache/<key>/`` and reused by any
later run that would produce the same thing, so a re-run (or a resumed, interrupted run) only does
new work.

The key is a SHA-256 over everything the result depends on: the built-in name or the model file's
bytes, alpha, resolution, the weights file's bytes (or "pretrained" / "random"), the convert options
(a calibration folder by its images' bytes) and the versions of the tools that convert. Change any of
them and the key changes; nothing is ever looked up by name or date.

A conversion is written into a partial directory and renamed to its key only when it completed, so an
interrupted run leaves no entry that looks finished; partial directories are removed on the next run.

Several studies (and the worker processes of one) may share a cache. A complete entry is never
replaced or removed: when two of them finish the same key, the first rename wins and the other's copy
is dropped (same key, same inputs). Every study holds a shared lock on the cache directory while it
runs (``session``); partial directories are cleaned up only by a study that can take the lock
exclusively, i.e. when no other study is converting into them.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from edgedeploy.compare.plan import StudyItem
from edgedeploy.errors import InputError
from edgedeploy.files import CONVERT_REPORT, load_json
from edgedeploy.outputs import STAGING_PREFIX
from edgedeploy.report import jsonable

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; one study at a time per cache there
    fcntl = None  # type: ignore[assignment]  # the module or None, checked before each lock

CACHE_SCHEMA = 1
KEY_FILE = "compare-key.json"  # what the key was computed from, for a person looking into the cache
REPORT_FILE = "report.json"  # written by convert, last: its presence marks a complete conversion


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _folder_digest(directory: Path) -> str:
    """Calibration images by name and content: a changed photo is a different calibration."""
    from edgedeploy.converters.calibration import find_images

    digest = hashlib.sha256()
    for image in find_images(directory):
        digest.update(f"{image.relative_to(directory)}\0{file_digest(image)}\n".encode())
    return digest.hexdigest()


def key_inputs(item: StudyItem, options: Any, tools: dict[str, str | None]) -> dict[str, Any]:
    settings = jsonable(vars(options))
    if options.calibration_dir is not None:
        settings["calibration_dir"] = {
            "images_sha256": _folder_digest(Path(options.calibration_dir))
        }
    source: dict[str, str | None]
    if item.spec.path is not None:  # a model file
        source = {
            "file_sha256": file_digest(item.spec.path),
            "suffix": item.spec.path.suffix.lower(),
        }
    else:
        source = {"builtin": item.spec.builtin}
    weights = (
        {"file_sha256": file_digest(item.weights)}
        if item.weights
        else "pretrained"
        if item.pretrained
        else "random"
        if not item.spec.is_file
        else "in the model file"
    )
    return {
        "schema": CACHE_SCHEMA,
        "source": source,
        "alpha": item.alpha,
        "resolution": item.resolution,
        "weights": weights,
        "convert_options": settings,
        "tools": tools,
    }


def cache_key(item: StudyItem, inputs: dict[str, Any]) -> str:
    canonical = json.dumps(inputs, sort_keys=True, separators=(",", ":"))
    slug = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in item.label)[:60]
    return f"{slug}-{hashlib.sha256(canonical.encode()).hexdigest()[:20]}"


class ConversionCache:
    def __init__(self, root: Path):
        self.root = Path(root)

    def entry(self, key: str) -> Path:
        return self.root / key

    def lookup(self, key: str) -> dict[str, Any] | None:
        """The convert report of a complete entry, or None (missing, or files deleted by hand)."""
        report_path = self.entry(key) / REPORT_FILE
        try:  # read capped: a damaged cache entry is rebuilt, never loaded whole into memory
            report = load_json(report_path, CONVERT_REPORT)
        except InputError:
            return None
        if not isinstance(report, dict):
            return None
        outputs = report.get("outputs", {})
        files = [outputs.get("int8_tflite"), outputs.get("float32_tflite")]
        if not all(name and (self.entry(key) / name).is_file() for name in files):
            return None
        return report

    def remove_partials(self) -> list[str]:
        """Leftovers of interrupted runs (never a finished entry)."""
        if not self.root.is_dir():
            return []
        stale = sorted(p for p in self.root.iterdir() if p.name.startswith(STAGING_PREFIX))
        for path in stale:
            shutil.rmtree(path, ignore_errors=True)
        return [p.name for p in stale]

    @contextlib.contextmanager
    def session(self) -> Iterator[list[str]]:
        """Hold the cache for a study; yields the partial directories removed because no other study
        was using the cache (an empty list when one was, so its work in progress is left alone)."""
        self.root.mkdir(parents=True, exist_ok=True)
        if fcntl is None:
            yield self.remove_partials()
            return
        handle = os.open(self.root, os.O_RDONLY)
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                removed = self.remove_partials()
            except BlockingIOError:
                removed = []
            fcntl.flock(handle, fcntl.LOCK_SH)
            yield removed
        finally:
            os.close(handle)  # releases the lock

    @contextlib.contextmanager
    def filling(self, key: str, inputs: dict[str, Any]) -> Iterator[Path]:
        """Yield a not-yet-existing directory to convert into; it becomes the entry only on success."""
        self.root.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(dir=self.root, prefix=STAGING_PREFIX))
        work = partial / key
        try:
            yield work
            (work / KEY_FILE).write_text(json.dumps(inputs, indent=2, sort_keys=True) + "\n")
            self._commit(work, key, partial)
        finally:
            shutil.rmtree(partial, ignore_errors=True)

    def _commit(self, work: Path, key: str, partial: Path) -> None:
        final = self.entry(key)
        for _ in range(5):
            if (
                self.lookup(key) is not None
            ):  # another study or worker finished this key first: keep theirs
                return
            if (
                final.exists()
            ):  # an entry whose files were deleted by hand: moved aside whole, then replaced
                with contextlib.suppress(FileNotFoundError):
                    os.replace(final, partial / "replaced")
            try:
                os.replace(work, final)
                return
            except OSError as exc:  # someone else's entry appeared in between: look again
                if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
        raise OSError(f"cache entry {final} keeps changing under this study")
