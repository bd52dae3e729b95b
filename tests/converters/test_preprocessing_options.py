"""How a user model expects its pixels: --preset/--mean/--std/--channel-order, and an honest note when
nothing says (a model file carries no preprocessing, so ImageNet is an assumption)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from tiny_models import export_onnx, tiny_cnn

from edgedeploy.converters.preprocessing_options import parse_preprocessing
from edgedeploy.errors import ExitCode, UsageError
from edgedeploy.images import ASSUMED, Preprocessing, default_preprocessing, load_image


def test_presets_and_explicit_values():
    prep = default_preprocessing(32, 32)
    assert prep.origin == ASSUMED
    unit = parse_preprocessing("[0,1]", None, None, None).apply(prep)
    assert (
        unit.mean == (0.0, 0.0, 0.0)
        and unit.std == (1.0, 1.0, 1.0)
        and unit.origin == "given: --preset unit"
    )
    signed = parse_preprocessing("signed", None, None, "bgr").apply(prep)
    assert signed.mean == (0.5,) * 3 and signed.channel_order == "BGR"
    pixels = parse_preprocessing(None, "123.675,116.28,103.53", "58.395,57.12,57.375", None).apply(
        prep
    )
    assert pixels.mean == pytest.approx((0.485, 0.456, 0.406)) and pixels.std == pytest.approx(
        (0.229, 0.224, 0.225)
    )
    assert (
        parse_preprocessing(None, None, None, None).apply(prep) is prep
    )  # nothing said: unchanged


@pytest.mark.parametrize(
    "args, message",
    [
        (("zero-to-one", None, None, None), "unknown --preset"),
        ((None, "1,2", None, None), "one number or three"),
        ((None, None, "0,1,1", None), "more than 0"),
        ((None, None, None, "rgba"), "rgb or bgr"),
        ((None, "a,b,c", None, None), "three numbers"),
    ],
)
def test_bad_values_are_usage_errors(args, message):
    with pytest.raises(UsageError, match=message):
        parse_preprocessing(*args)


def test_bgr_models_get_their_channels_swapped(tmp_path):
    Image.new("RGB", (8, 8), (255, 0, 0)).save(tmp_path / "red.png")
    unit = Preprocessing(size=(8, 8), resize_size=8, mean=(0, 0, 0), std=(1, 1, 1))
    rgb = load_image(tmp_path / "red.png", unit)
    bgr = load_image(
        tmp_path / "red.png",
        Preprocessing(
            size=(8, 8), resize_size=8, mean=(0, 0, 0), std=(1, 1, 1), channel_order="BGR"
        ),
    )
    assert np.allclose(rgb[0, 0], [1, 0, 0]) and np.allclose(bgr[0, 0], [0, 0, 1])


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return export_onnx(tiny_cnn(), tmp_path_factory.mktemp("src") / "tiny.onnx")


@pytest.mark.slow  # a real conversion (onnx2tf + TensorFlow's converter)
def test_convert_says_what_it_assumed_and_records_what_was_given(cli, tiny, tmp_path):
    assumed = cli("convert", tiny, "-o", tmp_path / "a", "--no-compile", "--calibration-count", "4")
    assert assumed.code == ExitCode.OK, assumed
    assert "assumed: ImageNet mean/std" in " ".join(assumed.err.split())
    report = json.loads((tmp_path / "a" / "report.json").read_text())
    assert report["preprocessing"]["origin"] == ASSUMED
    given = cli(
        "convert",
        tiny,
        "-o",
        tmp_path / "b",
        "--no-compile",
        "--calibration-count",
        "4",
        "--preset",
        "unit",
    )
    assert given.code == ExitCode.OK and "assumed" not in given.err
    report = json.loads((tmp_path / "b" / "report.json").read_text())
    assert (
        report["preprocessing"]["mean"] == [0, 0, 0]
        and report["preprocessing"]["origin"] == "given: --preset unit"
    )


def test_split_keeps_images_back_for_fidelity_even_when_more_are_asked_for():
    from edgedeploy.converters.calibration import split_counts

    assert split_counts(13, 200) == (9, 4)  # not 13 and 0: fidelity would be blind
    assert split_counts(8, 200) == (5, 3)  # the 8 shipped photos
    assert (
        split_counts(13, 5) == (5, 8)
        and split_counts(300, None) == (268, 32)
        and split_counts(1, None) == (1, 0)
    )


@pytest.mark.slow  # a real conversion (onnx2tf + TensorFlow's converter)
def test_convert_says_how_many_images_calibrated_and_warns_when_few(cli, tiny, tmp_path):
    result = cli(
        "convert", tiny, "-o", tmp_path / "c", "--no-compile", "--calibration-count", "200"
    )
    assert result.code == ExitCode.OK, result
    said = " ".join(result.err.split())
    assert "--calibration-count 200 asked for more images than there are" in said
    assert "calibrated on 5 image(s), few" in said and "--calibration DIR" in said
    notes = json.loads((tmp_path / "c" / "report.json").read_text())["notes"]
    assert any(n.startswith("calibrated on 5 image(s)") and "on 3 held-back" in n for n in notes), (
        notes
    )
