"""The conversion as an explicit, ordered list of stages, each timed and shown with progress.

PyTorch -> ONNX -> (fix activations) -> TensorFlow -> float32 + int8 TFLite, then fidelity and the
Edge TPU steps. A stage runs when the current artifact is what it REQUIRES; only leading stages may be
skipped (an ONNX input starts at stage 2). Everything is written into a staging directory and moved into
the output directory only when the run completes, so a failure or Ctrl-C leaves nothing half-written.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from edgedeploy.converters import (
    activations,
    cut_outputs,
    deploy_files,
    fidelity,
    onnx_to_tf,
    raw_input,
    tf_to_tflite,
    torch_to_onnx,
)
from edgedeploy.converters.artifacts import OnnxModel, TensorFlowModel, TFLiteModel, TorchModel
from edgedeploy.converters.calibration import calibration_notes, load_image_set
from edgedeploy.converters.context import ConvertOptions, StageContext
from edgedeploy.converters.convert_report import ConvertResult, StageRecord
from edgedeploy.converters.inspect_int8 import describe
from edgedeploy.converters.onnx_model import prepare_onnx
from edgedeploy.converters.progress import StageProgress
from edgedeploy.converters.quiet import captured_output
from edgedeploy.converters.sources import SourceSpec, check_model_file, load_source, looks_like_path
from edgedeploy.converters.tools import tool_versions
from edgedeploy.deploy.labels import read_label_file
from edgedeploy.errors import ConversionError, ExitCode, UsageError
from edgedeploy.images import ASSUMED, GRAYSCALE_CONVERSION, to_grayscale
from edgedeploy.outputs import require_free_space, staged_directory
from edgedeploy.report import note
from edgedeploy.targets.registry import get_target


def channels_of(first: Any) -> int:
    """The image channels of the first artifact: NHWC for a TensorFlow model, NCHW otherwise."""
    return first.input_shape[3] if isinstance(first, TensorFlowModel) else first.input_shape[1]


def stages_for(options: ConvertOptions) -> list:
    stages = [torch_to_onnx]
    if options.outputs:
        stages.append(cut_outputs)
    if options.fix_activations:
        stages.append(activations)
    if options.raw_input:
        stages.append(raw_input)
    return stages + [onnx_to_tf, tf_to_tflite]


def run_stages(
    artifact: Any, context: StageContext, progress: StageProgress, records: list[StageRecord]
) -> dict[type, Any]:
    """Run the stages in order; return the latest artifact of each type (the ONNX that was converted,
    the int8 TFLite, ...)."""
    produced: dict[type, Any] = {type(artifact): artifact}
    started = False
    for stage in stages_for(context.options):
        if not isinstance(artifact, stage.REQUIRES):
            if started:
                raise ConversionError(
                    f"stage {stage.NAME} needs {stage.REQUIRES.__name__}, got {type(artifact).__name__}"
                )
            continue
        started = True
        with progress.stage(stage.NAME) as timer:
            artifact = stage.run(artifact, context)
        if not isinstance(artifact, stage.ENSURES):
            raise ConversionError(
                f"stage {stage.NAME} produced {type(artifact).__name__}, not {stage.ENSURES.__name__}"
            )
        produced[type(artifact)] = artifact
        records.append(StageRecord(stage.NAME, timer.seconds, context.records.get(stage.NAME, {})))
    return produced


def run_target_step(
    int8: TFLiteModel,
    context: StageContext,
    progress: StageProgress,
    staging: Path,
    output_dir: Path,
) -> tuple[dict[str, Any], ExitCode, Any]:
    """The target's own end of the conversion (``--target``): its mapping prediction, then its compile."""
    make_step = get_target(context.options.target, "convert_step").convert_step
    assert make_step is not None  # get_target refuses a target without the capability
    step = make_step()
    options = context.options.compiler_options
    with progress.stage(step.predict_stage_name) as timer:
        prediction = step.predict(int8.path, options)
    with progress.stage(step.compile_stage_name) as timer:
        outcome = step.compile(
            int8.path,
            context.workdir,
            options,
            enabled=context.options.compile,
            publish_to=output_dir,
        )
        if outcome.status in ("skipped", "not-run"):
            timer.outcome = (
                "skipped (--no-compile)"
                if outcome.status == "skipped"
                else f"not run: {outcome.data['reason']}"
            )
    for path in outcome.files:
        shutil.copyfile(path, staging / path.name)
    context.notes.extend(outcome.notes)
    # The contract types the step's code as int; every target returns one of ExitCode's members.
    return (
        {"prediction": prediction, "compile": outcome.data},
        ExitCode(outcome.exit_code),
        outcome.result,
    )


