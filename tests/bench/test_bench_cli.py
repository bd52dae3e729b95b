"""`edgedeploy bench` end to end on the CPU here: Google's int8 models, a model made by convert,
the outputs (table, JSON, CSV, plot, saved JSON), --compare, --fps, --power, and every bad input."""

from __future__ import annotations

import csv
import io
import json
import shlex
import shutil
import sys

import pytest
from bench_models import QUICK_BENCH, float_add_model

from edgedeploy.errors import ExitCode

MNV1 = "mobilenet_v1_0.25_128_quant"
MNV2 = "tf2_mobilenet_v2_1.0_224_ptq"
QUICK = (
    "--min-runs",
    "5",
    "--min-time",
    "0",
    "--warmup-time",
    "0",
    "--repeats",
    "2",
    "--threads",
    "1",
)


def bench_json(cli, *args):
    result = cli("bench", *QUICK, *args, "--json")  # later options win over QUICK
    return result, (json.loads(result.out) if result.out.strip() else None)


def test_both_shared_models_on_the_cpu(cli, edgetpu_models):
    result, data = bench_json(
        cli, edgetpu_models / f"{MNV1}.tflite", edgetpu_models / f"{MNV2}.tflite"
    )
    assert result.code == ExitCode.OK, result
    assert data["schema"] == "edgedeploy.bench/1" and data["exit_code"] == 0
    assert [(c["model"], c["target"], c["status"]) for c in data["results"]] == [
        (MNV1, "cpu (1 thread)", "ok"),
        (MNV2, "cpu (1 thread)", "ok"),
    ]
    for cell in data["results"]:
        latency = cell["latency"]
        assert latency["count"] == 10 and [len(r) for r in cell["samples_ms"]] == [
            5,
            5,
        ]  # every sample kept
        assert (
            latency["min_ms"]
            <= latency["p50_ms"]
            <= latency["p90_ms"]
            <= latency["p99_ms"]
            <= latency["max_ms"]
        )
        assert min(min(r) for r in cell["samples_ms"]) == pytest.approx(latency["min_ms"], abs=1e-4)
        assert cell["load_ms"] > 0 and cell["first_inference_ms"] > 0 and cell["warmup_runs"] >= 1
        assert len(cell["repeats"]) == 2 and cell["spread"]["level"]
        assert cell["quantization"] == "uint8" and cell["inputs"].startswith("random uint8")
        assert cell["power"]["status"] == "not measured" and cell["power"]["active_w"] is None
    # MobileNetV2 at 224 does far more work than MobileNetV1 0.25 at 128: the ordering must show
    assert data["results"][1]["latency"]["p50_ms"] > data["results"][0]["latency"]["p50_ms"]
    env = data["environment"]
    assert env["cpu_model"] and env["usable_cores"] >= 1 and env["versions"]["ai-edge-litert"]
    assert data["method"]["min_runs"] == 5 and data["method"]["repeats"] == 2


def test_default_columns_are_all_cores_and_one_thread(cli, edgetpu_models):
    from edgedeploy.machine import available_cores

    result = cli(
        "bench",
        edgetpu_models / f"{MNV1}.tflite",
        *QUICK_BENCH,
    )
    assert result.code == ExitCode.OK, result
    assert "cpu (1 thread)" in result.out and "median latency" in result.out
    if available_cores() > 1:
        assert f"cpu ({available_cores()} threads)" in result.out


