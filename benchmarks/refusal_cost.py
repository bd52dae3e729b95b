"""What a refused input or output costs (issue 20; goals: peak memory < 200 MB, refused within a second
of the command's start-up, before any model loads).

Runs each case as a fresh `edgedeploy` process under a wrapper whose only child it is, so the wrapper's
RUSAGE_CHILDREN peak RSS is that command's alone; prints exit code, wall time and peak RSS, and the
ratio of the worst peak to the 200 MB goal. Cases: 8 GiB sparse models, /dev/zero and FIFOs given as
files, 100,000-deep JSON, a real model padded to 8 GiB, a convert into a directory holding results.

    python benchmarks/refusal_cost.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODEL = REPO / "tests" / "data" / "edgetpu" / "models" / "split_concat.tflite"
GOAL_MB = 200
WRAPPER = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
try:
    code = subprocess.run(sys.argv[1:], capture_output=True, timeout=120).returncode
except subprocess.TimeoutExpired:
    code = "timeout"
print(json.dumps({"code": code, "seconds": time.perf_counter() - started,
                  "rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def prepare(folder: Path) -> None:
    for name in ("big.tflite", "big.onnx"):
        with (folder / name).open("wb") as handle:
            handle.truncate(8 * 2**30)
    with (folder / "padded.tflite").open("wb") as handle:
        handle.write(MODEL.read_bytes())
        handle.truncate(8 * 2**30)
    (folder / "zero.json").symlink_to("/dev/zero")
    os.mkfifo(folder / "fifo.onnx")
    (folder / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (folder / "results").mkdir()
    (folder / "results" / "earlier.tflite").write_bytes(b"x")


CASES = [
    ["check", "big.tflite"],
    ["check", "--json", "big.onnx"],
    ["estimate", "fifo.onnx"],
    ["targets", "--model", "big.tflite"],
    ["bench", "padded.tflite"],
    ["bench", str(MODEL), "--compare", "zero.json"],
    ["bench", str(MODEL), "--compare", "deep.json"],
    ["convert", "mobilenet_v2", "-o", "results"],
]


def main() -> None:
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        prepare(folder)
        print(f"{'command':<58} {'exit':>4} {'seconds':>8} {'peak MB':>8}")
        for case in CASES:
            done = subprocess.run(
                [sys.executable, "-c", WRAPPER, sys.executable, "-m", "edgedeploy", *case],
                capture_output=True,
                text=True,
                cwd=folder,
                env={**os.environ, "PYTHONPATH": str(REPO)},
            )
            row = json.loads(done.stdout)
            worst = max(worst, row["rss_mb"])
            shown = " ".join(case).replace(str(REPO) + "/", "")
            print(f"{shown[:58]:<58} {row['code']:>4} {row['seconds']:>8.2f} {row['rss_mb']:>8.0f}")
    print(f"worst peak {worst:.0f} MB = {worst / GOAL_MB:.2f} of the {GOAL_MB} MB goal")


if __name__ == "__main__":
    main()
