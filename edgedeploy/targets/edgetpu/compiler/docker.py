"""The project's Docker image as a place to run ``edgetpu_compiler``: its name and the exact
``docker`` command lines edgedeploy builds (argument lists, never shell strings).

The compiler exists only for x86-64 Linux; the image (``docker/Dockerfile``) makes it usable from any
machine with a Docker engine. Model folders are bind-mounted read-only, the staging output folder
read-write, and the container runs as the calling user so the files it writes belong to them.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath

from edgedeploy import __version__

IMAGE_ENV = "EDGEDEPLOY_DOCKER_IMAGE"
IMAGE_REPOSITORY = "edgedeploy"
PLATFORM = "linux/amd64"  # the only platform the compiler is built for
COMPILER_IN_IMAGE = "edgetpu_compiler"
CONTAINER_MODELS = PurePosixPath("/edgedeploy/models")
CONTAINER_OUT = PurePosixPath("/edgedeploy/out")
DOCKERFILE = "docker/Dockerfile"


def default_image() -> str:
    """``edgedeploy:<version>``: the image holds this edgedeploy, so its tag follows the package version."""
    tag = re.sub(r"[^A-Za-z0-9_.-]", "-", __version__)  # "0.0.0+unknown" is not a valid tag
    return f"{IMAGE_REPOSITORY}:{tag}"


def image_name(env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    return env.get(IMAGE_ENV, "").strip() or default_image()


def build_argv(image: str) -> list[str]:
    """Run from the root of an edgedeploy checkout."""
    return ["docker", "build", "--platform", PLATFORM, "-f", DOCKERFILE, "-t", image, "."]


def _csv_field(text: str) -> str:
    """``--mount`` values are one CSV record: quote a field holding a comma or a quote."""
    if any(ch in text for ch in ',"\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def mount_option(source: Path, target: PurePosixPath, read_only: bool) -> str:
    # --mount, not -v: a ':' in a host path would split a -v value; CSV quoting covers ',' and '"'.
    fields = ["type=bind", f"source={source}", f"target={target}"] + (
        ["readonly"] if read_only else []
    )
    return ",".join(_csv_field(f) for f in fields)


def _user_option() -> list[str]:
    if hasattr(os, "getuid"):  # POSIX: write the outputs as the caller, not as the image's user
        return ["--user", f"{os.getuid()}:{os.getgid()}"]
    return []


def new_container_name() -> str:
    """A unique name, so that on timeout the container itself can be killed (killing the client does not)."""
    return f"edgedeploy-compile-{uuid.uuid4().hex[:12]}"


def _run_prefix(docker: str, image_entry: str = COMPILER_IN_IMAGE) -> list[str]:
    return [
        docker,
        "run",
        "--rm",
        "--pull",
        "never",
        "--platform",
        PLATFORM,
        "--network",
        "none",
        "--entrypoint",
        image_entry,
    ]


def version_argv(docker: str, image: str) -> list[str]:
    return _run_prefix(docker) + [image, "--version"]


def inspect_argv(docker: str, image: str) -> list[str]:
    return [docker, "image", "inspect", "--format", "{{.Id}}", image]


def kill_argv(docker: str, container: str) -> list[str]:
    return [docker, "kill", container]


def compile_argv(
    docker: str,
    image: str,
    models: Sequence[Path],
    out_dir: Path,
    flags: Sequence[str],
    container: str,
) -> list[str]:
    """``docker run`` the compiler on ``models`` (absolute host paths), writing into ``out_dir``.

    Each distinct model folder is mounted once, read-only, at ``/edgedeploy/models/<n>``; the file
    names are kept, so the compiler names its outputs ``<stem>_edgetpu.tflite`` as it would locally.
    """
    folders: dict[Path, PurePosixPath] = {}
    container_models: list[str] = []
    for model in models:
        folder = folders.setdefault(model.parent, CONTAINER_MODELS / str(len(folders)))
        container_models.append(str(folder / model.name))
    argv = _run_prefix(docker) + ["--name", container] + _user_option()
    for host, inside in folders.items():
        argv += ["--mount", mount_option(host, inside, read_only=True)]
    argv += [
        "--mount",
        mount_option(out_dir, CONTAINER_OUT, read_only=False),
        "--workdir",
        str(CONTAINER_OUT),
    ]
    return argv + [image, "-s", "-o", str(CONTAINER_OUT), *flags, *container_models]
