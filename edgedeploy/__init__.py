"""edgedeploy: PyTorch / ONNX vision models to the Google Coral Edge TPU.

The public API is small and importing it is cheap; heavy frameworks (torch, TensorFlow, onnx2tf) are
imported only by the stage that needs them.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("edgedeploy")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
