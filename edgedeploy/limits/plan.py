"""What a scan covers: the widths (alphas) and input sizes asked for, parsed and checked.

``--resolutions``: ``224``, ``96,160,224``, ``96..1024`` (10 sizes evenly spaced, rounded to multiples of
32, the ends kept) or ``96..1024:64`` (every 64 px). ``--alphas``: ``1.0``, ``0.5,0.75,1.0`` or
``0.5..1.5:0.25``. An empty range, a size below 32 or above 1024, an alpha the model does not offer: a
usage error (exit 2) that says which.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from edgedeploy.errors import UsageError
from edgedeploy.models.registry import MAX_RESOLUTION, MIN_RESOLUTION, format_alpha

DEFAULT_RESOLUTIONS = "96..1024"
RANGE_POINTS = 10
ROUND_TO = 32
MAX_POINTS = 400
_RANGE = re.compile(r"^\s*([0-9.]+)\s*\.\.\s*([0-9.]+)\s*(?::\s*([0-9.]+)\s*)?$")


def _number(text: str, what: str, kind: type) -> float:
    try:
        return kind(text)
    except ValueError:
        raise UsageError(
            f"{what}: '{text}' is not a {'whole ' if kind is int else ''}number"
        ) from None


def parse_resolutions(text: str) -> tuple[int, ...]:
    """Sizes in pixels, ascending and without duplicates."""
    match = _RANGE.match(text)
    if match:
        low, high = (int(_number(g, "--resolutions", int)) for g in match.group(1, 2))
        if low > high:
            raise UsageError(f"--resolutions {text}: the range is empty ({low} > {high})")
        if match.group(3):
            step = int(_number(match.group(3), "--resolutions step", int))
            if step <= 0:
                raise UsageError(f"--resolutions {text}: the step must be positive")
            sizes = list(range(low, high + 1, step))
        else:
            spaced = [low + (high - low) * i / (RANGE_POINTS - 1) for i in range(RANGE_POINTS)]
            sizes = [low, *(int(round(s / ROUND_TO)) * ROUND_TO for s in spaced[1:-1]), high]
            sizes = [s for s in sizes if low <= s <= high]
    else:
        sizes = [
            int(_number(part, "--resolutions", int)) for part in text.split(",") if part.strip()
        ]
    if not sizes:
        raise UsageError(f"--resolutions '{text}' names no size")
    for size in sizes:
        if not MIN_RESOLUTION <= size <= MAX_RESOLUTION:
            raise UsageError(
                f"--resolutions: {size} px is out of range: choose sizes in "
                f"{MIN_RESOLUTION}..{MAX_RESOLUTION}"
            )
    return tuple(sorted(set(sizes)))


def parse_alphas(text: str) -> tuple[float, ...]:
    match = _RANGE.match(text)
    if match:
        low, high = (_number(g, "--alphas", float) for g in match.group(1, 2))
        if not match.group(3):
            raise UsageError(f"--alphas {text}: give a step, e.g. {low:g}..{high:g}:0.25")
        step = _number(match.group(3), "--alphas step", float)
        if low > high or step <= 0:
            raise UsageError(f"--alphas {text}: the range is empty")
        count = int(round((high - low) / step)) + 1
        alphas = [round(low + i * step, 6) for i in range(count) if low + i * step <= high + 1e-9]
    else:
        alphas = [_number(part, "--alphas", float) for part in text.split(",") if part.strip()]
    if not alphas:
        raise UsageError(f"--alphas '{text}' names no width multiplier")
    return tuple(sorted(set(alphas)))


@dataclass(frozen=True)
class Size:
    alpha: float | None  # None: a model file (no width multiplier)
    height: int
    width: int

    @property
    def label(self) -> str:
        size = (
            f"{self.height} px" if self.height == self.width else f"{self.height}x{self.width} px"
        )
        return size if self.alpha is None else f"alpha {format_alpha(self.alpha)}, {size}"


def points(alphas: tuple[float | None, ...], sizes: tuple[tuple[int, int], ...]) -> list[Size]:
    grid = [Size(alpha, h, w) for alpha in alphas for h, w in sizes]
    if len(grid) > MAX_POINTS:
        raise UsageError(
            f"{len(grid)} points asked for; a scan takes at most {MAX_POINTS}",
            "use fewer --alphas or a coarser --resolutions step",
        )
    return grid
