"""The accelerator-aware model study (``edgedeploy compare``): each model x alpha x resolution is
converted (cached by content), checked for the Edge TPU, benchmarked on every available target and,
with ``--eval``, scored for top-1 accuracy; then tabulated, plotted and, with constraints, recommended.

Library use::

    from edgedeploy.compare import CompareRequest, Constraints, run_compare
    result = run_compare(CompareRequest(specs=("mobilenet_v3_small:0.5,1.0", "mobilenet_edgetpu"),
                                        output_dir=Path("study"), resolutions=(96, 224),
                                        constraints=Constraints("cpu", max_latency_ms=20)))
    result.to_dict()["rows"][0]["latency"][0]["latency"]["p50_ms"]
"""

from edgedeploy.compare.recommend import Constraints, Recommendation, recommend
from edgedeploy.compare.result import CompareResult
from edgedeploy.compare.runner import CompareRequest, run_compare
from edgedeploy.compare.specs import parse_resolutions, parse_spec

__all__ = [
    "CompareRequest",
    "CompareResult",
    "Constraints",
    "Recommendation",
    "parse_resolutions",
    "parse_spec",
    "recommend",
    "run_compare",
]
