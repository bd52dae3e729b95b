"""How long the fast test tier takes: ``python -m pytest -m "not slow"`` run once from the repository root,
with its wall time, its CPU time (pytest and every process it started and waited for: the CLI children,
the fork servers, compilers), the load average before and after, and pytest's own summary line.

On a shared machine the wall time follows the load; the CPU time much less so, and on a quiet 2-core
machine the wall time of this serial run is close to it. With PYTHONDONTWRITEBYTECODE set (as in the
project's dev container) pytest rewrites every test module's asserts on each run (a few seconds of
the collection): the script says which it ran with. Goal (issue 22): under 2 minutes on 2 cores.

    python benchmarks/fast_tier_time.py [extra pytest arguments]
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GOAL_S = 120.0


def reference_loop_s() -> float:
    """CPU seconds of a fixed pure-Python loop (best of 3): how fast this machine is right now. A
    shared VM's speed drifts by tens of percent; the tier's figures scale with this one."""
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        sum(i * i for i in range(10**7))
        best = min(best, time.process_time() - started)
    return best


def main(extra: list[str]) -> int:
    reference_before = reference_loop_s()
    load_before = os.getloadavg()
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-m", "not slow", "-q", "-p", "no:cacheprovider", *extra],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
    )
    wall = time.monotonic() - started
    load_after = os.getloadavg()
    reference_after = reference_loop_s()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime
    summary = next(
        (
            line
            for line in reversed(done.stdout.splitlines())
            if re.search(r"\d+ (passed|failed)", line)
        ),
        "(no pytest summary line)",
    )
    print(f"pytest: {summary.strip('= ')} (exit {done.returncode})")
    print(
        f"wall {wall:.1f} s, CPU {cpu:.1f} s (user {usage.ru_utime:.1f} s + sys {usage.ru_stime:.1f} s)"
    )
    print(
        f"load average before {load_before[0]:.2f} (5 min {load_before[1]:.2f}), "
        f"after {load_after[0]:.2f} (5 min {load_after[1]:.2f}), {os.cpu_count()} CPUs"
    )
    print(f"reference loop: {reference_before:.2f} s before, {reference_after:.2f} s after")
    bytecode = (
        "off (PYTHONDONTWRITEBYTECODE)" if os.environ.get("PYTHONDONTWRITEBYTECODE") else "on"
    )
    print(f"bytecode cache: {bytecode}; Python {sys.version.split()[0]}")
    verdict = {True: "met", False: "NOT met"}
    print(f"goal: < {GOAL_S:.0f} s; wall {verdict[wall < GOAL_S]}, CPU {verdict[cpu < GOAL_S]}")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
