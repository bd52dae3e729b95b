"""The exact `docker` command lines edgedeploy builds, and the compile path through a Docker double
(no engine can run here): paths with spaces, commas, colons and non-ASCII characters survive."""

from __future__ import annotations

import csv
import json
import os
import shutil
import time
from pathlib import Path, PurePosixPath

import pytest

from edgedeploy.errors import ExitCode
from edgedeploy.targets.edgetpu.compiler import docker
from edgedeploy.targets.edgetpu.compiler.locate import (
    DOCKER_PROBE_TIMEOUT_S,
    locate_compiler,
    probe_docker_image,
)

MODEL = "mobilenet_v1_0.25_128_quant"


def _mount_fields(value: str) -> dict[str, str]:
    """Read a --mount value the way Docker does (one CSV record of key=value fields)."""
    fields = next(csv.reader([value]))
    return dict(f.split("=", 1) if "=" in f else (f, "") for f in fields)


def test_compile_argv_is_exact(monkeypatch):
    monkeypatch.setattr(os, "getuid", lambda: 1234, raising=False)
    monkeypatch.setattr(os, "getgid", lambda: 99, raising=False)
    models = [
        Path("/data/my models/a.tflite"),
        Path("/data/other/b.tflite"),
        Path("/data/my models/c.tflite"),
    ]
    argv = docker.compile_argv(
        "/usr/bin/docker",
        "edgedeploy:0.1.0",
        models,
        Path("/out/stage"),
        ["-a", "-m", "13"],
        "edgedeploy-compile-abc",
    )
    assert argv == [
        "/usr/bin/docker",
        "run",
        "--rm",
        "--pull",
        "never",
        "--platform",
        "linux/amd64",
        "--network",
        "none",
        "--entrypoint",
        "edgetpu_compiler",
        "--name",
        "edgedeploy-compile-abc",
        "--user",
        "1234:99",
        "--mount",
        "type=bind,source=/data/my models,target=/edgedeploy/models/0,readonly",
        "--mount",
        "type=bind,source=/data/other,target=/edgedeploy/models/1,readonly",
        "--mount",
        "type=bind,source=/out/stage,target=/edgedeploy/out",
        "--workdir",
        "/edgedeploy/out",
        "edgedeploy:0.1.0",
        "-s",
        "-o",
        "/edgedeploy/out",
        "-a",
        "-m",
        "13",
        "/edgedeploy/models/0/a.tflite",
        "/edgedeploy/models/1/b.tflite",
        "/edgedeploy/models/0/c.tflite",
    ]


@pytest.mark.parametrize(
    "folder", ["/tmp/mödèl dir ü", "/tmp/a,b", "/tmp/x:y", '/tmp/say "hi"', "/tmp/模型 1"]
)
def test_mount_values_keep_awkward_paths_whole(folder):
    value = docker.mount_option(Path(folder), PurePosixPath("/edgedeploy/models/0"), read_only=True)
    fields = _mount_fields(value)
    assert fields["source"] == folder
    assert fields["target"] == "/edgedeploy/models/0"
    assert "readonly" in fields and fields["type"] == "bind"


def test_other_command_lines():
    assert docker.version_argv("docker", "img:1") == [
        "docker",
        "run",
        "--rm",
        "--pull",
        "never",
        "--platform",
        "linux/amd64",
        "--network",
        "none",
        "--entrypoint",
        "edgetpu_compiler",
        "img:1",
        "--version",
    ]
    assert docker.inspect_argv("docker", "img:1") == [
        "docker",
        "image",
        "inspect",
        "--format",
        "{{.Id}}",
        "img:1",
    ]
    assert docker.kill_argv("docker", "c1") == ["docker", "kill", "c1"]
    assert docker.build_argv("img:1") == [
        "docker",
        "build",
        "--platform",
        "linux/amd64",
        "-f",
        "docker/Dockerfile",
        "-t",
        "img:1",
        ".",
    ]


