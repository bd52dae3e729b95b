"""Read a user's ONNX file into a static, batch-1, single-NCHW-input OnnxModel, or say clearly why not."""

from __future__ import annotations

from pathlib import Path

from edgedeploy.converters.artifacts import OnnxModel, Preprocessing
from edgedeploy.errors import UsageError
from edgedeploy.images import default_preprocessing
from edgedeploy.models.artifact import as_nchw
from edgedeploy.onnx_reader import load_onnx
from edgedeploy.report import note
from edgedeploy.targets.registry import require_batch


def read_onnx(path: Path):
    return load_onnx(path, validate=True)


def graph_inputs(model) -> list:
    initializers = {init.name for init in model.graph.initializer}
    return [i for i in model.graph.input if i.name not in initializers]


def _dims(value_info) -> list[int | None]:
    return [
        d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None
        for d in value_info.type.tensor_type.shape.dim
    ]


def _set_dims(value_info, dims: tuple[int, ...]) -> None:
    for dim, size in zip(value_info.type.tensor_type.shape.dim, dims):
        dim.Clear()
        dim.dim_value = size


def prepare_onnx(
    path: Path,
    workdir: Path,
    input_shape: tuple[int, ...] | None,
    preprocessing: Preprocessing | None = None,
) -> OnnxModel:
    """Fix a dynamic batch to 1 (saying so); other dynamic dims need ``input_shape``."""
    import onnx

    model = read_onnx(path)
    inputs = graph_inputs(model)
    if len(inputs) != 1:
        raise UsageError(
            f"{path} has {len(inputs)} inputs; edgedeploy converts single-input image models"
        )
    (tensor,) = inputs
    dims = _dims(tensor)
    if len(dims) != 4:
        raise UsageError(
            f"input '{tensor.name}' has rank {len(dims)}; expected an NCHW image input (rank 4)"
        )
    if input_shape is not None:
        if any(d is not None and d != s for d, s in zip(dims[1:], input_shape[1:])):
            raise UsageError(
                f"--input-shape {list(input_shape)} contradicts the model's input {dims}"
            )
        shape = input_shape
    else:
        if dims[0] is None:
            note(f"input '{tensor.name}' has a dynamic batch dimension: fixed to 1")
            dims[0] = 1
        missing = [i for i, d in enumerate(dims) if d is None]
        if missing:
            raise UsageError(
                f"input '{tensor.name}' has dynamic dimensions at positions {missing} ({dims})",
                "pass --input-shape N,C,H,W, e.g. --input-shape 1,3,224,224",
            )
        shape = tuple(d for d in dims if d is not None)  # all are known (``missing`` is empty)
    require_batch(shape[0], f"input '{tensor.name}'", "pass --input-shape 1,C,H,W")
    if shape[1] not in (1, 3):
        raise UsageError(
            f"input '{tensor.name}' shape {list(shape)} is not NCHW with 1 or 3 channels"
        )
    _set_dims(tensor, shape)
    for output in model.graph.output:  # a dynamic batch on outputs follows the input's
        out_dims = output.type.tensor_type.shape.dim
        if out_dims and not (out_dims[0].HasField("dim_value") and out_dims[0].dim_value > 0):
            out_dims[0].Clear()
            out_dims[0].dim_value = 1
    del model.graph.value_info[:]  # stale intermediate shapes; converters re-infer them
    target = Path(workdir) / (path.stem + ".onnx")
    onnx.save(model, str(target))
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    return OnnxModel(
        path=target,
        input_name=tensor.name,
        input_shape=as_nchw(shape),
        opset=opset,
        name=path.stem,
        preprocessing=preprocessing or default_preprocessing(shape[2], shape[3]),
    )