def _publish(
    staging: Path, onnx_model: OnnxModel | None, int8: TFLiteModel, workdir: Path
) -> dict[str, Path]:
    """Copy the results into the staging directory under their final names (no ONNX for a Keras input)."""
    name = int8.name
    outputs = {
        "float32_tflite": staging / f"{name}_float32.tflite",
        "int8_tflite": staging / f"{name}_int8.tflite",
    }
    if onnx_model is not None:
        outputs = {"onnx": staging / f"{name}.onnx", **outputs}
        shutil.copyfile(onnx_model.path, outputs["onnx"])
    shutil.copyfile(int8.float_reference.path, outputs["float32_tflite"])
    shutil.copyfile(int8.path, outputs["int8_tflite"])
    logs = [log for log in sorted(workdir.glob("*.log")) if log.stat().st_size]
    if logs:
        (staging / "logs").mkdir()
        for log in logs:
            shutil.copyfile(log, staging / "logs" / log.name)
    return outputs


def _expected_bytes(source: TorchModel | TensorFlowModel | Path) -> int:
    """What a conversion writes into its output directory, from the source's float32 size: the ONNX and
    the float32 TFLite hold the weights once each, the int8 TFLite a quarter of them (the scratch folder
    needs about twice that again for TensorFlow's SavedModel and onnx2tf's files)."""
    if isinstance(source, Path):
        weights = source.stat().st_size
    elif isinstance(source, TensorFlowModel):
        count = getattr(source.keras_model, "count_params", None)
        weights = 4 * count() if callable(count) else 0
    else:
        module = source.module
        tensors = (
            list(module.parameters()) + list(module.buffers()) if hasattr(module, "buffers") else []
        )
        weights = sum(t.numel() * t.element_size() for t in tensors)
    return weights * 9 // 4


