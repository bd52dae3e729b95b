"""Tiny models converted once per test session for the deploy contract tests (sidecar, infer.py, verify).

tests/conftest.py registers this module as a plugin (request the fixtures as parameters); the fixtures
are session-scoped, so several test files share one conversion each. Tests that change files
work on a ``copy_folder`` copy, never on the shared folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image
from tiny_models import export_onnx, tiny_cnn

LABELS = [f"class {name}" for name in "abcdefghij"]  # the tiny CNN has 10 outputs
_cache: dict[str, Path] = {}


def convert_tiny(factory, key: str, *options: str) -> Path:
    from edgedeploy.cli.app import run

    if key not in _cache:
        root = factory.mktemp(f"deploy-{key}")
        onnx = export_onnx(tiny_cnn(), root / "tiny.onnx")
        labels = root / "labels.txt"
        labels.write_text("\n".join(LABELS) + "\n")
        out = root / "out"
        if "--calibration" in options:  # a folder made here by name: one solid grey picture
            folder = root / options[options.index("--calibration") + 1]
            folder.mkdir()
            Image.new("RGB", (64, 64), (120, 110, 100)).save(folder / "grey.png")
            options = tuple(str(folder) if o == folder.name else o for o in options)
        else:
            options = ("--calibration-count", "5", *options)
        code = run(
            [
                "convert",
                str(onnx),
                "-o",
                str(out),
                "--no-compile",
                "--labels",
                str(labels),
                *options,
            ]
        )
        assert code == 0, f"converting the tiny model ({key}) exited {code}"
        _cache[key] = out
    return _cache[key]


@pytest.fixture(scope="session")
def tiny_deployed(tmp_path_factory) -> Path:
    """The output folder of ``convert tiny.onnx --labels labels.txt``: int8 I/O, normalization on the host."""
    return convert_tiny(tmp_path_factory, "int8")


@pytest.fixture(scope="session")
def tiny_raw_deployed(tmp_path_factory) -> Path:
    """The output folder of ``convert tiny.onnx --raw-input``: uint8 pixels in, normalization in the model."""
    return convert_tiny(tmp_path_factory, "raw", "--raw-input")


@pytest.fixture(scope="session")
def tiny_badly_calibrated(tmp_path_factory) -> Path:
    """The tiny model calibrated on one solid grey picture (its int8 ranges do not cover real photos), with
    uint8 input and output (--io uint8, normalization still on the host)."""
    return convert_tiny(tmp_path_factory, "grey", "--calibration", "grey-only", "--io", "uint8")


def copy_folder(folder: Path, tmp_path: Path) -> Path:
    target = tmp_path / folder.name
    shutil.copytree(folder, target)
    return target
