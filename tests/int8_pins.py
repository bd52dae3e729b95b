"""The int8 graphs that convert produces, pinned: operators in order (with their options) and every
tensor's shape, dtype and quantization parameters (scale and zero point verbatim; a per-channel array
as its length, range and a digest of its exact values), plus a digest of each constant's bytes.

``tests/data/int8_graph_pins.json`` was written by this script from conversions made BEFORE the
TensorFlow -> TFLite stage was sped up (issue 13); ``test_int8_graph_pinned.py`` converts the same
models again and compares. Weights are random but seeded, so a conversion is reproducible.

Regenerate (only when a change of the int8 graph is intended, and say so in the commit):

    python tests/int8_pins.py            # rewrites tests/data/int8_graph_pins.json
    python tests/int8_pins.py OTHER.json # writes elsewhere (to compare two runs)
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

PINS_FILE = Path(__file__).resolve().parent / "data" / "int8_graph_pins.json"
SEED = 0

# (case id, built-in, alpha, resolution, options): small, so each converts in seconds, and between them
# every path of the quantizing stage: per-channel, per-tensor, fused hard-swish, rewritten hard-swish.
CASES = [
    ("mobilenet_v2_0.35_96", "mobilenet_v2", 0.35, 96, {}),
    ("mobilenet_v2_0.35_96_per_tensor", "mobilenet_v2", 0.35, 96, {"per_tensor": True}),
    ("mobilenet_v3_small_0.5_96", "mobilenet_v3_small", 0.5, 96, {}),
    ("mobilenet_v3_small_0.5_96_fixed", "mobilenet_v3_small", 0.5, 96, {"fix_activations": True}),
]


def _values(values: list, dtype: str):
    """A few values verbatim; a per-channel array as its length, range and a digest of its exact bytes."""
    if len(values) <= 4:
        return list(values)
    import numpy as np

    array = np.asarray(values, dtype=dtype)
    return {
        "n": len(values),
        "min": array.min().item(),
        "max": array.max().item(),
        "sha256": hashlib.sha256(array.tobytes()).hexdigest()[:16],
    }


def _tensor(graph, index: int) -> dict | None:
    if index < 0:
        return None
    t = graph.tensors[index]
    entry = {
        "shape": list(t.shape),
        "dtype": t.dtype,
        "scale": _values(t.scale, "float64"),
        "zero_point": _values(t.zero_point, "int64"),
        "quantized_dimension": t.quantized_dimension if len(t.scale) > 1 else None,
    }
    if t.is_constant:
        data = graph.constant(index)
        entry["data_sha256"] = (
            hashlib.sha256(data.tobytes()).hexdigest()[:16] if data is not None else None
        )
    return entry


def graph_signature(path: Path) -> dict:
    """Everything that makes the int8 graph what it is, except tensor names (which are the converter's)."""
    from edgedeploy.tflite import read_model

    graph = read_model(path)
    return {
        "inputs": [_tensor(graph, i) for i in graph.input_indices],
        "outputs": [_tensor(graph, i) for i in graph.output_indices],
        "ops": [
            {
                "op": op.opcode,
                "version": op.version,
                "options": json.loads(json.dumps(op.options, default=str)),
                "inputs": [_tensor(graph, i) for i in op.inputs],
                "outputs": [_tensor(graph, i) for i in op.outputs],
            }
            for op in graph.ops
        ],
    }


def convert_case(case: tuple, out: Path) -> Path:
    """Convert one pinned case in this process with seeded weights; the int8 file's path."""
    import dataclasses

    from edgedeploy.converters.context import ConvertOptions
    from edgedeploy.converters.pipeline import convert
    from edgedeploy.converters.sources import SourceSpec

    _, name, alpha, resolution, options = case
    # --seed SEED: the weights torch.manual_seed(SEED) gave before built-ins seeded themselves
    report = convert(
        SourceSpec(name, alpha, resolution, seed=SEED),
        out,
        dataclasses.replace(ConvertOptions(compile=False), **options),
    )
    return out / report.outputs["int8_tflite"]


def dumps(pins: dict) -> str:
    """One operator per line: a diff of two pin files reads as a diff of graphs."""

    def line(value) -> str:
        return json.dumps(value, sort_keys=True, separators=(",", ":"))

    cases = []
    for case, signature in sorted(pins.items()):
        ops = ",\n".join(f"   {line(op)}" for op in signature["ops"])
        cases.append(
            f' {line(case)}: {{\n  "inputs": {line(signature["inputs"])},\n'
            f'  "outputs": {line(signature["outputs"])},\n  "ops": [\n{ops}\n  ]\n }}'
        )
    return "{\n" + ",\n".join(cases) + "\n}\n"


def main(target: Path = PINS_FILE) -> None:
    pins = {}
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            print(f"converting {case[0]} ...", file=sys.stderr, flush=True)
            pins[case[0]] = graph_signature(convert_case(case, Path(tmp) / case[0]))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(dumps(pins))
    print(f"wrote {target}", file=sys.stderr)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else PINS_FILE)
