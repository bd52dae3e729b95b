"""scripts/test.sh without Chromium: as a non-root user it stops at once with one clear line (it used to
let apt-get fail inside `cmd || { a && b; }` - which set -e does not catch - and carry on); as root it
says it is installing a system package before it does, and stops when apt-get fails."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "test.sh"


def _stub(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


@pytest.fixture
def no_chromium(tmp_path):
    """A PATH with no chromium, a python whose pip install does nothing and that records any other
    call (the tests must not reach ruff or pytest), and the few tools the script uses."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls.log"
    _stub(bin_dir, "python", f'echo "python $*" >> {calls}; [ "$2" = pip ] && exit 0; exit 0')
    for tool in ("dirname", "sh"):
        shutil.copy(shutil.which(tool), bin_dir / tool)
    return bin_dir, calls


def _run(bin_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["/bin/bash", str(SCRIPT)],
        env={"PATH": str(bin_dir), "HOME": os.environ.get("HOME", "/tmp")},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_non_root_without_chromium_stops_with_one_line(no_chromium):
    bin_dir, calls = no_chromium
    _stub(bin_dir, "id", "echo 1000")
    _stub(bin_dir, "apt-get", "exit 100")
    done = _run(bin_dir)
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0 and "Chromium is missing" in done.stderr
    assert "without root" in done.stderr
    assert "pytest" not in calls.read_text() and "ruff" not in calls.read_text()


def test_root_says_before_installing_and_stops_when_apt_get_fails(no_chromium, tmp_path):
    bin_dir, calls = no_chromium
    _stub(bin_dir, "id", "echo 0")
    apt_log = tmp_path / "apt.log"
    _stub(
        bin_dir,
        "apt-get",
        f'echo "apt-get $*" >> {apt_log}; echo "E: Could not open lock file" >&2; exit 100',
    )
    done = _run(bin_dir)
    assert done.returncode == 1
    said = done.stderr.splitlines()
    assert said[0].startswith("installing the system package 'chromium'")  # before apt-get ran
    assert said[-1].startswith("error: apt-get could not install 'chromium'")
    assert apt_log.read_text().startswith("apt-get update")
    assert "pytest" not in calls.read_text()
