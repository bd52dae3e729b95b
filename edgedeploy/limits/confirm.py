"""Confirming the fast analysis with real conversions.

A confirmed point is converted exactly as ``edgedeploy convert`` does (into ``<output>/confirm/<point>``;
compiled too when the target's compiler is installed), and the target's ``limits`` capability and
``check`` judge the converted int8 model; where the target's compiler contradicts the prediction, its
``compile_disagreements`` says how. Where the forecast and the converted model disagree, the
confirmation lists how, and the converted facts replace the forecast (the truth is what was converted).
A folder already holding that conversion is reused unless ``--force`` asks to convert again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgedeploy.errors import EdgedeployError, first_line
from edgedeploy.limits.plan import Size
from edgedeploy.limits.scan import Point
from edgedeploy.limits.source import ScanSource
from edgedeploy.models.registry import format_alpha
from edgedeploy.targets.point_facts import PointFacts
from edgedeploy.targets.registry import call_capability, get_target
from edgedeploy.tflite import read_model

PARAM_TOLERANCE = (
    0.01  # parameter bytes within 1% agree (a converter drops an all-zero classifier bias)
)


@dataclass
class Confirmation:
    size: Size
    role: str  # limit | past | exhaustive
    folder: str | None = None
    converted: PointFacts | None = None
    check_verdict: str | None = None
    compile: dict[str, Any] = field(default_factory=dict)  # the compile stage's status and reason
    differences: list[str] = field(default_factory=list)
    error: str | None = None
    reused: bool = False
    seconds: float = 0.0

    @property
    def agrees(self) -> bool | None:
        return None if self.error else not self.differences

    def to_dict(self) -> dict[str, Any]:
        return {
            "alpha": self.size.alpha,
            "height": self.size.height,
            "width": self.size.width,
            "role": self.role,
            "agrees": self.agrees,
            "differences": self.differences,
            "folder": self.folder,
            "converted": self.converted.to_dict() if self.converted else None,
            "check_verdict": self.check_verdict,
            "compile": self.compile,
            "error": self.error,
            "reused": self.reused,
            "seconds": round(self.seconds, 2),
        }


def folder_for(source: ScanSource, size: Size, root: Path) -> Path:
    alpha = f"_{format_alpha(size.alpha)}" if size.alpha is not None else ""
    shape = f"{size.height}" if size.height == size.width else f"{size.height}x{size.width}"
    return root / "confirm" / f"{source.name}{alpha}_{shape}"


def _int8(folder: Path) -> Path | None:
    found = sorted(folder.glob("*_int8.tflite")) if folder.is_dir() else []
    return found[0] if found and (folder / "report.json").is_file() else None


def _convert(
    source: ScanSource, size: Size, folder: Path, target: str, force: bool
) -> tuple[Path, dict[str, Any]]:
    from edgedeploy.converters.context import ConvertOptions
    from edgedeploy.converters.pipeline import convert
    from edgedeploy.converters.sources import SourceSpec

    shape = None if source.builtin else (1, source.channels, size.height, size.width)
    options = ConvertOptions(target=target, input_shape=shape, compile=True)
    spec = SourceSpec(
        source.convert_spec(),
        alpha=size.alpha or 1.0,
        resolution=size.height if source.builtin else None,
    )
    report = convert(spec, folder, options, force=force)
    return folder / report.outputs["int8_tflite"], dict(report.target_report.get("compile") or {})


def differences(forecast: PointFacts, converted: PointFacts) -> list[str]:
    found = []
    for name, concern in forecast.concerns().items():
        truth = converted.concerns()[name]
        if concern.verdict != truth.verdict:
            found.append(
                f"{name}: forecast {concern.verdict}, converted {truth.verdict} ({truth.detail})"
            )
    for field_name in ("total_ops", "tpu_ops", "risky_ops", "cpu_ops"):
        a, b = getattr(forecast, field_name), getattr(converted, field_name)
        if a != b:
            found.append(f"{field_name.replace('_', ' ')}: forecast {a}, converted {b}")
    if abs(forecast.param_bytes - converted.param_bytes) > PARAM_TOLERANCE * max(
        converted.param_bytes, 1
    ):
        found.append(
            f"parameter bytes: forecast {forecast.param_bytes}, converted {converted.param_bytes}"
        )
    if forecast.largest_activation_bytes != converted.largest_activation_bytes:
        found.append(
            f"largest activation: forecast {forecast.largest_activation_shape}, converted "
            f"{converted.largest_activation_shape}"
        )
    return found


def confirm(
    source: ScanSource,
    point: Point,
    role: str,
    root: Path,
    target: str,
    options: dict[str, Any],
    force: bool = False,
) -> Confirmation:
    start = time.perf_counter()
    folder = folder_for(source, point.size, root)
    result = Confirmation(point.size, role, folder=str(folder))
    try:
        int8 = None if force else _int8(folder)
        if int8 is not None:
            result.reused = True
        else:
            int8, result.compile = _convert(
                source, point.size, folder, target, force=force or folder.exists()
            )
        label = f"{source.name} {point.size.label} (converted)"
        result.converted = call_capability(
            target, "limits", read_model(int8), label=label, **options
        )
        result.check_verdict = call_capability(target, "check", int8).mapping(target).verdict
    except EdgedeployError as exc:
        result.error = exc.message
    except Exception as exc:  # noqa: BLE001 - a converter's own failure must not lose the scan done so far
        first = first_line(exc, fallback="")
        result.error = f"{type(exc).__name__}: {first[:300]}"
    else:
        if point.facts is not None:
            result.differences = differences(point.facts, result.converted)
        disagreements = get_target(target).compile_disagreements
        if disagreements is not None:  # the target's compiler against its prediction
            result.differences += disagreements(result.compile, result.converted)
    result.seconds = time.perf_counter() - start
    return result
