"""Shared test fixtures: where the test data lives (``tests/data``: real compiler outputs, Google's
models, labels; photos ship inside the package) and a CLI runner that returns exit code, stdout and
stderr."""

from __future__ import annotations

from pathlib import Path

import pytest

# Fixture modules shared by the whole tree (tests/ is on sys.path: pyproject's pythonpath). Registered
# once here, so a session-scoped fixture is built once and no test module imports a fixture by name.
pytest_plugins = ("builtin_conversions", "compiler_double", "deploy_fixtures", "edgetpu_models")

DATA = Path(__file__).resolve().parent / "data"  # tests/data, inside the repository


@pytest.fixture(scope="session")
def test_data() -> Path:
    """``tests/data``: everything the tests read that they do not make themselves (see its README.md)."""
    if not (DATA / "README.md").is_file():
        pytest.fail(f"test data not found at {DATA}")
    return DATA


@pytest.fixture(scope="session")
def edgetpu_models(test_data: Path) -> Path:
    return test_data / "edgetpu" / "models"


@pytest.fixture(scope="session")
def compiler_logs(test_data: Path) -> Path:
    return test_data / "edgetpu" / "compiler_logs"


@pytest.fixture(scope="session")
def photo_dir() -> Path:
    """Real photos: the ones edgedeploy ships as its default calibration images (JPEG)."""
    from edgedeploy.converters.calibration import shipped_images_dir

    return shipped_images_dir()


@pytest.fixture(scope="session")
def imagenet_labels(test_data: Path) -> Path:
    return test_data / "images" / "imagenet_labels.txt"


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
