"""Build a built-in model as a TorchModel artifact: random weights by default (no network),
``weights`` loads a state dict, ``pretrained`` uses timm's own download."""

from __future__ import annotations

import importlib
import logging
import math
import zlib
from pathlib import Path

from edgedeploy.errors import InputError, UsageError
from edgedeploy.images import Preprocessing
from edgedeploy.models.artifact import TorchModel
from edgedeploy.models.complexity import count_macs, count_params
from edgedeploy.models.registry import format_alpha, get_builtin
from edgedeploy.models.weights import (
    TIMM,
    TORCHVISION,
    TORCHVISION_BUILDERS,
    load_into,
    read_state_dict,
    torchvision_network,
)


def preprocessing_for(reference: str, resolution: int) -> Preprocessing:
    """Mean/std, crop and interpolation from timm's config of the reference model, at our resolution."""
    import timm

    cfg = timm.models.get_pretrained_cfg(reference)
    if (
        cfg is None
    ):  # every built-in's reference is a registered timm name (test_builtin_references)
        raise LookupError(f"timm has no pretrained config called {reference!r}")
    crop_pct = cfg.crop_pct or 0.875
    return Preprocessing(
        size=(resolution, resolution),
        resize_size=int(math.floor(resolution / crop_pct)),
        mean=tuple(cfg.mean),
        std=tuple(cfg.std),
        interpolation=cfg.interpolation or "bilinear",
    )


HUB_PROBE_TIMEOUT_S = 4.0
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


