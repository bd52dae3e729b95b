"""Parameters and multiply-accumulates, counted on the actual model at the actual input size."""

from __future__ import annotations

from typing import Any


def count_params(module: Any) -> int:
    return int(sum(p.numel() for p in module.parameters()))


def count_macs(module: Any, input_shape: tuple[int, ...]) -> int:
    """MACs of one forward pass: convolutions and linear layers (what dominates a MobileNet).

    Hooks record each layer's real output shape, so strides, padding and width multipliers are all
    accounted for without a table. Element-wise ops (activations, adds, SE multiplies) are not counted,
    as is the convention for MobileNet MAC figures.
    """
    import torch

    total = 0

    def conv_hook(layer, _inputs, output):
        nonlocal total
        kh, kw = layer.kernel_size
        total += output.numel() * (layer.in_channels // layer.groups) * kh * kw

    def linear_hook(layer, _inputs, output):
        nonlocal total
        total += output.numel() * layer.in_features

    handles = []
    for layer in module.modules():
        if isinstance(layer, torch.nn.Conv2d):
            handles.append(layer.register_forward_hook(conv_hook))
        elif isinstance(layer, torch.nn.Linear):
            handles.append(layer.register_forward_hook(linear_hook))
    try:
        with torch.no_grad():
            module(torch.zeros(input_shape))
    finally:
        for handle in handles:
            handle.remove()
    return int(total)
