"""Fixtures that put the edgetpu_compiler TEST DOUBLE (tests/fake_compiler/) on PATH for one test.

The double replays real recorded compiler outputs (tests/data/edgetpu/compiler_logs). It is copied into
the test's tmp folder, so the repository copy is never on anyone's PATH and its file mode does not
matter. tests/conftest.py registers this module as a plugin: request the fixtures as parameters.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

DOUBLE = Path(__file__).resolve().parent / "fake_compiler" / "edgetpu_compiler"
COMPILE_MODEL = "mobilenet_v1_0.25_128_quant"  # Google's model the compile tests hand to the double
YOLOV5_LOG = "*yolov5s-224_sa_c16.txt"  # a real successful compile by Edge TPU compiler 16.0
ENV_NAMES = (
    "FAKE_EDGETPU_STDOUT",
    "FAKE_EDGETPU_LOG",
    "FAKE_EDGETPU_COMPILED",
    "FAKE_EDGETPU_EXIT",
    "FAKE_EDGETPU_MODE",
    "FAKE_EDGETPU_PIDFILE",
)


def install_script(folder: Path, name: str, body: str) -> Path:
    """An executable script run by this very Python (no dependence on what python3 is on PATH)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    interpreter = sys.executable if " " not in sys.executable else "/usr/bin/env python3"
    path.write_text(f"#!{interpreter}\n{body}", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


class FakeCompiler:
    def __init__(self, path: Path, argv_log: Path, monkeypatch: pytest.MonkeyPatch):
        self.path, self.argv_log, self._mp = path, argv_log, monkeypatch

    def use(
        self,
        stdout: Path | None = None,
        log: Path | None = None,
        compiled: Path | None = None,
        mode: str | None = None,
        exit: int | None = None,
        pidfile: Path | None = None,
    ) -> "FakeCompiler":
        for name, value in zip(
            ENV_NAMES, (stdout, log, compiled, exit, mode, pidfile), strict=True
        ):
            if value is None:
                self._mp.delenv(name, raising=False)
            else:
                self._mp.setenv(name, str(value))
        return self

    def calls(self) -> list[dict]:
        if not self.argv_log.exists():
            return []
        return [json.loads(line) for line in self.argv_log.read_text(encoding="utf-8").splitlines()]

    def compile_calls(self) -> list[list[str]]:
        return [c["argv"] for c in self.calls() if "--version" not in c["argv"]]


@pytest.fixture
def compile_model(edgetpu_models: Path) -> Path:
    """The ``COMPILE_MODEL`` .tflite (its compiled twin is beside it in tests/data)."""
    return edgetpu_models / f"{COMPILE_MODEL}.tflite"


@pytest.fixture
def no_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `docker` on PATH whose engine does not answer, as on a machine without a running daemon."""
    folder = tmp_path / "docker-bin"
    install_script(
        folder,
        "docker",
        "import sys\nsys.stderr.write('Cannot connect to the Docker daemon at "
        "unix:///var/run/docker.sock. Is the docker daemon running?\\n')\nsys.exit(1)\n",
    )
    monkeypatch.setenv("PATH", str(folder) + os.pathsep + os.environ.get("PATH", ""))
    return folder


@pytest.fixture
def fake_compiler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_docker: Path) -> FakeCompiler:
    folder = tmp_path / "compiler-bin"
    path = install_script(
        folder, "edgetpu_compiler", DOUBLE.read_text(encoding="utf-8").split("\n", 1)[1]
    )
    monkeypatch.setenv("PATH", str(folder) + os.pathsep + os.environ["PATH"])
    monkeypatch.delenv("EDGEDEPLOY_EDGETPU_COMPILER", raising=False)
    argv_log = tmp_path / "compiler-calls.jsonl"
    monkeypatch.setenv("FAKE_EDGETPU_ARGV_LOG", str(argv_log))
    return FakeCompiler(path, argv_log, monkeypatch).use()


class FakeDocker:
    def __init__(self, log: Path, image: str):
        self.log, self.image = log, image

    def calls(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [
            json.loads(line)["argv"] for line in self.log.read_text(encoding="utf-8").splitlines()
        ]


@pytest.fixture
def fake_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeDocker:
    """A `docker` whose engine has the project's image, with the compiler double inside it. Only the
    test folders are on PATH, so edgetpu_compiler itself is NOT found there (as on a user's machine
    that has Docker but no compiler)."""
    from edgedeploy.targets.edgetpu.compiler.docker import default_image

    image_bin = tmp_path / "image-bin"  # the compiler "inside the image": not on PATH
    compiler = install_script(
        image_bin, "edgetpu_compiler", DOUBLE.read_text(encoding="utf-8").split("\n", 1)[1]
    )
    docker_bin = tmp_path / "docker-bin"
    install_script(
        docker_bin,
        "docker",
        (DOUBLE.parent / "docker").read_text(encoding="utf-8").split("\n", 1)[1],
    )
    monkeypatch.setenv("PATH", str(docker_bin))
    monkeypatch.delenv("EDGEDEPLOY_EDGETPU_COMPILER", raising=False)
    monkeypatch.delenv("EDGEDEPLOY_DOCKER_IMAGE", raising=False)
    log = tmp_path / "docker-calls.jsonl"
    monkeypatch.setenv("FAKE_DOCKER_LOG", str(log))
    monkeypatch.setenv("FAKE_DOCKER_IMAGE", default_image())
    monkeypatch.setenv("FAKE_DOCKER_COMPILER", str(compiler))
    monkeypatch.setenv("FAKE_EDGETPU_ARGV_LOG", str(tmp_path / "compiler-calls.jsonl"))
    return FakeDocker(log, default_image())


def process_gone(pid: int, within: float = 10.0) -> bool:
    """True once ``pid`` has exited (or is a zombie) within ``within`` seconds."""
    import time

    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False
