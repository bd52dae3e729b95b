"""Built-in models: MobileNetV2, MobileNetV3 small/large (and minimalistic), MobileNetEdgeTPU (V1, V2)
with the width multiplier alpha and the input resolution rho as knobs."""

from edgedeploy.models.registry import BUILTINS, BuiltinModel, get_builtin
from edgedeploy.models.zoo import build_model

__all__ = ["BUILTINS", "BuiltinModel", "build_model", "get_builtin"]
