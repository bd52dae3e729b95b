"""Record what real conversions of built-in models produced, for the forecast of `edgedeploy limits`.

    python benchmarks/record_limits_conversions.py OUT_DIR [OUT_DIR ...] [--write]

Each OUT_DIR is a folder `edgedeploy convert --target edgetpu MODEL --alpha A -r R --no-compile -o OUT_DIR`
wrote. For each it keeps the op sequence of the int8 model (op type, version, output shape), the Edge TPU
analysis summary `check` makes of it, and the tool versions; `--write` stores them in
tests/data/limits/converted.json, which tests/test_limits_forecast.py holds the forecast to.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET = REPO / "tests" / "data" / "limits" / "converted.json"
SUMMARY = (
    "total_ops",
    "tpu_ops",
    "cpu_ops",
    "risky_ops",
    "first_cut_op",
    "macs_total",
    "macs_tpu",
    "param_bytes_tpu",
)


def record(folder: Path) -> dict:
    from edgedeploy.targets.edgetpu.predict.analysis import analyse
    from edgedeploy.targets.edgetpu.predict.rules import load_rules
    from edgedeploy.tflite import read_model

    report = json.loads((folder / "report.json").read_text())
    details = report["model_details"]
    graph = read_model(folder / report["outputs"]["int8_tflite"])
    summary = analyse(graph, load_rules(), str(folder)).summary
    return {
        "model": details["builtin"],
        "alpha": details["alpha"],
        "resolution": details["resolution"],
        "tools": {
            k: report["tools"][k] for k in ("torch", "timm", "onnx", "onnx2tf", "tensorflow")
        },
        "ops": [
            [op.opcode, op.version, list(graph.tensors[op.outputs[0]].shape)] for op in graph.ops
        ],
        "summary": {k: getattr(summary, k) for k in SUMMARY},
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--write", action="store_true", help=f"write {TARGET.relative_to(REPO)}")
    args = parser.parse_args()
    records = [record(folder) for folder in args.folders]
    for r in records:
        print(f"{r['model']} {r['alpha']} {r['resolution']}: {len(r['ops'])} ops, {r['summary']}")
    if args.write:
        TARGET.parent.mkdir(parents=True, exist_ok=True)
        TARGET.write_text(
            json.dumps({"about": __doc__.strip().splitlines()[0], "conversions": records}, indent=1)
            + "\n"
        )
        print(f"wrote {TARGET}", file=sys.stderr)


if __name__ == "__main__":
    main()
