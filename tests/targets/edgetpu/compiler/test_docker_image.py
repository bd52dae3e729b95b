"""docker/Dockerfile cannot be built here (no Docker engine, no network): check what it says instead.
Each test reads the real file and fails if a requirement of the image is dropped."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import pytest

from edgedeploy.targets.edgetpu.compiler import docker

REPO = Path(__file__).resolve().parents[4]
DOCKERFILE = REPO / "docker" / "Dockerfile"


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def _stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for instruction in _instructions():
        if instruction[0] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


def _arg_defaults() -> dict[str, str]:
    defaults = {}
    for word, rest in _instructions():
        if word == "ARG" and "=" in rest:
            name, value = rest.split("=", 1)
            defaults[name] = value.strip('"')
    return defaults


def test_every_base_image_is_pinned_x86_64_debian():
    defaults = _arg_defaults()
    froms = [rest for word, rest in _instructions() if word == "FROM"]
    assert len(froms) >= 2, "multi-stage: build tools must stay out of the final stage"
    for rest in froms:
        assert "--platform=linux/amd64" in rest  # the compiler is x86-64 only
        image = rest.split()[1]
        image = re.sub(r"\$\{(\w+)\}", lambda m: defaults[m.group(1)], image)
        name, _, tag = image.partition(":")
        assert tag and tag != "latest" and "latest" not in image, image
        assert re.search(r"\d", tag), f"{image}: pin a versioned tag"
        assert "bookworm" in tag or "bullseye" in tag or name in ("debian", "ubuntu"), image
    assert "latest" not in DOCKERFILE.read_text(encoding="utf-8")


def test_python_matches_the_package_requirement():
    from packaging.specifiers import SpecifierSet

    required = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    image = _arg_defaults()["BASE_IMAGE"]
    assert image.startswith("python:3.11.")  # the version the project is tested on
    assert image.removeprefix("python:").split("-")[0] in SpecifierSet(required)


def test_compiler_comes_from_corals_apt_repository_pinned_to_16():
    defaults = _arg_defaults()
    assert defaults["EDGETPU_COMPILER_VERSION"] == "16.0"
    final = _stages()[-1]
    runs = " ".join(rest for word, rest in final if word == "RUN")
    assert '"edgetpu-compiler=${EDGETPU_COMPILER_VERSION}"' in runs
    assert "coral-edgetpu-stable main" in defaults["CORAL_APT_REPO"]
    assert defaults["CORAL_APT_KEY_URL"].endswith("/apt/doc/apt-key.gpg")
    assert "signed-by=/usr/share/keyrings/coral-edgetpu.gpg" in runs
    assert "edgetpu_compiler --version" in runs  # the build fails if the compiler does not run


def test_final_stage_is_small_and_runs_as_a_non_root_user():
    final = _stages()[-1]
    runs = " ".join(rest for word, rest in final if word == "RUN")
    for tool in ("curl", "gnupg", "gcc", "build-essential", "g++", "make "):
        assert tool not in runs, f"{tool} installed in the final stage"
    assert "--no-install-recommends" in runs and "rm -rf /var/lib/apt/lists/*" in runs
    users = [rest for word, rest in final if word == "USER"]
    assert users and users[-1] not in ("root", "0") and not users[-1].startswith("0:")
    assert "useradd" in runs


def test_entrypoint_runs_edgedeploy_in_work():
    final = _stages()[-1]
    assert ("ENTRYPOINT", '["edgedeploy"]') in final
    assert ("WORKDIR", "/work") in final


def test_edgedeploy_is_installed_from_the_repo_with_cpu_torch():
    defaults = _arg_defaults()
    from edgedeploy.extras import requirements

    pins = requirements("convert")  # the convert extra's pins (edgedeploy/data/requirements/)
    assert f"torch=={defaults['TORCH_VERSION']}" in pins
    assert f"torchvision=={defaults['TORCHVISION_VERSION']}" in pins
    assert defaults["TORCH_INDEX_URL"].endswith("/whl/cpu")
    python_stage = next(s for s in _stages() if "AS python-env" in s[0][1])
    copies = [rest for word, rest in python_stage if word == "COPY"]
    assert "pyproject.toml README.md /src/" in copies and "edgedeploy /src/edgedeploy" in copies
    runs = [rest for word, rest in python_stage if word == "RUN"]
    assert any('pip install "/src[convert]"' in r for r in runs)  # the conversion side too
    assert ("COPY", "--from=python-env /opt/edgedeploy /opt/edgedeploy") in _stages()[-1]


def test_dockerignore_sends_only_the_package():
    lines = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*"
    assert {"!pyproject.toml", "!README.md", "!edgedeploy/"} <= set(lines)


@pytest.mark.parametrize(
    "command",
    [
        shlex.join(docker.build_argv(docker.default_image())),
        f'docker run --rm -v "$PWD:/work" {docker.default_image()} convert --target edgetpu /work/model.onnx',
    ],
)
def test_docker_readme_gives_the_commands_edgedeploy_uses(command):
    text = (REPO / "docker" / "README.md").read_text(encoding="utf-8")
    assert command in text
    assert "EDGEDEPLOY_DOCKER_IMAGE" in text and "edgetpu-compiler" in text


def test_the_compiler_double_is_not_shipped():
    package = REPO / "edgedeploy"
    shipped = {p.name for p in package.rglob("*")}
    assert "edgetpu_compiler" not in shipped and "fake_compiler" not in shipped
    include = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"
    ]["find"]["include"]
    assert all(pattern.startswith("edgedeploy") for pattern in include)
