"""`edgedeploy verify`: the same photos through the float reference (ONNX Runtime), the CPU int8 model and the
device; per output agreement with float; where int8 diverges and what usually fixes it; the device column
says why it did not run and shows no number; bad input is one line and exit 4."""

from __future__ import annotations

import json
import shutil

import pytest
from deploy_fixtures import copy_folder

from edgedeploy.errors import ExitCode


@pytest.fixture
def photos(photo_dir, tmp_path):
    """Four of the shipped photos plus a file that only looks like one (skipped, said so)."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("parrot.jpg", "owl.jpg", "cat.jpg", "hot_dog.jpg"):
        shutil.copy(photo_dir / name, folder / name)
    (folder / "broken.jpg").write_text("not a photo")
    return folder


@pytest.fixture
def no_edgetpu(tmp_path):
    """Options that make the Edge TPU unavailable whatever this machine has: a runtime library that is not there."""
    return "--edgetpu-lib", str(tmp_path / "no-such-libedgetpu.so.1")


def test_verify_agrees_and_the_edgetpu_column_says_why_without_a_number(
    cli, tiny_deployed, photos, no_edgetpu
):
    result = cli(
        "verify", tiny_deployed / "tiny_int8.tflite", "--images", photos, "--json", *no_edgetpu
    )
    assert result.code == ExitCode.OK, result
    data = json.loads(result.out)
    assert data["command"] == "verify" and data["verdict"] == "agrees"
    assert data["images"]["count"] == 4 and data["images"]["skipped"][0].startswith("broken.jpg")
    runs = {run["key"]: run for run in data["runs"]}
    assert (
        runs["float"]["model"] == "tiny.onnx"
        and runs["cpu"]["model"] == "tiny_int8.tflite"
        and runs["cpu"]["ran"]
    )
    assert not runs["edgetpu"]["ran"] and runs["edgetpu"]["reason"].startswith("not run: ")
    (output,) = data["outputs"]
    cpu = output["vs_float"]["cpu"]
    assert (
        cpu["top1_agreement"] == 1.0
        and cpu["cosine_similarity"] > 0.99
        and 0 < cpu["max_abs_diff"] < 0.1
    )
    assert set(output["vs_float"]["edgetpu"]) == {
        "reason"
    }  # no number for a run that did not happen
    assert data["layers"] is None  # int8 agrees: no layer comparison unless asked


def test_verify_table_shows_dashes_and_the_reason_for_the_device(
    cli, tiny_deployed, photos, no_edgetpu
):
    result = cli("verify", tiny_deployed / "tiny_int8.tflite", "--images", photos, *no_edgetpu)
    assert result.code == ExitCode.OK, result
    edgetpu_row = next(
        line for line in result.out.splitlines() if line.strip().startswith("the Edge TPU ")
    )
    assert set(edgetpu_row.split()[3:]) == {"-"}
    assert "the Edge TPU: not run:" in result.out and "agrees" in result.out


def test_verify_names_where_a_badly_calibrated_int8_model_diverges(
    cli, tiny_badly_calibrated, photos, no_edgetpu
):
    result = cli(
        "verify",
        tiny_badly_calibrated / "tiny_int8.tflite",
        "--images",
        photos,
        "--json",
        *no_edgetpu,
    )
    assert result.code == ExitCode.REGRESSION, result
    data = json.loads(result.out)
    assert data["verdict"] == "departs" and "CPU int8" in data["departures"][0]
    layers = data["layers"]
    first = layers["first_divergence"]
    # Calibrated on one grey picture, the input's own int8 range cannot hold real photos: that is where it starts.
    assert first["op_index"] == -1 and first["op"] == "INPUT" and first["cosine_similarity"] < 0.99
    assert first["float_range"][1] > first["int8_range"][1]
    assert any(
        fix.startswith("a calibration range that covers the data") for fix in layers["advice"]
    )
    assert any(
        "more or better calibration images" in fix and "(this model: 1)" in fix
        for fix in layers["advice"]
    )
    assert [row["op"] for row in layers["rows"]][:2] == [
        "INPUT",
        "PAD",
    ]  # then every op in execution order
    doc = json.loads(
        (tiny_badly_calibrated / "tiny_int8.json").read_text()
    )  # --io uint8, not raw pixels
    assert (
        doc["input"]["dtype"] == "uint8"
        and doc["outputs"][0]["dtype"] == "uint8"
        and not doc["input"]["raw_pixels"]
    )


def test_verify_layers_on_request_and_the_first_layer_below_the_threshold(
    cli, tiny_deployed, photos, no_edgetpu
):
    result = cli(
        "verify",
        tiny_deployed / "tiny_int8.tflite",
        "--images",
        photos,
        "--layers",
        "--json",
        *no_edgetpu,
    )
    assert result.code == ExitCode.OK, result
    rows = json.loads(result.out)["layers"]["rows"]
    assert len(rows) == 7 and all(
        row["cosine_similarity"] > 0.999 for row in rows
    )  # input + the 6 ops, all matched
    strict = cli(
        "verify",
        tiny_deployed / "tiny_int8.tflite",
        "--images",
        photos,
        "--min-cosine",
        "0.9999999",
        "--json",
        *no_edgetpu,
    )
    assert strict.code == ExitCode.REGRESSION
    layers = json.loads(strict.out)["layers"]
    below = [row for row in layers["rows"] if row["cosine_similarity"] < 0.9999999]
    assert layers["first_divergence"] == below[0] and layers["matched_before"] == layers[
        "rows"
    ].index(below[0])


def test_verify_runs_the_compiled_model_through_the_targets_runtime(cli, tiny_deployed, photos):
    import toy_accelerator

    from edgedeploy.targets import registry

    registry.register(toy_accelerator.TARGET)  # runs the model on the CPU, labelled as its device
    try:
        result = cli(
            "verify",
            tiny_deployed / "tiny_int8.tflite",
            "--images",
            photos,
            "--target",
            "toy",
            "--json",
        )
    finally:
        registry.unregister("toy")
    assert result.code == ExitCode.OK, result
    data = json.loads(result.out)
    runs = {run["key"]: run for run in data["runs"]}
    assert runs["toy"]["ran"] and runs["toy"]["details"]["device"] == "toy:0"
    (output,) = data["outputs"]
    assert output["vs_float"]["toy"]["top1_agreement"] == 1.0
    assert (
        output["vs_cpu_int8"]["toy"]["top1_agreement"] == 1.0
    )  # the device's answer against the CPU int8 model


def test_verify_bad_input_is_one_line_and_exit_4(cli, tiny_deployed, tmp_path, no_edgetpu):
    model = tiny_deployed / "tiny_int8.tflite"
    unreadable = tmp_path / "unreadable"
    unreadable.mkdir()
    (unreadable / "a.jpg").write_text("not a photo")
    empty = tmp_path / "empty"
    empty.mkdir()
    for folder, said in (
        (unreadable, "1 image file(s), none readable"),
        (empty, "no image files"),
        (tmp_path / "missing", "not a directory"),
    ):
        result = cli("verify", model, "--images", folder, *no_edgetpu)
        assert (
            result.code == ExitCode.UNREADABLE_INPUT
            and said in result.err
            and "Traceback" not in result.err
        )

    edited = copy_folder(tiny_deployed, tmp_path)
    doc = json.loads((edited / "tiny_int8.json").read_text())
    doc["outputs"][0]["zero_point"] += 1
    (edited / "tiny_int8.json").write_text(json.dumps(doc))
    result = cli("verify", edited / "tiny_int8.tflite", "--images", empty, *no_edgetpu)
    assert result.code == ExitCode.UNREADABLE_INPUT and "'outputs[0].zero_point' is" in result.err

    (edited / "tiny_int8.json").unlink()
    result = cli("verify", edited / "tiny_int8.tflite", "--images", empty, *no_edgetpu)
    assert result.code == ExitCode.UNREADABLE_INPUT and "no I/O sidecar" in result.err
