"""`edgedeploy compare` end to end on the CPU here: a built-in at a small alpha and 32 px, a tiny ONNX
model with hard-swish, and a corrupt model file. The first run is interrupted inside the second
model's conversion; the re-run resumes from the cache; the corrupt model fails in its row only.
Then the report files are read back: JSON, CSV, Markdown, and the HTML as headless Chromium renders it."""

from __future__ import annotations

import base64
import contextlib
import csv
import io
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from tiny_models import export_onnx, tiny_cnn

from edgedeploy.compare.tables import csv_name
from edgedeploy.errors import ExitCode
from edgedeploy.outputs import STAGING_PREFIX
from edgedeploy.report import fmt_bytes

pytestmark = pytest.mark.slow

BUILTIN, TINY, BROKEN = "mobilenet_v3_small_minimal_0.25_32", "tiny_hswish", "broken"
# --jobs 1: conversions in this process, where the tests' stand-ins for convert and fidelity apply
# (test_compare_parallel.py runs worker processes).
QUICK = ("--min-runs", "5", "--min-time", "0.05", "--repeats", "2", "--threads", "1", "--jobs", "1")
VARIANT = "cpu (1 thread)"
CHROMIUM = "/usr/bin/chromium"


def run_cli(*args) -> tuple[int, str, str]:
    """The CLI in-process (module-scoped fixtures cannot use capsys); rich resolves sys.stdout lazily."""
    from edgedeploy.cli.app import run

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


class ConvertCalls:
    """Wraps the real convert and records which models it was asked to convert."""

    def __init__(self, monkeypatch):
        import edgedeploy.converters.pipeline as pipeline

        self.specs, real = [], pipeline.convert

        def counting(source, *args, **kwargs):
            self.specs.append(Path(source.model).name)
            return real(source, *args, **kwargs)

        monkeypatch.setattr(pipeline, "convert", counting)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("compare")
    tiny = export_onnx(tiny_cnn(hard_swish=True), root / f"{TINY}.onnx")
    broken = root / f"{BROKEN}.onnx"
    broken.write_bytes(b"\x08\x07 this is not a protobuf of an ONNX model")
    out = root / "study"
    args = (
        "compare",
        "mobilenet_v3_small_minimal:0.25",
        tiny,
        broken,
        "-r",
        "32",
        "-o",
        out,
        "-t",
        "cpu,edgetpu",  # edgetpu: the requested target with a check gives the mapping columns
        *QUICK,
    )
    import edgedeploy.converters.fidelity as fidelity

    real_measure = fidelity.measure

    def interrupt_on_the_second_model(onnx_model, int8, *rest):
        if int8.name.startswith(TINY):  # mid-conversion: the int8 model exists in the staging area
            raise KeyboardInterrupt
        return real_measure(onnx_model, int8, *rest)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fidelity, "measure", interrupt_on_the_second_model)
        first = ConvertCalls(patch)
        interrupted = run_cli(*args)
        cache_after_interrupt = sorted(p.name for p in (out / "cache").iterdir())
    with pytest.MonkeyPatch.context() as patch:
        second = ConvertCalls(patch)
        resumed = run_cli(*args)
    return {
        "out": out,
        "root": root,
        "tiny": tiny,
        "interrupted": interrupted,
        "first_calls": first.specs,
        "cache_after_interrupt": cache_after_interrupt,
        "resumed": resumed,
        "second_calls": second.specs,
        "args": args,
    }


def results(study) -> dict:
    return json.loads((study["out"] / "results.json").read_text())


def test_interrupted_run_keeps_finished_conversions_and_nothing_half_written(study):
    code, _, err = study["interrupted"]
    assert code == ExitCode.INTERRUPTED
    assert study["first_calls"] == ["mobilenet_v3_small_minimal", f"{TINY}.onnx"]
    assert [name.split("-")[0] for name in study["cache_after_interrupt"]] == [
        BUILTIN
    ]  # no partial entry
    assert not any(name.startswith(STAGING_PREFIX) for name in study["cache_after_interrupt"])
    assert "run the same command again to resume" in " ".join(err.split())
    assert (
        "load-model" not in err
    )  # the conversion's own progress lines went to its log, not the terminal


