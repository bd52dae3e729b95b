"""What convert costs, measured in one run (prints ratios; no thresholds are asserted here).

1. CPU latency of our int8 mobilenet_v2 (224) over Google's TF-quantized
   tf2_mobilenet_v2_1.0_224_ptq.tflite: same interpreter, same threads, interleaved blocks of
   invocations so that machine noise hits both alike; ratio of medians. Goal <= 1.10.
2. Wall time of our whole `edgedeploy convert` of an ONNX file over the bare onnx2tf + TFLite converter
   calls that make the same two models (float32 and int8 with the same calibration samples) from the
   same ONNX file, each in a fresh Python process. Goal: overhead <= 15%.

Usage: python benchmarks/convert_cost.py [--google MODEL.tflite] [--threads 1]
(default --google: tests/data/edgetpu/models/tf2_mobilenet_v2_1.0_224_ptq.tflite in this repository)
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOOGLE_MODEL = REPO / "tests" / "data" / "edgetpu" / "models" / "tf2_mobilenet_v2_1.0_224_ptq.tflite"

BARE_CONVERSION = textwrap.dedent("""
    import os, sys
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np
    from pathlib import Path
    onnx_path, work, samples = Path(sys.argv[1]), Path(sys.argv[2]), np.load(sys.argv[3])
    os.chdir(work)  # holds onnx2tf's calibration sample file, so it does not download it
    import onnx2tf, tensorflow as tf
    model = onnx2tf.convert(input_onnx_file_path=str(onnx_path), output_folder_path=str(work / "tf"),
                            disable_model_save=True, non_verbose=True)
    def converter():
        fn = tf.function(lambda x: model(x)).get_concrete_function(tf.TensorSpec(model.inputs[0].shape, tf.float32))
        return tf.lite.TFLiteConverter.from_concrete_functions([fn], model)
    (work / "float.tflite").write_bytes(converter().convert())
    c = converter()
    c.optimizations = [tf.lite.Optimize.DEFAULT]
    c.representative_dataset = lambda: ([s[None]] for s in samples)
    c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    c.inference_input_type = c.inference_output_type = tf.int8
    (work / "int8.tflite").write_bytes(c.convert())
""")


def timed(cmd: list[str], cwd: Path | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def interleaved_p50(paths: list[Path], threads: int, blocks: int = 20, per_block: int = 10) -> list[float]:
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter

    runners = []
    for path in paths:
        interpreter = Interpreter(model_path=str(path), num_threads=threads)
        interpreter.allocate_tensors()
        detail = interpreter.get_input_details()[0]
        data = np.random.default_rng(0).integers(-128, 127, detail["shape"]).astype(detail["dtype"])
        interpreter.set_tensor(detail["index"], data)
        for _ in range(5):  # warm-up
            interpreter.invoke()
        runners.append(interpreter)
    samples: list[list[float]] = [[] for _ in paths]
    for _ in range(blocks):
        for i, interpreter in enumerate(runners):
            for _ in range(per_block):
                start = time.perf_counter()
                interpreter.invoke()
                samples[i].append(time.perf_counter() - start)
    return [statistics.median(s) for s in samples]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--google", type=Path, default=GOOGLE_MODEL, help="Google's TF-quantized MobileNetV2")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    google = args.google
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ours = tmp / "ours_from_builtin"
        print("converting mobilenet_v2 (224) with edgedeploy ...", flush=True)
        timed([sys.executable, "-m", "edgedeploy", "convert", "--target", "edgetpu", "mobilenet_v2", "-o", str(ours), "--no-compile"])
        int8 = next(ours.glob("*_int8.tflite"))
        ours_p50, google_p50 = interleaved_p50([int8, google], args.threads)
        print(f"CPU p50 latency, {args.threads} thread(s): ours {ours_p50 * 1e3:.2f} ms, "
              f"Google's TF-quantized {google_p50 * 1e3:.2f} ms, ratio {ours_p50 / google_p50:.3f} (goal <= 1.10)")

        onnx = next(ours.glob("*.onnx"))
        work = tmp / "bare"
        work.mkdir()
        samples = _calibration_samples(ours, work)
        bare = timed([sys.executable, "-c", BARE_CONVERSION, str(onnx), str(work), str(samples)])
        whole = timed([sys.executable, "-m", "edgedeploy", "convert", "--target", "edgetpu", str(onnx),
                       "-o", str(tmp / "ours_from_onnx"), "--no-compile"])
        print(f"wall time from the same ONNX: edgedeploy convert {whole:.1f} s, bare onnx2tf + TFLite converter "
              f"{bare:.1f} s, overhead {100 * (whole / bare - 1):.1f}% (goal <= 15%)")


def _calibration_samples(converted: Path, work: Path) -> Path:
    """The same preprocessed photos (and their mirror images) that edgedeploy calibrated with."""
    import json

    import numpy as np

    from edgedeploy.converters.artifacts import Preprocessing
    from edgedeploy.converters.calibration import ONNX2TF_SAMPLE_NAME, load_image

    report = json.loads((converted / "report.json").read_text())
    prep = Preprocessing.from_dict(report["preprocessing"])
    images = [load_image(Path(p), prep) for p in report["calibration"]["images"]]
    samples = np.stack([x for image in images for x in (image, image[:, ::-1, :])]).astype(np.float32)
    np.save(work / ONNX2TF_SAMPLE_NAME, np.random.default_rng(0).random((20, 128, 128, 3), dtype=np.float32))
    np.save(work / "samples.npy", samples)
    return work / "samples.npy"


if __name__ == "__main__":
    main()
