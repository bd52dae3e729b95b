"""What one check of the Edge TPU doctor says (``Check``: one verdict and the exact fix) and the facts
the checks compare with (``doctor.json``: known TensorFlow pairs, USB and PCI IDs, the udev vendor IDs)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

VERDICTS = ("ok", "warning", "problem", "unknown", "absent")


@dataclass(frozen=True)
class Check:
    name: str
    verdict: str  # one of VERDICTS
    found: str  # what was seen, one line
    fix: str | None = None  # the exact thing to do when the verdict is not ok

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@cache
def facts() -> dict[str, Any]:
    text = (
        resources.files("edgedeploy.targets.edgetpu").joinpath("device", "doctor.json").read_text()
    )
    return json.loads(text)


def read_or_none(path: Path) -> str | None:
    """A sysfs, udev or dpkg file's text, stripped; None when it cannot be read."""
    try:
        return path.read_text(errors="replace").strip()
    except OSError:
        return None
