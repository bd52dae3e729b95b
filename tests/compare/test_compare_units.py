"""`edgedeploy compare` parts that need no conversion: specs, the study plan, the cache key and its
atomic entries, the time-left estimate, the recommendation rules, the --eval class mapping, and every
bad input failing in one line before any work starts."""

from __future__ import annotations

import dataclasses
import json

import pytest

from edgedeploy.bench.stats import LatencyStats
from edgedeploy.compare.accuracy import SORTED_FOLDERS, Accuracy, load_eval_set, top1_accuracy
from edgedeploy.compare.cache import ConversionCache, cache_key, key_inputs
from edgedeploy.compare.plan import build_plan
from edgedeploy.compare.progress import Timing, describe_remaining, estimate_remaining
from edgedeploy.compare.recommend import Constraints, recommend
from edgedeploy.compare.row import LatencyCell, ModelFacts, Row
from edgedeploy.compare.specs import parse_resolutions, parse_spec, parse_weights
from edgedeploy.converters.context import ConvertOptions
from edgedeploy.errors import ExitCode, InputError, UsageError
from edgedeploy.outputs import STAGING_PREFIX
from edgedeploy.targets.contract import EstimateBrief, MappingSummary
from edgedeploy.targets.registry import get_target

# --- specs and plan -------------------------------------------------------------------------------


def test_spec_with_alphas_and_plain_name():
    spec = parse_spec("mobilenet_v3_small:0.2,0.5")
    assert (spec.builtin, spec.alphas, spec.is_file) == ("mobilenet_v3_small", (0.2, 0.5), False)
    assert parse_spec("mobilenet_edgetpu").alphas == (1.0,)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("mobilenet_v3_smal", "did you mean mobilenet_v3_small"),
        ("mobilenet_v3_small:abc", "'abc' is not a number"),
        ("mobilenet_v3_small:", "names no value"),
        ("mobilenet_edgetpu_v2_s:0.5", "offered 1"),
        ("mobilenet_v2:3", "choose a width multiplier in (0, 2]"),
    ],
)
def test_bad_specs_are_usage_errors(text, fragment):
    with pytest.raises(UsageError) as caught:
        parse_spec(text)
    assert fragment in str(caught.value)


def test_model_file_specs(tmp_path):
    model = tmp_path / "net.onnx"
    model.write_bytes(b"x")
    spec = parse_spec(str(model))
    assert spec.is_file and spec.path == model and spec.builtin is None
    with pytest.raises(InputError, match="no such file|not found"):
        parse_spec(str(tmp_path / "missing.onnx"))


def test_resolutions():
    assert parse_resolutions("96, 224,96") == (96, 224)
    assert parse_resolutions(None) == (None,)
    with pytest.raises(UsageError, match="out of range"):
        parse_resolutions("16")
    with pytest.raises(UsageError, match="not a number"):
        parse_resolutions("96,big")


def test_plan_is_model_x_alpha_x_resolution_in_the_order_given(tmp_path):
    model = tmp_path / "net.onnx"
    model.write_bytes(b"x")
    specs = [
        parse_spec("mobilenet_v2:0.5,1.0"),
        parse_spec(str(model)),
        parse_spec("mobilenet_v2:0.5"),
    ]
    items = build_plan(specs, (96, 224), [], pretrained=False)
    assert [i.label for i in items] == [
        "mobilenet_v2_0.5_96",
        "mobilenet_v2_0.5_224",
        "mobilenet_v2_1.0_96",
        "mobilenet_v2_1.0_224",
        "net",
    ]  # a file is one item; repeats fold
    assert items[-1].resolution is None and items[-1].weights_kind == "in the model file"
    assert items[0].weights_kind == "random"


def test_plan_weights(tmp_path):
    weights = tmp_path / "w.pth"
    weights.write_bytes(b"w")
    one = build_plan([parse_spec("mobilenet_v2")], (None,), parse_weights([str(weights)]), False)
    assert one[0].weights == weights and one[0].resolution == 224
    two = [parse_spec("mobilenet_v2:0.5,1.0")]
    with pytest.raises(UsageError, match="ambiguous"):
        build_plan(two, (None,), parse_weights([str(weights)]), False)
    named = build_plan(two, (None,), parse_weights([f"mobilenet_v2:1.0={weights}"]), False)
    assert [i.weights for i in named] == [None, weights]
    with pytest.raises(UsageError, match="no model of the study matches"):
        build_plan(two, (None,), parse_weights([f"mobilenet_edgetpu={weights}"]), False)
    with pytest.raises(UsageError, match="file not found"):
        parse_weights([str(tmp_path / "none.pth")])
    with pytest.raises(UsageError, match="no published pretrained weights"):
        build_plan([parse_spec("mobilenet_v3_small:0.2")], (None,), [], pretrained=True)


