"""SSD SpaghettiNet-EdgeTPU S / M / L (benchmarks/workload_spaghettinet.py): the transcribed node
tables give the published totals, and the five measured exports of each are described and tied to
their 15 Dev Board measurements as one architecture."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[4]
WORKLOADS = REPO / "benchmarks" / "data" / "edgetpu_workloads"
sys.path.insert(0, str(REPO / "benchmarks"))

import workload_spaghettinet as W  # noqa: E402

# The SSD config's header (configs/tf1/ssd_spaghettinet_edgetpu_320x320_coco17_sync_4x4.config):
# billions of MACs and millions of parameters at 320x320.
PUBLISHED = {"S": (1.0, 3.4), "M": (1.25, 4.1), "L": (1.57, 5.7)}
TABLES = {"S": W.SPAGHETTINET_S, "M": W.SPAGHETTINET_M, "L": W.SPAGHETTINET_L}


def test_feature_map_sides_follow_tf_same_padding():
    """320 px: 20, 10, 5, 3 and c0n5 a passthrough of c0n4 (3); 300 px rounds up at each stride."""
    for nodes in TABLES.values():
        at = {size: W.node_sides(nodes, size) for size in (300, 320)}
        assert [at[320][o] for o in W.OUTPUTS] == [20, 10, 5, 3, 3]
        assert [at[300][o] for o in W.OUTPUTS] == [19, 10, 5, 3, 3]
        assert at[300]["n1"] == 38 and at[300]["n5"] == 3
    assert W.anchor_count(W.SPAGHETTINET_S, 300) == 19 * 19 * 3 + (100 + 25 + 9 + 9) * 6 == 1941
    assert W.anchor_count(W.SPAGHETTINET_S, 320) == 20 * 20 * 3 + (100 + 25 + 9 + 9) * 6 == 2058
    assert W.SIZE == 320  # the measured exports' input (his raw logs), whatever his table says


@pytest.mark.parametrize("letter", ["S", "M", "L"])
def test_the_rebuilt_network_has_the_published_macs_and_parameters(letter):
    import torch

    module = W._spaghettinet_ssd(TABLES[letter], 320)().eval()
    macs = []

    def count(layer, _, output):
        if isinstance(layer, torch.nn.Conv2d):
            k = layer.kernel_size[0] * layer.kernel_size[1]
            macs.append(output.numel() * k * layer.in_channels // layer.groups)

    for layer in module.modules():
        layer.register_forward_hook(count)
    with torch.no_grad():
        boxes, scores = module(torch.zeros(1, 3, 320, 320))
    assert boxes.shape == (1, W.anchor_count(TABLES[letter], 320), 4)
    assert scores.shape == (1, boxes.shape[1], W.CLASSES)
    params = sum(p.numel() for p in module.parameters())
    gmacs, mparams = PUBLISHED[letter]
    assert sum(macs) / 1e9 == pytest.approx(gmacs, rel=0.04)
    assert params / 1e6 == pytest.approx(mparams, rel=0.04)


def test_the_five_exports_are_described_and_tied_as_one_architecture():
    from latency_points import load_points, load_workloads

    workloads = load_workloads()
    measurements = json.loads((REPO / "tests/data/edgetpu/latency/measurements.json").read_text())
    points, _, _ = load_points("uncompiled", 1.13, workloads, include_pending=True)
    by_index = {p.index: p for p in points}
    _, _, skipped = load_points("uncompiled", 1.13, workloads)  # held out of the fit, with why
    for letter in "SML":
        arch = f"ssd_spaghettinet_edgetpu_{letter.lower()}_320"
        names = [arch, *(f"{arch}_max{n}" for n in (25, 50, 100)), f"{arch}_no_postprocess"]
        data = {n: json.loads((WORKLOADS / f"{n}.json").read_text()) for n in names}
        assert {workloads[n].arch for n in names} == {arch}
        detections = [data[n]["provenance"].get("max_detections") for n in names]
        assert detections == [10, 25, 50, 100, None]
        posts = [
            o
            for n in names
            for o in workloads[n].facts.ops
            if o.op == "TFLite_Detection_PostProcess"
        ]
        assert {o.input_bytes for o in posts} == {2058 * (4 + W.CLASSES)}  # the same bytes read
        assert [o.detections for o in posts] == [10, 25, 50, 100]  # the boxes each keeps
        bare = workloads[f"{arch}_no_postprocess"].facts.ops
        assert workloads[arch].facts.ops[:-1] == bare
        # Everything on the Edge TPU but one "risky" resize (assumed to map): the 3x3 map upsampled
        # to 5x5 is not an integer scale.
        places = [o.op for o in bare if o.place != "tpu"]
        assert places == ["RESIZE_NEAREST_NEIGHBOR"] and all(o.place != "cpu" for o in bare)
        tied = [
            i
            for i, e in enumerate(measurements)
            if e["model"].startswith(f"SpaghettiNet for EdgeTpu {letter} ")
        ]
        assert len(tied) == 5 and not any(i in skipped for i in tied)  # all five fitted and judged
        assert {(by_index[i].arch, by_index[i].host) for i in tied} == {(arch, "devboard")}
        kept = sorted(by_index[i].cpu_detection_values for i in tied)
        assert kept[0] == 0 and kept[1:] == [2058 * (4 + W.CLASSES) * n for n in (10, 25, 50, 100)]
