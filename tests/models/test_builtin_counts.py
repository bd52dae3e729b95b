"""`edgedeploy models` with no options reads params/MACs from edgedeploy/data/builtin_counts.json instead of
building every model: the stored numbers must be the ones the real models give, for every built-in."""

from __future__ import annotations

from edgedeploy.models.listing import DEFAULT_ALPHA, _stored_counts, list_models
from edgedeploy.models.registry import BUILTINS
from edgedeploy.models.zoo import count_complexity


def test_every_builtin_has_stored_counts_equal_to_the_real_model():
    stored = _stored_counts()
    assert sorted(stored) == sorted(BUILTINS), "run: python scripts/update_builtin_counts.py"
    for name in BUILTINS:
        params, macs, resolution = count_complexity(name, DEFAULT_ALPHA, None)
        assert stored[name] == {
            "alpha": DEFAULT_ALPHA,
            "resolution": resolution,
            "params": params,
            "macs": macs,
        }, name


def test_other_sizes_are_counted_on_the_real_model():
    rows = {row["name"]: row for row in list_models(0.5, 96).rows}
    params, macs, _ = count_complexity("mobilenet_v2", 0.5, 96)
    assert (rows["mobilenet_v2"]["params"], rows["mobilenet_v2"]["macs"]) == (params, macs)
    assert rows["mobilenet_v2"]["macs"] < _stored_counts()["mobilenet_v2"]["macs"] / 4
