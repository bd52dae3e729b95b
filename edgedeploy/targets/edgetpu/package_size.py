"""How many bytes the compiled package holds for a model's weights: the parameter overhead rule.

The compiler lays weights out with alignment and its own bias layout, so the package is larger than the
TFLite weights. The factor is fitted with the latency estimate's constants (``estimate/hosts-v2.json``,
``chip.parameter_overhead``) but used by the mapping prediction too (does a model's package stream from
the host?). It lives here, below both ``predict`` and ``estimate``, so that neither imports the other
for it; the estimate's profiles read the same file through ``CONSTANTS_FILE``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

# The versioned constants of the latency estimate (written by benchmarks/fit_edgetpu_latency.py).
CONSTANTS_FILE = Path(__file__).parent / "estimate" / "hosts-v2.json"


@lru_cache(maxsize=1)
def parameter_overhead() -> float:
    """Package parameter bytes per TFLite weight byte, as fitted on Google's compiled files."""
    data = json.loads(CONSTANTS_FILE.read_text(encoding="utf-8"))
    return float(data["chip"]["parameter_overhead"]["value"])


def package_parameter_bytes(weight_bytes: int, overhead: float | None = None) -> int:
    """What the compiled package will hold for ``weight_bytes`` of TFLite weights. check, limits and
    estimate all use it; the latency fit passes its own ``overhead`` while it measures that factor."""
    return int(weight_bytes * (parameter_overhead() if overhead is None else overhead))
