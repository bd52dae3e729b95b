"""--weights for built-ins: timm's and torchvision's layouts (torchvision's own network is built for a
torchvision file, and said so), --num-classes / fine-tuned heads, and a file that fits none says what
layout it found and what the model expects, before any long work."""

from __future__ import annotations

import pytest
import torch

from edgedeploy.errors import ExitCode, InputError
from edgedeploy.models import build_model


def test_torchvisions_real_mobilenet_v2_weights_build_torchvisions_network(
    torchvision_mobilenet_v2_weights,
):
    model = build_model("mobilenet_v2", weights=torchvision_mobilenet_v2_weights)
    assert model.details["network"] == "torchvision.models.mobilenet_v2"
    assert model.details["num_classes"] == 1000
    assert (
        model.preprocessing.interpolation == "bilinear" and model.preprocessing.resize_size == 256
    )
    loaded = torch.load(torchvision_mobilenet_v2_weights, weights_only=True)
    mine = model.module.state_dict()
    assert all(torch.equal(mine[k], v) for k, v in loaded.items())


def test_torchvision_weights_for_another_architecture_say_what_was_found(
    torchvision_mobilenet_v2_weights,
):
    with pytest.raises(InputError) as caught:
        build_model("mobilenet_v3_small", weights=torchvision_mobilenet_v2_weights)
    said = str(caught.value)
    assert "a torchvision state dict with a 1000-class head" in said
    assert "torchvision.models.mobilenet_v3_small at alpha 1, 1000 classes" in said
    assert "features.1.conv.0.0.weight" in said  # an unexpected name, quoted
    with pytest.raises(InputError, match="mobilenet_edgetpu has no torchvision twin"):
        build_model("mobilenet_edgetpu", weights=torchvision_mobilenet_v2_weights)


@pytest.mark.parametrize("layout", ["timm", "torchvision"])
def test_a_fine_tuned_head_is_read_from_the_file_or_given(tmp_path, layout):
    import torchvision

    if layout == "timm":
        module = build_model("mobilenet_v3_small", 0.5, 96, num_classes=10).module
    else:
        module = torchvision.models.mobilenet_v3_small(width_mult=0.5, num_classes=10)
    path = tmp_path / "finetuned.pth"
    torch.save({"state_dict": module.state_dict()}, path)  # a checkpoint wrapping it
    model = build_model("mobilenet_v3_small", 0.5, 96, weights=path)
    assert model.details["num_classes"] == 10
    assert model.details["network"] == (
        "timm" if layout == "timm" else "torchvision.models.mobilenet_v3_small"
    )
    assert model.module(torch.zeros(1, 3, 96, 96)).shape == (1, 10)
    with pytest.raises(InputError, match=r"file \[10, .*model \[5, "):
        build_model("mobilenet_v3_small", 0.5, 96, weights=path, num_classes=5)


def test_an_unrecognised_layout_names_its_keys(tmp_path):
    path = tmp_path / "other.pth"
    torch.save({"backbone.stem.weight": torch.zeros(3)}, path)
    with pytest.raises(
        InputError, match=r"unrecognised layout \(first keys: backbone.stem.weight\)"
    ):
        build_model("mobilenet_v2", weights=path)


def test_the_cli_refuses_misfitting_weights_in_one_line_before_converting(
    cli, tmp_path, torchvision_mobilenet_v2_weights
):
    result = cli(
        "convert", "mobilenet_v3_large", "--weights", torchvision_mobilenet_v2_weights,
        "-o", tmp_path / "out", "--no-compile",
    )  # fmt: skip
    assert result.code == ExitCode.UNREADABLE_INPUT, result
    assert "a torchvision state dict" in result.err and "Traceback" not in result.err
    assert not (tmp_path / "out").exists()
