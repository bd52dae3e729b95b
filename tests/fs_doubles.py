"""Filesystem situations tests need: an output path that cannot be written."""

from __future__ import annotations

import os
from pathlib import Path


def unwritable_output(tmp_path: Path) -> Path:
    """A path under a folder this process cannot write: a read-only kernel filesystem for root (who may
    write anywhere else), a mode-0500 folder for anyone else."""
    if os.geteuid() == 0:
        return Path("/proc/edgedeploy-out")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    return locked / "out"
