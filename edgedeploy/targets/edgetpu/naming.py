"""How the Edge TPU compiler names what it writes, and how to tell a compiled model: the one place.

``edgetpu_compiler model.tflite`` writes ``model_edgetpu.tflite`` and ``model_edgetpu.log``; with
``-n N`` it writes ``model_segment_I_of_N_edgetpu.tflite`` instead. Everything it mapped sits in one
custom op named ``edgetpu-custom-op`` (docs/edgetpu.md, the compiled model).
"""

from __future__ import annotations

from pathlib import Path

CUSTOM_OP = "edgetpu-custom-op"
SUFFIX = "_edgetpu"
# The Edge TPU runtime library (the LiteRT delegate) per platform.system(); Linux's is the fallback.
LIBRARY_NAMES = {
    "Linux": "libedgetpu.so.1",
    "Darwin": "libedgetpu.1.dylib",
    "Windows": "edgetpu.dll",
}
# What the compiler leaves in its output folder for one input model (for copying them as a set).
OUTPUT_PATTERNS = (f"*{SUFFIX}.tflite", f"*{SUFFIX}.log")


def compiled_path(source: Path, folder: Path | None = None) -> Path:
    """``X.tflite`` -> ``X_edgetpu.tflite`` (in ``folder``, default beside the source)."""
    return (folder or source.parent) / f"{source.stem}{SUFFIX}{source.suffix or '.tflite'}"


def source_path(compiled: Path) -> Path | None:
    """``X_edgetpu.tflite`` -> ``X.tflite`` beside it; None when the name does not follow the rule."""
    stem = compiled.stem
    return (
        compiled.with_name(stem[: -len(SUFFIX)] + compiled.suffix)
        if stem.endswith(SUFFIX)
        else None
    )


def model_name(path: Path) -> str:
    """The name a model and its compiled twin share: ``X`` for both ``X.tflite`` and ``X_edgetpu.tflite``."""
    stem = path.stem
    return stem[: -len(SUFFIX)] if stem.endswith(SUFFIX) else stem


def compiled_outputs(folder: Path, source: Path, suffix: str = ".tflite") -> list[Path]:
    """What the compiler wrote for ``source`` in ``folder``: the single file, or the ``-n`` segments."""
    single = folder / f"{source.stem}{SUFFIX}{suffix}"
    segments = sorted(folder.glob(f"{_glob_escape(source.stem)}_segment_*_of_*{SUFFIX}{suffix}"))
    return ([single] if single.is_file() else []) + segments


def holds_compiled_op(op_names) -> bool:
    """True for a model whose operators (names) include the Edge TPU custom op."""
    return CUSTOM_OP in op_names


def _glob_escape(text: str) -> str:
    return "".join(f"[{ch}]" if ch in "*?[" else ch for ch in text)
