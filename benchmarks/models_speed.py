"""How long `edgedeploy models` (no options) takes as a fresh process, imports included (goal: < 1 s).

Runs the CLI as a user does, three times, and prints the median and its ratio to the budget; with
--device-side the conversion stack is made unimportable first (as in a `pip install edgedeploy` venv).

    python benchmarks/models_speed.py [--device-side]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUDGET_S = 1.0


def cli_seconds(env: dict[str, str] | None) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "edgedeploy", "models"], capture_output=True, text=True, env=env
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"edgedeploy models failed ({done.returncode}): {done.stderr.strip()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device-side", action="store_true")
    args = parser.parse_args()
    env = None
    if args.device_side:
        sys.path.insert(0, str(REPO / "tests"))
        from device_side import device_side_env

        env = device_side_env(Path(tempfile.mkdtemp(prefix="edgedeploy-device-")))
    seconds = statistics.median(cli_seconds(env) for _ in range(3))
    side = "device-side (conversion stack blocked)" if args.device_side else "full install"
    print(f"edgedeploy models, fresh process, {side}: median of 3 = {seconds:.2f} s")
    print(f"ratio to the {BUDGET_S:.0f} s budget: {seconds / BUDGET_S:.2f}")


if __name__ == "__main__":
    main()
