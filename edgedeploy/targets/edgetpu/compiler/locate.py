"""Find the Edge TPU compiler, in a fixed order, and say exactly what is missing when there is none.

Order: ``--compiler PATH``, env ``EDGEDEPLOY_EDGETPU_COMPILER``, ``edgetpu_compiler`` on PATH, then
the project's Docker image when a Docker engine answers. An explicit choice that does not work is an
error, never a silent fall-through to the next place: the user asked for that compiler. Nothing is
ever installed.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgedeploy.errors import ToolMissingError
from edgedeploy.targets.edgetpu.compiler import docker

COMPILER_ENV = "EDGEDEPLOY_EDGETPU_COMPILER"
COMPILER_NAME = "edgetpu_compiler"
APT_PACKAGE = "edgetpu-compiler"
DOCKER_PROBE_TIMEOUT_S = 10.0  # an engine that answers does so in well under a second


@dataclass(frozen=True)
class CompilerLocation:
    found_by: str  # "--compiler" | COMPILER_ENV | "PATH" | "docker"
    executable: Path | None = None  # the host compiler; None when it runs in Docker
    docker: str | None = None  # the docker CLI
    image: str | None = None

    @property
    def in_docker(self) -> bool:
        return self.image is not None

    def docker_and_image(self) -> tuple[str, str] | None:
        """(the docker CLI, the image) when the compiler runs in Docker (``locate`` sets both)."""
        if self.docker is None or self.image is None:
            return None
        return self.docker, self.image

    def describe(self) -> str:
        if self.in_docker:
            return f"{COMPILER_NAME} in Docker image {self.image}"
        return f"{self.executable} (from {self.found_by})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "found_by": self.found_by,
            "executable": str(self.executable) if self.executable else None,
            "docker": self.docker,
            "image": self.image,
        }


def _usable_executable(value: str, origin: str) -> Path:
    """``value`` as given by ``origin``: a path, or a bare command name looked up on PATH."""
    if os.sep not in value and (os.altsep is None or os.altsep not in value):
        found = shutil.which(value)
        if found is None:
            raise ToolMissingError(f"{origin} {value!r}: no such command on PATH")
        return Path(found)
    path = Path(value).expanduser()
    if not path.exists():
        raise ToolMissingError(f"{origin} {path}: no such file")
    if path.is_dir():
        raise ToolMissingError(f"{origin} {path}: is a directory, not the compiler executable")
    if not os.access(path, os.X_OK):
        raise ToolMissingError(f"{origin} {path}: is not executable", f"chmod +x {path}")
    return path.resolve()


def probe_docker_image(image: str) -> tuple[str | None, str]:
    """(docker CLI path, "") when ``image`` is present in an answering engine; else (None, why not)."""
    cli = shutil.which("docker")
    if cli is None:
        return None, "there is no docker command on PATH"
    try:
        done = subprocess.run(
            docker.inspect_argv(cli, image),
            capture_output=True,
            text=True,
            errors="replace",
            timeout=DOCKER_PROBE_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return None, f"the Docker engine did not answer within {DOCKER_PROBE_TIMEOUT_S:g} s"
    except OSError as exc:
        return None, f"docker could not be run ({exc.strerror or exc})"
    if done.returncode == 0:
        return cli, ""
    said = next((line.strip() for line in done.stderr.splitlines() if line.strip()), "no message")
    if "no such image" in said.lower() or "image not known" in said.lower():
        return None, f"the Docker engine has no image {image} (build it, see below)"
    return None, f"the Docker engine does not answer ({said})"


def how_to_get_compiler(image: str) -> str:
    """The hint of the 'no compiler' error: every way to get one, the best first for this machine."""
    build = " ".join(docker.build_argv(image))
    ways = []
    if platform.system() == "Linux" and platform.machine().lower() in ("x86_64", "amd64"):
        ways.append(
            f"install the Debian package {APT_PACKAGE} from Coral's apt repository "
            "(steps in docker/README.md)"
        )
    else:
        ways.append(
            f"the compiler runs only on x86-64 Linux; on this {platform.system()} "
            f"{platform.machine()} machine use the Docker image"
        )
    ways.append(
        f"or build the project's image from an edgedeploy checkout with '{build}' "
        "and edgedeploy runs the compiler in it by itself"
    )
    ways.append(f"or pass --compiler PATH / set {COMPILER_ENV}")
    return "; ".join(ways)


def locate_compiler(
    explicit: str | None = None, env: Mapping[str, str] | None = None
) -> CompilerLocation:
    env = os.environ if env is None else env
    if explicit:
        return CompilerLocation("--compiler", executable=_usable_executable(explicit, "--compiler"))
    if env.get(COMPILER_ENV, "").strip():
        return CompilerLocation(
            COMPILER_ENV, executable=_usable_executable(env[COMPILER_ENV].strip(), COMPILER_ENV)
        )
    on_path = shutil.which(COMPILER_NAME)
    if on_path is not None:
        return CompilerLocation("PATH", executable=Path(on_path))
    image = docker.image_name(env)
    cli, why_not = probe_docker_image(image)
    if cli is not None:
        return CompilerLocation("docker", docker=cli, image=image)
    raise ToolMissingError(
        f"no Edge TPU compiler found: {COMPILER_NAME} is not on PATH, {COMPILER_ENV} is not set, "
        f"and {why_not}",
        how_to_get_compiler(image),
    )
