"""Fit the Edge TPU latency estimate's constants (v2) to published measurements and judge them.

Reads the published measurements (``tests/data/edgetpu/latency/measurements.json``) and the workload
descriptions of the measured architectures (``benchmarks/data/edgetpu_workloads/``, written by
``build_workloads.py``; ``latency_points.py`` ties them together), fits the constants
(``edgedeploy/targets/edgetpu/estimate/fit.py`` says how), and judges them leave-one-architecture-out:
every measurement of an architecture (Edge TPU and CPU-only) is left out of the fit that estimates it.
Printed, overall and per host profile, from the uncompiled and (original files only) the compiled files:
median |error|, share within +/-10 % and +/-25 %, Spearman, and how many published numbers fall inside the
printed range (whose band for a point comes from the other architectures' errors only).

    python benchmarks/fit_edgetpu_latency.py            # fit, judge, print; exit 1 if a goal fails
    python benchmarks/fit_edgetpu_latency.py --write    # ... and rewrite estimate/hosts-v2.json
    python benchmarks/fit_edgetpu_latency.py --points   # ... and print every judged point
    python benchmarks/fit_edgetpu_latency.py --markdown # the tables as markdown (benchmarks/README.md)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from hosts_file import LEVEL, OVERHEAD, constants_file  # noqa: E402
from latency_points import DATA, PROFILES, load_points, load_workloads  # noqa: E402

from edgedeploy.targets.edgetpu.estimate import fit as F  # noqa: E402
from edgedeploy.targets.edgetpu.estimate.profiles import DATA_FILE, INSTRUCTION_KEYS  # noqa: E402

V1_FILE = DATA_FILE.with_name("hosts-v1.json")
GOALS = {  # leave-one-architecture-out, uncompiled files (issue 19)
    "median_abs_error": ("<=", 0.12),
    "within_10": (">=", 0.50),
    "within_25": (">=", 0.85),
    "spearman": (">=", 0.95),
    "coverage": (">=", 0.90),
}
MARKDOWN = False  # --markdown: print the tables as markdown rows


def row(name: str, stats: dict) -> str:
    if MARKDOWN:
        if not stats:
            return f"| {name} | 0 | | | | | | | |"
        return (
            f"| {name} | {stats['measurements']} | {stats['architectures']} | "
            f"{stats['median_abs_error']:.1%} | {stats['within_10']:.1%} | {stats['within_25']:.1%} | "
            f"{stats['spearman']:.3f} | {stats['coverage']:.0%} | {stats['range_width']:.2f}x |"
        )
    if not stats:
        return f"{name:<22} (no measurements)"
    return (
        f"{name:<22}{stats['measurements']:>4}{stats['architectures']:>6}"
        f"{stats['median_abs_error']:>9.1%}{stats['within_10']:>8.1%}{stats['within_25']:>8.1%}"
        f"{stats['spearman']:>9.3f}{stats['coverage']:>9.0%}{stats['range_width']:>8.2f}x"
    )


def table(title: str, results: list) -> dict:
    print(f"\n{title}")
    if MARKDOWN:
        print(
            "\n| host profile | n | archs | median abs error | <=10% | <=25% | Spearman | in range | width |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
    else:
        print(
            f"{'':<22}{'n':>4}{'archs':>6}{'median':>9}{'<=10%':>8}{'<=25%':>8}{'Spearman':>9}"
            f"{'in range':>9}{'width':>9}"
        )
    overall = F.judge(results, LEVEL)
    print(row("all", overall))
    by_host = defaultdict(list)
    for p, e in results:
        by_host[p.host].append((p, e))
    for host in PROFILES:
        if host in by_host:
            print(row(host, F.judge(by_host[host], LEVEL)))
    return overall


def goals_met(stats: dict) -> list[str]:
    failed = []
    for key, (op, goal) in GOALS.items():
        ok = stats[key] <= goal if op == "<=" else stats[key] >= goal
        print(f"  {key:<18} {stats[key]:.3f} (goal {op} {goal}) {'met' if ok else 'NOT met'}")
        if not ok:
            failed.append(key)
    return failed


VALIDATION: dict = {}


def fit_data(include_pending: bool = False):
    """(uncompiled points, CPU-only points, skipped {index: why}, compiled points, instruction samples,
    {architecture: (instruction bytes, spilled bytes)} of the compiled files): what is fitted and judged
    (``include_pending``: latency_points.PENDING_DESCRIPTIONS too)."""
    workloads = load_workloads()
    points, cpu_points, skipped = load_points("uncompiled", OVERHEAD, workloads, include_pending)
    compiled_points, _, _ = load_points("compiled", OVERHEAD, workloads)
    samples, measured = instruction_samples(workloads)
    return points, cpu_points, skipped, compiled_points, samples, measured


def judge_compiled(points, compiled_points, cpu_points, samples, measured) -> list:
    """Leave-one-architecture-out from the compiled files: what the package says (instruction and
    spilled activation bytes) replaces what the uncompiled estimate predicts. ``samples=None``: the
    link term without either (as in constants version 2)."""
    out = []
    for arch in sorted({p.arch for p in compiled_points}):
        fold = [p for p in points if p.arch != arch]
        if samples is not None:
            rates = F.fit_instructions([s for s in samples if s.arch != arch])
            fold = F.with_instructions(fold, *rates)
        f = F.fit(fold, [c for c in cpu_points if c.arch != arch])
        for p in compiled_points:
            if p.arch == arch:
                instructions, spilled = measured[arch] if samples is not None else (0, 0)
                q = replace(p, instruction_bytes=float(instructions), spilled_bytes=float(spilled))
                out.append((q, f.predict(q)))
    return out


def instruction_samples(workloads) -> tuple[list[F.InstructionSample], dict[str, tuple[int, int]]]:
    """The instruction bytes of every compiled original file in the measurement data (read from its
    package) with the Edge TPU ops and bytes written that predict them; {architecture: (instruction
    bytes, spilled activation bytes)} as the packages say."""
    from edgedeploy.targets.edgetpu.estimate.workload import (
        compiled_workload,
        package_instruction_bytes,
        package_spilled_bytes,
    )
    from edgedeploy.targets.edgetpu.inspect.compiled import read_regions
    from edgedeploy.targets.edgetpu.predict.rules import load_rules
    from edgedeploy.tflite import read_model

    rules, samples, measured = load_rules(), [], {}
    for path in sorted((DATA / "models").glob("*/*_edgetpu.tflite")):
        source = path.with_name(path.name.replace("_edgetpu.tflite", ".tflite"))
        if not source.is_file():
            continue
        graph = read_model(path)
        tpu = compiled_workload(graph, read_model(source), rules, str(path)).facts.tpu_ops
        # the architecture it is a file of (leave-one-architecture-out leaves it out with the rest)
        arch = workloads[source.stem].arch if source.stem in workloads else f"(file) {source.stem}"
        regions = read_regions(graph)
        instructions = package_instruction_bytes(regions)
        written = float(sum(o.output_bytes for o in tpu))
        samples.append(F.InstructionSample(arch, len(tpu), written, float(instructions)))
        measured[arch] = (instructions, package_spilled_bytes(regions))
    return samples, measured


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite estimate/hosts-v2.json")
    parser.add_argument("--points", action="store_true", help="print every judged point")
    parser.add_argument("--markdown", action="store_true", help="print the tables as markdown")
    args = parser.parse_args()
    global MARKDOWN
    MARKDOWN = args.markdown
    points, cpu_points, skipped, compiled_points, samples, measured = fit_data()
    rates = F.fit_instructions(samples)
    hosts = sorted({p.host for p in points})
    print(
        f"{len(points)} model-only Edge TPU measurements (kind edgetpu, not cold) of "
        f"{len({p.arch for p in points})} architectures on {len(hosts)} host profiles ({', '.join(hosts)}); "
        f"{len(cpu_points)} CPU-only runs; {len(skipped)} published numbers not used:"
    )
    reasons = defaultdict(list)
    for index, why in skipped.items():
        reasons[why].append(index)
    for why, indices in reasons.items():
        print(f"  {len(indices):>3} {why}")
    fitted = F.fit(F.with_instructions(points, *rates), cpu_points)
    loao = F.leave_one_architecture_out(points, cpu_points, samples)
    stats = table("leave-one-architecture-out, from the uncompiled files", loao)
    compiled = judge_compiled(points, compiled_points, cpu_points, samples, measured)
    compiled_stats = table(
        "leave-one-architecture-out, from the compiled files (original files)", compiled
    )
    fitted_stats = table(
        "in-sample (fitted on everything; for comparison only)",
        [(p, fitted.predict(p)) for p in F.with_instructions(points, *rates)],
    )
    band = F.band_for([F.fold_error(e, p.published_ms) for p, e in loao], LEVEL)
    compiled_band = max(
        band, F.band_for([F.fold_error(e, p.published_ms) for p, e in compiled], LEVEL)
    )
    table(
        "for comparison, without the instruction and spilled activation bytes (the link term of "
        "constants version 2), judged the same way on the same data: uncompiled files",
        F.leave_one_architecture_out(points, cpu_points),
    )
    table(
        "... and compiled files (the version 2 link term)",
        judge_compiled(points, compiled_points, cpu_points, None, measured),
    )
    pending, pending_cpu, _, _, _, _ = fit_data(include_pending=True)
    if len(pending) > len(points):
        table(
            f"with the {len(pending) - len(points)} measurements held out as pending "
            "(latency_points.PENDING_DESCRIPTIONS) in the fit and the judgement: uncompiled files",
            F.leave_one_architecture_out(pending, pending_cpu, samples),
        )
    v1 = json.loads(V1_FILE.read_text(encoding="utf-8"))["validation"]
    print(
        "\nv1 (hosts-v1.json, leave-one-model-out on its own 11 measurements of 9 models): median "
        f"{v1['uncompiled']['median_abs_error']:.1%} uncompiled / {v1['compiled']['median_abs_error']:.1%} "
        f"compiled, Spearman {v1['uncompiled']['spearman']:.3f} / {v1['compiled']['spearman']:.3f}"
    )
    print("\nconstants (fitted on everything):")
    for key, value in fitted.cycles.items():
        print(
            f"  cycles per {'op' if key == 'op' else 'MAC' if key in ('conv', 'conv1x1', 'depthwise', 'fc') else 'byte'} "
            f"{key:<12} {value:.4g}"
        )
    for key, value in fitted.link_mb_per_s.items():
        print(
            f"  {key:<10} streamed parameters {value:.0f} MB/s, in {fitted.io_mb_per_s[key]:.0f} MB/s, "
            f"out {fitted.out_mb_per_s[key]:.0f} MB/s"
        )
    for key, value in fitted.fixed_ms.items():
        print(
            f"  per-invoke {key:<10} {value:.3f} ms; CPU {fitted.cpu_ms_per_gunit.get(key, 0):.3g} ms per 1e9 units"
        )
    custom = ", ".join(f"{h} {v:.3g}" for h, v in fitted.custom_units_per_value.items())
    print(
        f"  CPU cost units per value written {fitted.cpu_units_per_value:.3g}; per value a custom op "
        f"reads: {custom}; per value read and box kept {fitted.custom_units_per_detection_value:.3g}; "
        f"range band +/-{band:.1%}"
    )
    print(
        f"  instruction bytes per Edge TPU op {rates[0]:.4g}, per byte written {rates[1]:.4g} "
        f"(fitted on the instruction bytes of {len(samples)} compiled files)"
    )
    if args.points:
        print(
            f"\n{'#':>4} {'architecture':<48} {'host':<10} {'published':>9} {'estimate':>9} {'error':>7}"
        )
        for p, e in sorted(loao, key=lambda r: (r[0].arch, r[0].host)):
            print(
                f"{p.index:>4} {p.arch:<48} {p.host:<10} {p.published_ms:>9.2f} {e:>9.2f} "
                f"{(e - p.published_ms) / p.published_ms:>+7.0%}"
            )
    print("\ngoals (leave-one-architecture-out, uncompiled files):")
    failed = goals_met(stats)
    VALIDATION.update(uncompiled=stats, compiled=compiled_stats, in_sample=fitted_stats)
    if args.write:
        data = constants_file(fitted, points, cpu_points, stats, (band, compiled_band), VALIDATION)
        instruction_source = (
            f"fitted: non-negative least squares of the relative error of the instruction bytes "
            f"(instruction bitstreams, sent with every inference) of {len(samples)} compiled files in "
            "tests/data/edgetpu/latency/models (fit.fit_instructions); not fitted on any latency"
        )
        for key, value in zip(INSTRUCTION_KEYS, rates, strict=True):
            data["chip"][key] = {"value": round(value, 6), "source": instruction_source}
        DATA_FILE.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {DATA_FILE.relative_to(REPO)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
