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
