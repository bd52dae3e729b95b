"""The runnable inference example ``convert`` writes beside the model: ``infer.py``, rendered from
``infer_template.py`` with the name of the model's sidecar and the device delegates the registered
targets declare (``TargetSpec.device_delegate``): the template is a linted Python file that knows no
accelerator by name."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from edgedeploy.outputs import atomic_write_text
from edgedeploy.targets.registry import all_targets

EXAMPLE_NAME = "infer.py"
PLACEHOLDER = '"__SIDECAR__"'
DELEGATES_PLACEHOLDER = '"__DELEGATES__"'


def render(sidecar_name: str) -> str:
    template = (resources.files("edgedeploy.deploy") / "infer_template.py").read_text(
        encoding="utf-8"
    )
    for placeholder in (PLACEHOLDER, DELEGATES_PLACEHOLDER):
        if template.count(placeholder) != 1:
            raise RuntimeError(
                f"infer_template.py must hold {placeholder} exactly once"
            )  # a packaging bug, not user input
    delegates = [t.device_delegate.to_dict() for t in all_targets() if t.device_delegate]
    return template.replace(PLACEHOLDER, repr(sidecar_name)).replace(
        DELEGATES_PLACEHOLDER, repr(json.dumps(delegates))
    )


def write(folder: Path, sidecar_name: str) -> Path:
    path = Path(folder) / EXAMPLE_NAME
    atomic_write_text(path, render(sidecar_name))
    return path
