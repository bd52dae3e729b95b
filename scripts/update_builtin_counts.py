"""Rewrite edgedeploy/data/builtin_counts.json: params and MACs of every built-in at its default alpha
(1.0) and default resolution, counted on the real architecture (needs the convert extra: PyTorch, timm).

`edgedeploy models` with no options reads this file instead of building ten models (a fresh process
answers in well under a second, and the device-side install has no PyTorch to build them with);
tests/models/test_builtin_counts.py checks the file against the real models. Run it after adding or
changing a built-in:  python scripts/update_builtin_counts.py
"""

from __future__ import annotations

import json

from edgedeploy.models.listing import COUNTS_FILE, DEFAULT_ALPHA
from edgedeploy.models.registry import BUILTINS
from edgedeploy.models.zoo import count_complexity


def measured_counts() -> dict[str, dict[str, float | int]]:
    counts = {}
    for name in sorted(BUILTINS):
        params, macs, resolution = count_complexity(name, DEFAULT_ALPHA, None)
        counts[name] = {
            "alpha": DEFAULT_ALPHA,
            "resolution": resolution,
            "params": params,
            "macs": macs,
        }
    return counts


if __name__ == "__main__":
    COUNTS_FILE.write_text(json.dumps(measured_counts(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {COUNTS_FILE}")
