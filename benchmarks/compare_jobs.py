"""`compare --jobs 2` against `--jobs 1` on the same 8-variant study, measured in one run (prints the
ratio; no threshold is asserted here). Goal: --jobs 2 takes at most 0.6x the wall time of --jobs 1,
with the same results.

Each study starts from an empty cache, in a fresh process, with a short bench (the benchmarks run
serially in both). "Same results" compares what does not depend on random weights or machine noise:
the rows, their status, int8 size and operators, parameters and MACs, and the predicted Edge TPU
mapping. Latency is measured in both but not compared (other work on the machine moves it).

It also prints Amdahl's estimate of --jobs 2: the --jobs 1 study's conversions split perfectly over two
workers, the rest (start-up, the serial benchmarks, the reports) as it took. An estimate, not a bound: it
counts the one-time imports (TensorFlow, PyTorch, onnx2tf: ~9 s) as shared, while each worker pays them in
full, and a worker's one-thread conversion costs less CPU than one in the study's process.

Usage: python benchmarks/compare_jobs.py [--models mobilenet_v2:0.35,0.5,0.75,1.0] [--resolutions 96,128]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUICK_BENCH = ("--min-runs", "10", "--min-time", "0.1", "--repeats", "1", "--threads", "1")
DEFAULT_MODELS = ["mobilenet_v2:0.75,1.0", "mobilenet_v3_large_minimal:0.75,1.0"]


SPIN = "import time\nend = time.process_time() + 2\nwhile time.process_time() < end: pass"


def free_cores() -> float:
    """Cores this machine gives two CPU-bound processes right now (2.0 when both cores are free): other
    work on a shared machine caps what --jobs 2 can gain, and this says by how much."""
    start = time.perf_counter()
    spinners = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(2)]
    for spinner in spinners:
        spinner.wait()
    return 4.0 / (time.perf_counter() - start)  # 2 x 2 s of CPU in this much wall time


def study(models: list[str], resolutions: str, jobs: int, out: Path) -> float:
    """Wall seconds of one study; prints its CPU seconds and the machine's load before it (context)."""
    free = free_cores()
    before, load = resource.getrusage(resource.RUSAGE_CHILDREN), os.getloadavg()[0]
    cmd = [
        sys.executable,
        "-m",
        "edgedeploy",
        "compare",
        *models,
        "-r",
        resolutions,
        "--jobs",
        str(jobs),
        "-o",
        str(out),
        *QUICK_BENCH,
    ]
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(
            f"compare --jobs {jobs} exited {done.returncode}: {done.stderr.strip()[-500:]}"
        )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    print(
        f"--jobs {jobs}: {seconds:.1f} s wall, {cpu:.1f} s CPU (just before: load average {load:.2f}, "
        f"{free:.2f} cores free for two CPU-bound processes)",
        flush=True,
    )
    return seconds


def rows(out: Path) -> list[dict]:
    return json.loads((out / "results.json").read_text())["rows"]


def facts(out: Path) -> list[dict]:
    keep = ("int8_ops", "op_histogram", "params", "macs")
    return [
        {
            "label": r["label"],
            "status": r["status"],
            **{k: r["model"].get(k) for k in keep},
            "edgetpu": {
                k: (r["edgetpu"] or {}).get(k)
                for k in ("verdict", "tpu_ops", "cpu_ops", "total_ops")
            },
        }
        for r in rows(out)
    ]


def amdahl_estimate(serial_out: Path, serial_seconds: float) -> tuple[float, float]:
    """(seconds of converting in the --jobs 1 study, Amdahl's estimate of --jobs 2): every conversion (and
    check) of the serial study split perfectly over two workers, the first one's imports included, and
    everything else (start-up, benchmarks, reports) as it took there."""
    converting = sum(
        r["seconds"].get("convert", 0.0) + r["seconds"].get("check", 0.0) for r in rows(serial_out)
    )
    return converting, serial_seconds - converting / 2


def verdict(first: Path, second: Path) -> str:
    one, two = facts(first), facts(second)
    if len(one) != len(two):
        return f"DIFFERENT: {len(one)} rows vs {len(two)}"
    if one != two:
        return "DIFFERENT: " + next(f"{a} vs {b}" for a, b in zip(one, two) if a != b)
    sizes = [
        (a["model"]["int8_bytes"], b["model"]["int8_bytes"])
        for a, b in zip(rows(first), rows(second))
    ]
    return f"same (int8 sizes within {100 * max(abs(a - b) / a for a, b in sizes):.3f}%)"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", nargs="+", default=DEFAULT_MODELS)
    parser.add_argument("--resolutions", default="192,224")
    parser.add_argument(
        "--rounds", type=int, default=1, help="pairs of studies, in alternating order (ABBA)"
    )
    args = parser.parse_args()
    ratios, estimates = [], []
    print(
        f"study: {' '.join(args.models)} at {args.resolutions} px, from an empty cache each time",
        flush=True,
    )
    for number in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            seconds = {}
            for jobs in (1, 2) if number % 2 == 0 else (2, 1):
                seconds[jobs] = study(args.models, args.resolutions, jobs, tmp / f"jobs{jobs}")
            ratios.append(seconds[2] / seconds[1])
            converting, estimate = amdahl_estimate(tmp / "jobs1", seconds[1])
            estimates.append(estimate / seconds[1])
            print(
                f"{len(rows(tmp / 'jobs1'))} variants; wall time --jobs 2 / --jobs 1 = {ratios[-1]:.2f} "
                f"(goal <= 0.60); results: {verdict(tmp / 'jobs1', tmp / 'jobs2')}",
                flush=True,
            )
            print(
                f"  --jobs 1 spent {converting:.1f} of its {seconds[1]:.1f} s converting; with those conversions "
                f"split perfectly over two workers and the rest unchanged, --jobs 2 would take {estimate:.1f} s "
                f"(ratio {estimates[-1]:.2f}, Amdahl's estimate)",
                flush=True,
            )
    if len(ratios) > 1:
        print(
            f"median ratio over {len(ratios)} rounds: {statistics.median(ratios):.2f} (goal <= 0.60); "
            f"Amdahl's estimate: {statistics.median(estimates):.2f}"
        )


if __name__ == "__main__":
    main()
