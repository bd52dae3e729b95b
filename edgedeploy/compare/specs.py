"""What the user typed, checked before any work starts: model SPECs (``mobilenet_v3_small:0.2,0.5`` or a
model file), ``--resolution 96,224`` and ``--weights [NAME[:ALPHA]=]FILE``.

Every mistake here is a usage error in one line, so a study never fails an hour in on a typo.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from edgedeploy.errors import UsageError
from edgedeploy.files import WEIGHTS, check_input
from edgedeploy.models.registry import BUILTINS, check_resolution, get_builtin


@dataclass(frozen=True)
class ModelSpec:
    text: str  # as the user wrote it
    builtin: str | None  # built-in model name, or None for a model file
    path: Path | None  # the model file, or None for a built-in
    alphas: tuple[
        float, ...
    ]  # width multipliers; (1.0,) when none given; (None,) for files is not used

    @property
    def is_file(self) -> bool:
        return self.path is not None


def _numbers(text: str, what: str, kind: type) -> list:
    values = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            values.append(kind(part))
        except ValueError:
            raise UsageError(f"{what} {text!r}: {part!r} is not a number") from None
    if not values:
        raise UsageError(f"{what} {text!r} names no value")
    return list(dict.fromkeys(values))


def parse_spec(text: str) -> ModelSpec:
    """``name``, ``name:0.5,1.0`` or a model file (.onnx, TorchScript .pt/.pth, torch.export .pt2)."""
    from edgedeploy.converters.sources import check_model_file, looks_like_path

    name, colon, alphas = text.partition(":")
    if name not in BUILTINS and (Path(text).exists() or looks_like_path(text)):
        path = check_model_file(Path(text))
        return ModelSpec(text, None, path, (1.0,))
    model = get_builtin(name.strip())
    values = _numbers(alphas, f"alphas of {name}", float) if colon else [1.0]
    return ModelSpec(text, model.name, None, tuple(model.check_alpha(a) for a in values))


def parse_resolutions(text: str | None) -> tuple[int | None, ...]:
    """``"96,224"`` -> (96, 224); None -> (None,): each model at its own default resolution."""

    if text is None:
        return (None,)
    return tuple(check_resolution(r) for r in _numbers(text, "--resolution", int))


@dataclass(frozen=True)
class WeightsChoice:
    """``--weights`` entries: ``FILE`` (the only built-in of the study) or ``NAME[:ALPHA]=FILE``."""

    name: str | None
    alpha: float | None
    path: Path

    def fits(self, name: str, alpha: float) -> bool:
        return (self.name in (None, name)) and (
            self.alpha is None or abs(self.alpha - alpha) < 1e-9
        )


def parse_weights(entries: list[str]) -> list[WeightsChoice]:

    choices = []
    for entry in entries:
        target, sep, file = entry.partition("=")
        if not sep:
            choices.append(WeightsChoice(None, None, Path(entry)))
            continue
        name, _, alpha = target.partition(":")
        model = get_builtin(name.strip())
        value = (
            model.check_alpha(_numbers(alpha, f"--weights {entry}", float)[0]) if alpha else None
        )
        choices.append(WeightsChoice(model.name, value, Path(file)))
    for choice in choices:
        if not os.path.lexists(choice.path):
            raise UsageError(f"--weights: file not found: {choice.path}")
        check_input(choice.path, WEIGHTS)  # a FIFO or /dev/zero would hang or fill memory in torch
    return choices