# --- cache ----------------------------------------------------------------------------------------


def _key(item, options=None, tools=None):
    return cache_key(
        item,
        key_inputs(item, options or ConvertOptions(compile=False), tools or {"tensorflow": "2.19"}),
    )


def test_cache_key_follows_every_input(tmp_path):
    weights = tmp_path / "w.pth"
    weights.write_bytes(b"one")
    model = tmp_path / "net.onnx"
    model.write_bytes(b"graph")
    plan = build_plan([parse_spec("mobilenet_v2:0.5,1.0")], (96, 224), [], False)
    base = _key(plan[0])
    assert base == _key(plan[0]) and base.startswith("mobilenet_v2_0.5_96-")
    assert len({_key(item) for item in plan}) == 4  # alpha and resolution
    assert _key(plan[0], ConvertOptions(compile=False, per_tensor=True)) != base
    assert _key(plan[0], tools={"tensorflow": "2.20"}) != base
    weighted = build_plan(
        [parse_spec("mobilenet_v2:0.5")], (96,), parse_weights([str(weights)]), False
    )[0]
    before = _key(weighted)
    weights.write_bytes(b"two")  # same file name, other bytes
    assert _key(weighted) != before != base
    item = build_plan([parse_spec(str(model))], (None,), [], False)[0]
    before = _key(item)
    model.write_bytes(b"graph v2")
    assert _key(item) != before


def test_cache_entry_appears_only_when_complete(tmp_path):
    cache = ConversionCache(tmp_path / "cache")
    with pytest.raises(KeyboardInterrupt):
        with cache.filling("k1", {"x": 1}) as work:
            work.mkdir()
            (work / "report.json").write_text("{}")
            raise KeyboardInterrupt
    assert not cache.entry("k1").exists() and list(cache.root.iterdir()) == []
    with cache.filling("k2", {"x": 2}) as work:
        work.mkdir()
        (work / "m_int8.tflite").write_bytes(b"i")
        (work / "m_float32.tflite").write_bytes(b"f")
        (work / "report.json").write_text(
            json.dumps(
                {"outputs": {"int8_tflite": "m_int8.tflite", "float32_tflite": "m_float32.tflite"}}
            )
        )
    assert cache.lookup("k2")["outputs"]["int8_tflite"] == "m_int8.tflite"
    assert json.loads((cache.entry("k2") / "compare-key.json").read_text()) == {"x": 2}
    (cache.entry("k2") / "m_int8.tflite").unlink()
    assert cache.lookup("k2") is None  # files deleted by hand: not a hit
    (cache.root / f"{STAGING_PREFIX}left").mkdir()
    assert cache.remove_partials() == [f"{STAGING_PREFIX}left"] and [
        p.name for p in cache.root.iterdir()
    ] == ["k2"]


# --- progress estimate ----------------------------------------------------------------------------


def test_time_left_estimate_from_finished_items():
    assert estimate_remaining(Timing(), to_convert=3, left=3) is None
    assert (
        estimate_remaining(Timing(convert=[], other=[4.0]), to_convert=2, left=2) is None
    )  # no conversion yet
    assert (
        estimate_remaining(Timing(convert=[60.0, 40.0], other=[5.0, 7.0]), to_convert=1, left=3)
        == 50 + 3 * 6
    )
    assert (
        estimate_remaining(Timing(convert=[], other=[2.0]), to_convert=0, left=4) == 8.0
    )  # all cached
    assert estimate_remaining(Timing(), to_convert=0, left=0) == 0.0
    assert "estimate" in describe_remaining(30) and describe_remaining(600).startswith("~10 min")
    assert "after the first model" in describe_remaining(None)


# --- recommendation -------------------------------------------------------------------------------


def _stats(p50: float, p90: float) -> LatencyStats:
    return LatencyStats(10, p50, 0.0, p50, p50, p90, p90, p90, 1000 / p50)


