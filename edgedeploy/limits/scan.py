"""The fast analysis: every point of the grid from shapes and the target's rules, no conversion.

Per alpha the model is exported to ONNX once; per size its shapes are inferred again, the int8 TFLite
graph the converter would write is forecast (``forecast.py``) and the target's ``limits`` capability
judges it (mapping, parameters, activations, estimated latency), found through the registry.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from edgedeploy.errors import InputError
from edgedeploy.limits.forecast import forecast
from edgedeploy.limits.plan import Size
from edgedeploy.limits.source import ScanSource
from edgedeploy.targets.point_facts import PointFacts
from edgedeploy.targets.registry import call_capability


@dataclass
class Point:
    size: Size
    facts: PointFacts | None = None
    gaps: list[str] = field(
        default_factory=list
    )  # ONNX ops the forecast could not model at this size
    error: str | None = None  # why this point has no facts
    origin: str = (
        "forecast"  # forecast | converted (a confirmation found the forecast wrong and replaced it)
    )
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "alpha": self.size.alpha,
            "height": self.size.height,
            "width": self.size.width,
            "origin": self.origin,
            "facts": self.facts.to_dict() if self.facts else None,
            "gaps": self.gaps,
            "error": self.error,
            "seconds": round(self.seconds, 4),
        }


def scan(
    source: ScanSource,
    grid: list[Size],
    target: str,
    options: dict[str, Any],
    progress: Callable[[str], None] | None = None,
) -> list[Point]:
    found: list[Point] = []
    skeletons: dict[float | None, Any] = {}
    for index, size in enumerate(grid, 1):
        if progress:
            progress(f"fast analysis {index}/{len(grid)}: {source.name} {size.label}")
        start = time.perf_counter()
        point = Point(size)
        if size.alpha not in skeletons:
            skeletons[size.alpha] = source.skeleton(size.alpha)
        skeleton = skeletons[size.alpha]
        try:
            predicted = forecast(skeleton.at_size(size.height, size.width), skeleton.image.name)
        except InputError as exc:
            point.error = exc.message
        else:
            point.gaps = predicted.gaps
            point.facts = call_capability(
                target, "limits", predicted.graph, label=f"{source.name} {size.label}", **options
            )
            if predicted.gaps:
                point.facts.notes.append(
                    "the forecast does not model "
                    + ", ".join(predicted.gaps)
                    + ": those ops are counted as not mapped; convert to know (--exhaustive)"
                )
        point.seconds = time.perf_counter() - start
        found.append(point)
    return found
