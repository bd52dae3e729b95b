"""The study plan: every model x alpha x resolution, in the order the user named them.

A model file has one fixed input size, so it is one item whatever ``--resolution`` says. Weights are
resolved per item here, so a wrong ``--weights`` / ``--pretrained`` combination fails before any work.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edgedeploy.compare.specs import ModelSpec, WeightsChoice
from edgedeploy.converters.sources import SourceSpec
from edgedeploy.errors import UsageError
from edgedeploy.models.registry import BUILTINS


@dataclass(frozen=True)
class StudyItem:
    label: str  # row name: mobilenet_v2_0.5_96, or the file's stem
    spec: ModelSpec
    alpha: float | None  # None for model files
    resolution: int | None  # None for model files
    weights: Path | None = None
    pretrained: bool = False

    @property
    def source(self) -> SourceSpec:
        """What ``convert`` takes, built here once for the row: the built-in or the file."""
        if self.spec.is_file:
            return SourceSpec(str(self.spec.path))
        return SourceSpec(
            self.spec.builtin or "",
            self.alpha or 1.0,
            self.resolution,
            self.weights,
            self.pretrained,
        )

    @property
    def weights_kind(self) -> str:
        if self.spec.is_file:
            return "in the model file"
        return (
            "pretrained" if self.pretrained else (str(self.weights) if self.weights else "random")
        )


def _weights_for(
    name: str, alpha: float, choices: list[WeightsChoice], builtins: int
) -> Path | None:
    fitting = [c for c in choices if c.fits(name, alpha)]
    if any(c.name is None for c in fitting) and builtins > 1:
        raise UsageError(
            "--weights FILE without a model name is ambiguous in a study of several built-in models",
            "write --weights NAME:ALPHA=FILE, e.g. --weights mobilenet_v2:0.5=mnv2_050.pth",
        )
    named = [c for c in fitting if c.alpha is not None] or fitting  # NAME:ALPHA= beats NAME=
    return named[0].path if named else None


def build_plan(
    specs: list[ModelSpec],
    resolutions: tuple[int | None, ...],
    weights: list[WeightsChoice],
    pretrained: bool,
) -> list[StudyItem]:

    if pretrained and weights:
        raise UsageError("--weights and --pretrained exclude each other")
    builtin_pairs = {(s.builtin, a) for s in specs if s.builtin is not None for a in s.alphas}
    builtin_labels = {
        BUILTINS[name].label(alpha, BUILTINS[name].resolution_for(resolution))
        for name, alpha in builtin_pairs
        for resolution in resolutions
    }
    items: dict[str, StudyItem] = {}
    for spec in specs:
        if spec.path is not None:  # a model file
            label = spec.path.stem
            earlier = items[label].spec.path if label in items else None
            if label in builtin_labels or (
                earlier is not None and earlier.resolve() != spec.path.resolve()
            ):  # a built-in row's name, or the same file name from another folder
                label = f"{spec.path.parent.name}/{label}"
            items.setdefault(label, StudyItem(label, spec, None, None))
            continue
        name = spec.builtin
        assert name is not None  # a ModelSpec names a built-in or a file
        model = BUILTINS[name]
        for alpha in spec.alphas:
            if pretrained:
                model.pretrained_name(
                    alpha
                )  # a UsageError now if no published weights exist for this alpha
            chosen = _weights_for(name, alpha, weights, len(builtin_pairs))
            for resolution in resolutions:
                size = model.resolution_for(resolution)
                label = model.label(alpha, size)
                items.setdefault(label, StudyItem(label, spec, alpha, size, chosen, pretrained))
    unused = [
        w
        for w in weights
        if not any(
            w.fits(i.spec.builtin, i.alpha)
            for i in items.values()
            if i.spec.builtin is not None and i.alpha is not None
        )
    ]
    if unused:
        raise UsageError(f"--weights {unused[0].path}: no model of the study matches it")
    if not items:
        raise UsageError("no model given")
    return list(items.values())