def convert(
    source: SourceSpec | str,
    output_dir: Path,
    options: ConvertOptions,
    *,
    force: bool = False,
) -> ConvertResult:
    """``source``: what to convert (a bare string is a model file, or a built-in at its defaults)."""
    spec = SourceSpec(source) if isinstance(source, str) else source
    wall_start = time.perf_counter()
    given_file = looks_like_path(spec.model) or os.path.lexists(spec.model)
    if given_file:  # refused before any stage starts (one line)
        check_model_file(Path(spec.model))
    given_labels = read_label_file(options.labels) if options.labels is not None else None
    records: list[StageRecord] = []
    progress = StageProgress()
    # The output directory is held and checked before the model loads (a minute for a large one): in use
    # by another run, holding results without --force, read-only or full is refused within a second.
    early_bytes = _expected_bytes(Path(spec.model)) if given_file else None
    with (
        staged_directory(Path(output_dir), force, needs_bytes=early_bytes) as staging,
        tempfile.TemporaryDirectory(prefix="edgedeploy-work-") as scratch,
    ):
        workdir = Path(scratch)
        with progress.stage("load-model") as timer:
            loaded = load_source(spec, options.input_shape)
            # An ONNX file is read here, inside its stage: an unreadable one never gets a success tick.
            first = (
                loaded
                if isinstance(loaded, (TorchModel, TensorFlowModel))
                else prepare_onnx(loaded, workdir, options.input_shape)
            )
        records.append(StageRecord("load-model", timer.seconds, getattr(loaded, "details", {})))
        labels = given_labels or deploy_files.label_file(loaded, None)
        if given_labels is not None:  # a wrong count is refused now, not after the conversion
            deploy_files.check_label_count(given_labels, first)
        # Before the long part: a full disk found after minutes of converting would cost them all.
        needed = _expected_bytes(loaded)
        require_free_space(
            Path(tempfile.gettempdir()), 2 * needed, "the conversion's scratch files"
        )
        require_free_space(Path(output_dir), needed, "the results")
        onnx_rewrites = options.raw_input or options.fix_activations or options.outputs
        if isinstance(first, TensorFlowModel) and onnx_rewrites:
            raise UsageError(
                "--raw-input, --fix-activations and --outputs rewrite the ONNX graph; a "
                "Keras/TensorFlow model goes straight to TFLite without one",
                "put the normalization or the activations in the Keras model itself",
            )
        first = dataclasses.replace(
            first, preprocessing=options.preprocessing.apply(first.preprocessing)
        )
        if channels_of(first) == 1:  # a grayscale model: photos converted, mean/std per one channel
            first = dataclasses.replace(first, preprocessing=to_grayscale(first.preprocessing))
            context_notes = [
                f"1-channel input: calibration and fidelity photos converted to grayscale with "
                f"{GRAYSCALE_CONVERSION}"
            ]
        else:
            context_notes = []
        for line in context_notes:
            note(line)
        if first.preprocessing.origin == ASSUMED:
            note(f"preprocessing {ASSUMED}")
        with progress.stage("load-images") as timer:
            images = load_image_set(
                first.preprocessing,
                options.calibration_dir,
                options.calibration_count,
                channels_of(first),
            )
        records.append(
            StageRecord(
                "load-images",
                timer.seconds,
                {
                    "source": images.source,
                    "calibration_images": len(images.calibration),
                    "held_back_images": len(images.held_back),
                },
            )
        )
        context = StageContext(options=options, workdir=workdir, images=images)
        for line in context_notes:
            context.note(line)
        for line in calibration_notes(images, options.calibration_count):
            note(line)
            context.note(line)
        produced = run_stages(first, context, progress, records)
        onnx_model, int8 = produced.get(OnnxModel), produced[TFLiteModel]
        keras = produced.get(TensorFlowModel) if onnx_model is None else None
        images = context.images  # --raw-input re-expressed them in the new input's units
        deploy = deploy_files.make_sidecar(int8, first.preprocessing, labels, options.raw_input)
        with progress.stage("fidelity") as timer, captured_output(workdir / "fidelity.log"):
            measured = fidelity.measure(onnx_model, int8, images.held_back, keras)
        records.append(
            StageRecord("fidelity", timer.seconds, {"held_back_images": len(images.held_back)})
        )
        published = Path(output_dir) / f"{int8.name}_int8.tflite"
        for line in fidelity.warnings(measured, describe(int8.path), published):
            measured.setdefault("warnings", []).append(line)
            note(f"warning: {line}")
            context.note(f"warning: {line}")
        for which, kernels in measured.get("kernels", {}).items():
            if kernels != "XNNPACK":  # the held-back run used LiteRT's own kernels: say so
                note(f"fidelity of the {which} model: {kernels}")
                context.note(f"fidelity of the {which} model: {kernels}")
        target_report, exit_code, target_result = run_target_step(
            int8, context, progress, staging, Path(output_dir)
        )
        outputs = _publish(staging, onnx_model, int8, workdir)
        outputs.update(deploy_files.publish(staging, deploy, outputs))
        report = ConvertResult(
            spec=spec.model,
            model=first.name,
            details=getattr(loaded, "details", {}),
            options=options,
            stages=records,
            images=images,
            notes=context.notes,
            fidelity=measured,
            tools=tool_versions(),
            preprocessing=int8.preprocessing.to_dict(),
            output_dir=Path(output_dir),
            outputs={key: path.name for key, path in outputs.items()},
            float32=describe(outputs["float32_tflite"]),
            int8=describe(outputs["int8_tflite"]),
            target=context.options.target,
            target_report=target_report,
            target_result=target_result,
            exit_code=exit_code,
        )
        report.finish(staging, time.perf_counter() - wall_start)
    return report
