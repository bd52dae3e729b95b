"""A small, fast TFLite flatbuffer reader (no TensorFlow import): ``read_model(path) -> TFLiteGraph``.

``TFLiteGraph.ops`` / ``.tensors`` / ``.inputs`` / ``.outputs`` / ``.subgraph_count`` /
``.op_histogram()`` / ``.constant(tensor_index)``; ``Op`` and ``Tensor`` are frozen plain-data records.
Unreadable files raise ``edgedeploy.errors.InputError`` with one line saying what is wrong.
"""

from edgedeploy.tflite.files import (
    FILE_IDENTIFIER,
    has_tflite_identifier,
    is_tflite_file,
    require_tflite_file,
)
from edgedeploy.tflite.graph import Op, Tensor, TFLiteGraph
from edgedeploy.tflite.reader import parse_model, read_model

__all__ = [
    "FILE_IDENTIFIER",
    "Op",
    "TFLiteGraph",
    "Tensor",
    "has_tflite_identifier",
    "is_tflite_file",
    "parse_model",
    "read_model",
    "require_tflite_file",
]
