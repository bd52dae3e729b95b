"""The rules data and each rule, on hand-built TFLite graphs (one exact op at a time, no TensorFlow)."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest
from tflite_builder import GraphBuilder

from edgedeploy.errors import UsageError
from edgedeploy.targets.edgetpu.check import check_model
from edgedeploy.targets.edgetpu.predict.rules import available_compilers, load_rules
from edgedeploy.tflite import read_model

CONV = ("Conv2DOptions", {"strideW": 1, "strideH": 1})


def _conv(b: GraphBuilder, x: int, channels: int = 4, shape=(1, 8, 8, 4), kernel: int = 1) -> int:
    w = b.tensor(
        f"w{len(b.graph.tensors)}",
        [channels, kernel, kernel, shape[-1]],
        data=np.ones((channels, kernel, kernel, shape[-1])),
    )
    bias = b.tensor(f"b{len(b.graph.tensors)}", [channels], "int32", data=np.zeros(channels))
    return b.op("CONV_2D", [x, w, bias], [*shape[:-1], channels], options=CONV)


def _lead(b: GraphBuilder, x: int, shape) -> int:
    """An int8 ADD that maps, so the op under test reads a TPU tensor (not the graph input)."""
    return b.op("ADD", [x, x], list(shape))


def _check(tmp_path, b: GraphBuilder, inputs, outputs, **kwargs):
    return check_model(b.save(tmp_path / "m.tflite", inputs, outputs), **kwargs)


def _verdicts(report):
    return [(p.op, p.verdict, p.reason) for p in report.ops]


# --- the data itself ---------------------------------------------------------------------------


def test_rules_files_say_what_they_are_for_and_why():
    assert available_compilers() == [14, 15, 16]
    folder = resources.files("edgedeploy.targets.edgetpu").joinpath("rules")
    versions = json.loads(folder.joinpath("tflite-op-versions.json").read_text())
    assert "runtime_version.cc" in versions["source"]
    for compiler in available_compilers():
        data = json.loads(folder.joinpath(f"compiler-{compiler}.json").read_text())
        assert data["compiler_versions"] and data["basis"] and data["tflite_release"]
        rules = load_rules(compiler)
        assert rules.min_runtime in data["min_runtimes"]
        for name in rules.ops:  # every supported op has a principled version limit
            assert name in versions["versions"], name


def test_op_versions_cover_everything_google_compiled(edgetpu_models):
    """Whatever is mapped in Google's compiled models must be within the version limits."""
    rules = load_rules(16)
    for path in edgetpu_models.glob("*.tflite"):
        if path.name.endswith("_edgetpu.tflite"):
            continue
        for op in read_model(path).ops:
            if op.opcode in rules.ops:
                assert op.version <= rules.ops[op.opcode].max_version, (
                    path.name,
                    op.opcode,
                    op.version,
                )


def test_version_limits_follow_the_embedded_tflite_release():
    assert load_rules(16).ops["ADD"].max_version == 3  # ADD v4 arrived with TF 2.6
    assert load_rules(16).ops["QUANTIZE"].max_version == 2  # v3 arrived with TF 2.7
    assert load_rules(16).ops["RESIZE_NEAREST_NEIGHBOR"].max_version >= 3
    assert (
        load_rules(15).ops["RESIZE_NEAREST_NEIGHBOR"].max_version == 2
    )  # observed refusals in c14/c15 logs
    assert "TRANSPOSE" not in load_rules(15).ops and "TRANSPOSE" in load_rules(16).ops


def test_unknown_compiler_or_runtime_is_a_usage_error():
    with pytest.raises(UsageError):
        load_rules(12)
    with pytest.raises(UsageError):
        load_rules(16, min_runtime=99)


# --- single-op rules ---------------------------------------------------------------------------


def test_op_version_too_new(tmp_path):
    b = GraphBuilder()
    x = b.tensor("x", [1, 8, 8, 4])
    y = b.op("ADD", [_lead(b, x, [1, 8, 8, 4])] * 2, [1, 8, 8, 4], version=4)
    report = _check(tmp_path, b, [x], [y])
    assert _verdicts(report)[1] == ("ADD", "cpu", "op-version-too-new")


