"""``--preset``, ``--mean``, ``--std`` and ``--channel-order``: how the user's model expects its pixels.

A model file (ONNX, TorchScript, torch.export) does not say how its input was normalised; calibrating it
on the wrong range gives a model that runs and answers wrongly. These options say it; without them the
conversion assumes ImageNet mean/std and says so on the terminal and in report.json.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from edgedeploy.errors import UsageError
from edgedeploy.images import Preprocessing

# name -> (mean, std) on the [0, 1] scale; aliases say the input range the model was trained on
PRESETS = {
    "imagenet": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    "unit": ((0.0, 0.0, 0.0), (1.0, 1.0, 1.0)),  # inputs in [0, 1]
    "signed": ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),  # inputs in [-1, 1]
}
ALIASES = {"0,1": "unit", "[0,1]": "unit", "0-1": "unit", "-1,1": "signed", "[-1,1]": "signed"}


@dataclass(frozen=True)
class PreprocessingChoice:
    """What the user said; every field None when they said nothing."""

    preset: str | None = None
    mean: tuple[float, float, float] | None = None
    std: tuple[float, float, float] | None = None
    channel_order: str | None = None

    @property
    def given(self) -> bool:
        return any(
            value is not None for value in (self.preset, self.mean, self.std, self.channel_order)
        )

    def describe(self) -> str:
        said = [f"--preset {self.preset}"] if self.preset else []
        said += [f"--mean {','.join(f'{v:g}' for v in self.mean)}"] if self.mean else []
        said += [f"--std {','.join(f'{v:g}' for v in self.std)}"] if self.std else []
        said += [f"--channel-order {self.channel_order}"] if self.channel_order else []
        return "given: " + " ".join(said)

    def apply(self, prep: Preprocessing) -> Preprocessing:
        if not self.given:
            return prep
        mean, std = PRESETS[self.preset] if self.preset else (prep.mean, prep.std)
        return dataclasses.replace(
            prep,
            mean=self.mean or mean,
            std=self.std or std,
            channel_order=self.channel_order or prep.channel_order,
            origin=self.describe(),
        )


def _triple(text: str, flag: str) -> tuple[float, float, float]:
    try:
        values = tuple(float(part) for part in text.replace(" ", "").split(","))
    except ValueError:
        raise UsageError(f"{flag} {text!r}: give three numbers, e.g. 0.485,0.456,0.406") from None
    if len(values) == 1:
        values = values * 3
    if len(values) != 3:
        raise UsageError(f"{flag} {text!r}: give one number or three (one per channel)")
    if any(v > 1.0 for v in values):  # pixel units (0..255), as many model cards give them
        values = tuple(v / 255.0 for v in values)
    return values  # type: ignore[return-value]


def parse_preprocessing(
    preset: str | None, mean: str | None, std: str | None, channel_order: str | None
) -> PreprocessingChoice:
    name = None
    if preset is not None:
        name = ALIASES.get(preset.strip().lower(), preset.strip().lower())
        if name not in PRESETS:
            raise UsageError(
                f"unknown --preset {preset!r}",
                f"choose from {', '.join(PRESETS)} (or [0,1], [-1,1])",
            )
    order = None
    if channel_order is not None:
        order = channel_order.strip().upper()
        if order not in ("RGB", "BGR"):
            raise UsageError(f"--channel-order {channel_order!r}: choose rgb or bgr")
    std_values = _triple(std, "--std") if std is not None else None
    if std_values is not None and any(v <= 0 for v in std_values):
        raise UsageError(f"--std {std!r}: every value must be more than 0")
    return PreprocessingChoice(
        name, _triple(mean, "--mean") if mean is not None else None, std_values, order
    )
