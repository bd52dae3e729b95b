"""The TFLite reader against Google's real models (cross-checked with the LiteRT interpreter) and bad bytes."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tflite_builder import GraphBuilder

from edgedeploy.errors import InputError
from edgedeploy.tflite import parse_model, read_model


def _models(edgetpu_models: Path) -> list[Path]:
    files = sorted(edgetpu_models.glob("*.tflite"))
    assert len(files) >= 9
    return files


def test_tensors_match_the_litert_interpreter(edgetpu_models):
    """Names, shapes, dtypes and quantization agree with what the real runtime reads."""
    from ai_edge_litert.interpreter import Interpreter

    for path in _models(edgetpu_models):
        if path.name.endswith("_edgetpu.tflite"):
            continue  # the interpreter cannot allocate the custom op without the delegate
        graph = read_model(path)
        details = Interpreter(model_path=str(path)).get_tensor_details()
        by_index = {d["index"]: d for d in details}
        for t in graph.tensors:
            if t.index not in by_index:
                continue
            d = by_index[t.index]
            assert d["name"] == t.name, path.name
            assert tuple(d["shape"]) == t.shape, (path.name, t.name)
            assert np.dtype(d["dtype"]).name == t.dtype, (path.name, t.name)
            scales = d["quantization_parameters"]["scales"]
            assert list(scales) == pytest.approx(t.scale), (path.name, t.name)
            # the interpreter may report one shared zero point for per-channel tensors
            assert set(d["quantization_parameters"]["zero_points"].tolist()) == set(t.zero_point), (
                path.name,
                t.name,
            )


def test_ops_inputs_outputs_and_options(edgetpu_models):
    graph = read_model(edgetpu_models / "mobilenet_v1_0.25_128_quant.tflite")
    assert graph.subgraph_count == 1 and len(graph.ops) == 31
    assert graph.op_histogram() == {
        "CONV_2D": 15,
        "DEPTHWISE_CONV_2D": 13,
        "AVERAGE_POOL_2D": 1,
        "RESHAPE": 1,
        "SOFTMAX": 1,
    }
    first = graph.ops[0]
    assert first.opcode == "CONV_2D" and first.version == 1
    assert first.options["stride_w"] == first.options["stride_h"] == 2
    assert first.options["padding"] in ("SAME", "VALID")
    assert first.options["fused_activation"] == "RELU6"
    weights = graph.tensors[first.inputs[1]]
    assert (
        weights.is_constant and weights.buffer_size == weights.elements
    )  # uint8 weights: 1 byte each
    assert graph.constant(first.inputs[1]).shape == weights.shape
    assert graph.inputs[0].shape == (1, 128, 128, 3) and graph.inputs[0].dtype == "uint8"
    assert not graph.inputs[0].is_constant and graph.inputs[0].buffer_size == 0


def test_resize_options_and_lstm_state(edgetpu_models):
    deeplab = read_model(edgetpu_models / "deeplabv3_mnv2_dm05_pascal_quant.tflite")
    resizes = [op for op in deeplab.ops if op.opcode == "RESIZE_BILINEAR"]
    assert resizes and all(op.options["align_corners"] is True for op in resizes)
    lstm = read_model(edgetpu_models / "keras_lstm_mnist_ptq.tflite")
    (op,) = [op for op in lstm.ops if op.opcode == "UNIDIRECTIONAL_SEQUENCE_LSTM"]
    states = [lstm.tensors[t] for t in op.inputs if t >= 0 and lstm.tensors[t].is_variable]
    assert {t.dtype for t in states} == {"int8", "int16"}


def test_custom_op_keeps_its_code_and_options(edgetpu_models):
    graph = read_model(edgetpu_models / "mobilenet_v1_0.25_128_quant_edgetpu.tflite")
    (op,) = graph.ops
    assert op.is_custom and op.opcode == "edgetpu-custom-op"
    assert op.custom_options and b"DWN1" in op.custom_options
    assert op.options == {}


def test_hand_built_model_round_trips(tmp_path):
    b = GraphBuilder()
    x = b.tensor("x", [1, 4, 4, 2], signature=[-1, 4, 4, 2])
    y = b.op("RESHAPE", [x, b.tensor("s", [2], "int32", data=[1, 32])], [1, 32])
    graph = read_model(b.save(tmp_path / "m.tflite", [x], [y]))
    assert graph.inputs[0].shape_signature == (-1, 4, 4, 2) and graph.inputs[0].is_dynamic
    assert graph.constant(graph.ops[0].inputs[1]).tolist() == [1, 32]
    assert graph.outputs[0].shape == (1, 32)


@pytest.mark.parametrize(
    "content,expected",
    [
        (b"", "empty"),
        (b"hello, this is not a model\n", "not a TFLite model"),
        (bytes(random.Random(0).randrange(256) for _ in range(4096)), "not a TFLite model"),
        (b"\x10\x00\x00\x00TFL3" + b"\xff" * 64, "corrupt"),
    ],
)
def test_bad_bytes_raise_one_clear_input_error(tmp_path, content, expected):
    path = tmp_path / "bad.tflite"
    path.write_bytes(content)
    with pytest.raises(InputError) as info:
        read_model(path)
    assert expected in info.value.message and "\n" not in info.value.message


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_model(tmp_path / "nope.tflite")
    with pytest.raises(InputError, match="directory"):
        read_model(tmp_path)


def test_every_truncation_of_a_real_model_is_a_clean_error(edgetpu_models):
    data = (edgetpu_models / "split_concat.tflite").read_bytes()
    for end in range(0, len(data), 7):
        try:
            parse_model(data[:end])
        except InputError:
            pass


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_mutated_real_models_give_only_clean_errors(edgetpu_models, data):
    """Fuzz: flip bytes / overwrite chunks / truncate real models; only InputError may come out."""
    files = _models(edgetpu_models)
    original = bytearray(data.draw(st.sampled_from(files)).read_bytes())
    mode = data.draw(st.sampled_from(["flip", "chunk", "truncate"]))
    if mode == "truncate":
        original = original[: data.draw(st.integers(0, len(original) - 1))]
    else:
        for _ in range(data.draw(st.integers(1, 16))):
            at = data.draw(st.integers(0, min(len(original) - 1, 8192)))
            size = 1 if mode == "flip" else 8
            original[at : at + size] = bytes(data.draw(st.integers(0, 255)) for _ in range(size))
    try:
        graph = parse_model(bytes(original))
        graph.op_histogram()
    except InputError as exc:
        assert exc.message and "\n" not in exc.message