def test_rerun_resumes_from_the_cache_and_a_failing_model_does_not_stop_the_others(study):
    code, out, err = study["resumed"]
    assert code == ExitCode.ERROR, err  # one row failed; the study itself completed
    assert study["second_calls"] == [
        f"{TINY}.onnx",
        f"{BROKEN}.onnx",
    ]  # the built-in was not converted again
    data = results(study)
    rows = {r["label"]: r for r in data["rows"]}
    assert list(rows) == [BUILTIN, TINY, BROKEN]
    assert rows[BUILTIN]["cache"]["hit"] is True and rows[TINY]["cache"]["hit"] is False
    assert rows[BROKEN]["status"] == "failed" and rows[BROKEN]["errors"][0]["stage"] == "convert"
    assert f"{BROKEN}.onnx" in rows[BROKEN]["errors"][0]["message"]
    assert rows[TINY]["status"] == rows[BUILTIN]["status"] == "ok"
    assert f"x {BROKEN}: failed at convert: " in out and "FAILED" in out and BUILTIN[:12] in out
    assert sorted(
        p.name for p in (study["out"] / "cache").iterdir() if not p.name.startswith(BUILTIN)
    )[0].startswith(TINY)


def test_results_json_holds_measured_counted_and_predicted_facts(study):
    data = results(study)
    assert data["schema"] == "edgedeploy.compare/1" and data["exit_code"] == ExitCode.ERROR
    assert data["targets"][0] == {
        "name": "cpu",
        "available": True,
        "reason": None,
        "variants": [VARIANT],
    }
    assert data["targets"][1]["name"] == "edgetpu"  # no device here: not measured, and said why
    assert data["targets"][1]["available"] is False and data["targets"][1]["reason"]
    rows = {r["label"]: r for r in data["rows"]}
    for label in (BUILTIN, TINY):
        row, entry = rows[label], Path(rows[label]["cache"]["dir"])
        assert row["model"]["int8_bytes"] == Path(row["model"]["int8_file"]).stat().st_size
        assert Path(row["model"]["int8_file"]).parent == entry
        convert_report = json.loads((entry / "report.json").read_text())
        predicted = convert_report["edgetpu"]["prediction"]["summary"]
        assert row["mapping"]["target"] == "edgetpu"
        assert (
            row["mapping"]["total_ops"] == predicted["total_ops"] == convert_report["int8"]["ops"]
        )
        (cell,) = [c for c in row["latency"] if c["target"] == "cpu"]
        assert cell["variant"] == VARIANT and cell["status"] == "ok"
        assert (
            len(cell["samples_ms"]) == cell["latency"]["count"] >= 10
        )  # 2 repeats of at least 5 runs
        assert cell["latency"]["p50_ms"] == pytest.approx(
            float(np.median(cell["samples_ms"])), rel=1e-3, abs=1e-4
        )
        assert (
            min(cell["repeat_p50_ms"]) <= max(cell["repeat_p50_ms"])
            and len(cell["repeat_p50_ms"]) == 2
        )
        assert row["accuracy"] == {"evaluated": False, "reason": "no --eval folder given"}
    built = rows[BUILTIN]
    assert (built["alpha"], built["resolution"], built["weights"]) == (0.25, 32, "random")
    # MACs counted on the PyTorch model agree with the count on the converted int8 graph.
    assert built["model"]["macs"] == pytest.approx(built["mapping"]["macs_total"], rel=0.02)
    # Known results: the minimalistic MobileNetV3 maps fully; hard-swish falls back to the CPU.
    assert built["mapping"]["cpu_ops"] == 0 and built["mapping"][
        "mapped_mac_share"
    ] == pytest.approx(1.0)
    assert (
        rows[TINY]["mapping"]["cpu_ops"] > 0 and rows[TINY]["mapping"]["first_cut_op"] is not None
    )
    assert any("swish" in f["title"].lower() for f in rows[TINY]["mapping"]["findings"])
    # A model file's parameters are counted on its ONNX initializers (batch norm folded into the conv).
    torch_params = sum(p.numel() for p in tiny_cnn(hard_swish=True).parameters()) - 2 * 8
    assert rows[TINY]["model"]["params"] == pytest.approx(torch_params, rel=0.01)
    assert "accuracy: not evaluated (no --eval folder given)" in data["not_measured"]
    assert data["files"] == [
        "results.json",
        "results.csv",
        "report.md",
        "report.html",
        "report.png",
    ]


