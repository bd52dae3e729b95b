"""What convert costs, measured in one run (prints ratios; no thresholds are asserted here).

1. CPU latency of our int8 mobilenet_v2 (224) over Google's TF-quantized
   tf2_mobilenet_v2_1.0_224_ptq.tflite: same interpreter, same threads, interleaved blocks of
   invocations so that machine noise hits both alike; ratio of medians. Goal <= 1.10.
2. From the same ONNX file of that model, each in a fresh Python process, wall time and peak RSS of:
   a. ``edgedeploy convert model.onnx --no-compile`` (everything: checks, fidelity, prediction, report);
   b. ``onnx2tf -i model.onnx -oiqt`` (onnx2tf's own route to int8: it writes seven TFLite variants);
   c. the TensorFlow -> TFLite path convert took before issue 13: onnx2tf in memory, then
      ``TFLiteConverter.from_concrete_functions([fn], keras_model)`` for float32 and for int8, with the
      same calibration samples edgedeploy used.
   Goals: a/b <= 0.25; a's int8 graph the same as c's (operators, options, quantization parameters
   and weights); a's peak RSS no higher than before (1.4 GB, and c's in this run).

Usage: python benchmarks/convert_cost.py [--test-data tests/data] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PEAK_RSS_BEFORE = 1.4e9  # bytes: edgedeploy convert model.onnx before issue 13, measured here

SLOW_PATH = textwrap.dedent("""
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


def measured(cmd: list[str], cwd: Path | None = None) -> tuple[float, int]:
    """(wall seconds, peak RSS in bytes) of one child process; its output is discarded."""
    start = time.perf_counter()
    child = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} ... failed with exit code {child.returncode}")
    return seconds, usage.ru_maxrss * 1024  # Linux reports kilobytes


def interleaved_p50(
    paths: list[Path], threads: int, blocks: int = 20, per_block: int = 10
) -> list[float]:
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


def same_graph(a: Path, b: Path) -> str:
    """'same', or where graph ``b`` first differs from the reference ``a`` (tests/int8_pins.py's signature)."""
    sys.path.insert(0, str(REPO / "tests"))
    from int8_pins import graph_signature
    from test_int8_graph_pinned import first_difference

    difference = first_difference(graph_signature(a), graph_signature(b))
    return "same" if difference is None else f"DIFFERENT at {difference}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--test-data", type=Path, default=REPO / "tests" / "data")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    google = args.test_data / "edgetpu" / "models" / "tf2_mobilenet_v2_1.0_224_ptq.tflite"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ours = tmp / "ours_from_builtin"
        print("converting mobilenet_v2 (224) with edgedeploy ...", flush=True)
        measured(
            [
                sys.executable,
                "-m",
                "edgedeploy",
                "convert",
                "--target",
                "edgetpu",
                "mobilenet_v2",
                "-o",
                str(ours),
                "--no-compile",
            ]
        )
        int8 = next(ours.glob("*_int8.tflite"))
        ours_p50, google_p50 = interleaved_p50([int8, google], args.threads)
        print(
            f"CPU p50 latency, {args.threads} thread(s): ours {ours_p50 * 1e3:.2f} ms, "
            f"Google's TF-quantized {google_p50 * 1e3:.2f} ms, ratio {ours_p50 / google_p50:.3f} (goal <= 1.10)"
        )

        onnx = next(ours.glob("*.onnx"))
        oiqt_dir, work, from_onnx = tmp / "oiqt", tmp / "before", tmp / "ours_from_onnx"
        oiqt_dir.mkdir()
        work.mkdir()
        _write_onnx2tf_sample(oiqt_dir)
        print(
            "converting the same ONNX: edgedeploy, onnx2tf -oiqt, the path before issue 13 ...",
            flush=True,
        )
        whole, whole_rss = measured(
            [
                sys.executable,
                "-m",
                "edgedeploy",
                "convert",
                "--target",
                "edgetpu",
                str(onnx),
                "-o",
                str(from_onnx),
                "--no-compile",
            ]
        )
        oiqt, oiqt_rss = measured(
            ["onnx2tf", "-i", str(onnx), "-oiqt", "-o", str(oiqt_dir / "out")], cwd=oiqt_dir
        )
        samples = _calibration_samples(from_onnx, work)
        before, before_rss = measured(
            [sys.executable, "-c", SLOW_PATH, str(onnx), str(work), str(samples)]
        )
        graph = same_graph(work / "int8.tflite", next(from_onnx.glob("*_int8.tflite")))
        print(
            f"wall time from the same ONNX: edgedeploy convert {whole:.1f} s, onnx2tf -oiqt {oiqt:.1f} s, "
            f"ratio {whole / oiqt:.2f} (goal <= 0.25)"
        )
        print(
            f"the TFLite path before issue 13 (bare calls, no checks or fidelity): {before:.1f} s; "
            f"edgedeploy convert now takes {whole / before:.2f}x of it"
        )
        print(f"int8 graph of edgedeploy convert vs the path before: {graph} (goal: same)")
        print(
            f"peak RSS: edgedeploy convert {whole_rss / 1e9:.2f} GB, the path before {before_rss / 1e9:.2f} GB, "
            f"onnx2tf -oiqt {oiqt_rss / 1e9:.2f} GB (goal: convert <= {PEAK_RSS_BEFORE / 1e9:.1f} GB)"
        )


def _write_onnx2tf_sample(directory: Path) -> None:
    """onnx2tf downloads this file unless it is in the working directory: any image-like data will do."""
    import numpy as np

    from edgedeploy.converters.calibration import ONNX2TF_SAMPLE_NAME

    np.save(
        directory / ONNX2TF_SAMPLE_NAME,
        np.random.default_rng(0).random((20, 128, 128, 3), dtype=np.float32),
    )


def _calibration_samples(converted: Path, work: Path) -> Path:
    """The same preprocessed photos (and their mirror images) that edgedeploy calibrated with."""
    import json

    import numpy as np

    from edgedeploy.converters.artifacts import Preprocessing
    from edgedeploy.converters.calibration import load_image

    report = json.loads((converted / "report.json").read_text())
    prep = Preprocessing.from_dict(report["preprocessing"])
    images = [load_image(Path(p), prep) for p in report["calibration"]["images"]]
    samples = np.stack([x for image in images for x in (image, image[:, ::-1, :])]).astype(
        np.float32
    )
    _write_onnx2tf_sample(work)
    np.save(work / "samples.npy", samples)
    return work / "samples.npy"


if __name__ == "__main__":
    main()
