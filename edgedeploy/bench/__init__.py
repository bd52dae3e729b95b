"""Benchmarking models on the CPU and Coral targets with one harness (``edgedeploy bench``).

Library use (``edgedeploy compare`` builds on this)::

    from edgedeploy.bench import BenchRequest, MeasurePlan, run_bench
    result = run_bench(BenchRequest(models=(path,), targets=("cpu",), plan=MeasurePlan(min_time_s=0.5)))
    result.to_dict()["results"][0]["latency"]["p50_ms"]
"""

from edgedeploy.bench.harness import MeasurePlan
from edgedeploy.bench.runner import BenchRequest, run_bench
from edgedeploy.bench.stats import LatencyStats, summarize
from edgedeploy.targets.contract import TargetOptions

__all__ = ["BenchRequest", "LatencyStats", "MeasurePlan", "TargetOptions", "run_bench", "summarize"]
