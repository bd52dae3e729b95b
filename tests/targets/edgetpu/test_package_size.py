"""The package-size rule sits below predict and estimate: both read one overhead factor, the one the
latency fit wrote into the estimate's constants."""

from __future__ import annotations

from edgedeploy.targets.edgetpu.estimate.profiles import DATA_FILE, load_constants
from edgedeploy.targets.edgetpu.package_size import (
    CONSTANTS_FILE,
    package_parameter_bytes,
    parameter_overhead,
)


def test_the_prediction_and_the_estimate_read_the_same_overhead():
    assert DATA_FILE == CONSTANTS_FILE and CONSTANTS_FILE.is_file()
    assert parameter_overhead() == load_constants().chip.parameter_overhead > 1


def test_package_bytes_scale_the_weights_by_the_overhead():
    assert package_parameter_bytes(1000) == int(1000 * parameter_overhead())
    assert package_parameter_bytes(1000, overhead=1.5) == 1500  # the fit passes its own factor
