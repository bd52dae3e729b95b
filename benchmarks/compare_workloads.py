"""How close a rebuilt architecture's graph is to the measured original file, where both are described
in ``benchmarks/data/edgetpu_workloads/`` (prints; no thresholds asserted here).

    python benchmarks/compare_workloads.py
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

WORKLOADS = Path(__file__).resolve().parent / "data" / "edgetpu_workloads"
PAIRS = {  # rebuilt -> original file
    "mobilenet_v1_0.25_128": "mobilenet_v1_0.25_128_quant",
    "ssd_mobilenet_v1_075_300": "ssd_mobilenet_v1_075_coco_300",
}


def summary(name: str) -> dict:
    data = json.loads((WORKLOADS / f"{name}.json").read_text(encoding="utf-8"))
    columns = data["op_columns"]
    ops = [dict(zip(columns, row, strict=True)) for row in data["ops"]]
    return {
        "ops": len(ops),
        "classes": Counter(o["op_class"] for o in ops),
        "macs": sum(o["macs"] for o in ops),
        "param_bytes": sum(o["param_bytes"] for o in ops),
        "io_bytes": data["input_bytes"] + data["output_bytes"],
    }


def main() -> int:
    for rebuilt, original in PAIRS.items():
        if not (WORKLOADS / f"{rebuilt}.json").exists():
            print(f"{rebuilt}: not built (python benchmarks/build_workloads.py {rebuilt})")
            continue
        a, b = summary(rebuilt), summary(original)
        print(f"{rebuilt} (rebuilt) vs {original} (the measured file):")
        for key in ("ops", "macs", "param_bytes", "io_bytes"):
            print(f"  {key:<12} {a[key]:>14,} vs {b[key]:>14,} ({a[key] / b[key] - 1:+.2%})")
        print(f"  op classes   {dict(a['classes'])} vs {dict(b['classes'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
