"""Edge TPU latency without a device: additive terms read from the model file, the CPU-side ops timed
here, and constants per host profile fitted to published measurements (``hosts-v1.json``).

- ``workload.py``: what the file says (compiled package, or the mapping prediction for an uncompiled model)
- ``cpu_ops.py``: the ops that stay on the host CPU, cut out into a sub-model and timed with LiteRT
- ``terms.py``: the additive model, one pure function; ``profiles.py``: the constants and their sources
- ``fit.py``: fitting and leave-one-model-out judging (``benchmarks/fit_edgetpu_latency.py`` runs it)
- ``estimate.py``: ``estimate_file``; ``result.py``: ``EstimateResult``
"""

from edgedeploy.targets.edgetpu.estimate.estimate import estimate_file
from edgedeploy.targets.edgetpu.estimate.profiles import (
    CLOCKS,
    DEFAULT_CLOCK,
    DEFAULT_HOST,
    load_constants,
)
from edgedeploy.targets.edgetpu.estimate.result import EstimateReport, EstimateResult, HostListing


def host_listing() -> HostListing:
    return HostListing(load_constants())


__all__ = [
    "estimate_file",
    "host_listing",
    "load_constants",
    "EstimateResult",
    "EstimateReport",  # the name before issue 22; remove after the merge
    "HostListing",
    "CLOCKS",
    "DEFAULT_CLOCK",
    "DEFAULT_HOST",
]
