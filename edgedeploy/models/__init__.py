"""Built-in models: MobileNetV2, MobileNetV3 small/large (and minimalistic), MobileNetEdgeTPU (V1, V2)
with the width multiplier alpha and the input resolution rho as knobs."""

from edgedeploy.models.registry import BUILTINS, BuiltinModel, get_builtin


def __getattr__(name: str):
    # build_model on first use: the zoo pulls numpy and image code that `edgedeploy models` (which only
    # reads the registry and stored counts) does not need to start.
    if name == "build_model":
        from edgedeploy.models.zoo import build_model

        return build_model
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["BUILTINS", "BuiltinModel", "build_model", "get_builtin"]
