"""The committed workload descriptions (benchmarks/data/edgetpu_workloads): each one loads, its totals
are the sums of its ops, it says where it comes from; one small architecture rebuilt (slow) gives the
committed description again."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from edgedeploy.targets.edgetpu.estimate.op_facts import OP_CLASSES, WorkloadFacts

REPO = Path(__file__).resolve().parents[4]
WORKLOADS = REPO / "benchmarks" / "data" / "edgetpu_workloads"


def _descriptions() -> list[Path]:
    return sorted(WORKLOADS.glob("*.json"))


def test_every_description_is_consistent_and_sourced():
    assert len(_descriptions()) >= 20
    for path in _descriptions():
        data = json.loads(path.read_text())
        facts = WorkloadFacts.from_dict(data)
        totals = data["totals"]
        assert totals["ops"] == len(facts.ops) and totals["macs"] == sum(o.macs for o in facts.ops)
        assert totals["tpu_param_bytes"] == sum(o.param_bytes for o in facts.tpu_ops), path.name
        assert all(
            o.op_class in OP_CLASSES and o.place in ("tpu", "cpu", "risky") for o in facts.ops
        )
        provenance = data["provenance"]
        assert provenance.get("original_file") or provenance.get("built_from"), path.name
        assert provenance.get("measurement_indices") or provenance.get("measured_as") is not None


def test_every_measured_as_name_is_a_published_measurement_and_every_note_names_one():
    """A typo in ``measured_as`` would silently drop measurements from the fit."""
    measurements = json.loads((REPO / "tests/data/edgetpu/latency/measurements.json").read_text())
    models = {e["model"] for e in measurements}
    for path in _descriptions():
        provenance = json.loads(path.read_text())["provenance"]
        names = provenance.get("measured_as", [])
        assert set(names) <= models, (path.name, set(names) - models)
        assert set(provenance.get("measured_as_notes", {})) <= set(names), path.name


def test_measurements_around_the_model_are_tied_to_its_graph_with_a_reason():
    """Google's SSD MobileNet V2 file timed by Alasdair Allan (Dev Board) and by a user (Pi 3, USB 2)
    stands for the rebuilt SSD MobileNet V2 300; Allan's SSD MobileNet V1 0.75 for its own file."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from latency_points import load_points

    points, _, skipped = load_points("uncompiled", 1.13)
    tied = {p.index: (p.arch, p.host) for p in points}
    assert tied[344] == ("ssd_mobilenet_v2_300", "devboard")
    assert tied[280] == ("ssd_mobilenet_v2_300", "rpi3-usb2")
    assert tied[347] == ("ssd_mobilenet_v1_075_coco_300", "devboard")
    assert 278 in skipped and 345 in skipped  # the same file on a set-up no profile describes
    notes = json.loads((WORKLOADS / "ssd_mobilenet_v2_300.json").read_text())["provenance"]
    assert (
        "DetectWithImage"
        in notes["measured_as_notes"][
            "SSD MobileNet v2 COCO 300x300 (mobilenet_ssd_v2_coco_quant_postprocess_edgetpu.tflite)"
        ]
    )


