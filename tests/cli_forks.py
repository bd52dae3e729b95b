"""Many CLI runs as real processes for the price of one start-up: a child Python imports what
``python -m edgedeploy`` imports (the CLI, nothing of the conversion stack), then forks once per command.

Each command is its own process - its own exit code, stdout and stderr files, working directory, peak
RSS (``wait4``) and list of heavy modules it imported - but skips the ~0.5 s of interpreter start-up
and CLI imports a fresh ``sys.executable -m edgedeploy`` pays each time (tens of seconds over the fast
tier). Tests that need a fresh interpreter (signals to a whole run, start-up itself, a deleted working
directory at exec) still start one.

The fixture ``cli_forks`` (registered in conftest.py) keeps one server per environment for the session:
``cli_forks(args, cwd=..., env_extra=..., prelude=...)`` -> dict(code, out, err, rss_mb, modules,
seconds). The server's environment is fixed when it starts (what the CLI reads at import, such as
COLUMNS for its consoles); ``env_extra`` is applied in the forked child before the command runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "tensorflow", "onnx2tf", "ai_edge_litert.interpreter")

_SERVER = r"""
import json, os, select, signal, sys, time
import edgedeploy.__main__  # what `python -m edgedeploy` imports before it runs (not run: not __main__)
import typer._adapters  # typer imports it (and pydantic, ~0.15 s) parsing any command line of any run
from edgedeploy.cli.app import run
from edgedeploy.exiting import end_process

HEAVY = HEAVY_NAMES
answers = os.fdopen(os.dup(1), "w")  # fd 1 itself becomes each command's stdout
scratch = sys.argv[1]


def command(job, number):
    # In the forked child: the command's own stdin, stdout, stderr, directory and environment.
    sys.stdin = open(os.devnull)
    os.dup2(sys.stdin.fileno(), 0)
    for fd, name in ((1, "out"), (2, "err")):
        os.dup2(os.open(f"{scratch}/{number}.{name}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC), fd)
    answers.close()
    os.chdir(job["cwd"])
    os.environ.update(job["env"])
    exec(job["prelude"], {})
    code = run(job["args"])
    with open(f"{scratch}/{number}.modules", "w") as handle:
        json.dump([m for m in HEAVY if m in sys.modules], handle)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as edgedeploy's main() ends
    end_process(code)  # raises SystemExit (or leaves at once): never returns to the loop


number = 0
while line := sys.stdin.readline():
    job, number = json.loads(line), number + 1
    sys.stdout.flush(), sys.stderr.flush()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        command(job, number)
    pidfd = os.pidfd_open(pid)
    finished = select.select([pidfd], [], [], job["timeout"])[0]
    if not finished:
        os.kill(pid, signal.SIGKILL)
    _, status, usage = os.wait4(pid, 0)
    os.close(pidfd)
    seconds = time.monotonic() - started
    answer = {"seconds": seconds, "rss_mb": usage.ru_maxrss / 1024, "modules": None}
    answer["code"] = os.waitstatus_to_exitcode(status) if finished else "timeout"
    for name in ("out", "err", "modules"):
        path = f"{scratch}/{number}.{name}"
        if os.path.exists(path):
            with open(path, errors="replace") as handle:
                answer[name] = json.load(handle) if name == "modules" else handle.read()
            os.remove(path)
    answers.write(json.dumps(answer) + "\n")
    answers.flush()
""".replace("HEAVY_NAMES", repr(HEAVY))


class CliForkServer:
    def __init__(self, env: dict[str, str], scratch: Path):
        self._log = (scratch / "server.log").open("w")
        self._process = subprocess.Popen(
            [sys.executable, "-c", _SERVER, str(scratch)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=env,
            cwd=scratch,
        )
        self._scratch = scratch

    def __call__(
        self,
        args,
        cwd: Path,
        env_extra: dict[str, str] | None = None,
        prelude: str = "",
        timeout: float = 120,
    ) -> dict:
        job = {"args": [str(a) for a in args], "cwd": str(cwd), "env": env_extra or {}}
        job.update(prelude=prelude, timeout=timeout)
        self._process.stdin.write(json.dumps(job) + "\n")
        self._process.stdin.flush()
        answer = self._process.stdout.readline()
        if not answer:
            log = (self._scratch / "server.log").read_text()
            raise RuntimeError(f"the CLI fork server ended: {log[-3000:]}")
        return json.loads(answer)

    def close(self) -> None:
        self._process.stdin.close()
        self._process.wait(30)
        self._log.close()


class CliForks:
    """One server per server environment, started on first use."""

    def __init__(self, scratch: Path):
        self._scratch = scratch
        self._servers: dict[tuple, CliForkServer] = {}

    def __call__(self, args, cwd: Path, server_env: dict[str, str] | None = None, **job) -> dict:
        env = dict(server_env or {**os.environ, "PYTHONPATH": str(REPO)})
        env.pop(
            "PYTEST_CURRENT_TEST", None
        )  # pytest's per-test name: not part of a server's identity
        key = tuple(sorted(env.items()))
        if key not in self._servers:
            folder = Path(tempfile.mkdtemp(prefix="server-", dir=self._scratch))
            self._servers[key] = CliForkServer(env, folder)
        return self._servers[key](args, cwd, **job)

    def close(self) -> None:
        for server in self._servers.values():
            server.close()


@pytest.fixture(scope="session")
def cli_forks(tmp_path_factory):
    """``cli_forks(args, cwd=..., server_env=None, env_extra=None, prelude="", timeout=120)``: run
    ``edgedeploy ARGS`` as its own process, forked from a server that imported the CLI once."""
    forks = CliForks(tmp_path_factory.mktemp("cli_forks"))
    yield forks
    forks.close()
