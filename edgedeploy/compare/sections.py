"""The prose around the table, written once for report.md and report.html: what was not measured,
the recommendation, how latency was measured and on what machine, warnings and notes."""

from __future__ import annotations

from edgedeploy.compare.recommend import DEFINITION
from edgedeploy.compare.result import CompareResult
from edgedeploy.compare.tables import LATENCY_NOTE

Section = tuple[str, list[str]]


def recommendation_lines(result: CompareResult) -> list[str]:
    rec = result.recommendation
    if rec is None:
        return []
    lines = [f"Constraints: {rec.constraints.describe()}."]
    if rec.chosen is None:
        lines.append(f"No recommendation: {rec.why[0]}.")
    else:
        lines.append(
            f"Recommended: {rec.chosen}"
            + (f" (runner-up: {rec.runner_up})" if rec.runner_up else "")
            + "."
        )
        lines += [f"Why: {line}." for line in rec.why]
    lines += [f"Ruled out {out['model']}: {out['reason']}." for out in rec.ruled_out]
    lines.append(f"Definition: {DEFINITION}.")
    return lines


def mapping_lines(result: CompareResult) -> list[str]:
    """Per model: the predicted verdict and the findings that move ops to the CPU or put them at risk."""
    lines = []
    for row in result.rows:
        if row.mapping is None:
            continue
        serious = [f"{f.title} (x{f.count})" for f in row.mapping.findings if f.severity != "info"]
        lines.append(
            f"{row.item.label}: {row.mapping.verdict}"
            + (f"; {'; '.join(serious)}" if serious else "")
        )
    if lines:
        lines.append(
            "Details per operator and the fix: edgedeploy check <the model's int8 .tflite in the cache>."
        )
    return lines


def checked_for(result: CompareResult) -> str:
    mapped = result.mapped
    return "no accelerator (none was requested)" if mapped is None else mapped.display_name


def method_lines(result: CompareResult) -> list[str]:
    m, env = result.method, result.environment
    plan = m["bench_plan"]
    lines = [
        f"Study: {', '.join(m['specs'])}; resolutions {m['resolutions']}; targets {', '.join(m['targets'])}.",
        "Each model: converted to full-int8 TFLite (edgedeploy convert, calibrated on "
        f"{m['calibration']}), checked for {checked_for(result)}, the int8 model benchmarked on each available target.",
        f"Bench: warm-up at least {plan['warmup_runs']} run(s) and {plan['warmup_time_s']:g} s, then "
        f"{plan['repeats']} repeat(s) of at least {plan['min_runs']} runs and {plan['min_time_s']:g} s "
        f"(at most {plan['max_time_s']:g} s); only invoke() is timed; input: {m['bench_input']}.",
        LATENCY_NOTE + ".",
        f"Weights: {m['weights']}.",
    ]
    if m.get("conversions"):
        where = "; ".join(
            f"{target} on {place}" for target, place in m.get("bench_where", {}).items()
        )
        lines.append(f"Conversions: {m['conversions']}. Benchmarks: {m['benchmarks']} ({where}).")
    if env:
        before = {
            (r.item.label, c.target): c.load_average_1min
            for r in result.rows
            for c in r.latency
            if c.load_average_1min is not None and c.status == "ok"
        }  # one per bench run
        load = ", ".join(f"{value:.2f}" for value in before.values())
        lines.append(
            f"Machine: {env.get('cpu_model')}, {env.get('usable_cores')} usable cores, governor "
            f"{env.get('governor') or 'not exposed'}; {env.get('os')}; "
            f"LiteRT {env.get('versions', {}).get('ai-edge-litert')}."
        )
        if load:
            lines.append(
                f"Load average (1 min) before each bench: {load}. Other work on the machine makes "
                "timings noisy; the spread columns and box plots show how much."
            )
    if m.get("eval"):
        e = m["eval"]
        lines.append(
            f"Accuracy: top-1 on {e['images']} images in {e['classes']} classes from {e['folder']}; "
            f"class index = {e['class_index']}."
        )
        # e.g. the 1001-line ImageNet labels ("background" first) against 1000-output models: say the shift
        shifted = sorted({r.accuracy.note for r in result.rows if r.accuracy.note})
        lines += [
            f"Labels: {note}." if not note.endswith(".") else f"Labels: {note}" for note in shifted
        ]
    lines.append(
        f"Conversions are cached in {m['cache_dir']} (key: model, alpha, resolution, weights, "
        "convert options, tool versions)."
    )
    return lines


def sections(result: CompareResult) -> list[Section]:
    found = [("Not measured", [line[0].upper() + line[1:] + "." for line in result.not_measured()])]
    if result.recommendation is not None:
        found.append(("Recommendation", recommendation_lines(result)))
    mapping = mapping_lines(result)
    if mapping and result.mapped is not None:
        found.append((f"{result.mapped.column_name} mapping (predicted)", mapping))
    found.append(("Method", method_lines(result)))
    if result.warnings:
        found.append(("Warnings", list(result.warnings)))
    if result.notes:
        found.append(("Notes", list(result.notes)))
    return found
