"""compare --ray on a cluster whose worker node has only Ray: a head (no CPUs, so no task runs there) and
one worker node, both started by the test on 127.0.0.1. On the worker node edgedeploy cannot be imported
from anywhere but Ray's shipped copy (py_modules): a sitecustomize on that node's PYTHONPATH refuses
every other origin - this machine has edgedeploy installed (editable), so without the refusal the test
could pass for the wrong reason.

What is not tested here: Ray installing the conversion stack from PyPI into a node's fresh virtualenv
(gigabytes of PyTorch and TensorFlow - not affordable in CI). The runtime environment's pip part does
run (Ray makes the virtualenv and pip resolves the pinned requirements), but on this machine its
inherited site-packages already satisfy them."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from processes import stop_session
from tiny_models import export_onnx, tiny_cnn

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
QUICK = ("--min-runs", "5", "--min-time", "0.05", "--repeats", "1", "--threads", "1")
START_SECONDS = 120

# Installed on the worker node: edgedeploy only from a directory Ray unpacked (…/py_modules_files/…),
# and each such import logged, so the test sees the shipped copy was the one used.
ONLY_SHIPPED = """
import importlib.abc, importlib.machinery, os, sys

SHIPPED = os.sep + "py_modules_files" + os.sep


class OnlyShippedEdgedeploy(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != "edgedeploy":
            return None
        shipped = [entry for entry in sys.path if SHIPPED in entry]
        spec = importlib.machinery.PathFinder.find_spec(name, shipped)
        if spec is None:
            raise ModuleNotFoundError("edgedeploy is not installed on this node", name=name)
        with open(os.environ["SHIPPED_IMPORT_LOG"], "a") as log:
            log.write(spec.origin + "\\n")
        return spec


sys.meta_path.insert(0, OnlyShippedEdgedeploy())
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ray_start(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    ray = Path(sys.executable).with_name("ray")  # the CLI installed with this Python's ray
    return subprocess.Popen(
        [str(ray) if ray.is_file() else "ray", "start", "--block", "--disable-usage-stats", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env={**env, "RAY_USAGE_STATS_ENABLED": "0"},
    )


def _alive_nodes(address: str, env: dict[str, str]) -> int:
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import ray; ray.init(address={address!r}, logging_level='ERROR');"
            "print(sum(n['Alive'] for n in ray.nodes()))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    return int(probe.stdout.split()[-1]) if probe.returncode == 0 and probe.stdout.split() else 0


@pytest.fixture(scope="module")
def two_nodes():
    pytest.importorskip("ray", reason="the Ray extra is not installed (pip install -e '.[ray]')")
    pytest.importorskip("virtualenv", reason="Ray's pip runtime environment needs virtualenv")
    # Short: Ray's unix socket paths must stay under 108 characters.
    temp = Path(tempfile.mkdtemp(prefix="edr", dir="/tmp"))
    blocker = temp / "only-shipped"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(ONLY_SHIPPED)
    log = temp / "shipped-imports.log"
    port = _free_port()
    address = f"127.0.0.1:{port}"
    common = ["--node-ip-address=127.0.0.1"]  # each node its own --temp-dir, as on two machines
    # Token authentication off: with a ~/.ray/auth_token from any earlier local ray.init on this machine
    # the head would require it and the test would depend on that file.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"RAY_AUTH_MODE": "disabled"}
    head = _ray_start(
        ["--head", f"--port={port}", "--num-cpus=0", "--include-dashboard=false", *common]
        + [f"--temp-dir={temp / 'head'}"],
        env,
    )
    worker_env = {**env, "PYTHONPATH": str(blocker), "SHIPPED_IMPORT_LOG": str(log)}
    worker = None
    try:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline and _alive_nodes(address, env) < 1:
            assert head.poll() is None, "ray start --head failed"
            time.sleep(1)
        worker = _ray_start(
            [f"--address={address}", "--num-cpus=1", f"--memory={3 << 30}", *common]
            + [f"--temp-dir={temp / 'worker'}"],
            worker_env,
        )
        while time.monotonic() < deadline and _alive_nodes(address, env) < 2:
            assert worker.poll() is None, "ray start (worker node) failed"
            time.sleep(1)
        assert _alive_nodes(address, env) == 2, "the two local Ray nodes did not come up"
        yield address, worker_env, log, temp / "worker"
    finally:
        for node in (worker, head):
            if node is not None:
                stop_session(node)
        shutil.rmtree(temp, ignore_errors=True)


def test_the_worker_node_cannot_import_edgedeploy_by_itself(two_nodes):
    _, worker_env, _, _ = two_nodes
    probe = subprocess.run(
        [sys.executable, "-c", "import edgedeploy"], env=worker_env, capture_output=True, text=True
    )
    assert probe.returncode != 0 and "not installed on this node" in probe.stderr


def test_compare_ships_edgedeploy_to_a_node_that_has_only_ray(two_nodes, tmp_path):
    address, _, log, worker_temp = two_nodes
    model = export_onnx(tiny_cnn(), tmp_path / "tiny32.onnx", size=32)
    out = tmp_path / "study"
    done = subprocess.run(
        [sys.executable, "-m", "edgedeploy", "compare", str(model), "-o", str(out)]
        + ["--ray", address, "--target", "cpu", *QUICK],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(REPO), "RAY_AUTH_MODE": "disabled"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (row,) = json.loads((out / "results.json").read_text())["rows"]
    assert row["status"] == "ok" and row["cache"]["converted_in"].startswith("ray node ")
    shipped = log.read_text().split()
    assert shipped and all("py_modules_files" in origin for origin in shipped)
    assert all(origin.startswith(str(worker_temp)) for origin in shipped)  # unpacked by that node
    # The pip part ran there too: a virtualenv for the pinned requirements, made by the worker node.
    assert list(worker_temp.glob("session_*/runtime_resources/pip/*/virtualenv/bin/python"))
