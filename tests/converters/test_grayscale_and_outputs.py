"""Grayscale models calibrate from photos converted to grayscale (the sidecar says so); models with
several outputs convert, each output quantized, measured and described."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from edgedeploy.errors import ExitCode


def _gray_cnn():
    import torch
    from torch import nn

    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(8, 16, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(16, 10),
    ).eval()


class TwoHeads:
    """A 3-layer CNN with a class head and a box head (1x1 convs), as detectors end."""

    @staticmethod
    def build():
        import torch
        from torch import nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(
                    nn.Conv2d(3, 8, 3, stride=2, padding=1),
                    nn.ReLU(),
                    nn.Conv2d(8, 16, 3, stride=2, padding=1),
                    nn.ReLU(),
                    nn.Conv2d(16, 16, 3, padding=1),
                    nn.ReLU(),
                )
                self.classes = nn.Conv2d(16, 3 * 5, 1)
                self.boxes = nn.Conv2d(16, 3 * 4, 1)

            def forward(self, x):
                features = self.body(x)
                return self.classes(features), self.boxes(features)

        torch.manual_seed(0)
        return Net().eval()


def _export(module, path, shape):
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, torch.zeros(shape), str(path), opset_version=13, dynamo=False)
    return path


@pytest.fixture(scope="module")
def gray_converted(tmp_path_factory):
    from edgedeploy.cli.app import run

    root = tmp_path_factory.mktemp("gray")
    onnx = _export(_gray_cnn(), root / "gray.onnx", (1, 1, 32, 32))
    assert run(["convert", str(onnx), "-o", str(root / "out"), "--no-compile"]) == 0
    return root / "out"


@pytest.mark.slow  # `gray_converted` is a real conversion (onnx2tf + TensorFlow's converter)
def test_a_grayscale_model_calibrates_on_grayscale_photos(gray_converted):
    report = json.loads((gray_converted / "report.json").read_text())
    assert any("converted to grayscale" in n for n in report["notes"])
    assert report["preprocessing"]["channel_order"] == "GRAY"
    assert len(report["preprocessing"]["mean"]) == 1
    assert report["fidelity"]["int8_vs_float_tflite"]["cosine_similarity"] > 0.98
    sidecar = json.loads((gray_converted / "gray_int8.json").read_text())
    prep = sidecar["preprocessing"]
    assert prep["channel_order"] == "GRAY" and prep["steps"].startswith("decode as grayscale")
    assert len(prep["normalize"]["mean"]) == 1 and sidecar["input"]["shape"] == [1, 32, 32, 1]


@pytest.mark.slow  # `gray_converted` is a real conversion (onnx2tf + TensorFlow's converter)
def test_infer_py_and_verify_read_a_grayscale_sidecar(gray_converted, photo_dir, cli):
    ran = subprocess.run(
        [sys.executable, str(gray_converted / "infer.py"), str(photo_dir / "owl.jpg"), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr
    assert len(json.loads(ran.stdout)["top5"]) == 5
    result = cli("verify", gray_converted / "gray_int8.tflite", "--images", photo_dir, "-t", "cpu")
    assert result.code == ExitCode.OK, result


@pytest.mark.slow
def test_a_two_output_model_converts_each_output_quantized_and_described(cli, tmp_path, photo_dir):
    onnx = _export(TwoHeads.build(), tmp_path / "heads.onnx", (1, 3, 64, 64))
    out = tmp_path / "out"
    result = cli("convert", onnx, "-o", out, "--no-compile", "--json")
    assert result.code == ExitCode.OK, result
    report = json.loads(result.out)
    outputs = report["int8"]["outputs"]
    assert sorted(o["shape"][-1] for o in outputs) == [12, 15]
    assert all(o["dtype"] == "int8" and isinstance(o["scale"], float) for o in outputs)
    fidelity = report["fidelity"]
    assert len(fidelity["outputs"]) == 2
    for measured in fidelity["outputs"]:
        assert measured["int8_vs_float_tflite"]["cosine_similarity"] > 0.98, measured
    assert fidelity["onnx_vs_float_tflite_max_abs_diff"] < 1e-4
    assert fidelity["pytorch"].startswith("not applicable")
    sidecar = json.loads((out / "heads_int8.json").read_text())
    assert [o["shape"] for o in sidecar["outputs"]] == [o["shape"] for o in outputs]
    assert all(o["scale"] and o["dequantize"] for o in sidecar["outputs"])
    _infer_prints_every_output(out, sidecar, photo_dir)


def _infer_prints_every_output(out, sidecar, photo_dir):
    """infer.py beside a two-output model: both outputs, in the sidecar's order, each under a heading."""
    ran = [
        subprocess.run(
            [sys.executable, str(out / "infer.py"), str(photo_dir / "owl.jpg"), *extra],
            capture_output=True,
            text=True,
            timeout=120,
        )
        for extra in (("--json",), ())
    ]
    assert all(r.returncode == 0 and r.stderr == "" for r in ran), [r.stderr for r in ran]
    document, text = json.loads(ran[0].stdout), ran[1].stdout.splitlines()
    names = [o["name"] for o in sidecar["outputs"]]
    assert [o["name"] for o in document["outputs"]] == names and document["output"] == names[0]
    assert all(len(o["top5"]) == 5 for o in document["outputs"])
    assert document["top5"] == document["outputs"][0]["top5"]
    headings = [line for line in text if line.startswith("output ")]
    assert [h.split()[2] for h in headings] == names and len(text) == 1 + 2 * 6
