"""How long `edgedeploy check` takes on a MobileNetV2 int8 model (goal: well under a second).

Measures (1) the whole CLI in a fresh process, imports included, as a user runs it, and (2) the
check itself, warm, median of repeated runs. Prints the times and their ratio to the 1 s budget.

    python benchmarks/check_speed.py [MODEL.tflite] [--runs N]

Default model: tests/data/edgetpu/models/tf2_mobilenet_v2_1.0_224_ptq.tflite in this repository.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = (
    REPO / "tests" / "data" / "edgetpu" / "models" / "tf2_mobilenet_v2_1.0_224_ptq.tflite"
)
BUDGET_S = 1.0


def cli_seconds(model: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "edgedeploy", "check", "--json", str(model)],
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 3):
        sys.exit(f"edgedeploy check failed ({done.returncode}): {done.stderr.strip()}")
    return elapsed


def warm_seconds(model: Path, runs: int) -> list[float]:
    from edgedeploy.targets.edgetpu.check import check_model

    check_model(model)  # first call loads the rules data
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        check_model(model)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    if not args.model.is_file():
        sys.exit(f"model not found: {args.model}")
    cli = statistics.median(cli_seconds(args.model) for _ in range(3))
    warm = warm_seconds(args.model, args.runs)
    median = statistics.median(warm)
    print(f"model: {args.model.name} ({args.model.stat().st_size / 2**20:.2f} MiB)")
    print(
        f"CLI, fresh process (median of 3): {cli * 1000:.0f} ms = {cli / BUDGET_S:.2f} x the 1 s budget"
    )
    print(
        f"check_model, warm (median of {args.runs}): {median * 1000:.1f} ms = {median / BUDGET_S:.3f} x the 1 s budget "
        f"(min {min(warm) * 1000:.1f} ms, max {max(warm) * 1000:.1f} ms)"
    )


if __name__ == "__main__":
    main()
