"""compare --jobs and --ray without converting anything: how many workers by default, options checked
before any work, a cache shared by several processes, and the one-line failures of --ray."""

from __future__ import annotations

import json
import multiprocessing
import os
import socket
import sys
from pathlib import Path

import pytest

from edgedeploy.compare.cache import ConversionCache
from edgedeploy.compare.distribute import Backend
from edgedeploy.compare.workers import MEMORY_PER_JOB, RESERVED_MEMORY, default_jobs
from edgedeploy.errors import ExitCode, UsageError
from edgedeploy.outputs import STAGING_PREFIX

GiB = 1 << 30


def test_default_jobs_is_one_per_core_as_far_as_memory_goes():
    assert default_jobs(cores=2, memory=24 * GiB) == 2
    assert default_jobs(cores=16, memory=RESERVED_MEMORY + 3 * MEMORY_PER_JOB) == 3
    assert default_jobs(cores=8, memory=GiB) == 1  # never less than one
    assert default_jobs(cores=4, memory=None) == 4  # memory unknown: cores decide
    assert default_jobs() >= 1


@pytest.mark.parametrize(
    "jobs, ray, fragment",
    [(0, None, "--jobs 0: must be 1 or more"), (2, "auto", "--jobs and --ray exclude each other")],
)
def test_bad_parallel_options_are_usage_errors(jobs, ray, fragment):
    with pytest.raises(UsageError, match=fragment):
        Backend.choose(jobs, ray)


def _complete_entry(work: Path, marker: str) -> None:
    work.mkdir()
    (work / "m_int8.tflite").write_text(marker)
    (work / "m_float32.tflite").write_text(marker)
    (work / "report.json").write_text(
        json.dumps(
            {"outputs": {"int8_tflite": "m_int8.tflite", "float32_tflite": "m_float32.tflite"}}
        )
    )


def test_the_first_complete_entry_of_a_key_wins_and_is_never_replaced(tmp_path):
    cache = ConversionCache(tmp_path / "cache")
    with cache.filling("k", {"x": 1}) as late:  # started first, finishes last
        with cache.filling("k", {"x": 1}) as early:
            _complete_entry(early, "early")
        _complete_entry(late, "late")
    assert (cache.entry("k") / "m_int8.tflite").read_text() == "early"
    assert [p.name for p in cache.root.iterdir()] == [
        "k"
    ]  # the loser's copy is gone with its partial dir


def test_an_entry_with_files_deleted_by_hand_is_replaced_whole(tmp_path):
    cache = ConversionCache(tmp_path / "cache")
    with cache.filling("k", {}) as work:
        _complete_entry(work, "one")
    (cache.entry("k") / "m_int8.tflite").unlink()
    with cache.filling("k", {}) as work:
        _complete_entry(work, "two")
    assert (
        cache.lookup("k") is not None and (cache.entry("k") / "m_int8.tflite").read_text() == "two"
    )
    assert [p.name for p in cache.root.iterdir()] == ["k"]


def _fill_same_key(root: str, marker: str, barrier) -> None:
    cache = ConversionCache(Path(root))
    with cache.filling("shared", {"x": 1}) as work:
        _complete_entry(work, marker)
        barrier.wait()  # both have a finished copy; both commit at once


def test_two_processes_finishing_the_same_key_leave_one_complete_entry(tmp_path):
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    workers = [
        context.Process(target=_fill_same_key, args=(str(tmp_path / "cache"), name, barrier))
        for name in ("a", "b")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [w.exitcode for w in workers] == [0, 0]
    cache = ConversionCache(tmp_path / "cache")
    assert cache.lookup("shared") is not None
    assert (cache.entry("shared") / "m_int8.tflite").read_text() == (
        cache.entry("shared") / "m_float32.tflite"
    ).read_text()
    assert [p.name for p in cache.root.iterdir()] == ["shared"]


@pytest.mark.skipif(sys.platform == "win32", reason="advisory locks are POSIX")
def test_partial_dirs_are_cleaned_only_when_no_other_study_holds_the_cache(tmp_path):
    import fcntl

    cache = ConversionCache(tmp_path / "cache")
    (tmp_path / "cache" / f"{STAGING_PREFIX}in-progress").mkdir(parents=True)
    other = os.open(cache.root, os.O_RDONLY)  # another study converting into this cache
    fcntl.flock(other, fcntl.LOCK_SH)
    try:
        with cache.session() as removed:
            assert removed == []
        assert (cache.root / f"{STAGING_PREFIX}in-progress").is_dir()
    finally:
        os.close(other)
    with cache.session() as removed:  # alone now: leftovers of interrupted runs go
        assert removed == [f"{STAGING_PREFIX}in-progress"]


# --- --ray failures: one line, nothing written ----------------------------------------------------


def test_ray_not_installed_says_how_to_install_it(cli, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    result = cli("compare", "mobilenet_v2", "--ray", "auto", "-o", tmp_path / "study")
    assert result.code == ExitCode.USAGE, result
    assert "pip install 'edgedeploy[ray]'" in result.err and "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) <= 2
    assert not (tmp_path / "study").exists()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once it is closed


def test_unreachable_ray_address_fails_in_one_line_with_nothing_written(cli, tmp_path):
    pytest.importorskip(
        "ray",
        reason="the Ray extra is not installed (CI installs it: pip install -e '.[test,ray]')",
    )
    result = cli(
        "compare", "mobilenet_v2", "--ray", f"127.0.0.1:{_closed_port()}", "-o", tmp_path / "study"
    )
    assert result.code == ExitCode.ERROR, result
    assert (
        "cannot reach the Ray cluster at 127.0.0.1:" in result.err and "Traceback" not in result.err
    )
    assert not (tmp_path / "study").exists()


def test_jobs_zero_is_refused_before_any_work(cli, tmp_path):
    result = cli("compare", "mobilenet_v2", "--jobs", "0", "-o", tmp_path / "study")
    assert result.code == ExitCode.USAGE and "--jobs 0: must be 1 or more" in result.err
    assert not (tmp_path / "study").exists()