def test_transpose_needs_runtime_14(tmp_path):
    b = GraphBuilder()
    x = b.tensor("x", [1, 8, 4])
    perm = b.tensor("perm", [3], "int32", data=[0, 2, 1])
    y = b.op("TRANSPOSE", [_lead(b, x, [1, 8, 4]), perm], [1, 4, 8])
    path = b.save(tmp_path / "t.tflite", [x], [y])
    assert check_model(path).ops[1].verdict == "tpu"
    assert check_model(path, min_runtime=13).ops[1].reason == "needs-newer-runtime"
    assert check_model(path, compiler_version=15).ops[1].reason == "unsupported-op"


def test_unknown_and_custom_ops_are_reported_not_guessed(tmp_path):
    b = GraphBuilder()
    x = b.tensor("x", [1, 8])
    y = b.op("SIN", [_lead(b, x, [1, 8])], [1, 8])
    z = b.op("MyCustomThing", [_lead(b, x, [1, 8])], [1, 8], custom=True, custom_options=b"\x00")
    report = _check(tmp_path, b, [x], [y, z])
    assert (
        report.ops[1].reason == "unknown-op"
        and "not in the compiler-16 op table" in report.ops[1].detail
    )
    assert (report.ops[3].verdict, report.ops[3].reason) == ("cpu", "custom-op")


def test_float_int32_and_rank_rules(tmp_path):
    b = GraphBuilder()
    x = b.tensor("x", [1, 8, 8, 4])
    f = b.op("ADD", [_lead(b, x, [1, 8, 8, 4])] * 2, [1, 8, 8, 4], dtype="float32")
    b2 = GraphBuilder()
    x2 = b2.tensor("x", [2, 8, 8, 4])
    y2 = b2.op("ADD", [x2, x2], [2, 8, 8, 4])  # at the input: stays before the region
    b3 = GraphBuilder()
    x3, i3 = b3.tensor("x", [1, 8]), b3.tensor("i", [1, 8], "int32")
    y3 = b3.op("ADD", [i3, i3], [1, 8], dtype="int32")
    assert _check(tmp_path, b, [x], [f]).ops[1].reason == "float-tensor"
    assert "rank" in _check(tmp_path, b2, [x2], [y2]).ops[0].detail
    report = check_model(b3.save(tmp_path / "i.tflite", [x3, i3], [_lead(b3, x3, [1, 8]), y3]))
    assert report.ops[0].reason == "input-boundary" and "unsupported-dtype" in report.ops[0].detail
    assert report.ops[1].verdict == "tpu"