def _cached(hub_id: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    return any(isinstance(try_to_load_from_cache(hub_id, name), str) for name in WEIGHT_FILES)


def _hub_unreachable(endpoint: str) -> str | None:
    """Why ``endpoint`` cannot be reached (DNS and TCP connect within a few seconds), or None when it can.
    Run in a thread: a resolver without a network can block far longer than any socket timeout."""
    import socket
    import threading
    from urllib.parse import urlparse

    url = urlparse(endpoint)
    host, port = url.hostname or "", url.port or (443 if url.scheme != "http" else 80)
    outcome: list[str | None] = []

    def probe() -> None:
        try:
            socket.create_connection((host, port), timeout=HUB_PROBE_TIMEOUT_S).close()
            outcome.append(None)
        except OSError as exc:
            outcome.append(exc.strerror or type(exc).__name__)

    worker = threading.Thread(target=probe, daemon=True)
    worker.start()
    worker.join(HUB_PROBE_TIMEOUT_S + 0.5)
    return outcome[0] if outcome else f"no answer within {HUB_PROBE_TIMEOUT_S:g} s"


def _check_weights_reachable(timm_name: str) -> None:
    """Fail in seconds, with the true reason, when the weights are neither cached nor downloadable:
    huggingface_hub itself retries for about a minute before it gives up."""
    import timm

    config = timm.models.get_pretrained_cfg(timm_name)
    hub_id = getattr(config, "hf_hub_id", None) if config is not None else None
    if not hub_id or _cached(hub_id):
        return
    from huggingface_hub import constants  # the hub's own reading of HF_HUB_OFFLINE and HF_ENDPOINT

    hint = "pass --weights FILE, or drop --pretrained for random weights"
    if constants.HF_HUB_OFFLINE:
        raise UsageError(
            f"pretrained weights for {timm_name} are not in the local cache and HF_HUB_OFFLINE is set",
            hint,
        )
    endpoint = constants.ENDPOINT
    why = _hub_unreachable(endpoint)
    if why is not None:
        raise UsageError(
            f"pretrained weights for {timm_name} are not in the local cache, and {endpoint} cannot be "
            f"reached ({why})",
            hint,
        )


def _pretrained(timm_name: str):
    import timm

    _check_weights_reachable(timm_name)
    hub_logger = logging.getLogger("huggingface_hub")
    level = hub_logger.level
    hub_logger.setLevel(logging.ERROR)  # its retry chatter would bury the one line that matters
    try:
        return timm.create_model(timm_name, pretrained=True)
    except Exception as exc:  # timm raises many types for offline / hub failures
        raise UsageError(
            f"could not download pretrained weights for {timm_name}: {type(exc).__name__}",
            "pretrained weights need the internet; pass --weights FILE or drop --pretrained",
        ) from exc
    finally:
        hub_logger.setLevel(level)


def _generate(spec, alpha: float, num_classes: int = 1000):
    # The generators are called with variant strings timm has no pretrained config for; timm logs a
    # warning about that. Preprocessing comes from the reference config instead, so silence it.
    logging.getLogger("timm").setLevel(logging.ERROR)
    module_name, function = spec.generator.split(":")
    generator = getattr(importlib.import_module(f"timm.models.{module_name}"), function)
    return generator(
        spec.variant, channel_multiplier=alpha, pretrained=False, num_classes=num_classes
    )


def default_seed(name: str, alpha: float, resolution: int) -> int:
    """The seed of a built-in's random weights: from what names the model, so the same command writes
    the same bytes every run (and a different alpha or resolution gets its own weights)."""
    return zlib.crc32(f"{name}:{format_alpha(alpha)}:{resolution}".encode())


def _seeded(seed: int, make):
    """``make()`` with torch's global generator seeded, restored afterwards (callers' randomness untouched)."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return make()


def torchvision_preprocessing(resolution: int) -> Preprocessing:
    """What torchvision's ImageNet MobileNets were trained with: resize 256 -> crop 224, bilinear."""
    return Preprocessing(
        size=(resolution, resolution),
        resize_size=int(math.floor(resolution / 0.875)),
        mean=(0.485, 0.456, 0.406),
        std=(0.229, 0.224, 0.225),
        interpolation="bilinear",
    )


def _with_weights(spec, alpha: float, path: Path, num_classes: int | None):
    """(module, which network, classes): the network the file's layout belongs to, weights loaded."""
    state = read_state_dict(path)  # read and recognised before any network is built
    classes = num_classes or state.num_classes or 1000
    if state.layout == TORCHVISION:
        if spec.name not in TORCHVISION_BUILDERS:
            raise InputError(
                f"{path.name} is {state.describe()}, and {spec.name} has no torchvision twin",
                f"torchvision weights go with {', '.join(TORCHVISION_BUILDERS)}",
            )
        network = f"torchvision.models.{TORCHVISION_BUILDERS[spec.name]}"
        module = torchvision_network(spec.name, alpha, classes)
    elif state.layout == TIMM:
        network, module = "timm", _generate(spec, alpha, classes)
    else:
        raise InputError(
            f"weights in {path.name} do not fit {spec.name}: {state.layout}",
            "expected timm's layout (conv_stem, blocks, classifier) or, for "
            f"{', '.join(TORCHVISION_BUILDERS)}, torchvision's (features, classifier)",
        )
    named = network if network != "timm" else f"timm's {spec.name}"
    load_into(module, state, path, f"{named} at alpha {alpha:g}, {classes} classes")
    return module, network, classes


def meta_module(name: str, alpha: float = 1.0):
    """The built-in's architecture on PyTorch's meta device: every shape, no weight storage (fast)."""
    import torch

    spec = get_builtin(name)
    with torch.device("meta"):
        return _generate(spec, spec.check_alpha(alpha)).eval()


def count_complexity(
    name: str, alpha: float = 1.0, resolution: int | None = None
) -> tuple[int, int, int]:
    """(params, MACs, resolution) of a built-in, counted on the real architecture built on PyTorch's meta
    device: shapes without weights, so no time goes into initialising weights that are never used."""
    import torch

    spec = get_builtin(name)
    alpha = spec.check_alpha(alpha)
    resolution = spec.resolution_for(resolution)
    with torch.device("meta"):
        module = _generate(spec, alpha).eval()
        return count_params(module), count_macs(module, (1, 3, resolution, resolution)), resolution


def build_model(
    name: str,
    alpha: float = 1.0,
    resolution: int | None = None,
    *,
    weights: Path | None = None,
    pretrained: bool = False,
    num_classes: int | None = None,
    seed: int | None = None,
) -> TorchModel:
    spec = get_builtin(name)
    alpha = spec.check_alpha(alpha)
    resolution = spec.resolution_for(resolution)
    if weights is not None and pretrained:
        raise UsageError("--weights and --pretrained exclude each other")
    random_weights = not pretrained and weights is None
    if seed is not None and not random_weights:
        raise UsageError(
            "--seed sets random weights: it does not go with --weights or --pretrained"
        )
    seed = default_seed(spec.name, alpha, resolution) if seed is None else seed
    network, classes = "timm", num_classes or 1000
    if num_classes is not None and num_classes < 1:
        raise UsageError(f"--num-classes {num_classes} must be at least 1")
    if pretrained:
        if num_classes not in (None, 1000):
            raise UsageError("--num-classes goes with --weights FILE or random weights")
        module = _pretrained(spec.pretrained_name(alpha))
    elif weights is not None:
        module, network, classes = _with_weights(spec, alpha, Path(weights), num_classes)
    else:
        module = _seeded(seed, lambda: _generate(spec, alpha, classes))
    module.eval()
    input_shape = (1, 3, resolution, resolution)
    details = {
        "builtin": spec.name,
        "alpha": alpha,
        "resolution": resolution,
        "weights": "pretrained" if pretrained else (str(weights) if weights else "random"),
        **({"seed": seed} if random_weights else {}),
        "network": network,
        "num_classes": classes,
        "params": count_params(module),
        "macs": count_macs(module, input_shape),
    }
    return TorchModel(
        module=module,
        input_shape=input_shape,
        name=spec.label(alpha, resolution),
        preprocessing=preprocessing_for(spec.reference, resolution)
        if network == "timm"
        else torchvision_preprocessing(resolution),
        details=details,
    )
