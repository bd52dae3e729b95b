"""Real conversions of the built-in MobileNets (slow: about a minute each), made once per test session and
shared by every test that needs one. tests/conftest.py registers this module as a plugin: request
``convert_builtin`` as a parameter."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def convert_builtin(tmp_path_factory):
    """convert_builtin("mobilenet_v2", "--fix-activations") -> output dir (each conversion runs once)."""
    from edgedeploy.cli.app import run

    done: dict[tuple[str, ...], Path] = {}

    def convert(name: str, *extra: str) -> Path:
        key = (name, *extra)
        if key not in done:
            out = tmp_path_factory.mktemp("mobilenet") / name
            code = run(
                ["convert", "--target", "edgetpu", name, "-o", str(out), "--no-compile", *extra]
            )
            assert code == 0, f"convert {key} exited {code}"
            done[key] = out
        return done[key]

    return convert