def test_csv_has_one_row_per_model_with_raw_numbers(study):
    data = {r["label"]: r for r in results(study)["rows"]}
    with open(study["out"] / "results.csv", newline="") as handle:
        records = list(csv.DictReader(handle))
    assert [r["model"] for r in records] == [BUILTIN, TINY, BROKEN]
    for record in records[:2]:
        row = data[record["model"]]
        assert int(record["int8_bytes"]) == row["model"]["int8_bytes"]
        assert float(record[f"{csv_name(VARIANT)}_p50_ms"]) == pytest.approx(
            row["latency"][0]["latency"]["p50_ms"]
        )
        assert (
            record["float_top1"] == record["int8_top1"] == "" and record["accuracy_status"]
        )  # numbers or nothing
    assert all(
        re.fullmatch(r"[a-z0-9_]+", name) for name in records[0]
    )  # no spaces or brackets in column names
    assert records[2]["status"] == "failed" and "failed at convert" in records[2]["error"]


def test_markdown_report_has_the_table_the_plot_and_what_was_not_measured(study):
    text = (study["out"] / "report.md").read_text()
    data = {r["label"]: r for r in results(study)["rows"]}
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert table[0].startswith("| model | params | MACs | int8 size |") and len(table) == 4
    built = table[1].split(" | ")
    assert built[0] == f"| {BUILTIN}" and fmt_bytes(data[BUILTIN]["model"]["int8_bytes"]) in built
    assert (
        f"{data[BUILTIN]['mapping']['mapped_ops']}/{data[BUILTIN]['mapping']['total_ops']}" in built
    )
    assert table[1].count("not evaluated") == 2 and "failed at convert:" in table[3]
    assert "![the study at a glance](report.png)" in text
    assert "## Not measured" in text and "not compiled" in text and "Power: not measured" in text
    assert f"- {TINY}: {data[TINY]['mapping']['verdict']}; hard-swish" in text  # why it falls back


