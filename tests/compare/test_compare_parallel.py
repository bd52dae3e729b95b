"""compare with conversions in worker processes (--jobs 2) and as Ray tasks on a local Ray cluster the
test starts (--ray HOST:PORT): the same rows as a serial study, conversions made elsewhere, benchmarks
after the last conversion; Ctrl-C stops every worker, keeps finished conversions, exits 130."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from processes import session_processes, stop_session
from tiny_models import export_onnx, tiny_cnn

from edgedeploy.compare.cache import ConversionCache
from edgedeploy.errors import ExitCode
from edgedeploy.outputs import STAGING_PREFIX

pytestmark = pytest.mark.slow

QUICK = ("--min-runs", "5", "--min-time", "0.05", "--repeats", "1", "--threads", "1")


def tiny_models(directory: Path, sizes=(32, 40, 48)) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    return [export_onnx(tiny_cnn(), directory / f"tiny{size}.onnx", size=size) for size in sizes]


def compare(*args, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "edgedeploy", "compare", *map(str, args), *QUICK],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "RAY_AUTH_MODE": "disabled"},  # as the test's Ray head (ray_cluster)
    )


def results(out: Path) -> dict:
    return json.loads((out / "results.json").read_text())


def facts(data: dict) -> list[tuple]:
    return [
        (
            r["label"],
            r["status"],
            r["model"]["int8_ops"],
            r["model"]["int8_bytes"],
            r["mapping"]["verdict"],
        )
        for r in data["rows"]
    ]


@pytest.fixture(scope="module")
def serial_and_parallel(tmp_path_factory):
    root = tmp_path_factory.mktemp("jobs")
    models = tiny_models(root / "models")
    serial, parallel = root / "serial", root / "parallel"
    done = {
        # edgetpu: the requested target with a check, so the workers also predict its mapping
        "serial": compare(*models, "-o", serial, "--jobs", "1", "-t", "cpu,edgetpu"),
        "parallel": compare(*models, "-o", parallel, "--jobs", "2", "-t", "cpu,edgetpu"),
    }
    return {"models": models, "serial": serial, "parallel": parallel, "done": done}


def test_jobs_2_converts_in_worker_processes_with_the_same_rows(serial_and_parallel):
    done = serial_and_parallel["done"]
    assert done["serial"].returncode == 0, done["serial"].stderr[-2000:]
    assert done["parallel"].returncode == 0, done["parallel"].stderr[-2000:]
    serial, parallel = (
        results(serial_and_parallel["serial"]),
        results(serial_and_parallel["parallel"]),
    )
    assert facts(parallel) == facts(serial)
    where = {r["cache"]["converted_in"] for r in parallel["rows"]}
    assert (
        all(w.startswith("worker process ") for w in where) and len(where) == 2
    )  # both workers converted
    assert all(r["cache"]["hit"] is False for r in parallel["rows"])
    assert parallel["method"]["conversions"] == "2 worker processes on this machine"
    assert "never while a conversion is running" in parallel["method"]["benchmarks"]
    assert (
        "Conversions: 2 worker processes on this machine. Benchmarks: one at a time"
        in (serial_and_parallel["parallel"] / "report.md").read_text()
    )
    assert "converted in" in done["parallel"].stderr  # each conversion said so as it finished


def test_a_rerun_with_jobs_takes_everything_from_the_cache(serial_and_parallel):
    again = compare(
        *serial_and_parallel["models"],
        *("-o", serial_and_parallel["parallel"], "--jobs", "2", "-t", "cpu,edgetpu"),
    )
    assert again.returncode == 0, again.stderr[-2000:]
    rows = results(serial_and_parallel["parallel"])["rows"]
    assert all(r["cache"]["hit"] is True and "converted_in" not in r["cache"] for r in rows)


@pytest.mark.parametrize("presses", [1, 2])
def test_ctrl_c_stops_every_worker_keeps_finished_conversions_and_exits_130(tmp_path, presses):
    models = tiny_models(tmp_path / "models", sizes=(32, 40, 48, 56, 64, 72))
    out = tmp_path / "study"
    study = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "edgedeploy",
            "compare",
            *map(str, models),
            "-o",
            str(out),
            "--jobs",
            "2",
            *QUICK,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )  # its own session: Ctrl-C goes to the whole group
    cache = ConversionCache(out / "cache")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and study.poll() is None:
        if cache.root.is_dir() and any(
            cache.lookup(p.name)
            for p in cache.root.iterdir()
            if not p.name.startswith(STAGING_PREFIX)
        ):
            break
        time.sleep(0.2)
    assert study.poll() is None, "the study ended before it could be interrupted"
    workers = [pid for pid in session_processes(study.pid) if pid != study.pid]
    assert len(workers) >= 2  # the spawned workers (and multiprocessing's resource tracker)
    for _ in range(presses):  # once, or twice as an impatient user does
        os.killpg(study.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
        time.sleep(0.1)
    _, err = study.communicate(timeout=120)
    assert study.returncode == ExitCode.INTERRUPTED, err[-2000:]
    assert "run the same command again to resume" in " ".join(err.split())
    assert "Traceback" not in err  # the workers went quietly
    time.sleep(0.5)
    assert session_processes(study.pid) == []  # every worker stopped
    entries = [p for p in cache.root.iterdir()]
    assert entries and not [p.name for p in entries if p.name.startswith(STAGING_PREFIX)]
    assert all(
        cache.lookup(p.name) is not None for p in entries
    )  # only complete conversions are kept
    assert not (out / "results.json").exists()
    kept = {p.name for p in entries}
    resumed = compare(*models, "-o", out, "--jobs", "2")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    rows = results(out)["rows"]
    assert {r["cache"]["key"] for r in rows if r["cache"]["hit"]} == kept  # nothing converted twice


# --- Ray --------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory):
    """A local Ray head with 2 CPUs and one 'edgetpu' resource, started by the test and stopped by it."""
    pytest.importorskip(
        "ray",
        reason="the Ray extra is not installed (CI installs it: pip install -e '.[test,ray]')",
    )
    port = _free_port()
    temp = tmp_path_factory.mktemp("ray")
    ray = Path(sys.executable).with_name("ray")  # the CLI installed with this Python's ray
    head = subprocess.Popen(
        [
            str(ray) if ray.is_file() else "ray",
            "start",
            "--head",
            f"--port={port}",
            "--node-ip-address=127.0.0.1",
            "--num-cpus=2",
            '--resources={"edgetpu": 1}',
            "--include-dashboard=false",
            "--disable-usage-stats",
            f"--temp-dir={temp}",
            "--block",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        # token authentication off: a ~/.ray/auth_token left by any local ray.init on this machine
        # would otherwise make the head demand a token the study does not send
        env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"},
    )
    address = f"127.0.0.1:{port}"
    raylet = temp / "session_latest" / "sockets" / "raylet"
    deadline = time.monotonic() + 120
    while (
        time.monotonic() < deadline and not raylet.exists()
    ):  # the node is up once its raylet listens
        assert head.poll() is None, "ray start failed"
        time.sleep(0.5)
    assert raylet.exists(), "the local Ray head did not come up in 2 minutes"
    time.sleep(1)
    yield address
    stop_session(head)


def test_ray_converts_as_tasks_brings_artifacts_home_and_benches_the_device_where_it_is(
    ray_cluster, tmp_path
):
    models = tiny_models(tmp_path / "models", sizes=(32, 40))
    out = tmp_path / "study"
    done = compare(*models, "-o", out, "--ray", ray_cluster, "--target", "cpu,coral")
    assert done.returncode == 0, done.stderr[-3000:]
    data = results(out)
    assert [r["status"] for r in data["rows"]] == ["ok", "ok"]
    assert all(r["cache"]["converted_in"].startswith("ray node ") for r in data["rows"])
    cache = ConversionCache(out / "cache")
    for row in data["rows"]:
        assert cache.lookup(row["cache"]["key"]) is not None  # the artifacts are in the local cache
        assert Path(row["model"]["int8_file"]).is_file() and str(out) in row["model"]["int8_file"]
        assert row["mapping"]["total_ops"] > 0  # checked on the node
    method = data["method"]
    assert method["conversions"].startswith(f"Ray tasks on the cluster at {ray_cluster}")
    assert method["bench_where"] == {
        "cpu": "this machine",
        "edgetpu": "a Ray node with the 'edgetpu' resource",
    }
    cells = {c["target"]: c for c in data["rows"][0]["latency"]}
    assert cells["cpu"]["status"] == "ok"
    assert (
        cells["edgetpu"]["status"] == "skipped" and cells["edgetpu"]["reason"]
    )  # no device on that node
    assert not list(cache.root.glob(f"{STAGING_PREFIX}*"))