def test_measurements_are_tied_to_the_files_their_raw_logs_time():
    """Nobuo Tsukamoto's tables label the TF1 zoo's quantized SSD MobileNet V1 / V2 "SSDLite" and his
    MobileDet-EdgeTPU "300x300"; his raw logs time ssd_mobilenet_v{1,2}_300x300_quant_coco and a
    320x320 MobileDet file: they are tied to those graphs (the SSD of Google's files, MobileDet at 320)."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from latency_points import load_points, load_workloads

    workloads = load_workloads()
    assert workloads["ssd_mobilenet_v2_300"].arch == "ssd_mobilenet_v2_300"  # the default: its name
    points, _, _ = load_points("uncompiled", 1.13, workloads)
    arch_of = {p.index: p.arch for p in points}
    assert arch_of[328] == arch_of[262] == "ssdlite_mobiledet_edgetpu_320"
    assert arch_of[325] == "ssd_mobilenet_v1_300"  # his Dev Board "SSDLite Mobilenet v1"
    assert arch_of[326] == arch_of[289] == arch_of[39] == "ssd_mobilenet_v2_300"
    assert not any(name.startswith("ssdlite_mobilenet_v") for name in workloads)


def test_efficientdet_lite_descriptions_carry_the_published_partitions():
    """coral.ai's EfficientDet-Lite (compiler 16): everything on the Edge TPU but two DEQUANTIZE and
    the post-processing op, which reads the floats; the 2021 automl exports (compiler 15): the first
    RESIZE_NEAREST_NEIGHBOR and what follows it on the CPU. The 32-bit Pi 3 numbers the source flags
    are left out with that reason; the two partitions are one architecture."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from latency_points import load_points, load_workloads

    workloads = load_workloads()
    coral, automl = workloads["efficientdet_lite0_320"], workloads["efficientdet_lite0_320_automl"]
    assert [o.op for o in coral.facts.cpu_ops] == [
        "DEQUANTIZE",
        "DEQUANTIZE",
        "TFLite_Detection_PostProcess",
    ]
    dequantized = sum(o.output_bytes for o in coral.facts.cpu_ops[:2])
    assert coral.facts.cpu_ops[2].input_bytes == dequantized
    # Every resize and what depends on it (the heads' LOGISTIC) on the CPU; the backbone, P6 / P7
    # and the BiFPN's 1x1 input convs (which read only backbone maps) stay on the Edge TPU.
    assert not any(
        o.on_tpu for o in automl.facts.ops if o.op in ("RESIZE_NEAREST_NEIGHBOR", "LOGISTIC")
    )
    assert sum(o.on_tpu for o in automl.facts.ops) > 50
    assert all(o.on_tpu for o in coral.facts.ops if o.op == "LOGISTIC")
    assert automl.arch == coral.arch == "efficientdet_lite0_320"
    points, _, skipped = load_points("uncompiled", 1.13, workloads, include_pending=True)
    assert {p.host for p in points if p.arch == "efficientdet_lite0_320"} == {
        "x86-usb3",
        "rpi3-usb2",
        "rpi4-usb3",
    }
    assert "inconsistent" in skipped[305] and "inconsistent" in skipped[307]
    # coral.ai's files are in the default fit data; the automl exports on Raspberry Pis are held out
    # with the reason (their CPU side is priced with 2019 32-bit CPU rates).
    default, _, skipped = load_points("uncompiled", 1.13, workloads)
    efficientdet = {p.index for p in default if p.arch.startswith("efficientdet")}
    assert efficientdet == {263, 264, 275, 276, 277}
    assert "pending" in skipped[310] and "inconsistent" in skipped[305]
    # The float post-processing is priced per value: four bytes a value, one value each
    dequantize, dequantize_scores, post = coral.facts.cpu_ops
    assert dequantize.values_written * 4 == dequantize.output_bytes
    assert post.values_read * 4 == post.input_bytes
    assert post.values_read == dequantize.values_written + dequantize_scores.values_written


def _build_script():
    sys.path.insert(0, str(REPO / "benchmarks"))
    spec = importlib.util.spec_from_file_location(
        "build_workloads", REPO / "benchmarks" / "build_workloads.py"
    )
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    return build


def test_a_missing_benchmark_time_package_is_one_line(tmp_path, monkeypatch, capsys):
    """effdet (EfficientDet-Lite) is not an edgedeploy dependency: without it the build says how to
    install it in one line per architecture, writes nothing and exits 1."""
    build = _build_script()
    monkeypatch.setitem(sys.modules, "effdet", None)  # import effdet now raises ImportError
    monkeypatch.setattr(build, "OUT", tmp_path)
    monkeypatch.setattr(sys, "argv", ["build_workloads.py", "efficientdet_lite0_320"])
    assert build.main() == 1
    out = capsys.readouterr()
    line = next(x for x in out.out.splitlines() if x.startswith("efficientdet_lite0_320:"))
    assert "pip install --no-deps effdet" in line and "Traceback" not in out.out + out.err
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_a_rebuilt_architecture_gives_its_committed_description(tmp_path, monkeypatch):
    """MobileNet V1 0.25 at 128 px: rebuilt and converted again, the per-op facts are the committed
    ones (MACs, parameter and activation bytes, op classes; weights are random, the graph is not)."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    spec = importlib.util.spec_from_file_location(
        "build_workloads", REPO / "benchmarks" / "build_workloads.py"
    )
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    monkeypatch.setattr(build, "OUT", tmp_path)
    monkeypatch.setattr(sys, "argv", ["build_workloads.py", "mobilenet_v1_0.25_128"])
    monkeypatch.chdir(tmp_path)
    assert build.main() == 0
    fresh = json.loads((tmp_path / "mobilenet_v1_0.25_128.json").read_text())
    committed = json.loads((WORKLOADS / "mobilenet_v1_0.25_128.json").read_text())
    assert fresh["totals"] == committed["totals"]
    strip = [c for c in fresh["op_columns"] if c != "index"]
    rows = lambda d: [[r[d["op_columns"].index(c)] for c in strip] for r in d["ops"]]  # noqa: E731
    assert rows(fresh) == rows(committed)
