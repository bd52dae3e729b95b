"""Shared test fixtures: where the read-only reference material (real compiler logs, Google's models,
photos) lives, and a CLI runner that returns exit code, stdout and stderr."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# shared/ sits beside the repository (locally and in CI); EDGEDEPLOY_SHARED overrides that.
SHARED = Path(os.environ.get("EDGEDEPLOY_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not (SHARED / "edgetpu" / "FACTS.md").is_file():
        pytest.fail(f"reference material not found at {SHARED} (set EDGEDEPLOY_SHARED)")
    return SHARED


@pytest.fixture(scope="session")
def edgetpu_models(shared_dir: Path) -> Path:
    return shared_dir / "edgetpu" / "models"


@pytest.fixture(scope="session")
def compiler_logs(shared_dir: Path) -> Path:
    return shared_dir / "edgetpu" / "compiler_logs"


class CliResult:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err

    def __repr__(self) -> str:
        return f"CliResult(code={self.code}, out={self.out[-2000:]!r}, err={self.err[-2000:]!r})"


@pytest.fixture
def cli(capsys):
    """Run the edgedeploy CLI in-process: ``cli("check", path)`` -> CliResult(code, out, err)."""
    from edgedeploy.cli.app import run

    def invoke(*args: str) -> CliResult:
        capsys.readouterr()
        code = run([str(a) for a in args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return invoke
