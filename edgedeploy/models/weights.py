"""``--weights FILE`` for a built-in: read the state dict, recognise whose layout it is (timm's, which the
built-ins are made with, or torchvision's), build the network that layout belongs to, and load it.

torchvision names its MobileNets' layers ``features.N...`` / ``classifier.N...``, timm ``conv_stem``,
``blocks.N...``, ``classifier``: the same architecture, different module trees. Mapping one onto the
other would need a per-architecture table that breaks with each library's refactors; building
torchvision's own network for a torchvision file is exact by construction (the report says which).
A file that fits neither says what it found and what the model expects, before any long work.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgedeploy.errors import InputError
from edgedeploy.files import WEIGHTS, check_input

TIMM, TORCHVISION = "timm", "torchvision"
# torchvision's builder for each built-in that has a torchvision twin (same architecture and width rule)
TORCHVISION_BUILDERS = {
    "mobilenet_v2": "mobilenet_v2",
    "mobilenet_v3_small": "mobilenet_v3_small",
    "mobilenet_v3_large": "mobilenet_v3_large",
}
_CHECKPOINT_KEYS = ("state_dict", "model_state_dict", "model", "state_dict_ema")


@dataclass
class StateDict:
    tensors: dict[str, Any]
    layout: str  # TIMM, TORCHVISION or a description of what was found
    num_classes: int | None  # rows of the final classifier, when the layout says where it is

    def describe(self) -> str:
        return f"a {self.layout} state dict" + (
            f" with a {self.num_classes}-class head" if self.num_classes else ""
        )


def _classifier_rows(tensors: dict[str, Any], layout: str) -> int | None:
    if layout == TIMM:
        weight = tensors.get("classifier.weight")
    else:  # torchvision: the last Linear of the classifier Sequential
        heads = sorted(
            (k for k in tensors if k.startswith("classifier.") and k.endswith(".weight")),
            key=lambda k: int(k.split(".")[1]) if k.split(".")[1].isdigit() else -1,
        )
        weight = tensors[heads[-1]] if heads else None
    return int(weight.shape[0]) if weight is not None and weight.ndim == 2 else None


def recognise(tensors: dict[str, Any]) -> StateDict:
    if "conv_stem.weight" in tensors:
        layout = TIMM
    elif "features.0.0.weight" in tensors and any(k.startswith("classifier.") for k in tensors):
        layout = TORCHVISION
    else:
        first = ", ".join(list(tensors)[:3]) or "no tensors"
        return StateDict(tensors, f"unrecognised layout (first keys: {first})", None)
    return StateDict(tensors, layout, _classifier_rows(tensors, layout))


def read_state_dict(path: Path) -> StateDict:
    import torch

    check_input(path, WEIGHTS)  # a FIFO or /dev/zero would hang or fill memory in torch.load
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises many types for a file that is not its own
        whole_module = "weights_only" in str(exc) or "Unsupported global" in str(exc)
        raise InputError(
            f"cannot read weights file {path}: "
            + (
                "it holds a pickled object, not a state dict"
                if whole_module
                else f"not a PyTorch state dict ({type(exc).__name__})"
            ),
            "a whole model saved with torch.save(model) converts as a model file: "
            "edgedeploy convert FILE --trust-pickle --input-shape 1,3,H,W"
            if whole_module
            else None,
        ) from None
    for key in _CHECKPOINT_KEYS:  # common checkpoint layouts wrap the state dict
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
            break
    if not isinstance(state, dict) or not all(hasattr(v, "shape") for v in state.values()):
        raise InputError(f"weights file {path} does not hold a state dict")
    prefix = "module."  # saved from DataParallel / DistributedDataParallel
    if state and all(k.startswith(prefix) for k in state):
        state = {k[len(prefix) :]: v for k, v in state.items()}
    return recognise(dict(state))


def torchvision_network(builtin: str, alpha: float, num_classes: int):
    import torchvision

    builder = getattr(torchvision.models, TORCHVISION_BUILDERS[builtin])
    return builder(weights=None, width_mult=alpha, num_classes=num_classes)


def _mismatch(module, tensors: dict[str, Any]) -> str:
    """What differs between the file and the model: the first wrong shape, missing and extra names."""
    expected = module.state_dict()
    wrong = [
        f"{k}: file {list(v.shape)}, model {list(expected[k].shape)}"
        for k, v in tensors.items()
        if k in expected and tuple(v.shape) != tuple(expected[k].shape)
    ]
    missing = [k for k in expected if k not in tensors]
    extra = [k for k in tensors if k not in expected]
    parts = [f"{len(wrong)} shape(s) differ, e.g. {wrong[0]}"] if wrong else []
    if missing:
        parts.append(f"{len(missing)} missing (e.g. {missing[0]})")
    if extra:
        parts.append(f"{len(extra)} unexpected (e.g. {extra[0]})")
    return "; ".join(parts)


def load_into(module, state: StateDict, path: Path, expects: str) -> None:
    """Strict load; InputError naming the layout found and what the model expects when it does not fit."""
    differences = _mismatch(module, state.tensors)
    if differences:
        raise InputError(
            f"weights in {path.name} do not fit: {state.describe()}, the model is {expects} "
            f"({differences})",
            "check the model name, --alpha and --num-classes",
        )
    module.load_state_dict(state.tensors, strict=True)
