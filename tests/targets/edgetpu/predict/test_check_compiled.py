"""Acceptance core: for each of Google's pairs, the prediction on X.tflite agrees op by op with what
`check X_edgetpu.tflite` recovers from the compiler's output; plus what the compiled file tells."""

from __future__ import annotations

import json
import shutil

import pytest

from edgedeploy.errors import ExitCode, InputError
from edgedeploy.targets.edgetpu.check import check_model
from edgedeploy.targets.edgetpu.inspect.compiled import recover
from edgedeploy.targets.edgetpu.inspect.darwinn import read_package
from edgedeploy.tflite import read_model


def _pairs(edgetpu_models):
    pairs = [
        (p.with_name(p.name.replace("_edgetpu.tflite", ".tflite")), p)
        for p in sorted(edgetpu_models.glob("*_edgetpu.tflite"))
    ]
    assert len(pairs) >= 4 and all(src.is_file() for src, _ in pairs)
    return pairs


def test_prediction_agrees_op_by_op_with_the_real_compiler(edgetpu_models):
    for source, compiled in _pairs(edgetpu_models):
        predicted = check_model(source)
        recovered = check_model(compiled)
        assert recovered.kind == "compiled" and recovered.details["source"] == str(source)
        assert len(predicted.ops) == len(recovered.ops), source.name
        for guess, truth in zip(predicted.ops, recovered.ops):
            assert guess.index == truth.index and guess.op == truth.op
            assert (guess.verdict != "cpu") == (truth.verdict == "tpu"), (
                source.name,
                guess.index,
                guess.op,
                guess.reason,
            )
        assert recovered.details["prediction_agrees"] is True
        assert recovered.summary.tpu_ops + recovered.summary.cpu_ops == len(recovered.ops)


def test_recovery_accounts_for_every_source_op(edgetpu_models):
    for source, compiled in _pairs(edgetpu_models):
        src, comp = read_model(source), read_model(compiled)
        result = recover(comp, src)
        assert result.problems == [], (source.name, result.problems)
        assert set(result.mapped) | set(result.source_cpu) == set(range(len(src.ops)))
        assert not set(result.mapped) & set(result.source_cpu)
        assert len(result.source_cpu) == len(comp.ops) - len(result.regions)


def test_deeplab_is_cut_at_the_image_pooling_resize(edgetpu_models):
    report = check_model(edgetpu_models / "deeplabv3_mnv2_dm05_pascal_quant.tflite")
    cut = report.ops[report.summary.first_cut_op]
    assert cut.op == "RESIZE_BILINEAR" and cut.reason == "resize-precision"
    assert cut.inputs[0]["shape"] == [1, 1, 1, 256]
    downstream = [p for p in report.ops if p.reason == "downstream-of-cpu-op"]
    assert downstream and all(p.caused_by == cut.index for p in downstream)
    assert report.exit_code == 3


def test_parameter_bytes_come_from_the_darwinn_package(edgetpu_models):
    for _, compiled in _pairs(edgetpu_models):
        graph = read_model(compiled)
        package = read_package(graph.ops[0].custom_options)
        types = {e.type for e in package.executables}
        assert "PARAMETER_CACHING" in types and (
            "EXECUTION_ONLY" in types or "STAND_ALONE" in types
        )
        assert package.min_runtime_version >= 10
        report = check_model(compiled)
        assert report.summary.on_chip_used_bytes == package.on_chip_parameter_bytes > 0
        assert report.summary.off_chip_bytes == package.off_chip_parameter_bytes
        # the cached parameters cannot be bigger than the compiled file that carries them
        assert package.on_chip_parameter_bytes < compiled.stat().st_size
        # boundary layers are named like the custom op's tensors
        op = graph.ops[0]
        assert set(package.input_names) >= {graph.tensors[t].name for t in op.inputs if t >= 0}


def test_compiled_model_without_its_source(tmp_path, edgetpu_models):
    compiled = tmp_path / "alone_edgetpu.tflite"
    shutil.copy(edgetpu_models / "deeplabv3_mnv2_dm05_pascal_quant_edgetpu.tflite", compiled)
    report = check_model(compiled)
    assert report.kind == "compiled" and report.summary.tpu_ops is None
    assert report.summary.cpu_ops == 8  # the builtin ops left in the compiled file
    assert any("--source" in note for note in report.notes)
    with_source = check_model(
        compiled, source=edgetpu_models / "deeplabv3_mnv2_dm05_pascal_quant.tflite"
    )
    assert with_source.summary.tpu_ops == 64


def test_a_wrong_source_model_is_not_trusted(edgetpu_models):
    with pytest.raises(
        InputError, match="not the model split_concat_edgetpu.tflite was compiled from"
    ):
        check_model(
            edgetpu_models / "split_concat_edgetpu.tflite",
            source=edgetpu_models / "mobilenet_v1_0.25_128_quant.tflite",
        )


@pytest.mark.parametrize("compiler", [14, 15, 16])
def test_google_models_map_under_every_rules_version(edgetpu_models, compiler):
    for name in (
        "mobilenet_v1_0.25_128_quant.tflite",
        "split_concat.tflite",
        "keras_lstm_mnist_ptq.tflite",
    ):
        assert check_model(edgetpu_models / name, compiler_version=compiler).summary.cpu_ops == 0


def test_a_source_that_is_not_the_compilers_input_is_an_input_error(cli, edgetpu_models, tmp_path):
    wrong = cli(
        "check",
        edgetpu_models / "split_concat_edgetpu.tflite",
        "--source",
        edgetpu_models / "mobilenet_v1_0.25_128_quant.tflite",
    )
    assert wrong.code == ExitCode.UNREADABLE_INPUT
    assert "is not the model split_concat_edgetpu.tflite was compiled from" in wrong.err
    # the same wrong file found beside the compiled model by name: a note, and the compiled-only report
    shutil.copy(edgetpu_models / "split_concat_edgetpu.tflite", tmp_path / "x_edgetpu.tflite")
    shutil.copy(edgetpu_models / "mobilenet_v1_0.25_128_quant.tflite", tmp_path / "x.tflite")
    beside = cli("check", "--json", tmp_path / "x_edgetpu.tflite")
    assert beside.code == ExitCode.OK and any(
        "is not its source" in n for n in json.loads(beside.out)["notes"]
    )


def test_source_goes_only_with_a_compiled_model(cli, edgetpu_models):
    result = cli(
        "check",
        edgetpu_models / "split_concat.tflite",
        "--source",
        edgetpu_models / "split_concat.tflite",
    )
    assert result.code == ExitCode.USAGE and "--source goes with a compiled" in result.err