def _row(label, macs, size, p90=None, cpu_ops=0, top1=None, failed=False, target="cpu"):
    item = build_plan([parse_spec("mobilenet_v2")], (None,), [], False)[0]
    row = Row(item.__class__(label, item.spec, 1.0, 224))
    row.model = ModelFacts(macs=macs, int8_bytes=size, params=macs // 100)
    row.mapping = MappingSummary(
        "edgetpu", "predicted", "", 60, 60 - cpu_ops, cpu_ops, 0, 1.0, macs, None, None
    )
    if p90 is not None:
        row.latency = [
            LatencyCell(target, f"{target} x", "ok", stats=_stats(p50=p90 * 0.9, p90=p90))
        ]
    if top1 is not None:
        row.accuracy = Accuracy(True, images=50, float_top1=top1 + 0.01, int8_top1=top1)
    if failed:
        row.fail("convert", "boom")
    return row


def test_recommend_without_accuracy_takes_the_most_macs_within_limits():
    rows = [
        _row("small", 50e6, 2**20, p90=3.0),
        _row("big", 300e6, 4 * 2**20, p90=12.0),
        _row("mid", 150e6, 3 * 2**20, p90=7.0),
        _row("broken", 0, 0, failed=True),
    ]
    rec = recommend(rows, Constraints("cpu", max_latency_ms=10, max_size_mb=3.5))
    assert rec.chosen == "mid" and rec.runner_up == "small" and "MACs" in rec.ranked_by
    assert any("p90 latency 7 ms" in why for why in rec.why) and any(
        "stand in" in why for why in rec.why
    )
    assert {r["model"]: r["reason"] for r in rec.ruled_out} == {
        "big": "p90 12 ms on cpu x > 10 ms; int8 file 4.00 MiB > 3.5 MiB",  # every limit it breaks
        "broken": "failed at convert",
    }


def test_recommend_with_accuracy_for_all_prefers_accuracy_then_latency():
    rows = [
        _row("a", 300e6, 2**20, p90=5.0, top1=0.70),
        _row("b", 50e6, 2**20, p90=2.0, top1=0.72),
        _row("c", 40e6, 2**20, p90=1.0, top1=0.72),
    ]
    rec = recommend(rows, Constraints("cpu"))
    assert (
        rec.chosen == "c" and rec.ranked_by == "int8 top-1 accuracy"
    )  # tie on accuracy: lower latency
    assert rec.why[0].startswith("highest int8 top-1 (72.0%")


def test_recommend_for_coral_needs_full_mapping_and_a_measurement_when_latency_is_bounded():
    rows = [_row("v3", 60e6, 2**20, cpu_ops=40), _row("minimal", 50e6, 2**20)]
    rec = recommend(rows, Constraints("edgetpu"))
    assert rec.chosen == "minimal" and rec.ruled_out == [
        {"model": "v3", "reason": "40 of 60 ops predicted to fall back to the CPU"}
    ]
    assert any("not measured here" in why for why in rec.why)
    bounded = recommend(
        rows, Constraints("edgetpu", max_latency_ms=5), target_reason="no Edge TPU found"
    )
    assert bounded.chosen is None and "no model of the study meets" in bounded.why[0]
    assert bounded.ruled_out[1]["reason"] == "latency not measured on edgetpu (no Edge TPU found)"


def test_recommend_for_the_edge_tpu_without_a_device_uses_the_estimate_and_says_so():
    rows = [
        _row("v3", 60e6, 2**20, cpu_ops=40),
        _row("minimal", 50e6, 2**20),
        _row("wide", 90e6, 6 * 2**20),
    ]
    for row, (mid, high) in zip(rows, ((9.0, 12.0), (2.0, 2.6), (3.0, 3.9))):
        row.estimate = EstimateBrief(mid, mid * 0.8, high, "x86-usb3")
    rec = recommend(
        rows,
        Constraints("edgetpu", max_latency_ms=3.0, max_size_mb=4),
        target_reason="no Edge TPU found",
    )
    assert rec.chosen == "minimal"
    assert any(
        why.startswith("latency estimated, not measured: 2 ms, at most 2.6 ms") for why in rec.why
    )
    reasons = {r["model"]: r["reason"] for r in rec.ruled_out}
    assert reasons["v3"] == (
        "40 of 60 ops predicted to fall back to the CPU; "
        "p90 12 ms estimated (upper end of the estimate for x86-usb3) > 3 ms"
    )
    assert reasons["wide"] == (
        "p90 3.9 ms estimated (upper end of the estimate for x86-usb3) > 3 ms; "
        "int8 file 6.00 MiB > 4 MiB"
    )


# --- eval set -------------------------------------------------------------------------------------


def _eval_dir(tmp_path, photo_dir, classes):
    photos = sorted(photo_dir.glob("*.jpg"))
    for index, name in enumerate(classes):
        (tmp_path / name).mkdir(parents=True)
        (tmp_path / name / photos[index].name).write_bytes(photos[index].read_bytes())
    return tmp_path


def test_eval_classes_are_sorted_folder_names_by_default(tmp_path, photo_dir):
    root = _eval_dir(tmp_path, photo_dir, ["zebra", "apple", "mango"])
    found = load_eval_set(root)
    assert found.classes == {"apple": 0, "mango": 1, "zebra": 2} and found.mapping == SORTED_FOLDERS
    assert sorted(label for _, label in found.images) == [0, 1, 2]


def test_eval_classes_from_a_labels_file(tmp_path, photo_dir, imagenet_labels):
    labels = imagenet_labels
    lines = labels.read_text().splitlines()
    root = _eval_dir(tmp_path, photo_dir, ["tench", "Goldfish", "hot dog"])
    found = load_eval_set(root, labels)
    assert found.classes == {
        "Goldfish": 2,
        "hot dog": next(i for i, line in enumerate(lines) if line.startswith("hotdog")),
        "tench": 1,
    }
    shifted, note = found.labels_for(outputs=len(lines) - 1)  # 1000-output model, 1001-line file
    assert (
        sorted(shifted) == sorted(label - 1 for _, label in found.images) and "background" in note
    )
    assert found.labels_for(outputs=len(lines))[1] is None
    (root / "not a class").mkdir()
    with pytest.raises(UsageError, match="'not a class' is not a line of --labels"):
        load_eval_set(root, labels)


def test_eval_bad_folders(tmp_path):
    with pytest.raises(InputError, match="not a directory"):
        load_eval_set(tmp_path / "nope")
    with pytest.raises(InputError, match="no sub-folders"):
        load_eval_set(tmp_path)
    (tmp_path / "cls").mkdir()
    with pytest.raises(InputError, match="no images"):
        load_eval_set(tmp_path)


def test_top1_needs_enough_outputs():
    import numpy as np

    outputs = [np.array([0.1, 0.9, 0.0]), np.array([0.8, 0.1, 0.1])]
    assert top1_accuracy(outputs, [1, 1]) == 0.5
    with pytest.raises(UsageError, match="3 outputs but --eval needs class index 5"):
        top1_accuracy(outputs, [5, 0])


# --- the command line, failing before any work ----------------------------------------------------


@pytest.mark.parametrize(
    "args, code, fragment",
    [
        (["mobilenet_v9"], ExitCode.USAGE, "unknown model 'mobilenet_v9'"),
        (["mobilenet_v2", "--eval", "."], ExitCode.USAGE, "--eval needs trained weights"),
        (["mobilenet_v2", "--max-latency-ms", "5"], ExitCode.USAGE, "go with --recommend"),
        (
            ["mobilenet_v2", "--recommend", "--recommend-target", "coral"],
            ExitCode.USAGE,
            "is not one of --target",
        ),
        (
            ["mobilenet_v2", "--recommend", "--max-size-mb", "0"],
            ExitCode.USAGE,
            "--max-size-mb must be more than 0",
        ),
        (["mobilenet_v2", "--target", "tpu"], ExitCode.USAGE, "unknown target 'tpu'"),
        (["mobilenet_v2", "--labels", "x.txt"], ExitCode.USAGE, "--labels goes with --eval"),
        (["mobilenet_v2", "--threads", "two"], ExitCode.USAGE, "--threads 'two'"),
        (["mobilenet_v2", "--repeats", "0"], ExitCode.USAGE, "--repeats must be 1 or more"),
        (["missing.onnx"], ExitCode.UNREADABLE_INPUT, "missing.onnx"),
    ],
)
def test_bad_input_fails_in_one_line_before_any_work(
    cli, tmp_path, monkeypatch, args, code, fragment
):
    monkeypatch.chdir(tmp_path)
    result = cli("compare", *args, "-o", tmp_path / "study")
    assert result.code == code, result
    assert fragment in result.err and "Traceback" not in result.err
    assert not (tmp_path / "study").exists()  # nothing was created


def test_output_dir_holding_other_files_is_refused(cli, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    result = cli("compare", "mobilenet_v2", "-o", tmp_path)
    assert (
        result.code == ExitCode.ERROR and "holds other files and no earlier compare" in result.err
    )
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_repeated_bench_warnings_are_counted_not_repeated():
    from edgedeploy.compare.stages import Study

    study = Study(options=None, cache=None, tools={}, targets=("cpu",), variants={}, bench=None)
    study.add_warnings(
        [
            "the machine was busy before the run (load average 2.10 on 2 cores): expect noisier timings",
            "a_int8 on cpu (2 threads): the medians of the repeats differ by 27%; differences smaller "
            "than that are noise",
        ]
    )
    study.add_warnings(
        [
            "the machine was busy before the run (load average 2.31 on 2 cores): expect noisier timings",
            "b_int8 on cpu (1 thread): the medians of the repeats differ by 56%; differences smaller "
            "than that are noise",
        ]
    )
    study.add_warnings(
        [
            "b_int8 on cpu (1 thread): XNNPACK took no part of this model: LiteRT's own kernels ran it"
        ]
    )
    summary = study.summarized_warnings()
    assert len(summary) == 3
    assert summary[0].endswith(
        "load average 2.10 on 2 cores): expect noisier timings (and 1 more like it)"
    )
    assert summary[1].startswith("a_int8 on cpu (2 threads)") and summary[1].endswith(
        "(and 1 more like it)"
    )
    assert summary[2].endswith("LiteRT's own kernels ran it")


def test_report_md_says_when_labels_are_shifted_by_a_background_line(tmp_path):
    from edgedeploy.compare.result import CompareResult
    from edgedeploy.compare.sections import method_lines

    row = _row("m", 300e6, 2**20, top1=0.7)
    note = "the labels file starts with 'background' and has one line more than the model has outputs: line N is output N-1"
    row.accuracy = dataclasses.replace(row.accuracy, note=note)
    plan = {
        "warmup_runs": 1,
        "warmup_time_s": 0.5,
        "repeats": 3,
        "min_runs": 50,
        "min_time_s": 1,
        "max_time_s": 150,
    }
    method = {
        "specs": ["m"],
        "resolutions": [224],
        "targets": ["cpu"],
        "calibration": "photos",
        "bench_plan": plan,
        "bench_input": "random",
        "weights": "random",
        "cache_dir": str(tmp_path),
        "jobs": 1,
        "eval": {"images": 50, "classes": 2, "folder": "val", "class_index": "--labels"},
    }
    lines = method_lines(CompareResult([row], [], method, tmp_path))
    assert f"Labels: {note}." in lines


def test_the_overview_has_no_accuracy_panel_without_eval_and_one_with_it():
    import io as _io

    from PIL import Image as _Image

    from edgedeploy.compare.plots import overview_png

    plain = [_row("a", 50e6, 2**20), _row("b", 90e6, 2**21)]
    evaluated = [_row("a", 50e6, 2**20, top1=0.6), _row("b", 90e6, 2**21, top1=0.7)]
    heights = [
        _Image.open(_io.BytesIO(overview_png(rows, [], "t", get_target("edgetpu")))).height
        for rows in (plain, evaluated)
    ]
    assert (
        heights[0] * 4 == heights[1] * 3
    )  # three rows of panels instead of four: no "not evaluated" panel


def test_the_documented_compare_table_is_the_one_its_command_writes():
    """docs/commands/compare.md shows a study's table next to the command that made it: the command's
    targets and --threads must give exactly the table's columns (the numbers are a real run's, pasted
    from report.md)."""
    from pathlib import Path

    from edgedeploy.cli.bench_flags import thread_counts
    from edgedeploy.compare.stages import mapped_target
    from edgedeploy.compare.tables import columns
    from edgedeploy.targets.contract import TargetOptions
    from edgedeploy.targets.registry import create_runtime, get_target, parse_target_names

    page = (Path(__file__).resolve().parents[2] / "docs" / "commands" / "compare.md").read_text()
    section = page[page.index("## A real study") :]
    command = next(
        line for line in section.splitlines() if line.startswith("edgedeploy compare")
    ).split()
    header = next(line for line in section.splitlines() if line.startswith("| model |"))
    targets = parse_target_names(command[command.index("-t") + 1], "runtime")
    options = TargetOptions(threads=thread_counts(command[command.index("--threads") + 1]))
    variants = [v.label for name in targets for v in create_runtime(name, options).variants()]
    mapped = get_target(mapped_target(targets))  # the requested target with a check
    expected = "| " + " | ".join(c.header for c in columns(variants, mapped)) + " |"
    assert header == expected
    specs = [word for word in command[2 : command.index("-t")]]
    rows = [
        line.split(" | ")[0].lstrip("| ")
        for line in section.splitlines()
        if line.startswith("| mobilenet")
    ]
    assert rows == [
        f"{spec}_1.0_224" for spec in specs
    ]  # one row per model of the command, in its order
