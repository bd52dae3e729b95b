"""Run the CLI as the device-side install would: a child Python (a fresh ``sys.executable`` or the
tests/cli_forks.py server) in which the conversion stack (and matplotlib, Ray) cannot be imported, so
any import of it fails exactly as it would in a venv made by ``pip install edgedeploy``. One venv in CI; no second install needed.

The blocker is a ``sitecustomize`` on the child's PYTHONPATH that puts ``None`` in ``sys.modules`` for
each blocked name: Python then raises ModuleNotFoundError on ``import torch`` and ``find_spec`` says the
module is not there - what an absent package does."""

from __future__ import annotations

import os
from pathlib import Path

from edgedeploy.extras import EXTRA_MODULES

REPO = Path(__file__).resolve().parent.parent
BLOCKED = (*EXTRA_MODULES["convert"], *EXTRA_MODULES["plots"], *EXTRA_MODULES["ray"], "keras")


def device_side_env(folder: Path, extra_env: dict[str, str] | None = None) -> dict[str, str]:
    """An environment whose Python cannot import BLOCKED; ``folder`` receives the sitecustomize."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(
        "import sys\n" + "".join(f"sys.modules[{name!r}] = None\n" for name in BLOCKED)
    )
    env = dict(os.environ, **(extra_env or {}))
    env["PYTHONPATH"] = os.pathsep.join([str(folder), str(REPO)])
    return env
