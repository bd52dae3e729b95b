"""Each built-in row builds the network its reference names: the generator called with the row's variant
and alpha gives the same layers and weight shapes as timm's registered model (its reference, and each
published pretrained name at its alpha). Built on PyTorch's meta device: shapes only, no weights."""

from __future__ import annotations

import pytest

from edgedeploy.models import BUILTINS
from edgedeploy.models.zoo import meta_module


def _shapes(module) -> dict[str, tuple[int, ...]]:
    return {name: tuple(tensor.shape) for name, tensor in module.state_dict().items()}


def _timm_shapes(timm_name: str) -> dict[str, tuple[int, ...]]:
    import timm
    import torch

    with torch.device("meta"):
        return _shapes(timm.create_model(timm_name, pretrained=False))


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_the_row_builds_its_reference_network(name):
    ours = _shapes(meta_module(name, 1.0))
    theirs = _timm_shapes(BUILTINS[name].reference)
    assert ours.keys() == theirs.keys(), set(ours) ^ set(theirs)
    assert ours == theirs


@pytest.mark.parametrize(
    "name, alpha, timm_name",
    [(n, a, t) for n, spec in sorted(BUILTINS.items()) for a, t in sorted(spec.pretrained.items())],
)
def test_each_published_alpha_builds_the_network_its_weights_belong_to(name, alpha, timm_name):
    assert _shapes(meta_module(name, alpha)) == _timm_shapes(timm_name)
