"""Reading an ONNX file: the one loader every command uses, with one clear line for a bad file.

``onnx`` is imported inside: loading it costs time the paths that never read ONNX should not pay.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edgedeploy.errors import InputError, first_line
from edgedeploy.files import ONNX, InputKind, check_input, read_input


def load_onnx(path: Path, *, validate: bool = False, external_data: bool = True) -> Any:
    """The ``onnx.ModelProto`` in ``path``; InputError when it is missing, empty, not ONNX or holds no graph.

    ``validate`` also runs onnx's checker (what the converter needs); ``external_data`` False leaves
    tensors stored beside the file unread (enough to count parameters or lint the graph).
    """
    import onnx

    path = Path(path)
    data = read_input(path, ONNX)
    try:
        model = onnx.load_from_string(data)
        if external_data:
            from onnx.external_data_helper import load_external_data_for_model

            _check_external_files(model, path.parent)
            load_external_data_for_model(model, str(path.parent))
    except InputError:
        raise
    except (
        Exception
    ) as exc:  # protobuf DecodeError / RuntimeError / ValueError, missing external files
        raise InputError(f"{path} is not a readable ONNX model ({type(exc).__name__})") from None
    if not model.graph.node:
        raise InputError(f"{path} is not an ONNX model: it holds no graph nodes")
    if validate:
        try:
            onnx.checker.check_model(model)
        except Exception as exc:  # noqa: BLE001 - the checker raises several exception types
            first = first_line(exc)
            raise InputError(f"{path} is not a valid ONNX model: {first}") from None
    return model


# One external weights file: models over protobuf's 2 GiB keep their tensors in such files.
EXTERNAL_DATA = InputKind("an ONNX external data file", 8 * ONNX.cap // 2)


def _check_external_files(model: Any, folder: Path) -> None:
    """Each file the graph's initializers name is checked as any input is, before onnx reads it."""
    for tensor in model.graph.initializer:
        if tensor.data_location != 1:  # onnx.TensorProto.EXTERNAL
            continue
        location = next((e.value for e in tensor.external_data if e.key == "location"), None)
        if location:
            check_input(folder / location, EXTERNAL_DATA, allow_empty=True)


def parameter_count(model: Any) -> int:
    """Elements of the model's initializers: its parameters when it came without a PyTorch module."""
    total = 0
    for tensor in model.graph.initializer:
        size = 1
        for dim in tensor.dims:
            size *= dim
        total += size
    return total
