"""Builtin operator options as plain values: snake_case schema names, enums as their names.

``Conv2DOptions{padding: 0, strideW: 2, fusedActivationFunction: 3}`` becomes
``{"padding": "SAME", "stride_w": 2, "fused_activation": "RELU6", ...}``.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from ai_edge_litert import schema_py_generated as schema

# Option fields whose integers are schema enums; the value becomes the enum member's name.
_ENUM_FIELDS = {
    "padding": schema.Padding,
    "fused_activation": schema.ActivationFunctionType,
    "weights_format": schema.FullyConnectedOptionsWeightsFormat,
    "kernel_type": schema.LSTMKernelType,
    "mode": schema.MirrorPadMode,
    "combiner": schema.CombinerType,
    "out_data_type": schema.TensorType,
    "output_type": schema.TensorType,
    "in_data_type": schema.TensorType,
    "idx_out_type": schema.TensorType,
}
_RENAMES = {"fused_activation_function": "fused_activation"}


@cache
def enum_names(enum_class: type) -> dict[int, str]:
    return {value: name for name, value in vars(enum_class).items() if not name.startswith("_")}


@cache
def _snake(name: str) -> str:
    # strideW -> stride_w, dilationWFactor -> dilation_w_factor, alignCorners -> align_corners
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()
    return _RENAMES.get(snake, snake)


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):  # numpy vectors (new_shape, squeeze_dims, ...)
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "__dict__"):  # a nested options table
        return {_snake(k): _plain(v) for k, v in vars(value).items()}
    return value


def decode_options(operator: Any) -> dict[str, Any]:
    """The operator's builtin options (``BuiltinOptions`` or ``BuiltinOptions2``) as a plain dict."""
    decoded: dict[str, Any] = {}
    for type_getter, table_getter, creator in (
        (operator.BuiltinOptionsType, operator.BuiltinOptions, schema.BuiltinOptionsCreator),
        (
            getattr(operator, "BuiltinOptions2Type", None),
            getattr(operator, "BuiltinOptions2", None),
            getattr(schema, "BuiltinOptions2Creator", None),
        ),
    ):
        if type_getter is None or table_getter is None or creator is None:
            continue
        union_type = type_getter()
        if not union_type:
            continue
        table = table_getter()
        native = creator(union_type, table) if table is not None else None
        if native is None:
            continue
        for key, value in vars(native).items():
            name = _snake(key)
            value = _plain(value)
            if name in _ENUM_FIELDS and isinstance(value, int):
                value = enum_names(_ENUM_FIELDS[name]).get(value, value)
            decoded[name] = value
    return decoded
