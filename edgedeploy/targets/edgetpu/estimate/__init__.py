"""Edge TPU latency without a device: additive terms from the per-op facts of the model file, and
constants per host profile fitted to published measurements (``hosts-v2.json``).

- ``op_facts.py``: per-op facts (op class, MACs, bytes, where it runs); ``workload.py``: what the file
  says (compiled package, or the mapping prediction for an uncompiled model)
- ``terms.py``: the additive model, pure functions; ``profiles.py``: the constants and their sources
- ``fit.py``: fitting and leave-one-architecture-out judging (``benchmarks/fit_edgetpu_latency.py``)
- ``calibrate.py``: a host profile refitted to your own measurements (``estimate --calibrate``)
- ``estimate.py``: ``estimate_file``; ``result.py``: ``EstimateResult``
"""

from pathlib import Path

from edgedeploy.errors import EdgedeployError
from edgedeploy.targets.edgetpu.estimate.estimate import estimate_file
from edgedeploy.targets.edgetpu.estimate.profiles import (
    CLOCKS,
    DEFAULT_CLOCK,
    DEFAULT_HOST,
    Constants,
    load_constants,
    load_host_file,
)
from edgedeploy.targets.edgetpu.estimate.result import EstimateResult, HostListing


def _calibrated() -> dict:
    """Profiles calibrated on this machine (``estimate --calibrate``); a damaged one is left out."""
    from edgedeploy.targets.edgetpu.estimate.calibrate import registered

    hosts = {}
    for path in registered().values():
        try:
            hosts.update(load_host_file(Path(path)))
        except EdgedeployError:
            continue
    return hosts


def resolve_host(host: str | None) -> tuple[Constants, str]:
    """(constants, profile name) for ``--host``: a built-in profile, a calibrated profile's name, or a
    profile file (``--host my-pi.json``)."""
    constants = load_constants()
    host = host or DEFAULT_HOST
    if host in constants.hosts:
        return constants, host
    if host.lower().endswith(".json") or Path(host).is_file():
        extra = load_host_file(Path(host))
        return constants.with_hosts(extra), next(iter(extra))
    return constants.with_hosts(_calibrated()), host


def host_listing() -> HostListing:
    return HostListing(load_constants().with_hosts(_calibrated()))


__all__ = [
    "estimate_file",
    "host_listing",
    "resolve_host",
    "load_constants",
    "EstimateResult",
    "HostListing",
    "CLOCKS",
    "DEFAULT_CLOCK",
    "DEFAULT_HOST",
]
