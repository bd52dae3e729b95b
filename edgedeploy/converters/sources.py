"""Turn the user's INPUT (a built-in name, a .onnx file, a TorchScript or exported-program file) into
the first artifact of the pipeline, or one clear error saying what is wrong with it."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgedeploy.converters.artifacts import TensorFlowModel, TorchModel
from edgedeploy.converters.keras_source import (
    KERAS_SUFFIXES,
    SAVED_MODEL_FILE,
    is_keras_input,
    load_keras,
)
from edgedeploy.errors import InputError, UsageError
from edgedeploy.files import MODEL, ONNX, TFLITE, TORCH, InputKind, check_input
from edgedeploy.images import default_preprocessing
from edgedeploy.models import build_model
from edgedeploy.models.artifact import NCHW, as_nchw
from edgedeploy.report import note
from edgedeploy.targets.registry import require_batch

TORCHSCRIPT_SUFFIXES = {".pt", ".pth", ".ts", ".torchscript"}
EXPORTED_PROGRAM_SUFFIXES = {".pt2"}
MODEL_SUFFIXES = {
    ".onnx",
    ".tflite",
    *TORCHSCRIPT_SUFFIXES,
    *EXPORTED_PROGRAM_SUFFIXES,
    *KERAS_SUFFIXES,
}


def parse_input_shape(text: str | None) -> NCHW | None:
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
    return as_nchw(shape)


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
    """``path`` when it is a regular, non-empty file within its kind's size cap (a SavedModel directory:
    its saved_model.pb); InputError otherwise."""
    path = Path(path)
    if path.is_dir() and is_keras_input(path):
        check_input(path / SAVED_MODEL_FILE, MODEL)
        return path
    check_input(path, model_kind(path))
    return path


def looks_like_path(text: str) -> bool:
    return "/" in text or "\\" in text or Path(text).suffix.lower() in MODEL_SUFFIXES


HOW_TO_EXPORT = (
    "or export it instead (no code runs when loading those): "
    "torch.jit.trace(model, x).save('m.pt'), "
    "torch.export.save(torch.export.export(model, (x,)), 'm.pt2') or torch.onnx.export(model, x, 'm.onnx')"
)


def _archive_kind(path: Path) -> str:
    """ "torchscript" (a zip with code/), "pickle" (torch.save's zip, or a legacy pickle), or "other"."""
    import zipfile

    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
        if any("/code/" in n for n in names):
            return "torchscript"
        return "pickle" if any(n.endswith("data.pkl") for n in names) else "other"
    with open(path, "rb") as stream:
        return "pickle" if stream.read(1) == b"\x80" else "other"  # pickle protocol 2+


def _pickled(path: Path, shape: NCHW | None, trust_pickle: bool) -> TorchModel:
    """torch.save(model): only with --trust-pickle, because unpickling runs code the file names."""
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 - not only tensors: a whole module (or other objects)
        state = None
    if isinstance(state, dict):
        raise InputError(
            f"{path} holds a state dict (weights without the network), not a model",
            "a state dict goes with a built-in name and --weights FILE "
            "(e.g. edgedeploy convert mobilenet_v2 --weights FILE)",
        )
    if not trust_pickle:
        raise InputError(
            f"{path} is a whole pickled model (torch.save(model)); loading it runs code named in "
            "the file, so edgedeploy does it only with --trust-pickle (if you trust where it came from)",
            HOW_TO_EXPORT,
        )
    if shape is None:
        raise UsageError(
            "a pickled model carries no input size: pass --input-shape, e.g. 1,3,224,224"
        )
    try:
        module = torch.load(path, map_location="cpu", weights_only=False)
    except (ModuleNotFoundError, AttributeError) as exc:
        raise InputError(
            f"{path}: unpickling needs the model's class, which cannot be imported here ({exc})",
            "run edgedeploy where the code defining the model is importable (PYTHONPATH), "
            + HOW_TO_EXPORT,
        ) from None
    except Exception as exc:  # noqa: BLE001 - unpickling raises whatever the pickled code raises
        raise InputError(f"{path} could not be unpickled ({type(exc).__name__}: {exc})") from None
    if not isinstance(module, torch.nn.Module):
        raise InputError(
            f"{path} holds a pickled {type(module).__name__}, not a torch.nn.Module", HOW_TO_EXPORT
        )
    return TorchModel(
        module=module.eval(),
        input_shape=shape,
        name=path.stem,
        preprocessing=default_preprocessing(shape[2], shape[3]),
        details={"source": "pickled module (--trust-pickle), traced by the ONNX export"},
    )


def _torchscript(path: Path, shape: NCHW | None, trust_pickle: bool = False) -> TorchModel:
    import torch

    if _archive_kind(path) == "pickle":
        return _pickled(path, shape, trust_pickle)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter(
                "ignore", FutureWarning
            )  # TorchScript is deprecated, still what users have
            module = torch.jit.load(str(path), map_location="cpu")
    except Exception as exc:
        raise InputError(
            f"{path} is neither a TorchScript model nor a pickled one ({type(exc).__name__})",
            "a .pt/.pth model file is torch.jit.save's or torch.save(model)'s output",
        ) from exc
    if shape is None:
        raise UsageError(
            "a TorchScript model carries no input size: pass --input-shape, e.g. 1,3,224,224"
        )
    return _file_model(module.eval(), path, shape, "torchscript")


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
    return _file_model(program.module(), path, as_nchw(shape), "exported-program")


def _file_model(module: Any, path: Path, shape: NCHW, source: str) -> TorchModel:
    """A PyTorch model read from a file: named after it, ImageNet preprocessing assumed at its size."""
    return TorchModel(
        module=module,
        input_shape=shape,
        name=path.stem,
        preprocessing=default_preprocessing(shape[2], shape[3]),
        details={"source": source},
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
    seed: int | None = None  # None: seeded from the name, alpha and resolution
    num_classes: int | None = None  # a fine-tuned head; None: the built-in's 1000 classes
    trust_pickle: bool = False  # a torch.save(model) file may be unpickled (runs its code)


def _builtin_options_given(source: SourceSpec) -> bool:
    """Whether options that only a built-in takes were given with a model file."""
    return (
        source.weights is not None
        or source.pretrained
        or source.seed is not None
        or source.num_classes is not None
    )


def load_source(
    source: SourceSpec, input_shape: NCHW | None = None
) -> TorchModel | TensorFlowModel | Path:
    """A built-in or PyTorch model becomes a TorchModel; an ONNX file is returned as a checked Path
    (``onnx_model.prepare_onnx`` makes it static inside the run's working directory).
    ``input_shape``: ``ConvertOptions.input_shape``, parsed once where the option was given."""
    shape, spec = input_shape, source.model
    path = Path(spec)
    if path.exists() and is_keras_input(path):
        if _builtin_options_given(source):
            raise UsageError(
                "--weights / --pretrained / --seed / --num-classes go with a built-in model name, "
                "not a model file"
            )
        return load_keras(path, shape)
    if path.exists() or looks_like_path(spec):
        check_model_file(path)
        suffix = path.suffix.lower()
        if _builtin_options_given(source):
            raise UsageError(
                "--weights / --pretrained / --seed / --num-classes go with a built-in model name, "
                "not a model file"
            )
        if suffix == ".onnx":
            return path
        if suffix in TORCHSCRIPT_SUFFIXES:
            return _torchscript(path, shape, source.trust_pickle)
        if suffix in EXPORTED_PROGRAM_SUFFIXES:
            return _exported_program(path, shape)
        if suffix == ".tflite":
            raise UsageError(
                f"{path} is already a TFLite model",
                "use 'edgedeploy check' to predict its mapping or 'edgedeploy compile' to compile it",
            )
        raise InputError(
            f"{path}: unsupported model file type '{suffix or '(none)'}'",
            "expected .onnx, a TorchScript .pt/.pth, an exported .pt2, a Keras .keras/.h5, a "
            "SavedModel directory, or a built-in name",
        )

    if shape is not None:
        note("--input-shape is ignored for built-in models; use --resolution")
    return build_model(
        spec,
        source.alpha,
        source.resolution,
        weights=source.weights,
        pretrained=source.pretrained,
        seed=source.seed,
        num_classes=source.num_classes,
    )
