"""Tiny PyTorch/ONNX models that convert in seconds, for end-to-end tests of the pipeline."""

from __future__ import annotations

import warnings
from pathlib import Path


def tiny_cnn(hard_swish: bool = False):
    import torch
    from torch import nn

    torch.manual_seed(0)
    act = nn.Hardswish() if hard_swish else nn.ReLU6()
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, stride=2, padding=1),
        nn.BatchNorm2d(8),
        act,
        nn.Conv2d(8, 8, 3, padding=1, groups=8),
        nn.ReLU6(),
        nn.Conv2d(8, 16, 1),
        nn.ReLU6(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(16, 10),
    )
    return model.eval()


def export_onnx(model, path: Path, size: int = 32, dynamic: dict | None = None) -> Path:
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (torch.rand(1, 3, size, size),),
            str(path),
            opset_version=17,
            dynamo=False,
            input_names=["x"],
            output_names=["y"],
            dynamic_axes=dynamic,
        )
    return path
