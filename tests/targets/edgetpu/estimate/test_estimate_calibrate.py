"""``estimate --calibrate``: published numbers in the role of your own measurements. A profile fitted
from 5 models of one host (desktop + USB 3, coral.ai's model pages), starting from another host's
profile (a Raspberry Pi 3 on USB 2), is judged on that host's other 3 models: before / after."""

from __future__ import annotations

import json
import statistics

import pytest

from edgedeploy.errors import ExitCode

# (folder prefix, file, published ms on the desktop + USB 3; measurements.json index)
FIT = (
    ("deeplabv3_mnv2_dm05", "deeplabv3_mnv2_dm05_pascal_quant.tflite", 36.8),  # 267
    (
        "bodypix_mobilenet_v1_075_480",
        "bodypix_mobilenet_v1_075_480_352_16_quant_decoder.tflite",
        6.9,
    ),
    (
        "posenet_mobilenet_v1_075_353",
        "posenet_mobilenet_v1_075_353_481_16_quant_decoder.tflite",
        5.8,
    ),
    (
        "posenet_mobilenet_v1_075_721",
        "posenet_mobilenet_v1_075_721_1281_16_quant_decoder.tflite",
        32.4,
    ),
    ("mobilenet_v1_0.25", "mobilenet_v1_0.25_128_quant.tflite", 0.9),  # 256
)
JUDGE = (
    (
        "deeplab_mobilenet_edgetpu_slim",
        "deeplab_mobilenet_edgetpu_slim_cityscapes_quant.tflite",
        65.9,
    ),
    (
        "bodypix_mobilenet_v1_075_512",
        "bodypix_mobilenet_v1_075_512_512_16_quant_decoder.tflite",
        10.7,
    ),
    (
        "posenet_mobilenet_v1_075_481",
        "posenet_mobilenet_v1_075_481_641_16_quant_decoder.tflite",
        10.3,
    ),
)


def _path(test_data, folder: str, name: str):
    return next((test_data / "edgetpu/latency/models").glob(f"{folder}*")) / name


@pytest.fixture
def config(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path


def _median_error(cli, test_data, host: str) -> float:
    errors = []
    for folder, name, published in JUDGE:
        result = cli("estimate", "--json", "--host", host, _path(test_data, folder, name))
        assert result.code == ExitCode.OK, result
        errors.append(abs(json.loads(result.out)["latency_ms"] - published) / published)
    return statistics.median(errors)


def test_calibrating_from_five_models_improves_the_others(cli, test_data, config):
    results = config / "measured.csv"
    rows = [f"{_path(test_data, f, n)},{ms}" for f, n, ms in FIT]
    results.write_text("model,latency_ms\n" + "\n".join(rows) + "\n")
    profile = config / "my-desktop.json"
    done = cli(
        "estimate", "--calibrate", results, "--host", "rpi3-usb2", "--host-out", profile, "--json"
    )
    assert done.code == ExitCode.OK, done
    report = json.loads(done.out)
    assert report["profile"] == "my-desktop" and report["base"] == "rpi3-usb2"
    assert report["median_abs_error_after"] < report["median_abs_error_before"]
    saved = json.loads(profile.read_text())["hosts"]["my-desktop"]
    assert all(saved[key]["source"].startswith("calibrated") for key in ("fixed_ms", "io_mb_per_s"))
    # Every model sends its instructions over the link, so its rate is refitted too, from the desktop
    # measurements although the base is a USB 2 profile; never past USB 3's signalling rate.
    assert saved["link_mb_per_s"]["source"].startswith("calibrated")
    assert 60.0 < saved["link_mb_per_s"]["value"] <= 625.0 + 1e-6
    before = _median_error(cli, test_data, "rpi3-usb2")
    after = _median_error(cli, test_data, str(profile))
    assert after < before and after <= 0.25, (before, after)
    listing = cli("estimate", "--host", "list", "--json")
    assert "my-desktop" in [h["name"] for h in json.loads(listing.out)["hosts"]]
    assert _median_error(cli, test_data, "my-desktop") == pytest.approx(after)  # by name here too


def test_bench_results_are_read_and_too_few_are_refused(cli, test_data, config):
    cells = [
        {
            "target": "edgetpu",
            "status": "ok",
            "model_path": str(_path(test_data, f, n)),
            "latency": {"p50_ms": ms},
        }
        for f, n, ms in FIT
    ]
    cells.append(
        {"target": "cpu", "status": "ok", "model_path": "x.tflite", "latency": {"p50_ms": 9}}
    )
    saved = config / "bench.json"
    saved.write_text(json.dumps({"schema_version": 1, "command": "bench", "cells": cells}))
    done = cli("estimate", "--calibrate", saved, "--host-out", config / "p.json", "--json")
    assert done.code == ExitCode.OK, done
    assert len(json.loads(done.out)["models"]) == 5  # the CPU cell is not an Edge TPU measurement
    saved.write_text(json.dumps({"cells": cells[:2]}))
    refused = cli("estimate", "--calibrate", saved, "--host-out", config / "q.json")
    assert refused.code == ExitCode.USAGE and "at least 3" in refused.err
    assert not (config / "q.json").exists()
    missing = cli("estimate", "--calibrate", saved)
    assert missing.code == ExitCode.USAGE and "--host-out" in missing.err


def test_a_missing_or_damaged_profile_file_is_one_line(cli, test_data, config):
    model = _path(test_data, "rps", "rps.tflite")
    missing = cli("estimate", model, "--host", config / "nothere.json")
    assert missing.code == ExitCode.UNREADABLE_INPUT and missing.err.startswith("error:")
    damaged = config / "bad.json"
    damaged.write_text('{"hosts": 3}')
    result = cli("estimate", model, "--host", damaged)
    assert result.code == ExitCode.UNREADABLE_INPUT and "not a host profile file" in result.err
    assert len(result.err.strip().splitlines()) == 1