def test_image_name_follows_package_version_and_env(monkeypatch):
    from edgedeploy import __version__

    monkeypatch.setattr(docker, "__version__", "0.0.0+unknown")
    assert docker.default_image() == "edgedeploy:0.0.0-unknown"  # '+' is not allowed in a tag
    monkeypatch.setattr(docker, "__version__", __version__)
    assert docker.image_name({}) == f"edgedeploy:{__version__}"
    assert (
        docker.image_name({"EDGEDEPLOY_DOCKER_IMAGE": "reg.example/me/ed:2"})
        == "reg.example/me/ed:2"
    )


def test_container_names_are_unique():
    names = {docker.new_container_name() for _ in range(50)}
    assert len(names) == 50 and all(n.startswith("edgedeploy-compile-") for n in names)


def test_docker_is_used_when_nothing_else_is_there(fake_docker):
    location = locate_compiler(None, env={})
    assert location.found_by == "docker" and location.image == fake_docker.image
    assert fake_docker.calls() == [["image", "inspect", "--format", "{{.Id}}", fake_docker.image]]


def test_missing_image_is_reported_with_how_to_build_it(fake_docker, monkeypatch):
    monkeypatch.setenv("FAKE_DOCKER_IMAGE", "something-else:1")
    cli_path, why = probe_docker_image(fake_docker.image)
    assert cli_path is None and f"has no image {fake_docker.image}" in why


def test_real_docker_cli_without_engine_fails_fast():
    if shutil.which("docker") is None:
        pytest.skip("no docker CLI on this machine")
    started = time.monotonic()
    cli_path, why = probe_docker_image("edgedeploy-test-image-that-does-not-exist:0")
    assert cli_path is None  # either no engine, or an engine without this image
    assert why
    assert time.monotonic() - started < DOCKER_PROBE_TIMEOUT_S + 2


def test_compile_through_docker_with_awkward_model_path(
    fake_docker, compiler_logs, edgetpu_models, cli, tmp_path, monkeypatch
):
    monkeypatch.setenv(
        "FAKE_EDGETPU_STDOUT", str(next(compiler_logs.glob("*yolov5s-224_sa_c16.txt")))
    )
    folder = tmp_path / "mödèl dir, ü: 1"
    folder.mkdir()
    model = folder / "my modèl ñ.tflite"
    shutil.copyfile(edgetpu_models / f"{MODEL}.tflite", model)
    out = tmp_path / "out put ß"

    result = cli("compile", model, "--output-dir", out, "--json")

    assert result.code == ExitCode.OPS_ON_CPU, result
    assert (out / "my modèl ñ_edgetpu.tflite").is_file()
    assert (out / "my modèl ñ_edgetpu.log").is_file()
    report = json.loads(result.out)
    assert report["compiler"]["found_by"] == "docker"
    assert report["compiler"]["image"] == fake_docker.image
    run = next(call for call in fake_docker.calls() if call[0] == "run" and "--version" not in call)
    mounts = [_mount_fields(run[i + 1]) for i, arg in enumerate(run) if arg == "--mount"]
    assert mounts[0]["source"] == str(folder) and "readonly" in mounts[0]
    assert run[-1] == "/edgedeploy/models/0/my modèl ñ.tflite"
    # the command in the report names the real output dir, not the deleted staging folder
    assert any(
        f"source={out}" in arg or f'"source={out}' in arg for arg in report["compiler_command"]
    )


def test_docker_timeout_kills_the_container(
    fake_docker, edgetpu_models, cli, tmp_path, monkeypatch
):
    monkeypatch.setenv("FAKE_EDGETPU_MODE", "hang")
    out = tmp_path / "out"
    result = cli("compile", edgetpu_models / f"{MODEL}.tflite", "-o", out, "--timeout", "1.5")
    assert result.code == ExitCode.COMPILER_FAILED, result
    runs = [c for c in fake_docker.calls() if c[0] == "run" and "--version" not in c]
    name = runs[0][runs[0].index("--name") + 1]
    assert ["kill", name] in fake_docker.calls()
    assert not list(out.glob("*_edgetpu.tflite"))