def test_table_csv_plot_and_saved_json(cli, edgetpu_models, tmp_path):
    paths = {name: tmp_path / "out" / name for name in ("r.csv", "r.png", "r.json")}
    result = cli(
        "bench",
        edgetpu_models / f"{MNV1}.tflite",
        edgetpu_models / "split_concat.tflite",
        *QUICK,
        "--csv",
        paths["r.csv"],
        "--plot",
        paths["r.png"],
        "--save",
        paths["r.json"],
    )
    assert result.code == ExitCode.OK, result
    assert MNV1 in result.out and "split_concat" in result.out and "p90" in result.out
    rows = list(csv.DictReader(io.StringIO(paths["r.csv"].read_text())))
    assert [r["model"] for r in rows] == [MNV1, "split_concat"] and all(
        r["status"] == "ok" for r in rows
    )
    saved = json.loads(paths["r.json"].read_text())
    assert [float(r["p50_ms"]) for r in rows] == [c["latency"]["p50_ms"] for c in saved["results"]]
    assert (
        paths["r.png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        and paths["r.png"].stat().st_size > 10_000
    )
    assert not list((tmp_path / "out").glob(".edgedeploy-partial-*"))


def test_compare_flags_regressions_with_their_own_exit_code(cli, edgetpu_models, tmp_path):
    model = edgetpu_models / "split_concat.tflite"
    result, data = bench_json(cli, model)
    assert result.code == ExitCode.OK
    slower, faster = json.loads(result.out), json.loads(result.out)
    for saved, factor in (
        (slower, 1 / 10),
        (faster, 10),
    ):  # the old run 10x faster (or slower), every repeat
        cell = saved["results"][0]
        cell["latency"]["p50_ms"] *= factor
        for repeat in cell["repeats"]:
            repeat["p50_ms"] *= factor
    (tmp_path / "fast.json").write_text(json.dumps(slower))
    (tmp_path / "slow.json").write_text(json.dumps(faster))
    regressed, report = bench_json(
        cli, model, "--compare", tmp_path / "fast.json", "--tolerance", "0.3"
    )
    assert regressed.code == ExitCode.REGRESSION, regressed
    (delta,) = report["comparison"]["deltas"]
    assert delta["verdict"] == "regression" and delta["ratio"] > 5
    improved, report = bench_json(cli, model, "--compare", tmp_path / "slow.json")
    assert (
        improved.code == ExitCode.OK
        and report["comparison"]["deltas"][0]["verdict"] == "improvement"
    )
    table = cli("bench", model, *QUICK, "--compare", tmp_path / "fast.json")
    assert table.code == ExitCode.REGRESSION and "regression" in table.out
    (tmp_path / "other.json").write_text('{"hello": 1}')
    assert (
        cli("bench", model, *QUICK, "--compare", tmp_path / "other.json").code
        == ExitCode.UNREADABLE_INPUT
    )
    assert (
        cli("bench", model, *QUICK, "--compare", tmp_path / "fast.json", "--tolerance", "-1").code
        == ExitCode.USAGE
    )


def test_fixed_rate_reports_achieved_fps_and_dropped_frames(cli, edgetpu_models):
    result, data = bench_json(
        cli, edgetpu_models / f"{MNV1}.tflite", "--fps", "100", "--min-runs", "20"
    )
    assert result.code == ExitCode.OK, result
    rate = data["results"][0]["fixed_rate"]
    assert rate["target_fps"] == 100 and rate["frames"] == 40 and rate["dropped_frames"] >= 0
    assert 80 <= rate["achieved_fps"] <= 101  # a ~1 ms model keeps up with a 10 ms frame period


def test_power_with_a_command_meter(cli, edgetpu_models):
    meter = f"cmd:{shlex.quote(sys.executable)} -c \"print('2.0 W')\""
    result, data = bench_json(
        cli, edgetpu_models / "split_concat.tflite", "--power", meter, "--idle-time", "0.6"
    )
    assert result.code == ExitCode.OK, result
    assert data["power"]["status"] == "measured" and data["power"]["idle_w"] == pytest.approx(2.0)
    power = data["results"][0]["power"]
    assert power["active_w"] == pytest.approx(2.0) and power["inferences"] == 10
    assert power["energy_per_inference_mj"] == pytest.approx(2.0 * power["seconds"] / 10 * 1e3)
    assert power["energy_above_idle_per_inference_mj"] == pytest.approx(0.0, abs=1e-9)


def test_unusable_meter_is_refused_before_measuring(cli, edgetpu_models):
    """A meter was asked for and cannot be read: refused before any model is measured (issue 20)."""
    for spec, says in (("cmd:", "needs a command"), ("hwmon:ina260", "ina260")):
        result = cli("bench", edgetpu_models / "split_concat.tflite", "--power", spec, "--json")
        assert result.code == ExitCode.ERROR, result
        assert says in result.err and result.err.count("\n") == 1, result
        assert "bench: measuring" not in result.err  # nothing was measured
    assert (
        cli("bench", edgetpu_models / "split_concat.tflite", "--power", "wattmeter").code
        == ExitCode.USAGE
    )
    without, _ = bench_json(cli, edgetpu_models / "split_concat.tflite")
    assert without.code == ExitCode.OK  # no meter asked for: "not measured" is no failure


def test_unavailable_targets_are_skipped_and_all_unavailable_has_its_exit_code(cli, edgetpu_models):
    from edgedeploy.targets.registry import create_runtime

    if create_runtime("edgetpu").availability().available:
        pytest.skip("an Edge TPU is attached here")
    both, data = bench_json(cli, edgetpu_models / f"{MNV1}.tflite", "--target", "cpu,coral")
    assert both.code == ExitCode.OK, both
    cpu, coral = data["results"]
    assert cpu["status"] == "ok" and coral["status"] == "skipped" and coral["reason"]
    assert coral["model_path"].endswith(
        f"{MNV1}_edgetpu.tflite"
    )  # the compiled twin beside the model
    only, data = bench_json(cli, edgetpu_models / f"{MNV1}_edgetpu.tflite", "-t", "edgetpu")
    assert only.code == ExitCode.TARGET_UNAVAILABLE and data["results"][0]["status"] == "skipped"
    table = cli("bench", edgetpu_models / f"{MNV1}_edgetpu.tflite", "-t", "coral", *QUICK)
    assert table.code == ExitCode.TARGET_UNAVAILABLE and "skipped" in table.out


def test_uncompiled_model_for_an_unavailable_coral_is_skipped_with_both_reasons(
    cli, edgetpu_models
):
    from edgedeploy.targets.registry import create_runtime

    if create_runtime("edgetpu").availability().available:
        pytest.skip("an Edge TPU is attached here")
    result, data = bench_json(
        cli, edgetpu_models / f"{MNV2}.tflite", "-t", "cpu,coral", "--threads", "1"
    )
    assert result.code == ExitCode.OK, result
    cpu = [r for r in data["results"] if r["target"].startswith("cpu")]
    coral = [r for r in data["results"] if r["target"] == "edgetpu"]
    assert cpu and all(r["status"] == "ok" for r in cpu)
    assert coral[0]["status"] == "skipped" and "edgedeploy compile" in coral[0]["reason"]


@pytest.mark.parametrize(
    "make, args, code, says",
    [
        (
            lambda d, m: d / "model.onnx",
            (),
            ExitCode.UNREADABLE_INPUT,
            "convert it first: edgedeploy convert",
        ),
        (lambda d, m: d / "empty.tflite", (), ExitCode.UNREADABLE_INPUT, "empty"),
        (lambda d, m: d / "text.tflite", (), ExitCode.UNREADABLE_INPUT, "not a TFLite model"),
        (
            lambda d, m: d / "truncated.tflite",
            (),
            ExitCode.UNREADABLE_INPUT,
            "corrupt or truncated",
        ),
        (lambda d, m: d / "missing.tflite", (), ExitCode.UNREADABLE_INPUT, "no such file"),
        (
            lambda d, m: d / "float.tflite",
            ("-t", "coral"),
            ExitCode.UNREADABLE_INPUT,
            "float model",
        ),
        (lambda d, m: m / f"{MNV1}.tflite", ("-t", "gpu"), ExitCode.USAGE, "unknown target 'gpu'"),
        (lambda d, m: m / f"{MNV1}.tflite", ("--fps", "0"), ExitCode.USAGE, "--fps must be"),
        (lambda d, m: m / f"{MNV1}.tflite", ("--fps", "-30"), ExitCode.USAGE, "--fps must be"),
        (lambda d, m: m / f"{MNV1}.tflite", ("--threads", "two"), ExitCode.USAGE, "--threads"),
        (lambda d, m: m / f"{MNV1}.tflite", ("--plot", "out.svg"), ExitCode.USAGE, ".png"),
        (
            lambda d, m: m / f"{MNV1}.tflite",
            ("--device", "usb:one", "-t", "coral"),
            ExitCode.USAGE,
            "usb:N",
        ),
    ],
)
def test_bad_input_is_one_line_and_an_exit_code(
    cli, edgetpu_models, tmp_path, make, args, code, says
):
    (tmp_path / "model.onnx").write_bytes(b"\x08\x07onnx")
    (tmp_path / "empty.tflite").write_bytes(b"")
    (tmp_path / "text.tflite").write_text("this is not a model at all")
    (tmp_path / "truncated.tflite").write_bytes(
        (edgetpu_models / f"{MNV2}.tflite").read_bytes()[:1_000_000]
    )
    float_add_model(tmp_path / "float.tflite")
    result = cli(
        "bench", make(tmp_path, edgetpu_models), *args, "--min-runs", "1", "--min-time", "0"
    )
    assert result.code == code, result
    assert (
        says in result.err
        and len(result.err.strip().splitlines()) <= 2
        and "Traceback" not in result.err
    )
    assert result.out == ""


def test_compiled_model_on_cpu_without_its_source(cli, edgetpu_models, tmp_path):
    shutil.copy(edgetpu_models / "split_concat_edgetpu.tflite", tmp_path)
    result = cli("bench", tmp_path / "split_concat_edgetpu.tflite", "-t", "cpu")
    assert result.code == ExitCode.UNREADABLE_INPUT and "compiled for the Edge TPU" in result.err


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """One real `edgedeploy convert` of a tiny ONNX model (int8 + float32 + report.json)."""
    from tiny_models import export_onnx, tiny_cnn

    from edgedeploy.cli.app import run

    work = tmp_path_factory.mktemp("bench-convert")
    onnx = export_onnx(tiny_cnn(), work / "tiny.onnx")
    code = run(
        [
            "convert",
            "--target",
            "edgetpu",
            str(onnx),
            "-o",
            str(work / "out"),
            "--calibration-count",
            "4",
        ]
    )
    # Without an Edge TPU compiler here, convert still writes both models and says the compiler is missing.
    assert code in (ExitCode.OK, ExitCode.OPS_ON_CPU, ExitCode.TOOL_MISSING), code
    assert (work / "out" / "tiny_int8.tflite").is_file() and (
        work / "out" / "tiny_float32.tflite"
    ).is_file()
    return work / "out"


@pytest.mark.slow
def test_models_made_by_convert_run_on_the_cpu_with_photos(cli, converted, photo_dir):
    result, data = bench_json(
        cli,
        converted / "tiny_int8.tflite",
        converted / "tiny_float32.tflite",
        "--images",
        photo_dir,
    )
    assert result.code == ExitCode.OK, result
    int8, float32 = data["results"]
    assert int8["status"] == float32["status"] == "ok"
    assert int8["quantization"] == "int8" and float32["quantization"] == "float"
    # the deploy sidecar convert wrote beside the int8 model says how to feed it; the float32 twin is fed the same
    assert (
        "preprocessing from tiny_int8.json" in int8["inputs"]
        and "quantized with the input's scale" in int8["inputs"]
    )
    assert (
        "preprocessing from" in float32["inputs"]
        and "ImageNet mean/std at the model's input" not in float32["inputs"]
    )
    coral = cli("bench", converted / "tiny_float32.tflite", "-t", "coral")
    assert coral.code == ExitCode.UNREADABLE_INPUT and "float model" in coral.err
    from edgedeploy.targets.registry import create_runtime

    uncompiled, data = bench_json(cli, converted / "tiny_int8.tflite", "-t", "coral")
    if (
        create_runtime("edgetpu").availability().available
    ):  # a usable Edge TPU: the model is the problem
        assert (
            uncompiled.code == ExitCode.UNREADABLE_INPUT and "edgedeploy compile" in uncompiled.err
        )
    else:  # skipped for want of a runtime/device, and the reason also says the model must be compiled
        assert uncompiled.code == ExitCode.TARGET_UNAVAILABLE
        assert "edgedeploy compile" in data["results"][0]["reason"]


def test_compare_calls_a_change_inside_the_noise_inconclusive_not_a_regression():
    from edgedeploy.bench.baseline import CellMedians, judge

    # the reported case: +36.8% on an unchanged model whose repeats moved by 41% within one run
    old, new = CellMedians(5.80, (4.9, 5.8, 7.3)), CellMedians(7.93, (6.2, 7.9, 8.6))
    verdict, why = judge(old, new, 0.3)
    assert verdict == "inconclusive: noisy" and "overlap" in why and "re-run" in why
    separated = judge(CellMedians(5.8, (5.7, 5.8, 5.9)), CellMedians(7.9, (7.8, 7.9, 8.0)), 0.3)
    assert separated == (
        "regression",
        "",
    )  # every new repeat slower than every old one, far beyond the spread
    wide = judge(CellMedians(5.0, (4.0, 5.0, 5.9)), CellMedians(6.9, (6.0, 6.9, 9.0)), 0.3)
    assert (
        wide[0] == "inconclusive: noisy" and "within one run" in wide[1]
    )  # separated, but the spread is larger
    assert judge(CellMedians(5.0, (5.0, 5.1)), CellMedians(5.5, (5.6, 5.5)), 0.3) == (
        "within tolerance",
        "",
    )
    assert judge(CellMedians(5.0, ()), CellMedians(9.0, ()), 0.3) == (
        "regression",
        "",
    )  # one repeat: tolerance only
