"""The largest activation tensor on the Edge TPU side, judged against what real compiles showed.

The compiler aborts some models with ``Compilation failed due to large activation tensors in model.``
(docs/edgetpu.md section 7). No threshold is published and the recorded cases show none
(``rules/large-activations.json``): YOLOv5s failed at 352 px, whose largest tensor is under 1 MiB, and
compiled at 384 and 512 px, while Google's PoseNet compiled with a 10.6 MiB tensor on the Edge TPU. So
the verdict is ``ok`` up to the largest tensor seen compiled (sizes seen compiling, not a promise) and
``risky`` beyond it, with that evidence; never a confident "fails".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from edgedeploy.report import fmt_bytes
from edgedeploy.targets.edgetpu.predict.operators import OpPrediction
from edgedeploy.targets.point_facts import OK, RISKY, Concern
from edgedeploy.tflite import TFLiteGraph

FIX = (
    "a smaller input size; fewer channels in the early full-resolution layers (a stride-2 stem sooner); "
    "or run the image in tiles"
)


@dataclass(frozen=True)
class Evidence:
    compiled: tuple[dict[str, Any], ...]
    failed: tuple[dict[str, Any], ...]

    @property
    def largest_compiled(self) -> dict[str, Any]:
        """The largest tensor read from a real compiled file (derived sizes do not set the limit)."""
        return max(
            (r for r in self.compiled if r["how"] == "observed"),
            key=lambda r: r["largest_activation_bytes"],
        )

    @property
    def smallest_failed(self) -> dict[str, Any]:
        return min(self.failed, key=lambda r: r["largest_activation_bytes"])

    def text(self) -> str:
        seen, failed = self.largest_compiled, self.smallest_failed
        also = sorted(
            (r for r in self.compiled if r["model"] == failed["model"]),
            key=lambda r: r["largest_activation_bytes"],
        )
        compiled_at = f" yet compiled at {' and '.join(r['input'] for r in also)}" if also else ""
        return (
            f"largest activation seen compiling: {fmt_bytes(seen['largest_activation_bytes'])} ({seen['model']}, "
            f"{seen['input']}, Google's compiled file); no size threshold is known: {failed['model']} failed "
            f"with 'large activation tensors' at {failed['input']} (largest tensor "
            f"{fmt_bytes(failed['largest_activation_bytes'])}){compiled_at} (google-coral/edgetpu#512)"
        )


@cache
def load_evidence() -> Evidence:
    text = (
        resources.files("edgedeploy.targets.edgetpu")
        .joinpath("rules", "large-activations.json")
        .read_text()
    )
    data = json.loads(text)
    return Evidence(tuple(data["compiled"]), tuple(data["failed"]))


def largest_activation(
    graph: TFLiteGraph, predictions: list[OpPrediction]
) -> tuple[int, int] | None:
    """(tensor index, op index) of the largest int8 tensor an Edge TPU-side op reads or writes."""
    best: tuple[int, int] | None = None
    for prediction in predictions:
        if prediction.verdict == "cpu":
            continue
        op = graph.ops[prediction.index]
        for t in (*op.inputs, *op.outputs):
            tensor = graph.tensor(t)
            if tensor is None or tensor.is_constant or tensor.is_variable:
                continue
            if best is None or tensor.elements > graph.tensors[best[0]].elements:
                best = (t, op.index)
    return best


def activation_concern(
    graph: TFLiteGraph, predictions: list[OpPrediction]
) -> tuple[Concern, int, list[int]]:
    """The verdict, the largest tensor's bytes and its shape."""
    evidence = load_evidence()
    found = largest_activation(graph, predictions)
    if found is None:
        return Concern(OK, detail="no op runs on the Edge TPU"), 0, []
    tensor, op = graph.tensors[found[0]], graph.ops[found[1]]
    size = tensor.elements  # int8: one byte per value
    cause = f"op {op.index} {op.opcode}, tensor {list(tensor.shape)}"
    limit = evidence.largest_compiled
    if size <= limit["largest_activation_bytes"]:
        return (
            Concern(
                OK,
                cause,
                f"largest activation {fmt_bytes(size)}: within the sizes seen compiling",
                evidence=evidence.text(),
            ),
            size,
            list(tensor.shape),
        )
    return (
        Concern(
            RISKY,
            cause,
            f"largest activation {fmt_bytes(size)} is beyond the largest seen compiling "
            f"({fmt_bytes(limit['largest_activation_bytes'])}): the compiler may fail with 'large activation "
            "tensors'; verify with the compiler",
            FIX,
            evidence.text(),
        ),
        size,
        list(tensor.shape),
    )
