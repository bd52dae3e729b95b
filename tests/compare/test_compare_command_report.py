"""`edgedeploy compare`'s command line failing in one line before any work, and what the study writes
from its rows: the summarized bench warnings, report.md's method lines, the overview plot, and the
documented table of docs/commands/compare.md."""

from __future__ import annotations

import dataclasses

import pytest
from compare_rows import study_row

from edgedeploy.errors import ExitCode
from edgedeploy.targets.registry import get_target

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

    row = study_row("m", 300e6, 2**20, top1=0.7)
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

    plain = [study_row("a", 50e6, 2**20), study_row("b", 90e6, 2**21)]
    evaluated = [study_row("a", 50e6, 2**20, top1=0.6), study_row("b", 90e6, 2**21, top1=0.7)]
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
