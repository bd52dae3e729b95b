"""How long `edgedeploy limits` takes for one built-in over 4 alphas x 10 resolutions, confirmations included
(goal: under 3 minutes on a 2-core machine), and whether the confirming conversions agreed.

    python benchmarks/limits_scan_time.py [MODEL] [--alphas 0.5,0.75,1.0,1.4] [--resolutions 96..1024]

Runs the CLI in a fresh process (imports included, as a user runs it) into a temporary folder and prints
the wall time, the fast analysis' and the conversions' shares (from limits.json) and the ratio to the goal.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_S = 180.0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("model", nargs="?", default="mobilenet_v2")
    parser.add_argument("--alphas", default="0.5,0.75,1.0,1.4")
    parser.add_argument("--resolutions", default="96..1024")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="limits-bench-") as folder:
        start = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "edgedeploy",
                "limits",
                args.model,
                "--alphas",
                args.alphas,
                "--resolutions",
                args.resolutions,
                "-o",
                folder,
                "--json",
            ],
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(f"edgedeploy limits failed ({done.returncode}): {done.stderr.strip()[-500:]}")
        result = json.loads(Path(folder, "limits.json").read_text())
    timing = result["timing"]
    print(
        f"{args.model}: {timing['points']} points; fast analysis {timing['scan_seconds']:.1f} s "
        f"({timing['scan_seconds'] / timing['points'] * 1000:.0f} ms per point), "
        f"{len(result['confirmations'])} confirming conversions {timing['confirm_seconds']:.1f} s"
    )
    for c in result["confirmations"]:
        print(
            f"  confirm alpha {c['alpha']} at {c['height']} px ({c['role']}): "
            f"{'agrees' if c['agrees'] else 'DISAGREES: ' + '; '.join(c['differences'])} ({c['seconds']:.0f} s)"
        )
    for line in result["answer"]:
        print(f"  {line}")
    print(f"wall time {wall:.1f} s, goal {GOAL_S:.0f} s: ratio {wall / GOAL_S:.2f}")


if __name__ == "__main__":
    main()
