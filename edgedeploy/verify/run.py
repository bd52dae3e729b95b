"""The same photos through each model ``verify`` compares: the float reference (the ONNX file, ONNX Runtime),
the int8 model on the CPU, and its compiled twin on an accelerator, each through the target's own bench
runtime (found in the registry), so the device path is the one ``bench`` uses. Outputs come back as real
values (int8 ones dequantized with their own scale and zero point)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgedeploy.errors import EdgedeployError, InputError, first_line
from edgedeploy.targets.contract import BenchRuntime, NeedsCompilation
from edgedeploy.targets.model_file import ModelFile
from edgedeploy.verify.inputs import dequantize, quantize

Outputs = list[list[np.ndarray]]  # per image, per model output


@dataclass
class Column:
    """One model run on the photos, or why it did not run (then ``outputs`` is None and no number is shown)."""

    key: str  # "float", "cpu", or the accelerator target's name
    label: str
    model: str | None = None
    outputs: Outputs | None = None
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ran(self) -> bool:
        return self.outputs is not None


def run_onnx(path: Path, batches: list[np.ndarray]) -> Outputs:
    """The float reference: ONNX Runtime on the CPU, NHWC batches transposed when the ONNX input is NCHW."""
    import onnxruntime as ort

    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own exception types
        first = first_line(exc)
        raise InputError(
            f"{path.name}: ONNX Runtime cannot load the float reference ({first})"
        ) from exc
    (inp,) = session.get_inputs()
    nchw = (
        len(inp.shape) == 4
        and inp.shape[1] == batches[0].shape[3]
        and inp.shape[3] != batches[0].shape[3]
    )
    feeds = [np.ascontiguousarray(b.transpose(0, 3, 1, 2)) if nchw else b for b in batches]
    return [
        [np.asarray(o, np.float32) for o in session.run(None, {inp.name: feed})] for feed in feeds
    ]


def run_loaded(
    runtime: BenchRuntime, model: ModelFile, batches: list[np.ndarray], layout: str
) -> tuple[Outputs, dict]:
    """``model`` on ``runtime``'s first variant; inputs quantized with the model's own scale and zero point."""
    loaded = runtime.load(model, runtime.variants()[0])
    try:
        interpreter = loaded.interpreter
        (inp,) = interpreter.get_input_details()
        outs = interpreter.get_output_details()
        results = []
        for batch in batches:
            data = batch.transpose(0, 3, 1, 2) if layout == "NCHW" else batch
            loaded.set_inputs([quantize(data, np.dtype(inp["dtype"]).name, *inp["quantization"])])
            loaded.invoke()
            results.append(
                [dequantize(interpreter.get_tensor(o["index"]), *o["quantization"]) for o in outs]
            )
        return results, dict(loaded.details)
    finally:
        loaded.close()


def accelerator_column(
    runtime: BenchRuntime, label: str, int8: ModelFile, batches: list[np.ndarray], layout: str
) -> Column:
    """The compiled model on the device; without a device (or a compiled model) it says why, with no number."""
    column = Column(runtime.name, label)
    availability = runtime.availability()
    if not availability.available:
        column.reason = f"not run: {availability.reason}"
        return column
    try:
        compiled = runtime.model_for(int8)
    except NeedsCompilation as exc:
        column.reason = f"not run: {exc}"
        return column
    column.model = compiled.path.name
    try:
        column.outputs, column.details = run_loaded(runtime, compiled, batches, layout)
    except EdgedeployError as exc:  # the device went away, the delegate refused the file
        column.outputs, column.reason = None, f"failed: {exc}"
    return column


def aligned(reference: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | None:
    """The reference output in the TFLite output's layout (onnx2tf turns NCHW outputs into NHWC), or None."""
    if reference.shape == tuple(shape):
        return reference
    if reference.ndim == 4 and reference.transpose(0, 2, 3, 1).shape == tuple(shape):
        return reference.transpose(0, 2, 3, 1)
    squeeze = [d for d in reference.shape if d != 1]
    if squeeze == [d for d in shape if d != 1]:
        return reference.reshape(shape)
    return None
