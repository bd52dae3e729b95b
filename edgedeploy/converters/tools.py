"""Versions of the tools a conversion used, for report.json (results depend on them)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

TOOLS = (
    "edgedeploy",
    "torch",
    "torchvision",
    "timm",
    "onnx",
    "onnxruntime",
    "onnx2tf",
    "tensorflow",
    "tf_keras",
    "ai-edge-litert",
    "numpy",
)


def tool_versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in TOOLS:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found
