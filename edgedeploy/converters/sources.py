"""Turn the user's INPUT (a built-in name, a .onnx file, a TorchScript or exported-program file) into
the first artifact of the pipeline, or one clear error saying what is wrong with it."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from edgedeploy.converters.artifacts import TorchModel
from edgedeploy.errors import InputError, UsageError
from edgedeploy.files import MODEL, ONNX, TFLITE, TORCH, InputKind, check_input
from edgedeploy.images import default_preprocessing
from edgedeploy.report import note
from edgedeploy.targets.registry import require_batch

TORCHSCRIPT_SUFFIXES = {".pt", ".pth", ".ts", ".torchscript"}
EXPORTED_PROGRAM_SUFFIXES = {".pt2"}
MODEL_SUFFIXES = {".onnx", ".tflite", *TORCHSCRIPT_SUFFIXES, *EXPORTED_PROGRAM_SUFFIXES}


def parse_input_shape(text: str | None) -> tuple[int, ...] | None:
    """'1,3,224,224' (or 1x3x224x224) -> (1, 3, 224, 224)."""
    if text is None:
        return None
    parts = [p for p in re.split(r"[,x\s]+", text.strip()) if p]
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        raise UsageError(
            f"--input-shape '{text}' is not a list of integers like 1,3,224,224"
        ) from None
    if len(shape) != 4 or any(d <= 0 for d in shape):
        raise UsageError(
            f"--input-shape '{text}' must be four positive sizes N,C,H,W (NCHW, batch 1)"
        )
    require_batch(shape[0], f"--input-shape '{text}'")
    return shape


def model_kind(path: Path) -> InputKind:
    """What a model file given by name must be, from its suffix (its size cap with it)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".onnx":
        return ONNX
    if suffix == ".tflite":
        return TFLITE
    if suffix in TORCHSCRIPT_SUFFIXES or suffix in EXPORTED_PROGRAM_SUFFIXES:
        return TORCH
    return MODEL


def check_model_file(path: Path) -> Path:
    """``path`` when it is a regular, non-empty file within its kind's size cap; InputError otherwise."""
    check_input(path, model_kind(path))
    return Path(path)


def looks_like_path(text: str) -> bool:
    return "/" in text or "\\" in text or Path(text).suffix.lower() in MODEL_SUFFIXES


def _torchscript(path: Path, shape: tuple[int, ...] | None) -> TorchModel:
    import torch

    try:
        with warnings.catch_warnings():
            warnings.simplefilter(
                "ignore", FutureWarning
            )  # TorchScript is deprecated, still what users have
            module = torch.jit.load(str(path), map_location="cpu")
    except Exception as exc:
        raise InputError(
            f"{path} is not a TorchScript model ({type(exc).__name__})",
            "a state dict goes with a built-in name and --weights FILE",
        ) from exc
    if shape is None:
        raise UsageError(
            "a TorchScript model carries no input size: pass --input-shape, e.g. 1,3,224,224"
        )
    return TorchModel(
        module=module.eval(),
        input_shape=shape,
        name=path.stem,
        preprocessing=default_preprocessing(shape[2], shape[3]),
        details={"source": "torchscript"},
    )


def _exported_program(path: Path, shape: tuple[int, ...] | None) -> TorchModel:
    import torch

    try:
        program = torch.export.load(str(path))
    except Exception as exc:
        raise InputError(f"{path} is not a torch.export program ({type(exc).__name__})") from exc
    example = program.example_inputs[0] if program.example_inputs else ()
    if shape is None and example and hasattr(example[0], "shape"):
        shape = tuple(int(d) for d in example[0].shape)
    if shape is None or len(shape) != 4:
        raise UsageError(
            "cannot tell the program's NCHW input size: pass --input-shape, e.g. 1,3,224,224"
        )
    return TorchModel(
        module=program.module(),
        input_shape=shape,
        name=path.stem,
        preprocessing=default_preprocessing(shape[2], shape[3]),
        details={"source": "exported-program"},
    )


@dataclass(frozen=True)
class SourceSpec:
    """What to convert, decided once where the user said it (convert's and estimate's options,
    compare's plan, limits' confirmations): a built-in name or a model file, and for a built-in its
    width, input size and weights."""

    model: str  # a built-in name or a model file's path
    alpha: float = 1.0
    resolution: int | None = None  # None: the built-in's default
    weights: Path | None = None
    pretrained: bool = False


def load_source(
    source: SourceSpec, input_shape: tuple[int, ...] | None = None
) -> TorchModel | Path:
    """A built-in or PyTorch model becomes a TorchModel; an ONNX file is returned as a checked Path
    (``onnx_model.prepare_onnx`` makes it static inside the run's working directory).
    ``input_shape``: ``ConvertOptions.input_shape``, parsed once where the option was given."""
    shape, spec = input_shape, source.model
    path = Path(spec)
    if path.exists() or looks_like_path(spec):
        check_model_file(path)
        suffix = path.suffix.lower()
        if source.weights is not None or source.pretrained:
            raise UsageError(
                "--weights / --pretrained go with a built-in model name, not a model file"
            )
        if suffix == ".onnx":
            return path
        if suffix in TORCHSCRIPT_SUFFIXES:
            return _torchscript(path, shape)
        if suffix in EXPORTED_PROGRAM_SUFFIXES:
            return _exported_program(path, shape)
        if suffix == ".tflite":
            raise UsageError(
                f"{path} is already a TFLite model",
                "use 'edgedeploy check' to predict its mapping or 'edgedeploy compile' to compile it",
            )
        raise InputError(
            f"{path}: unsupported model file type '{suffix or '(none)'}'",
            "expected .onnx, a TorchScript .pt/.pth, an exported .pt2, or a built-in name",
        )
    from edgedeploy.models import build_model

    if shape is not None:
        note("--input-shape is ignored for built-in models; use --resolution")
    return build_model(
        spec,
        source.alpha,
        source.resolution,
        weights=source.weights,
        pretrained=source.pretrained,
    )
