"""Check on small models converted by TensorFlow's own int8 converter (committed in
tests/data/tiny_models): the patterns as the converter really emits them (fused HARD_SWISH, the
rewritten ADD+RELU6+MUL form, SE, 5x5, LEAKY_RELU, float I/O, a dynamic batch, a float model)."""

from __future__ import annotations

import pytest

from edgedeploy.errors import ExitCode, InputError
from edgedeploy.targets.edgetpu.check import check_model
from edgedeploy.tflite import read_model


def _graph(path):
    model = read_model(path)
    ops = [(op.opcode, op.version, op.options.get("fused_activation")) for op in model.ops]
    tensors = [(t.shape, t.dtype) for t in model.tensors if not t.is_constant]
    return ops, tensors


@pytest.mark.slow
def test_the_committed_models_are_what_this_tensorflow_converts(tiny_models, tiny_models_rebuilt):
    """The fast tier checks committed conversions; this holds them to a fresh one (ops and shapes)."""
    assert tiny_models.keys() == tiny_models_rebuilt.keys()
    for name, committed in tiny_models.items():
        assert _graph(committed) == _graph(tiny_models_rebuilt[name]), name


def _finding(report, kind):
    found = [f for f in report.findings if f.kind == kind]
    assert found, (kind, [f.kind for f in report.findings])
    return found[0]


def test_fused_hard_swish_cuts_the_graph_at_the_first_one(tiny_models):
    report = check_model(tiny_models["hard_swish_fused"])
    first = next(p for p in report.ops if p.op == "HARD_SWISH")
    assert (first.verdict, first.reason) == ("cpu", "unsupported-op")
    assert report.summary.first_cut_op == first.index
    assert all(p.verdict == "cpu" for p in report.ops[first.index + 1 :])
    finding = _finding(report, "hard-swish")
    assert finding.severity == "error" and finding.ops[0] == first.index
    cpu, total = report.summary.cpu_ops, len(report.ops)
    assert (
        finding.consequence
        == f"cuts the graph at op {first.index}: {cpu} of {total} ops run on the CPU"
    )
    assert "minimalistic" in finding.fix and "--fix-activations" in finding.fix
    assert report.exit_code == ExitCode.OPS_ON_CPU


def test_rewritten_hard_swish_maps_and_is_still_named(tiny_models):
    report = check_model(tiny_models["hard_swish_rewritten"])
    assert report.summary.cpu_ops == 0 and report.exit_code == ExitCode.OK
    assert "HARD_SWISH" not in {p.op for p in report.ops}
    finding = _finding(report, "hard-swish")
    assert finding.severity == "info" and "RELU6" in finding.title


def test_squeeze_excite_is_risky_and_5x5_is_informational(tiny_models):
    report = check_model(tiny_models["se_5x5"])
    se = _finding(report, "squeeze-excite")
    assert se.severity == "warning" and se.count == 1
    risky = [p for p in report.ops if p.verdict == "risky"]
    assert {p.op for p in risky} == {"MEAN", "MUL"} and all(
        p.reason == "squeeze-excite" for p in risky
    )
    assert "if the compiler refuses" in se.consequence
    kernel = _finding(report, "kernel-5x5")
    assert kernel.severity == "info" and report.ops[kernel.ops[0]].op == "DEPTHWISE_CONV_2D"
    assert (
        report.summary.cpu_ops == 0 and report.exit_code == ExitCode.OK
    )  # risky is not a fallback
    assert "risky" in report.verdict


def test_leaky_relu_cuts_its_branch_only(tiny_models):
    report = check_model(tiny_models["leaky_branch"])
    leaky = next(p for p in report.ops if p.op == "LEAKY_RELU")
    assert leaky.reason == "unsupported-op"
    downstream = [p for p in report.ops if p.caused_by == leaky.index]
    assert downstream and all(p.verdict == "cpu" for p in downstream)
    other_branch = [
        p for p in report.ops if p.index not in {leaky.index, *(d.index for d in downstream)}
    ]
    assert other_branch and all(p.verdict == "tpu" for p in other_branch)
    finding = _finding(report, "cpu-op")
    assert "MAXIMUM" in finding.fix


def test_float_io_quantize_is_an_input_boundary(tiny_models):
    report = check_model(tiny_models["plain_float_io"])
    assert (report.ops[0].op, report.ops[0].reason) == ("QUANTIZE", "input-boundary")
    assert (report.ops[-1].op, report.ops[-1].verdict) == ("DEQUANTIZE", "cpu")
    assert report.summary.first_cut_op is None
    assert report.summary.tpu_ops == len(report.ops) - 2


def test_plain_int8_model_maps_fully_with_macs_and_parameters(tiny_models):
    report = check_model(tiny_models["plain"])
    assert report.summary.cpu_ops == 0 and report.summary.tpu_mac_share == 1.0
    assert report.summary.macs_total > 0 and report.summary.param_bytes_tpu > 0
    assert report.summary.params_stream is False
    assert report.verdict.startswith("all 5 ops map")


def test_dynamic_batch_reshape_predicts_a_failed_compile(tiny_models):
    report = check_model(tiny_models["dynamic_batch"])
    assert report.summary.compile_fails and report.findings[0].kind == "dynamic-shape"
    assert any(p.op == "RESHAPE" and p.reason == "dynamic-shape" for p in report.ops)
    assert "batch" in report.findings[0].fix


def test_float_model_is_unreadable_input(tiny_models):
    with pytest.raises(InputError, match="not quantized"):
        check_model(tiny_models["plain_float"])
