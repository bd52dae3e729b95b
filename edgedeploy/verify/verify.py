"""``edgedeploy verify MODEL --images DIR``: does the deployed model answer like the float model it came from?

The photos go through the float reference (the ONNX file beside the model, ONNX Runtime), the int8 model on
the CPU and, where the device is present, its compiled twin on the accelerator; per output: top-1 and top-5
agreement, cosine similarity and max abs difference against float (and the accelerator against the CPU int8
model). When a run departs from float (cosine below ``min_cosine``, or top-1 agreement below ``min_top1`` on a
class-score output), the int8 and float32 TFLite models are compared
layer by layer to name where int8 diverges. Everything about the input comes from the model's sidecar,
checked against the model first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edgedeploy.deploy.sidecar import Sidecar, class_count, load_for, sidecar_path, validate
from edgedeploy.errors import InputError, UsageError
from edgedeploy.files import CONVERT_REPORT, load_json
from edgedeploy.targets.contract import TargetOptions
from edgedeploy.targets.inspection import inspect_model
from edgedeploy.targets.registry import DEFAULT_TARGET, create_runtime, get_target
from edgedeploy.tflite.files import require_tflite_file
from edgedeploy.thresholds import MIN_COSINE, MIN_TOP1
from edgedeploy.verify import layers
from edgedeploy.verify.inputs import Photos, load_photos
from edgedeploy.verify.result import VerifyResult, agreement
from edgedeploy.verify.run import Column, accelerator_column, aligned, run_loaded, run_onnx

DEFAULT_MIN_COSINE = MIN_COSINE  # the same thresholds convert warns against
DEFAULT_MIN_TOP1 = MIN_TOP1


def _sidecar(model: Path) -> tuple[Sidecar, Path, Path]:
    """(sidecar, where it is, the int8 model it describes); InputError when there is none or it does not match."""
    found = load_for(model)
    if found is None:
        raise InputError(
            f"{model.name}: no I/O sidecar beside it ({sidecar_path(model).name})",
            "verify needs the folder edgedeploy convert writes: the models, the sidecar and the ONNX",
        )
    sidecar, path = found
    int8 = path.parent / sidecar.model
    if int8 != model:
        if not int8.is_file():
            raise InputError(f"{path.name} describes {sidecar.model}, which is not beside it")
        validate(sidecar, int8, path)
    return sidecar, path, int8


def _reference(sidecar: Sidecar, folder: Path, key: str, what: str) -> Path:
    name = sidecar.files.get(key)
    if not name or not (folder / name).is_file():
        raise InputError(
            f"the {what} ({name or 'not named in the sidecar'}) is not beside the model",
            "verify runs in the folder edgedeploy convert wrote",
        )
    return folder / name


def _calibration_count(folder: Path) -> int | None:
    """How many images calibrated the model, from report.json when it is there (advice only; never guessed)."""
    try:
        report = load_json(folder / "report.json", CONVERT_REPORT)
        images = report["calibration"]["images"]
        return len(images) if isinstance(images, list) else None
    except (InputError, KeyError, TypeError):
        return None


def _departure(
    label: str,
    output: str,
    measured: dict[str, float],
    classes: int | None,
    min_cosine: float,
    min_top1: float,
) -> str | None:
    """Why ``measured`` departs from float, or None. Top-1 counts only for a class-score output."""
    found = []
    if measured["cosine_similarity"] < min_cosine:
        found.append(f"cosine {measured['cosine_similarity']:.6g} < {min_cosine:g}")
    if classes is not None and measured["top1_agreement"] < min_top1:
        found.append(f"top-1 agreement {measured['top1_agreement']:.1%} < {min_top1:.0%}")
    return f"{label}, output {output}: {', '.join(found)}" if found else None


def _compare(
    columns: list[Column], sidecar: Sidecar, min_cosine: float, min_top1: float
) -> tuple[list[dict[str, Any]], list[str]]:
    reference, runs = columns[0], [c for c in columns[1:]]
    # The float reference always has outputs: run_onnx and run_loaded raise rather than return none.
    assert reference.outputs is not None
    cpu = next((c for c in runs if c.key == "cpu" and c.ran), None)
    outputs, departures = [], []
    for index, spec in enumerate(sidecar.outputs):
        entry: dict[str, Any] = {
            "name": spec.name,
            "shape": list(spec.shape),
            "vs_float": {},
            "vs_cpu_int8": {},
        }
        aligned_outputs = [aligned(o[index], spec.shape) for o in reference.outputs]
        expected = [e for e in aligned_outputs if e is not None]
        for column in runs:
            if column.outputs is None:
                entry["vs_float"][column.key] = {"reason": column.reason}
                continue
            if len(expected) < len(aligned_outputs):
                entry["vs_float"][column.key] = {
                    "reason": f"not comparable: the reference output has shape "
                    f"{list(reference.outputs[0][index].shape)}"
                }
                continue
            measured = agreement(expected, [per_image[index] for per_image in column.outputs])
            entry["vs_float"][column.key] = measured
            departs = _departure(
                column.label, spec.name, measured, class_count(spec), min_cosine, min_top1
            )
            if departs:
                departures.append(departs)
            if cpu is not None and cpu.outputs is not None and column is not cpu:
                entry["vs_cpu_int8"][column.key] = agreement(
                    [p[index] for p in cpu.outputs], [p[index] for p in column.outputs]
                )
        outputs.append(entry)
    return outputs, departures


def _layers(
    sidecar: Sidecar, folder: Path, int8: Path, photos: Photos, min_cosine: float
) -> dict[str, Any]:
    name = sidecar.files.get("float32_tflite")
    if not name or not (folder / name).is_file():
        return {
            "reason": f"not compared: the float32 TFLite ({name or 'unnamed'}) is not beside the model"
        }
    rows = layers.compare_layers(folder / name, int8, photos.batches)
    if not rows:
        return {"reason": "not compared: the int8 and float32 models share no tensor names"}
    first = layers.first_divergence(rows, min_cosine)
    result: dict[str, Any] = {
        "images": min(len(photos.batches), layers.MAX_IMAGES),
        "matched": len(rows),
        "float_model": name,
        "rows": [r.to_dict() for r in rows],
        "first_divergence": first.to_dict() if first else None,
    }
    if first is not None:
        result["matched_before"] = rows.index(first)
        result["advice"] = layers.advice(first, int8, _calibration_count(folder))
    return result


def run_verify(
    model: Path,
    images: Path,
    *,
    target: str = DEFAULT_TARGET,
    options: TargetOptions | None = None,
    min_cosine: float = DEFAULT_MIN_COSINE,
    min_top1: float = DEFAULT_MIN_TOP1,
    always_layers: bool = False,
) -> VerifyResult:
    model = Path(model)
    require_tflite_file(
        model, "verify takes the _int8.tflite (or _edgetpu.tflite) edgedeploy convert wrote"
    )
    if not 0 < min_cosine <= 1:
        raise UsageError(f"--min-cosine {min_cosine:g}: give a value in (0, 1]")
    if not 0 <= min_top1 <= 1:
        raise UsageError(f"--min-top1 {min_top1:g}: give a share in [0, 1]")
    spec = get_target(target, "runtime")
    sidecar, path, int8 = _sidecar(model)
    folder = path.parent
    keras_input = "onnx" not in sidecar.files and "float32_tflite" in sidecar.files
    reference_file = (
        _reference(sidecar, folder, "float32_tflite", "float32 TFLite reference")
        if keras_input  # converted from Keras: no ONNX, the float32 TFLite is the float model
        else _reference(sidecar, folder, "onnx", "float reference ONNX")
    )
    photos = load_photos(images, sidecar.preprocessing)
    int8_file = inspect_model(int8)
    cpu_runtime = create_runtime("cpu", TargetOptions(threads=(1,)))
    if keras_input:
        reference = Column("float", "float reference (float32 TFLite, LiteRT)", reference_file.name)
        reference.outputs, _ = run_loaded(
            cpu_runtime, inspect_model(reference_file), photos.batches, sidecar.layout
        )
    else:
        reference = Column(
            "float",
            "float reference (ONNX Runtime)",
            reference_file.name,
            run_onnx(reference_file, photos.batches),
        )
    cpu = Column("cpu", "CPU int8 (LiteRT)", int8.name)
    cpu.outputs, cpu.details = run_loaded(cpu_runtime, int8_file, photos.batches, sidecar.layout)
    columns = [reference, cpu]
    if spec.name != "cpu":
        accelerator = create_runtime(spec.name, options or TargetOptions())
        columns.append(
            accelerator_column(
                accelerator, spec.display_name, int8_file, photos.batches, sidecar.layout
            )
        )
    outputs, departures = _compare(columns, sidecar, min_cosine, min_top1)
    result = VerifyResult(
        model,
        path,
        [str(p) for p in photos.paths],
        photos.skipped,
        columns,
        outputs,
        min_cosine,
        min_top1,
        departures,
    )
    if departures or always_layers:
        result.layers = _layers(sidecar, folder, int8, photos, min_cosine)
    if len(photos.batches) < 10:
        result.notes.append(
            f"{len(photos.batches)} photo(s): each is {1 / len(photos.batches):.1%} of an agreement "
            "share; use more photos for a firmer answer"
        )
    return result
