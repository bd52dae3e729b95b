"""The toy accelerator (tests/toy_accelerator, one registration line) also runs through `compare` and
`limits`: the mapping columns, plot panels and sections are named by the requested target with a check,
and nothing says Edge TPU when the Edge TPU was not asked for."""

from __future__ import annotations

import csv
import io
import json

import pytest
from bench_models import float_add_model
from compare_rows import study_method

from edgedeploy.compare.export import to_csv, to_markdown
from edgedeploy.compare.plan import build_plan
from edgedeploy.compare.result import CompareResult
from edgedeploy.compare.row import ModelFacts, Row
from edgedeploy.compare.specs import parse_spec
from edgedeploy.compare.stages import checked, estimated, mapped_target
from edgedeploy.targets import registry

METHOD = study_method(["add"], 8, ["cpu", "toy"])


@pytest.fixture
def toy():
    import toy_accelerator

    registry.register(toy_accelerator.TARGET)
    yield toy_accelerator.TARGET
    registry.unregister("toy")


def test_the_mapped_target_is_the_requested_target_with_a_check(toy):
    assert mapped_target(["cpu", "toy"]) == "toy"
    assert mapped_target(["toy-npu"]) == "toy-npu"  # as the user named it; the registry resolves it
    assert mapped_target(["cpu"]) is None  # no accelerator asked for: no mapping columns


def test_compare_tables_and_sections_are_named_by_the_toy(toy, tmp_path):
    model = float_add_model(tmp_path / "add.tflite")
    summary = checked(model, "toy")
    assert (summary.target, summary.total_ops, summary.mapped_ops, summary.cpu_ops) == (
        "toy",
        1,
        1,
        0,
    )
    assert estimated(model, "toy") is None  # the toy has no estimate capability
    item = build_plan([parse_spec("mobilenet_v2")], (None,), [], False)[0]
    row = Row(item.__class__("add", item.spec, 1.0, 8))
    row.model = ModelFacts(macs=0, int8_bytes=model.stat().st_size, params=0)
    row.mapping = summary
    targets = [
        {"name": "cpu", "available": True, "reason": None, "variants": []},
        {"name": "toy", "available": True, "reason": None, "variants": []},
    ]
    result = CompareResult([row], targets, METHOD, tmp_path)
    assert result.mapped is toy
    text = to_markdown(result)
    header = next(line for line in text.splitlines() if line.startswith("| model"))
    assert "| toy ops (pred.) | MACs on toy (pred.) |" in header
    assert "ms (estimated" not in header  # no estimate column for a target without one
    assert "## toy mapping (predicted)" in text and "- add: every op maps" in text
    assert "checked for the toy NPU" in text
    assert "Edge TPU" not in text and "TPU" not in text
    (record,) = csv.DictReader(io.StringIO(to_csv(result)))
    assert record["toy_mapped_ops"] == "1" and record["toy_total_ops"] == "1"
    assert not any(key.startswith("edgetpu") for key in record)


def test_a_compare_without_an_accelerator_has_no_mapping_columns(tmp_path):
    item = build_plan([parse_spec("mobilenet_v2")], (None,), [], False)[0]
    row = Row(item.__class__("m", item.spec, 1.0, 224))
    row.model = ModelFacts(macs=1, int8_bytes=1, params=1)
    cpu = [{"name": "cpu", "available": True, "reason": None, "variants": []}]
    text = to_markdown(CompareResult([row], cpu, {**METHOD, "targets": ["cpu"]}, tmp_path))
    assert "pred." not in text and "mapping" not in text.lower().split("## method")[0]


def test_limits_runs_on_the_toy_and_names_it(toy, cli, tmp_path):
    out, grid = tmp_path / "limits", ("--alphas", "0.5", "-r", "64,96")
    result = cli(
        "limits", "mobilenet_v3_small", "-t", "toy", *grid, "--no-confirm", "--json", "-o", out
    )
    assert result.code == 0, result
    document = json.loads(result.out)
    assert document["target"] == "toy"
    for point in document["points"]:
        facts = point["facts"]
        # the toy maps ADD, CONV_2D and DEPTHWISE_CONV_2D only: MobileNetV3's hard-swish cuts it
        assert facts["cpu_ops"] > 0 and facts["mapping"]["verdict"] == "cut"
        assert facts["latency_ms"] is None and "toy" in facts["latency_note"]
    assert (out / "limits.png").is_file()
    shown = cli(
        "limits", "mobilenet_v3_small", "-t", "toy", *grid, "--no-confirm", "-o", out, "--force"
    )
    assert shown.code == 0, shown
    assert "toy ops" in shown.out and "TPU" not in shown.out


class _Runtime:
    """LiteRT as infer.py sees it: every delegate library but the toy's fails to load."""

    def __init__(self) -> None:
        self.loaded: list[str] = []

    def load_delegate(self, library):
        self.loaded.append(library)
        if library != "libtoy-npu.so.1":
            raise OSError(f"{library}: cannot open shared object file")
        return library

    def Interpreter(self, path, experimental_delegates):  # noqa: N802 (LiteRT's name)
        return ("interpreter", path, experimental_delegates)


def test_the_written_infer_py_runs_a_model_compiled_for_the_toy_with_its_delegate(
    toy, tmp_path, capsys
):
    from edgedeploy.deploy.example import render

    script: dict = {"__name__": "infer"}
    exec(compile(render("m_int8.json"), "infer.py", "exec"), script)
    assert "toy NPU" in [d["name"] for d in script["DELEGATES"]]
    runtime = _Runtime()
    script["litert"] = lambda: runtime
    script["cpu_interpreter"] = lambda _runtime, path: (
        ("cpu", str(path)),
        f"{path.name} on the CPU",
    )
    (tmp_path / "m_int8_toy.tflite").write_bytes(b"compiled for the toy")
    model, where = script["load_interpreter"](tmp_path, {"model": "m_int8.tflite"}, False)
    assert where == "m_int8_toy.tflite on the toy NPU" and runtime.loaded == ["libtoy-npu.so.1"]
    assert model[2] == ["libtoy-npu.so.1"]
    # a twin compiled for a target whose runtime is missing is passed over, said on stderr
    (tmp_path / "m_int8_edgetpu.tflite").write_bytes(b"compiled for the Edge TPU")
    runtime.loaded.clear()
    model, where = script["load_interpreter"](tmp_path, {"model": "m_int8.tflite"}, False)
    assert where == "m_int8_toy.tflite on the toy NPU" and len(runtime.loaded) == 2
    assert "not usable" in capsys.readouterr().err
    model, where = script["load_interpreter"](tmp_path, {"model": "m_int8.tflite"}, True)
    assert where == "m_int8.tflite on the CPU"  # --cpu: no delegate is tried
