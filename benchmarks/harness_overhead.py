"""What the bench harness costs, measured in one run (prints the ratio; no threshold is asserted).

Our harness's median latency over a bare ``interpreter.invoke()`` loop timed with perf_counter_ns,
on the same interpreter (same model, same threads). Blocks of the two alternate, and which goes first
alternates too, so drift on a noisy shared machine hits both alike. Goal: ratio <= 1.03.
Also printed: wall time per iteration (the loop's own cost shows there, not in the timed region).

With --isolation: what running each cell in a worker process (bench/isolation.py) costs, on a
MobileNetV2 CPU benchmark by default. The same cell is measured in-process and in a worker, alternating,
and the medians of all samples are compared. Goal: ratio <= 1.01. The worker's start (a fresh
interpreter importing the runtime) is outside the timed region and is printed apart.

Usage: python benchmarks/harness_overhead.py [--model FILE] [--threads N] [--rounds 20] [--runs 200]
       python benchmarks/harness_overhead.py --isolation [--model FILE] [--rounds 6] [--runs 100]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DEFAULT_MODEL = (
    REPO / "tests" / "data" / "edgetpu" / "models" / "mobilenet_v1_0.25_128_quant.tflite"
)  # fast: overhead shows most
ISOLATION_MODEL = (
    REPO / "tests" / "data" / "edgetpu" / "models" / "tf2_mobilenet_v2_1.0_224_ptq.tflite"
)
GOAL = 1.03
ISOLATION_GOAL = 1.01


def bare_loop(invoke, runs: int) -> tuple[list[int], int]:
    samples = []
    begin = time.perf_counter_ns()
    for _ in range(runs):
        start = time.perf_counter_ns()
        invoke()
        samples.append(time.perf_counter_ns() - start)
    return samples, time.perf_counter_ns() - begin


def isolation(args) -> int:
    """In-process vs worker process, the same cell, alternating rounds."""
    from edgedeploy.bench.harness import MeasurePlan
    from edgedeploy.bench.inputs import random_inputs
    from edgedeploy.bench.power import PowerSession
    from edgedeploy.bench.result import CellResult
    from edgedeploy.bench.runner import run_cell
    from edgedeploy.targets.cpu.config import CpuConfig
    from edgedeploy.targets.cpu.runtime import CpuRuntime
    from edgedeploy.targets.model_file import inspect_model

    target = CpuRuntime(CpuConfig.from_options([args.threads]))
    variant = target.variants()[0]
    model = inspect_model(args.model)
    inputs = random_inputs(model.inputs)
    plan = MeasurePlan(
        min_runs=args.runs,
        min_time_s=0.0,
        max_time_s=600.0,
        warmup_runs=10,
        warmup_time_s=0.5,
        repeats=1,
    )
    samples: dict[bool, list[int]] = {False: [], True: []}
    walls: dict[bool, float] = {False: 0.0, True: 0.0}
    for round_index in range(args.rounds):
        for isolate in (False, True) if round_index % 2 == 0 else (True, False):
            cell = CellResult(model.name, variant.label, target.name)
            started = time.perf_counter()
            run_cell(
                target, variant, model, inputs, plan, PowerSession(None, 0), cell, isolate=isolate
            )
            walls[isolate] += time.perf_counter() - started
            samples[isolate] += [int(ms * 1e6) for repeat in cell.samples_ms for ms in repeat]
    here, worker = statistics.median(samples[False]) / 1e6, statistics.median(samples[True]) / 1e6
    ratio = worker / here
    print(
        f"model {args.model.name}, {args.threads} thread(s), {args.rounds} alternating rounds x {args.runs} runs each"
    )
    print(f"in-process      p50 {here:.4f} ms   wall per cell {walls[False] / args.rounds:.2f} s")
    print(
        f"worker process  p50 {worker:.4f} ms   wall per cell {walls[True] / args.rounds:.2f} s "
        "(worker start and model load included)"
    )
    print(
        f"p50 ratio worker/in-process: {ratio:.4f} (goal <= {ISOLATION_GOAL}) "
        f"{'OK' if ratio <= ISOLATION_GOAL else 'ABOVE GOAL'}"
    )
    return 0


def main() -> int:
    from edgedeploy.bench.harness import MeasurePlan, measure, warm_up
    from edgedeploy.bench.inputs import random_inputs
    from edgedeploy.machine import available_cores
    from edgedeploy.targets.cpu.config import CpuConfig
    from edgedeploy.targets.cpu.runtime import CpuRuntime
    from edgedeploy.targets.model_file import inspect_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=available_cores())
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--runs", type=int, default=None, help="inferences per block")
    parser.add_argument(
        "--isolation", action="store_true", help="measure the worker process instead"
    )
    args = parser.parse_args()
    if args.isolation:
        args.model, args.rounds = args.model or ISOLATION_MODEL, args.rounds or 6
        args.runs = args.runs or 100
        return isolation(args)
    args.model, args.rounds, args.runs = (
        args.model or DEFAULT_MODEL,
        args.rounds or 20,
        args.runs or 200,
    )

    target = CpuRuntime(CpuConfig.from_options([args.threads]))
    model = inspect_model(args.model)
    loaded = target.load(model, target.variants()[0])
    loaded.set_inputs(random_inputs(model.inputs).frames[0])
    invoke = loaded.invoke
    plan = MeasurePlan(
        min_runs=args.runs,
        min_time_s=0.0,
        max_time_s=600.0,
        warmup_runs=args.runs,
        warmup_time_s=0.5,
    )
    warm_up(invoke, plan)

    bare, ours, bare_wall, ours_wall = [], [], 0, 0
    for round_index in range(args.rounds):
        for which in (0, 1) if round_index % 2 == 0 else (1, 0):
            if which == 0:
                samples, wall = bare_loop(invoke, args.runs)
                bare += samples
                bare_wall += wall
            else:
                measurement = measure(invoke, plan)
                ours += measurement.samples_ns
                ours_wall += measurement.wall_ns
    p50_bare, p50_ours = statistics.median(bare) / 1e6, statistics.median(ours) / 1e6
    ratio = p50_ours / p50_bare
    wall_ratio = (ours_wall / len(ours)) / (bare_wall / len(bare))
    print(
        f"model {args.model.name}, {args.threads} thread(s), {args.rounds} interleaved rounds x {args.runs} runs each"
    )
    print(
        f"bare invoke() loop   p50 {p50_bare:.4f} ms   wall/iteration {bare_wall / len(bare) / 1e6:.4f} ms"
    )
    print(
        f"edgedeploy harness   p50 {p50_ours:.4f} ms   wall/iteration {ours_wall / len(ours) / 1e6:.4f} ms"
    )
    print(
        f"p50 ratio harness/bare: {ratio:.3f} (goal <= {GOAL}) {'OK' if ratio <= GOAL else 'ABOVE GOAL'}"
    )
    print(f"wall-per-iteration ratio: {wall_ratio:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
