"""The work for one row: convert (through the cache), check, bench on each target, eval.

Each stage's failure is caught and written into the row (stage + one-line error), so one bad model
never stops the study; Ctrl-C is not caught: it ends the study, and finished conversions stay cached.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgedeploy.bench.result import BenchResult
from edgedeploy.compare.accuracy import Accuracy, EvalSet, evaluate
from edgedeploy.compare.cache import ConversionCache, cache_key, key_inputs
from edgedeploy.compare.plan import StudyItem
from edgedeploy.compare.row import CacheInfo, LatencyCell, ModelFacts, Row
from edgedeploy.converters.quiet import captured_output
from edgedeploy.errors import EdgedeployError, InputError, first_line
from edgedeploy.onnx_reader import load_onnx, parameter_count
from edgedeploy.targets.contract import EstimateBrief, MappingSummary

CONVERT_LOG = "compare-convert.log"  # the conversion's own progress lines and third-party chatter


@dataclass
class Study:
    """What every row's stages share."""

    options: Any  # ConvertOptions
    cache: ConversionCache
    tools: dict[str, str | None]
    targets: tuple[str, ...]
    variants: dict[str, list[str]]  # target -> variant labels, for rows whose bench could not start
    bench: Callable[
        [Path, str, Callable[[str], None]], BenchResult
    ]  # (int8 file, target, progress)
    eval_set: EvalSet | None = None
    mapped_target: str | None = (
        None  # the requested target whose check (and estimate) each row gets
    )
    environment: dict[str, Any] = field(default_factory=dict)  # from the first bench run
    warnings: list[str] = field(default_factory=list)  # the first of each kind
    warning_counts: dict[str, int] = field(
        default_factory=dict
    )  # kind -> how often, in order of first sight
    keys: dict[str, tuple[str, dict[str, Any]]] = field(
        default_factory=dict
    )  # label -> cache key, its inputs

    def add_warnings(self, found: list[str]) -> None:
        """One line per kind of warning: the same warning for another model or with other numbers
        (load 2.1, load 2.3) is counted, not repeated."""
        for warning in found:
            kind = re.sub(r"[0-9.]+", "#", re.sub(r"^[^:]* on [^:]*: ", "", warning))
            if kind not in self.warning_counts:
                self.warnings.append(warning)
            self.warning_counts[kind] = self.warning_counts.get(kind, 0) + 1

    def summarized_warnings(self) -> list[str]:
        counts = iter(self.warning_counts.values())
        return [
            w + (f" (and {n - 1} more like it)" if n > 1 else "")
            for w, n in zip(self.warnings, counts)
        ]

    def key(self, item: StudyItem) -> tuple[str, dict[str, Any]]:
        """The item's cache key and what it was computed from (files are hashed once per study)."""
        if item.label not in self.keys:
            inputs = key_inputs(item, self.options, self.tools)
            self.keys[item.label] = (cache_key(item, inputs), inputs)
        return self.keys[item.label]


def failure_message(exc: Exception) -> str:
    if isinstance(exc, EdgedeployError):
        return str(exc)
    return f"unexpected failure: {type(exc).__name__}: {first_line(exc, fallback='')}"


def converted(
    item: StudyItem, cache: ConversionCache, options: Any, key: str, inputs: dict[str, Any]
) -> tuple[dict[str, Any], Path, bool]:
    """(convert report, cache entry, cache hit). A miss converts into the cache; a failure keeps nothing.
    Runs in the study's process or in a worker (``workers``, ``ray_cluster``)."""
    from edgedeploy.converters.pipeline import convert

    report = cache.lookup(key)
    if report is not None:
        return report, cache.entry(key), True
    with cache.filling(key, inputs) as work:
        log = work.parent / CONVERT_LOG
        # convert's own stage lines and third-party chatter go to the entry's log, at the descriptor level
        # (C++ code) and at Python's level (where sys.stderr is not descriptor 2, as under a test runner).
        with (
            open(log, "a", buffering=1) as python_log,
            captured_output(log),
            contextlib.redirect_stdout(python_log),
            contextlib.redirect_stderr(python_log),
        ):
            convert(item.source, work, options, force=True)
        shutil.move(log, work / CONVERT_LOG)
    report = cache.lookup(key)
    if report is None:
        raise EdgedeployError(
            f"the conversion finished but its cache entry {cache.entry(key)} is incomplete"
        )
    return report, cache.entry(key), False


def onnx_params(path: Path) -> int | None:
    """Parameters of a model file that came without a PyTorch module: the ONNX initializers' elements."""

    try:
        return parameter_count(load_onnx(path, external_data=False))
    except InputError:  # a count we cannot make is None, never a guess
        return None


def describe_model(report: dict[str, Any], entry: Path) -> ModelFacts:
    """The row's model from its conversion's report.json (the cache's JSON edge)."""
    details, outputs = report.get("model_details") or {}, report["outputs"]
    params, counted_on = details.get("params"), "pytorch model"
    if params is None and outputs.get("onnx"):
        params, counted_on = onnx_params(entry / outputs["onnx"]), "onnx initializers"
    return ModelFacts(
        name=report["model"],
        params=params,
        params_counted_on=counted_on if params else None,
        macs=details.get("macs"),
        macs_counted_on="pytorch model" if details.get("macs") else None,
        resolution=report["preprocessing"]["size"][0],
        int8_file=str(entry / outputs["int8_tflite"]),
        float32_file=str(entry / outputs["float32_tflite"]),
        int8_bytes=report["int8"]["bytes"],
        float32_bytes=report["float32"]["bytes"],
        int8_ops=report["int8"]["ops"],
        op_histogram=report["int8"]["op_histogram"],
        preprocessing=model_preprocessing(report, entry),
    )


