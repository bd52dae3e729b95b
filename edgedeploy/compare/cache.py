"""The conversion cache: a finished conversion is kept under ``DIR/cache/<key>/`` and reused by any
later run that would produce the same thing, so a re-run (or a resumed, interrupted run) only does
new work.

The key is a SHA-256 over everything the result depends on: the built-in name or the model file's
bytes, alpha, resolution, the weights file's bytes (or "pretrained" / "random"), the convert options
(a calibration folder by its images' bytes) and the versions of the tools that convert. Change any of
them and the key changes; nothing is ever looked up by name or date.

A conversion is written into a partial directory and renamed to its key only when it completed, so an
interrupted run leaves no entry that looks finished; partial directories are removed on the next run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from edgedeploy.compare.plan import StudyItem
from edgedeploy.outputs import STAGING_PREFIX
from edgedeploy.report import jsonable

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
        settings["calibration_dir"] = {"images_sha256": _folder_digest(Path(options.calibration_dir))}
    if item.spec.is_file:
        source = {"file_sha256": file_digest(item.spec.path), "suffix": item.spec.path.suffix.lower()}
    else:
        source = {"builtin": item.spec.builtin}
    weights = ({"file_sha256": file_digest(item.weights)} if item.weights else
               "pretrained" if item.pretrained else "random" if not item.spec.is_file else "in the model file")
    return {"schema": CACHE_SCHEMA, "source": source, "alpha": item.alpha, "resolution": item.resolution,
            "weights": weights, "convert_options": settings, "tools": tools}


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
        try:
            report = json.loads(report_path.read_text())
        except (OSError, ValueError):
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
    def filling(self, key: str, inputs: dict[str, Any]) -> Iterator[Path]:
        """Yield a not-yet-existing directory to convert into; it becomes the entry only on success."""
        self.root.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(dir=self.root, prefix=STAGING_PREFIX))
        work = partial / key
        try:
            yield work
            (work / KEY_FILE).write_text(json.dumps(inputs, indent=2, sort_keys=True) + "\n")
            final = self.entry(key)
            if final.exists():  # an entry whose files were deleted by hand: replace it whole
                shutil.rmtree(final)
            os.replace(work, final)
        finally:
            shutil.rmtree(partial, ignore_errors=True)
