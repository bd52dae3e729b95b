"""The Edge TPU's ``limits`` capability: one model at one size, as ``PointFacts``.

    limits_point(graph, label=..., host=None, clock=None, compiler_version=None, min_runtime=None)

``graph`` is an int8 TFLite graph: the converted model, or the forecast ``edgedeploy limits`` makes from
shapes. Three concerns, each with the op or tensor that causes it and the fix:

- mapping: ``check``'s own analysis (per-op rules, the partition): ``cut`` when ops fall to the CPU,
  ``risky`` when an op's mapping is uncertain, ``fails`` when the compiler would refuse the model;
- parameters: the Edge TPU ops' weight bytes x the package overhead measured on compiled files
  (``hosts-v2.json``, the estimate's own prediction) against the on-chip memory: ``ok`` up to the
  smallest usable size compiled models report (~6 MiB), ``risky`` up to the ~8 MiB physical cache,
  ``streams`` beyond (docs/edgetpu.md section 7);
- activations: the largest tensor on the Edge TPU side against real compiles (``predict/activations.py``).

The latency is ``edgedeploy estimate``'s method on the same graph (the terms, validated on published
measurements), CPU-side ops included (their per-op cost model needs no real file).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from edgedeploy.errors import InputError
from edgedeploy.report import fmt_bytes
from edgedeploy.targets.edgetpu.estimate.estimate import term_inputs
from edgedeploy.targets.edgetpu.estimate.profiles import DEFAULT_CLOCK, DEFAULT_HOST, load_constants
from edgedeploy.targets.edgetpu.estimate.terms import estimate_terms
from edgedeploy.targets.edgetpu.estimate.workload import uncompiled_workload
from edgedeploy.targets.edgetpu.package_size import package_parameter_bytes
from edgedeploy.targets.edgetpu.predict.activations import activation_concern, load_evidence
from edgedeploy.targets.edgetpu.predict.analysis import (
    DYNAMIC_FIX,
    USABLE_CACHE_FRACTION,
    analyse,
)
from edgedeploy.targets.edgetpu.predict.result import CheckResult
from edgedeploy.targets.edgetpu.predict.rules import DEFAULT_COMPILER, load_rules
from edgedeploy.targets.point_facts import CUT, FAILS, OK, RISKY, STREAMS, Concern, PointFacts
from edgedeploy.tflite import TFLiteGraph

PARAMETER_FIX = (
    "a smaller width multiplier (alpha); fewer output classes when the classifier is the biggest "
    "layer; or split the model over several Edge TPUs (compile --segments N)"
)


def _fix_for(report: CheckResult, index: int) -> str:
    return next((f.fix for f in report.findings if index in f.ops and f.fix), "")


def _mapping(report: CheckResult) -> Concern:
    s = report.summary
    if s.compile_fails:
        first = next((p for p in report.ops if p.reason == "dynamic-shape"), report.ops[0])
        return Concern(
            FAILS, f"op {first.index} {first.op} (dynamic-shape)", report.verdict, DYNAMIC_FIX
        )
    if s.cpu_ops:
        index = (
            s.first_cut_op
            if s.first_cut_op is not None
            else next(p.index for p in report.ops if p.verdict == "cpu")
        )
        op = report.ops[index]
        return Concern(
            CUT, f"op {op.index} {op.op} ({op.reason})", report.verdict, _fix_for(report, op.index)
        )
    if s.risky_ops:
        op = next(p for p in report.ops if p.verdict == "risky")
        return Concern(
            RISKY,
            f"op {op.index} {op.op} ({op.reason})",
            report.verdict,
            _fix_for(report, op.index),
            evidence=op.detail,
        )
    return Concern(OK, detail=report.verdict)


def _parameters(report: CheckResult, overhead: float, cache: int) -> tuple[Concern, int, int]:
    """(verdict, on-chip bytes, streamed bytes): package bytes predicted from the weights."""
    package = package_parameter_bytes(
        report.summary.param_bytes_tpu or 0
    )  # the same figure check reports
    usable = int(cache * USABLE_CACHE_FRACTION)
    on_chip, streamed = min(package, cache), max(0, package - cache)
    heavy = max(
        (p for p in report.ops if p.verdict != "cpu"), key=lambda p: p.param_bytes, default=None
    )
    cause = (
        f"op {heavy.index} {heavy.op} holds {fmt_bytes(heavy.param_bytes)} of {fmt_bytes(report.summary.param_bytes_tpu)}"
        if heavy is not None and heavy.param_bytes
        else ""
    )
    evidence = (
        f"compiled models report 6.1-7.8 MiB of the ~{fmt_bytes(cache)} on-chip memory usable for parameters "
        f"(docs/edgetpu.md section 7): ok up to {fmt_bytes(usable)}, risky up to {fmt_bytes(cache)}; package "
        f"bytes = weight bytes x {overhead:.3g} (measured on Google's compiled files, hosts-v2.json)"
    )
    text = f"parameters {fmt_bytes(package)} predicted"
    if package <= usable:
        return Concern(OK, cause, f"{text}: on chip", evidence=evidence), on_chip, streamed
    if package <= cache:
        return (
            Concern(
                RISKY,
                cause,
                f"{text}: near the on-chip memory, part may stream from the host",
                PARAMETER_FIX,
                evidence,
            ),
            on_chip,
            streamed,
        )
    return (
        Concern(
            STREAMS,
            cause,
            f"{text}: {fmt_bytes(streamed)} stream from the host on every inference",
            PARAMETER_FIX,
            evidence,
        ),
        on_chip,
        streamed,
    )


def limits_point(
    graph: TFLiteGraph,
    *,
    label: str = "",
    host: str | None = None,
    clock: str | None = None,
    compiler_version: int | None = None,
    min_runtime: int | None = None,
) -> PointFacts:
    rules = load_rules(compiler_version or DEFAULT_COMPILER, min_runtime)
    constants = load_constants()
    profile = constants.host(host or DEFAULT_HOST)
    clock_mhz = constants.clock_mhz(profile, clock or DEFAULT_CLOCK)
    report = analyse(graph, rules, label)
    s = report.summary
    parameters, on_chip, streamed = _parameters(
        report, constants.chip.parameter_overhead, rules.on_chip_cache_bytes
    )
    activations, largest, shape = activation_concern(graph, report.ops)
    facts = PointFacts(
        # analyse() counts every op; the Summary type leaves them optional for compiled files
        total_ops=s.total_ops or 0,
        tpu_ops=s.tpu_ops or 0,
        risky_ops=s.risky_ops or 0,
        cpu_ops=s.cpu_ops or 0,
        macs_total=s.macs_total or 0,
        macs_tpu=s.macs_tpu or 0,
        param_bytes=s.param_bytes_tpu or 0,
        on_chip_bytes=on_chip,
        streamed_bytes=streamed,
        largest_activation_bytes=largest,
        largest_activation_shape=shape,
        mapping=_mapping(report),
        parameters=parameters,
        activations=activations,
        thresholds={
            "activations_seen_compiling": load_evidence().largest_compiled[
                "largest_activation_bytes"
            ],
            "parameters_ok_up_to": int(rules.on_chip_cache_bytes * USABLE_CACHE_FRACTION),
            "parameters_risky_up_to": rules.on_chip_cache_bytes,
        },
    )
    _latency(facts, graph, rules, constants, profile, clock_mhz, label)
    return facts


def _latency(
    facts: PointFacts, graph: TFLiteGraph, rules, constants, profile, clock_mhz: float, label: str
) -> None:
    if facts.mapping.verdict == FAILS:
        facts.latency_note = "no estimate: the compiler would refuse the model"
        return
    try:
        workload = uncompiled_workload(graph, rules, constants.chip, label)
    except InputError as exc:
        facts.latency_note = f"no estimate: {exc}"
        return
    estimate = estimate_terms(
        term_inputs(workload, constants, profile),
        profile,
        constants.chip,
        constants.bands,
        clock_mhz,
    )
    facts.latency_ms, facts.latency_ms_low = estimate.latency_ms, estimate.latency_ms_low
    facts.latency_ms_high = estimate.latency_ms_high
    facts.latency_note = (
        f"estimated ({profile.name}, {clock_mhz:g} MHz; edgedeploy estimate's method)"
        + ("; " + "; ".join(estimate.wider_because) if estimate.wider_because else "")
    )


def compile_disagreements(compiled: Mapping[str, Any], converted: PointFacts) -> list[str]:
    """What the real compiler said (the convert step's compile data) that the prediction did not: a
    failure, ops on the CPU, parameters off chip."""
    if compiled.get("status") == "failed":
        return [f"the Edge TPU compiler failed: {compiled.get('reason')}"]
    found = []
    for model in (compiled.get("report") or {}).get("models") or []:
        said = model.get("summary") or {}
        if said.get("cpu_ops") is not None and said["cpu_ops"] != converted.cpu_ops:
            found.append(
                f"the Edge TPU compiler left {said['cpu_ops']} ops on the CPU "
                f"(predicted {converted.cpu_ops})"
            )
        if said.get("off_chip_bytes") and converted.parameters.verdict == OK:
            found.append(
                f"the Edge TPU compiler streams {said['off_chip_bytes']} parameter bytes from the host"
            )
    return found
