"""``estimate --calibrate`` with published numbers in the role of your own measurements (prints
before / after; no thresholds asserted here: tests/targets/edgetpu/estimate/test_estimate_calibrate.py).

The 8 original files measured on coral.ai's model pages (desktop + USB Accelerator) are split 5 / 3: a
profile is calibrated on 5, starting from each built-in profile in turn, and judged on the other 3.

    python benchmarks/calibration_demo.py
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from edgedeploy.targets.edgetpu.estimate import estimate_file, load_constants  # noqa: E402
from edgedeploy.targets.edgetpu.estimate.calibrate import Measured, calibrate  # noqa: E402

MODELS = REPO / "tests" / "data" / "edgetpu" / "latency" / "models"
FIT = {  # file -> published ms (measurements.json 267, 269, 271, 273, 256)
    "deeplabv3_mnv2_dm05_pascal_quant.tflite": 36.8,
    "bodypix_mobilenet_v1_075_480_352_16_quant_decoder.tflite": 6.9,
    "posenet_mobilenet_v1_075_353_481_16_quant_decoder.tflite": 5.8,
    "posenet_mobilenet_v1_075_721_1281_16_quant_decoder.tflite": 32.4,
    "mobilenet_v1_0.25_128_quant.tflite": 0.9,
}
JUDGE = {  # 268, 270, 272
    "deeplab_mobilenet_edgetpu_slim_cityscapes_quant.tflite": 65.9,
    "bodypix_mobilenet_v1_075_512_512_16_quant_decoder.tflite": 10.7,
    "posenet_mobilenet_v1_075_481_641_16_quant_decoder.tflite": 10.3,
}


def path(name: str) -> Path:
    return next(MODELS.glob(f"*/{name}"))


def median_error(constants, host: str) -> float:
    errors = [
        abs(estimate_file(path(n), host=host, constants=constants).latency_ms - ms) / ms
        for n, ms in JUDGE.items()
    ]
    return statistics.median(errors)


def main() -> int:
    constants = load_constants()
    measured = [Measured(path(n), ms, "published") for n, ms in FIT.items()]
    print("calibrated on 5 desktop + USB 3 models, judged on 3 others (median |error|):")
    print(f"{'base profile':<12} {'before':>8} {'after':>8}   calibrated constants")
    for base in constants.hosts.values():
        profile, _ = calibrate(measured, base, constants, "max", f"from-{base.name}")
        after = constants.with_hosts({profile.name: profile})
        print(
            f"{base.name:<12} {median_error(constants, base.name):>8.1%} "
            f"{median_error(after, profile.name):>8.1%}   fixed {profile.fixed_ms:.3g} ms, link "
            f"{profile.link_mb_per_s:.0f} MB/s, in {profile.io_mb_per_s:.0f} / out "
            f"{profile.output_mb_per_s:.0f} MB/s, CPU {profile.cpu_ms_per_gunit:.3g} ms/Gunit"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
