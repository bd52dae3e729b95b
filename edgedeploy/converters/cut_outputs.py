"""Optional stage (--outputs NAME,...): ONNX -> ONNX, the graph cut so that these tensors are its
outputs; everything after them (a detector's box decoding and NMS) is dropped, to run on the host.

Requires: an OnnxModel. Ensures: the same input, the named outputs. PyTorch's outputs are no longer
the model's, so fidelity compares from the cut ONNX on (ONNX Runtime vs TFLite).
"""

from __future__ import annotations

import dataclasses

from edgedeploy.converters.artifacts import OnnxModel
from edgedeploy.converters.context import StageContext
from edgedeploy.onnx_cut import cut_graph
from edgedeploy.onnx_reader import load_onnx

NAME = "cut-outputs"
REQUIRES = OnnxModel
ENSURES = OnnxModel


def run(model: OnnxModel, context: StageContext) -> OnnxModel:
    import onnx

    names = list(context.options.outputs or ())
    cut, dropped = cut_graph(load_onnx(model.path), names)
    path = model.path.with_name(model.path.stem + "_cut.onnx")
    onnx.save(cut, str(path))
    context.record(NAME, outputs=names, dropped_ops=dict(dropped.most_common()))
    context.note(
        f"--outputs: graph cut at {len(names)} tensor(s); dropped after them: "
        + (", ".join(f"{op} x{n}" for op, n in dropped.most_common()) or "nothing")
        + " (run that part on the host)"
    )
    return dataclasses.replace(model, path=path, torch_model=None)