def test_strided_slice_needs_unit_strides(tmp_path):
    def build(stride):
        b = GraphBuilder()
        x = b.tensor("x", [1, 8, 8, 4])
        y = _conv(b, x)
        consts = [
            b.tensor(n, [4], "int32", data=v)
            for n, v in (
                ("begin", [0, 0, 0, 0]),
                ("end", [1, 8, 8, 4]),
                ("strides", [1, stride, stride, 1]),
            )
        ]
        z = b.op(
            "STRIDED_SLICE",
            [y, *consts],
            [1, 8 // stride, 8 // stride, 4],
            options=("StridedSliceOptions", {}),
        )
        return _check(tmp_path, b, [x], [z])

    assert build(1).ops[1].verdict == "tpu"
    sliced = build(2).ops[1]
    assert (sliced.verdict, sliced.reason) == ("cpu", "stride")


def test_resize_rules(tmp_path):
    def build(in_hw, out_hw, align):
        b = GraphBuilder()
        x = b.tensor("x", [1, *in_hw, 4])
        y = _conv(b, x, shape=(1, *in_hw, 4))
        size = b.tensor("size", [2], "int32", data=list(out_hw))
        z = b.op(
            "RESIZE_BILINEAR",
            [y, size],
            [1, *out_hw, 4],
            options=("ResizeBilinearOptions", {"alignCorners": align}),
        )
        return _check(tmp_path, b, [x], [z]).ops[1]

    assert build((8, 8), (16, 16), False).verdict == "tpu"  # x2 upsampling maps
    assert build((1, 1), (33, 33), True).reason == "resize-precision"  # DeepLab's image pooling
    assert build((8, 8), (12, 12), False).verdict == "risky"  # non-integer scale: size-dependent


def test_concatenation_constant_must_be_a_zero_pad(tmp_path):
    def build(values):
        b = GraphBuilder()
        x = b.tensor("x", [1, 8, 8, 4])
        y = _conv(b, x)
        c = b.tensor("c", [1, 8, 8, 4], data=np.full((1, 8, 8, 4), values))
        z = b.op(
            "CONCATENATION", [y, c], [1, 8, 8, 8], options=("ConcatenationOptions", {"axis": 3})
        )
        return _check(tmp_path, b, [x], [z]).ops[1]

    assert build(0).verdict == "tpu"
    assert build(3).reason == "constant-input"


def test_fused_activation_on_pooling_and_mean_over_batch(tmp_path):
    b = GraphBuilder()
    x = b.tensor("x", [1, 8, 8, 4])
    y = _conv(b, x)
    z = b.op(
        "AVERAGE_POOL_2D",
        [y],
        [1, 1, 1, 4],
        options=(
            "Pool2DOptions",
            {
                "filterWidth": 8,
                "filterHeight": 8,
                "strideW": 1,
                "strideH": 1,
                "fusedActivationFunction": 3,
            },
        ),
    )
    axis = b.tensor("axis", [1], "int32", data=[0])
    m = b.op("MEAN", [y, axis], [1, 8, 8, 4], options=("ReducerOptions", {"keepDims": True}))
    report = _check(tmp_path, b, [x], [z, m])
    assert [p.reason for p in report.ops[1:]] == ["fused-activation", "batch-axis"]


# --- the partition (docs/edgetpu.md section 3) -------------------------------------------------


def test_cpu_op_at_the_input_does_not_cut(tmp_path):
    b = GraphBuilder()
    x = b.tensor("x", [1, 8, 8, 4], "float32", quantized=False)
    q = b.op("QUANTIZE", [x], [1, 8, 8, 4])
    y = _conv(b, q)
    report = _check(tmp_path, b, [x], [y])
    assert _verdicts(report) == [
        ("QUANTIZE", "cpu", "input-boundary"),
        ("CONV_2D", "tpu", "supported"),
    ]
    assert report.summary.first_cut_op is None and "no cut" in report.verdict


def test_refused_op_cuts_everything_downstream_but_not_tpu_only_branches(tmp_path):
    """A branch that reads only TPU tensors stays on the TPU even when it comes after the CPU op."""
    b = GraphBuilder()
    x = b.tensor("x", [1, 8, 8, 4])
    a = _conv(b, x)  # 0 tpu
    bad = b.op(
        "LEAKY_RELU", [a], [1, 8, 8, 4], options=("LeakyReluOptions", {"alpha": 0.1})
    )  # 1 cuts
    after = _conv(b, bad)  # 2 downstream
    branch = _conv(b, a)  # 3 reads only op 0: stays on the TPU
    branch2 = _conv(b, branch)  # 4 stays
    merge = b.op("ADD", [after, branch2], [1, 8, 8, 4])  # 5 reads a CPU tensor: CPU
    report = _check(tmp_path, b, [x], [merge])
    assert [p.verdict for p in report.ops] == ["tpu", "cpu", "cpu", "tpu", "tpu", "cpu"]
    assert [p.caused_by for p in report.ops] == [None, None, 1, None, None, 1]
    assert report.summary.first_cut_op == 1
    assert report.findings[0].consequence == "cuts the graph at op 1: 3 of 6 ops run on the CPU"


def test_refused_op_at_the_output_moves_nothing_else(tmp_path):
    b = GraphBuilder()
    x = b.tensor("x", [1, 8, 8, 4])
    y = _conv(b, x)
    axis = b.tensor("axis", [], "int32", data=3)
    z = b.op("ARG_MAX", [y, axis], [1, 8, 8], dtype="int32", options=("ArgMaxOptions", {}))
    report = _check(tmp_path, b, [x], [z])
    assert _verdicts(report)[1] == ("ARG_MAX", "cpu", "unsupported-op")
    assert "after the Edge TPU region" in report.findings[0].consequence
    assert report.exit_code == 3


def test_non_constant_shape_operand_makes_the_compile_fail(tmp_path):
    b = GraphBuilder()
    x = b.tensor("x", [1, 4, 4, 2], signature=[-1, 4, 4, 2])
    shape = b.op("SHAPE", [x], [4], dtype="int32", options=("ShapeOptions", {"outType": 2}))
    y = b.op("RESHAPE", [x, shape], [1, 4, 4, 2])
    report = _check(tmp_path, b, [x], [y])
    assert report.summary.compile_fails and report.findings[0].kind == "dynamic-shape"
    assert report.ops[1].reason == "dynamic-shape"
    assert report.verdict.startswith("the compiler will refuse this model")


def test_hard_swish_decomposed_with_relu_0_to_1_is_one_finding(tmp_path):
    """x * relu_0_to_1(x/6 + 0.5): what current converters emit for ONNX HardSigmoid-based hard-swish."""
    b = GraphBuilder()
    x = b.tensor("x", [1, 8, 8, 4])
    y = _conv(b, x)  # 0
    sixth = b.tensor("sixth", [], data=1)
    half = b.tensor("half", [], data=5)
    s = b.op("MUL", [y, sixth], [1, 8, 8, 4])  # 1
    t = b.op("ADD", [s, half], [1, 8, 8, 4])  # 2
    g = b.op("RELU_0_TO_1", [t], [1, 8, 8, 4])  # 3
    z = b.op("MUL", [y, g], [1, 8, 8, 4])  # 4
    report = _check(tmp_path, b, [x], [z])
    (finding,) = [f for f in report.findings if f.kind == "hard-swish"]
    assert finding.severity == "error" and "RELU_0_TO_1" in finding.title and finding.ops == [4]
    assert finding.consequence == "cuts the graph at op 3: 2 of 5 ops run on the CPU"
    assert not [f for f in report.findings if f.kind == "cpu-op"]  # not reported twice


# --- the rules data is validated when loaded -------------------------------------------------------------


def _valid_rules() -> dict:
    import json
    from importlib import resources

    return json.loads(
        resources.files("edgedeploy.targets.edgetpu")
        .joinpath("rules", "compiler-16.json")
        .read_text()
    )


@pytest.mark.parametrize(
    "mutate, names",
    [
        (
            lambda d: d["ops"]["CONV_2D"].setdefault("constraints", {}).update(unit_stride=True),
            "ops.CONV_2D.constraints.unit_stride",
        ),
        (lambda d: d["ops"]["ADD"].update(min_runtme=13), "ops.ADD.min_runtme"),
        (lambda d: d.update(on_chip_cache=8), "on_chip_cache"),
        (
            lambda d: d["never_mapped"]["HARD_SWISH"].update(fixx="x"),
            "never_mapped.HARD_SWISH.fixx",
        ),
        (
            lambda d: d.update(on_chip_cache_bytes="8 MiB"),
            "on_chip_cache_bytes must be of type int",
        ),
        (lambda d: d.pop("ops"), "missing ops"),
    ],
)
def test_a_rules_file_with_an_unknown_or_wrong_key_is_refused_naming_file_and_key(mutate, names):
    from edgedeploy.targets.edgetpu.predict.constraints import CHECKS
    from edgedeploy.targets.edgetpu.predict.rules_schema import RulesDataError, validate_rules

    data = _valid_rules()
    validate_rules(data, "compiler-16.json", CHECKS)  # the shipped file passes
    mutate(data)
    with pytest.raises(RulesDataError) as caught:
        validate_rules(data, "compiler-16.json", CHECKS)
    assert "compiler-16.json" in caught.value.message and names in caught.value.message


def test_every_activation_fix_names_the_option_that_applies_it():
    from edgedeploy.targets.edgetpu.predict.rules import load_rules

    rules = load_rules(16)
    for op in ("HARD_SWISH", "HARD_SIGMOID", "RELU_0_TO_1"):
        assert "--fix-activations" in rules.never_mapped[op]["fix"], op
