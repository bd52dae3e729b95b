"""Every bad input to convert gets one clear line, a non-zero exit, and leaves no output behind."""

import os
import random

import pytest
from tiny_models import export_onnx, tiny_cnn

from edgedeploy.errors import ExitCode


def assert_clean_failure(result, code, *needles):
    assert result.code == code, result
    assert "Traceback" not in result.err
    message = result.err.strip().splitlines()
    assert message, "no message on stderr"
    text = " ".join(message).lower()
    for needle in needles:
        assert needle.lower() in text, result.err


def test_missing_file(cli, tmp_path):
    result = cli("convert", str(tmp_path / "nope.onnx"), "-o", str(tmp_path / "out"))
    assert_clean_failure(result, ExitCode.UNREADABLE_INPUT, "no such file")
    assert not (tmp_path / "out").exists()


def test_directory_instead_of_file(cli, tmp_path):
    (tmp_path / "model.onnx").mkdir()
    result = cli("convert", str(tmp_path / "model.onnx"), "-o", str(tmp_path / "out"))
    assert_clean_failure(result, ExitCode.UNREADABLE_INPUT, "is a directory")


def test_empty_onnx(cli, tmp_path):
    (tmp_path / "empty.onnx").write_bytes(b"")
    assert_clean_failure(
        cli("convert", str(tmp_path / "empty.onnx"), "-o", str(tmp_path / "o")),
        ExitCode.UNREADABLE_INPUT,
        "empty",
    )


# Seeded, so that a failure reproduces (and every pytest-xdist worker collects the same test ids).
@pytest.mark.parametrize(
    "content",
    [random.Random(0).randbytes(4096), b"this is a text file, not a model\n" * 10],
    ids=["random-bytes", "text"],
)
def test_corrupt_or_non_model_onnx(cli, tmp_path, content):
    (tmp_path / "bad.onnx").write_bytes(content)
    result = cli("convert", str(tmp_path / "bad.onnx"), "-o", str(tmp_path / "out"))
    assert_clean_failure(result, ExitCode.UNREADABLE_INPUT, "onnx")
    assert not (tmp_path / "out").exists()


def test_text_file_with_torchscript_extension(cli, tmp_path):
    (tmp_path / "model.pt").write_text("hello")
    assert_clean_failure(
        cli("convert", str(tmp_path / "model.pt"), "-o", str(tmp_path / "o")),
        ExitCode.UNREADABLE_INPUT,
        "neither a torchscript model nor a pickled one",
    )


def test_unknown_model_name_suggests(cli, tmp_path):
    result = cli("convert", "mobilenet_v3_smal", "-o", str(tmp_path / "o"))
    assert_clean_failure(result, ExitCode.USAGE, "unknown model", "mobilenet_v3_small")


def test_alpha_not_offered(cli, tmp_path):
    assert_clean_failure(
        cli("convert", "mobilenet_v2", "--alpha", "3", "-o", str(tmp_path / "o")),
        ExitCode.USAGE,
        "alpha 3 is not offered",
    )


def test_tflite_input_points_to_check_and_compile(cli, tmp_path, edgetpu_models):
    result = cli(
        "convert",
        str(edgetpu_models / "mobilenet_v1_0.25_128_quant.tflite"),
        "-o",
        str(tmp_path / "o"),
    )
    assert_clean_failure(result, ExitCode.USAGE, "already a tflite model", "edgedeploy check")


def test_calibration_dir_without_images(cli, tmp_path):
    (tmp_path / "cal").mkdir()
    (tmp_path / "cal" / "notes.txt").write_text("no images here")
    onnx = export_onnx(tiny_cnn(), tmp_path / "tiny.onnx")
    result = cli(
        "convert", str(onnx), "--calibration", str(tmp_path / "cal"), "-o", str(tmp_path / "out")
    )
    assert_clean_failure(result, ExitCode.UNREADABLE_INPUT, "no images")
    assert not (tmp_path / "out").exists()


def test_unwritable_output_dir(cli, tmp_path):
    if os.geteuid() == 0:
        target = "/proc/edgedeploy-out"  # root can write anywhere but procfs
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        target = str(locked / "out")
    onnx = export_onnx(tiny_cnn(), tmp_path / "tiny.onnx")
    assert_clean_failure(cli("convert", str(onnx), "-o", target), ExitCode.ERROR, "cannot write")


def test_output_dir_with_results_needs_force(cli, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.json").write_text("{}")
    onnx = export_onnx(tiny_cnn(), tmp_path / "tiny.onnx")
    assert_clean_failure(cli("convert", str(onnx), "-o", str(out)), ExitCode.ERROR, "--force")
    assert (out / "report.json").read_text() == "{}"


def test_dynamic_spatial_dims_need_input_shape(cli, tmp_path):
    onnx = export_onnx(tiny_cnn(), tmp_path / "dyn.onnx", dynamic={"x": {0: "n", 2: "h", 3: "w"}})
    result = cli("convert", str(onnx), "-o", str(tmp_path / "out"))
    assert_clean_failure(result, ExitCode.USAGE, "dynamic dimensions", "--input-shape")
    assert not (tmp_path / "out").exists()


def test_bad_input_shape_value(cli, tmp_path):
    onnx = export_onnx(tiny_cnn(), tmp_path / "tiny.onnx")
    assert_clean_failure(
        cli("convert", str(onnx), "--input-shape", "1,3,abc", "-o", str(tmp_path / "o")),
        ExitCode.USAGE,
        "input-shape",
    )


def test_unknown_target(cli, tmp_path):
    assert_clean_failure(
        cli("convert", "mobilenet_v2", "--target", "gpu", "-o", str(tmp_path / "o")),
        ExitCode.USAGE,
        "unknown target",
    )


def test_pretrained_offline_fails_with_one_clear_line(cli, tmp_path, monkeypatch):
    import huggingface_hub.constants as hub

    # As on a machine with no internet, without waiting on DNS and retries. The hub reads its env vars
    # once at import (another test may have imported it already), so set its constants directly.
    monkeypatch.setattr(hub, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(hub, "HF_HUB_CACHE", str(tmp_path / "hf"))  # and no cached weights
    result = cli("convert", "mobilenet_v3_small", "--pretrained", "-o", str(tmp_path / "o"))
    assert_clean_failure(
        result, ExitCode.USAGE, "not in the local cache and HF_HUB_OFFLINE is set", "--weights"
    )
    assert not (tmp_path / "o").exists()


def test_pretrained_with_an_unreachable_hub_fails_in_seconds(cli, tmp_path, monkeypatch):
    import time

    import huggingface_hub.constants as hub

    monkeypatch.setattr(hub, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hub, "HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setattr(
        hub, "ENDPOINT", "http://127.0.0.1:9"
    )  # the discard port: nothing listens here
    start = time.monotonic()
    result = cli("convert", "mobilenet_v3_small", "--pretrained", "-o", str(tmp_path / "o"))
    assert_clean_failure(
        result, ExitCode.USAGE, "http://127.0.0.1:9 cannot be reached", "--weights"
    )
    assert (
        time.monotonic() - start < 30 and not (tmp_path / "o").exists()
    )  # not the hub's minute of retries
