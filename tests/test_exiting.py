"""A process that loaded TensorFlow or PyTorch ends without their interpreter teardown (~3 s): the CLI after
its command, a compare worker after its last job. Exit handlers still run, buffered output still arrives,
the exit code is the one decided; with another Python thread still working, the process ends as usual."""

from __future__ import annotations

import subprocess
import sys

import pytest

# Writes the file named by the last argument when the interpreter tears it down, as it tears TensorFlow down.
FRAMEWORK = """
import sys
class Framework:
    def __del__(self, path=sys.argv[-1], write=open):  # bound now: builtins may be gone by then
        write(path, "w").write("torn down")
framework = Framework()
"""

PROCESS = (
    FRAMEWORK
    + """
import atexit, threading, time, types
from edgedeploy.exiting import end_process
how = sys.argv[1]
if how != "no framework":
    sys.modules["torch"] = types.ModuleType("torch")  # stands for a loaded framework
if how == "thread still working":
    threading.Thread(target=time.sleep, args=(0.5,)).start()
atexit.register(lambda: sys.stdout.write("exit handler ran; "))
sys.stdout.write("result written; ")  # no newline: still in the buffer
end_process(3)
"""
)

WORKER = (
    """
from edgedeploy.compare.workers import _init_worker
_init_worker()  # first, as in a worker: before anything the frameworks register
"""
    + FRAMEWORK
    + """
sys.stdout.write("result written")
"""
)


def _run(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    "how, torn_down",
    [("framework loaded", False), ("no framework", True), ("thread still working", True)],
)
def test_a_process_ends_with_its_code_handlers_and_output(how, torn_down, tmp_path):
    marker = tmp_path / "finalized"
    done = _run(PROCESS, how, str(marker))
    assert done.returncode == 3, done.stderr
    assert done.stdout == "result written; exit handler ran; "
    assert marker.exists() == torn_down


def test_a_compare_worker_ends_without_the_teardown(tmp_path):
    marker = tmp_path / "finalized"
    done = _run(WORKER, str(marker))
    assert (done.returncode, done.stdout) == (0, "result written"), done.stderr
    assert not marker.exists()
