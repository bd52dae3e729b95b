"""The runnable inference example ``convert`` writes beside the model: ``infer.py``, rendered from
``infer_template.py`` with the name of the model's sidecar (the template is a linted Python file)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from edgedeploy.outputs import atomic_write_text

EXAMPLE_NAME = "infer.py"
PLACEHOLDER = '"__SIDECAR__"'


def render(sidecar_name: str) -> str:
    template = (resources.files("edgedeploy.deploy") / "infer_template.py").read_text(
        encoding="utf-8"
    )
    if template.count(PLACEHOLDER) != 1:
        raise RuntimeError(
            "infer_template.py must name its sidecar exactly once"
        )  # a packaging bug, not user input
    return template.replace(PLACEHOLDER, repr(sidecar_name))


def write(folder: Path, sidecar_name: str) -> Path:
    path = Path(folder) / EXAMPLE_NAME
    atomic_write_text(path, render(sidecar_name))
    return path
