"""Built-in models: names, alpha/resolution knobs, and params/MACs measured on the real model."""

import pytest

from edgedeploy.errors import UsageError
from edgedeploy.models import BUILTINS, build_model, get_builtin


def test_builtin_families_are_all_there():
    for name in (
        "mobilenet_v2",
        "mobilenet_v3_small",
        "mobilenet_v3_large",
        "mobilenet_v3_small_minimal",
        "mobilenet_v3_large_minimal",
        "mobilenet_edgetpu",
    ):
        assert name in BUILTINS


def test_published_mac_counts_are_reproduced():
    # Published: MobileNetV2 300M, MobileNetV3-Small 56M, MobileNetEdgeTPU 990M MACs at 224.
    assert build_model("mobilenet_v2").details["macs"] == pytest.approx(300e6, rel=0.01)
    assert build_model("mobilenet_v3_small").details["macs"] == pytest.approx(56e6, rel=0.02)
    assert build_model("mobilenet_edgetpu").details["macs"] == pytest.approx(990e6, rel=0.01)


def test_alpha_cuts_params_and_macs_resolution_cuts_macs_only():
    full = build_model("mobilenet_v3_small", 1.0, 224).details
    thin = build_model("mobilenet_v3_small", 0.2, 224).details
    small = build_model("mobilenet_v3_small", 1.0, 96).details
    assert thin["params"] < full["params"] and thin["macs"] < full["macs"]
    assert small["params"] == full["params"]
    assert small["macs"] < full["macs"] * (96 / 224) ** 2 * 1.2


def test_any_alpha_in_range_is_offered_and_names_carry_it():
    model = build_model("mobilenet_v2", 0.35, 128)
    assert model.name == "mobilenet_v2_0.35_128"
    assert model.input_shape == (1, 3, 128, 128)


@pytest.mark.parametrize(
    "name, alpha", [("mobilenet_v2", 0.0), ("mobilenet_v2", 2.5), ("mobilenet_edgetpu_v2_s", 0.5)]
)
def test_alpha_not_offered_is_a_usage_error(name, alpha):
    with pytest.raises(UsageError, match="not offered"):
        build_model(name, alpha)


def test_unknown_name_suggests_close_names():
    with pytest.raises(UsageError) as info:
        get_builtin("mobilenet_v3_smal")
    assert "mobilenet_v3_small" in info.value.hint


def test_pretrained_without_published_weights_is_refused_before_any_download():
    with pytest.raises(UsageError, match="no published pretrained weights"):
        build_model("mobilenet_v2", 0.3, pretrained=True)


def test_models_command_lists_measured_numbers(cli):
    import json

    result = cli("models", "--json", "--resolution", "96")
    assert result.code == 0, result
    rows = {row["name"]: row for row in json.loads(result.out)["models"]}
    assert rows["mobilenet_v2"]["resolution"] == 96
    assert rows["mobilenet_v2"]["macs"] == build_model("mobilenet_v2", 1.0, 96).details["macs"]


def test_weights_file_is_loaded_and_mismatch_is_clear(tmp_path):
    import torch

    model = build_model("mobilenet_v3_small", 0.5, 96)
    state = {
        k: torch.full_like(v, 0.5) if v.is_floating_point() else v
        for k, v in model.module.state_dict().items()
    }
    torch.save(state, tmp_path / "w.pt")
    loaded = build_model("mobilenet_v3_small", 0.5, 96, weights=tmp_path / "w.pt")
    assert all(
        torch.equal(a, b) for a, b in zip(loaded.module.state_dict().values(), state.values())
    )
    from edgedeploy.errors import InputError

    with pytest.raises(InputError, match="do not fit"):
        build_model("mobilenet_v2", 1.0, 96, weights=tmp_path / "w.pt")


def test_the_listing_counts_on_the_meta_device_exactly_what_the_built_model_has():
    from edgedeploy.models.zoo import count_complexity

    for name, alpha, size in (("mobilenet_v3_small", 0.5, 96), ("mobilenet_edgetpu", 1.0, 160)):
        built = build_model(name, alpha, size).details
        assert count_complexity(name, alpha, size) == (built["params"], built["macs"], size)