class TableReader(HTMLParser):
    """The rows of <table id="compare-table"> and the attributes of the overview image."""

    def __init__(self):
        super().__init__()
        self.rows, self.image, self._in_table, self._cell = [], {}, False, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id") == "compare-table":
            self._in_table = True
        elif self._in_table and tag == "tr":
            self.rows.append([])
        elif self._in_table and tag in ("td", "th"):
            self._cell = ""
        elif tag == "img" and attrs.get("id") == "overview":
            self.image = attrs

    def handle_endtag(self, tag):
        if tag == "table":
            self._in_table = False
        elif tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(self._cell.strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def rendered_dom(path: Path, profile: Path) -> str:
    browser = shutil.which("chromium") or CHROMIUM
    if not Path(browser).is_file():
        pytest.fail(
            "chromium is needed to check the HTML report (apt-get install chromium; scripts/test.sh does)"
        )
    done = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--dump-dom",
            path.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_html_report_renders_in_chromium_with_the_table_and_the_embedded_plot(study, tmp_path):
    from PIL import Image

    html = (study["out"] / "report.html").read_text()
    assert (
        "http://" not in html and "https://" not in html and "<link" not in html
    )  # self-contained
    reader = TableReader()
    reader.feed(rendered_dom(study["out"] / "report.html", tmp_path / "profile"))
    header, *body = reader.rows
    data = {r["label"]: r for r in results(study)["rows"]}
    assert header[:4] == ["model", "params", "MACs", "int8 size"] and f"{VARIANT} p50 ms" in header
    assert [row[0] for row in body] == [BUILTIN, TINY, BROKEN]
    cells = [dict(zip(header, row)) for row in body]
    for shown in cells[:2]:
        row = data[shown["model"]]
        assert shown["int8 size"] == fmt_bytes(row["model"]["int8_bytes"])
        assert (
            shown["Edge TPU ops (pred.)"]
            == f"{row['mapping']['mapped_ops']}/{row['mapping']['total_ops']}"
        )
        assert shown[f"{VARIANT} p50 ms"].split(" ")[0] != "-"
        assert shown["top-1 float"] == shown["top-1 int8"] == "not evaluated"
    assert cells[0]["status"] == "ok (cached)" and cells[1]["status"] == "ok"
    assert cells[2]["status"].startswith("failed at convert:") and cells[2]["int8 size"] == "-"
    # The browser decoded the embedded plot: its size is the size of report.png.
    png = base64.b64decode(reader.image["src"].split(",", 1)[1])
    assert png == (study["out"] / "report.png").read_bytes()
    with Image.open(study["out"] / "report.png") as image:
        assert reader.image.get("data-rendered") == f"{image.width}x{image.height}"


def test_a_fully_cached_rerun_recommends_under_constraints_without_converting(study, monkeypatch):
    calls = ConvertCalls(monkeypatch)
    code, out, err = run_cli(*study["args"], "--recommend", "--max-size-mb", "0.5", "--json")
    assert calls.specs == [f"{BROKEN}.onnx"]  # only the model that failed is tried again
    data = json.loads(out)
    rec = data["recommendation"]
    assert rec["chosen"] == TINY and rec["target"] == "cpu" and "MACs" in rec["ranked_by"]
    assert {r["model"]: r["reason"].split(" ")[0] for r in rec["ruled_out"]} == {
        BUILTIN: "int8",
        BROKEN: "failed",
    }
    assert all(r["cache"]["hit"] for r in data["rows"][:2])


def test_eval_reports_top1_of_float_and_int8_on_a_class_folder(
    study, monkeypatch, photo_dir, tmp_path
):
    from edgedeploy.converters.artifacts import Preprocessing
    from edgedeploy.converters.calibration import load_image
    from edgedeploy.converters.fidelity import run_tflite

    photos = sorted(photo_dir.glob("*.*"))
    photos = [p for p in photos if p.suffix in (".jpg", ".bmp")]
    # two classes of the tiny model's ten: --labels line 0 is "a", line 1 is "b" (a model's outputs must
    # match the classes it is scored on: without --labels, 2 folders would be refused for 10 outputs)
    labels = tmp_path / "labels.txt"
    labels.write_text("\n".join("abcdefghij") + "\n")
    for index, photo in enumerate(photos):
        folder = tmp_path / "eval" / ("a" if index % 2 else "b")
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(photo, folder / photo.name)
    out = study["root"] / "eval-study"
    shutil.copytree(
        study["out"] / "cache", out / "cache"
    )  # content-keyed: the tiny model is a cache hit
    calls = ConvertCalls(monkeypatch)
    code, stdout, err = run_cli(
        "compare",
        study["tiny"],
        "-o",
        out,
        *QUICK,
        "--eval",
        tmp_path / "eval",
        "--labels",
        labels,
        "--json",
    )
    assert code == ExitCode.OK, err
    (row,) = json.loads(stdout)["rows"]
    assert calls.specs == [] and row["cache"]["hit"]
    accuracy = row["accuracy"]
    assert accuracy["evaluated"] and accuracy["images"] == len(photos) and accuracy["classes"] == 2
    prep = Preprocessing.from_dict(row["model"]["preprocessing"])
    images = [load_image(p, prep)[None] for p in photos]
    truth = [0 if i % 2 else 1 for i in range(len(photos))]
    for key, model in (("float_top1", "float32_file"), ("int8_top1", "int8_file")):
        predicted = [int(np.argmax(o)) for o in run_tflite(Path(row["model"][model]), images)]
        assert accuracy[key] == pytest.approx(np.mean([p == t for p, t in zip(predicted, truth)]))
    md = (out / "report.md").read_text()
    assert f"{accuracy['int8_top1']:.1%}" in md and "class index = line number in" in md
