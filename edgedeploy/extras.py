"""The two installs: ``pip install edgedeploy`` is the device side (LiteRT, ONNX Runtime, numpy, the
CLI); ``pip install 'edgedeploy[convert]'`` adds the conversion stack. Which extra brings which module,
and the one error a command raises when it needs an extra that is not installed (exit 2, with the
exact install line - never an ImportError).

The requirement lists themselves live in ``edgedeploy/data/requirements/<extra>.txt`` (pyproject.toml
reads them at build time, ``compare --ray`` ships them to Ray workers)."""

from __future__ import annotations

import importlib.util
from importlib import resources

from edgedeploy.errors import ExtraMissingError

# The top-level modules each extra brings (what ``import`` names, not the distribution names).
EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "convert": (
        "torch",
        "torchvision",
        "timm",
        "onnx",
        "onnx2tf",
        "onnxsim",
        "tensorflow",
        "tf_keras",
    ),
    "plots": ("matplotlib",),
    "ray": ("ray",),
}
# matplotlib comes with convert too, but the smallest install that brings it is the one to name.
_EXTRA_OF_MODULE = {module: extra for extra, modules in EXTRA_MODULES.items() for module in modules}


def install_line(extra: str) -> str:
    return f"pip install 'edgedeploy[{extra}]'"


def requirements(extra: str) -> list[str]:
    """The pinned requirements of one extra, as pip reads them (comments and blank lines dropped)."""
    text = (resources.files("edgedeploy") / "data" / "requirements" / f"{extra}.txt").read_text()
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line]


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a broken install, or a module blocked in sys.modules
        return False


def require(extra: str, feature: str) -> None:
    """Refuse ``feature`` before any work when a module of ``extra`` is not installed."""
    missing = [module for module in EXTRA_MODULES[extra] if not _installed(module)]
    if missing:
        raise _error(extra, feature, missing)


def missing_extra(exc: ImportError, command: str | None = None) -> ExtraMissingError | None:
    """The user-facing error for an ImportError of a module an extra brings (None for any other
    ImportError: that one is a bug or a broken install and is reported as such)."""
    top = (exc.name or "").split(".")[0]
    extra = _EXTRA_OF_MODULE.get(top)
    return _error(extra, command or "this command", [top]) if extra else None


def _error(extra: str, feature: str, missing: list[str]) -> ExtraMissingError:
    what = "the conversion side" if extra == "convert" else f"the {extra} extra"
    verb = "is" if len(missing) == 1 else "are"
    return ExtraMissingError(
        f"{feature} needs {what}: {', '.join(missing)} {verb} not installed here",
        hint=install_line(extra),
    )