def model_preprocessing(report: dict[str, Any], entry: Path) -> dict[str, Any]:
    """From the int8 model's I/O sidecar (checked against the model); report.json's for entries made before it."""
    from edgedeploy.deploy.sidecar import load_for

    found = load_for(entry / report["outputs"]["int8_tflite"])
    return found[0].preprocessing.to_dict() if found else report["preprocessing"]


def mapped_target(names: list[str] | tuple[str, ...]) -> str | None:
    """The requested target whose op mapping each row predicts: the first with a check capability."""
    from edgedeploy.targets.registry import get_target

    return next((name for name in names if get_target(name).has("check")), None)


def checked(int8_file: Path, target: str) -> MappingSummary:
    """The target's predicted mapping of the int8 model (the same rules as ``edgedeploy check``)."""
    from edgedeploy.targets.registry import get_target

    check = get_target(target, "check").check
    assert check is not None  # get_target(..., "check") refuses a target without one
    return check(int8_file).mapping(target)


def estimated(int8_file: Path, target: str) -> EstimateBrief | None:
    """The target's estimated latency (its ``estimate`` capability, default profile): labelled, never
    measured; None when the target has no estimate."""
    from edgedeploy.targets.registry import get_target

    spec = get_target(target)
    if spec.estimate is None:
        return None
    try:
        result = spec.estimate(int8_file)
    except EdgedeployError as exc:  # the mapping row still stands without it
        return EstimateBrief.failed(exc.message)
    return None if result is None else result.brief()


def benched(int8_file: Path, study: Study, progress: Callable[[str], None]) -> list[LatencyCell]:
    """Each target on its own, so a target that fails to start (no compiler for coral) fails only its cells."""
    cells = []
    for target in study.targets:
        try:
            result = study.bench(int8_file, target, progress)
        except EdgedeployError as exc:
            cells += [
                LatencyCell(target, label, "failed", str(exc)) for label in study.variants[target]
            ]
            continue
        study.environment = study.environment or result.environment
        study.add_warnings(result.warnings)
        load = result.environment.get("load_average_1min")
        cells += [LatencyCell.from_bench(cell, load) for cell in result.cells]
    return cells


def _taken(row: Row, conversion: Any, name: str, value: Any) -> Any:
    """The outcome of a step that ran in a worker, recorded in the row as if it had run here."""
    error, seconds = (
        (conversion.error, conversion.seconds)
        if name == "convert"
        else (conversion.check_error, conversion.check_seconds)
    )
    row.seconds[name] = seconds
    if name == "convert" and conversion.where:
        row.cache.converted_in = conversion.where
    if error:
        row.fail(name, error)
        return None
    return value


def run_row(
    item: StudyItem, study: Study, stage: Callable[[str, str], None], conversion: Any = None
) -> Row:
    """Every stage of one row; ``stage(name, detail)`` tells the display what is running. ``conversion``
    (a ``workers.Conversion``): convert and check already ran elsewhere, their outcome is taken as it is."""
    row = Row(item)
    key, inputs = study.key(item)
    row.cache = CacheInfo(key, str(study.cache.entry(key)))

    def step(name: str, work: Callable[[], Any]) -> Any:
        stage(name, "")
        start = time.perf_counter()
        try:
            return work()
        except Exception as exc:  # noqa: BLE001 - any failure of one model is that row's, not the study's
            row.fail(name, failure_message(exc))
            return None
        finally:
            row.seconds[name] = round(time.perf_counter() - start, 3)

    done = (
        step("convert", lambda: converted(item, study.cache, study.options, key, inputs))
        if conversion is None
        else _taken(
            row,
            conversion,
            "convert",
            (conversion.report, Path(conversion.entry or "."), conversion.hit),
        )
    )
    if done is None:
        if (
            study.eval_set is not None
        ):  # --eval was given: say why there is no accuracy, not "no --eval"
            row.accuracy = Accuracy.not_evaluated(
                f"not evaluated: the model failed at {row.errors[-1].stage}"
            )
        return row
    report, entry, row.cache.hit = done
    row.model = describe_model(report, entry)
    int8_path, float32_path, preprocessing = (
        row.model.int8_file,
        row.model.float32_file,
        row.model.preprocessing,
    )
    # describe_model names both files and the preprocessing of every converted model
    assert int8_path is not None and float32_path is not None and preprocessing is not None
    int8_file, float32_file = Path(int8_path), Path(float32_path)
    target = study.mapped_target
    if target is not None:
        row.mapping = (
            step("check", lambda: checked(int8_file, target))
            if conversion is None
            else _taken(row, conversion, "check", conversion.check)
        )
        if row.mapping is not None:
            row.estimate = step("estimate", lambda: estimated(int8_file, target))
    if row.mapping is not None and not row.model.macs:
        row.model.macs, row.model.macs_counted_on = (
            row.mapping.macs_total,
            "int8 tflite graph",
        )
    row.latency = (
        step(
            "bench",
            lambda: benched(
                int8_file,
                study,
                lambda message: stage(
                    "bench",
                    message.rsplit(" on ", 1)[-1] if message.startswith("measuring") else message,
                ),
            ),
        )
        or []
    )
    eval_set = study.eval_set
    if eval_set is not None:
        evaluated = step("eval", lambda: evaluate(eval_set, preprocessing, float32_file, int8_file))
        if evaluated is not None:
            row.accuracy = evaluated
        else:
            row.accuracy = Accuracy.not_evaluated(f"eval failed: {row.errors[-1].message}")
    return row
