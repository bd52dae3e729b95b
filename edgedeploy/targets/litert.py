"""The LiteRT interpreter, created the same way for every target, with its native log captured.

The C++ runtime writes straight to file descriptor 2 ("INFO: Created TensorFlow Lite XNNPACK delegate
for CPU.", delegate errors). Capturing it keeps our table clean and lets a failure become one line that
quotes what the runtime said, instead of a C++ message followed by a Python traceback.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgedeploy.errors import InputError, first_line
from edgedeploy.files import TFLITE, read_input

XNNPACK_PARTITION_OP = "DELEGATE"  # the node name LiteRT gives each subgraph a delegate took over
BUILTIN_KERNELS = "LiteRT's built-in kernels"
ABSURD_SCALE = 1e30  # no real activation or weight range gives a quantization scale this large
# LiteRT concatenates its error reporter's messages without a separator ("... node #63Node number 72
# (TfLiteXNNPackDelegate) failed to prepare."): a boundary is a lower-case letter, digit or period
# followed by the capital that starts the runtime's next sentence.
_RUN_TOGETHER = re.compile(r"(?<=[a-z0-9.)])(?=(?:Node number \d|Failed |Didn't |Restored |Type ))")
_XNNPACK_REFUSAL = re.compile(r"xnnpack", re.IGNORECASE)


class InterpreterLoadError(Exception):
    """The runtime refused the model or the delegate; the caller decides whose fault that is."""


@dataclass
class NativeLog:
    """What the runtime printed while loading, and whether XNNPACK was dropped to make it load.

    ``xnnpack_refused`` holds XNNPACK's own one-line reason when it could not prepare the graph and
    LiteRT's built-in kernels run the model instead (callers say so in their report, row or table).
    """

    lines: list[str] = field(default_factory=list)
    xnnpack_refused: str | None = None

    def fallback_note(self) -> str | None:
        if self.xnnpack_refused is None:
            return None
        return f"XNNPACK could not prepare the graph ({self.xnnpack_refused}); {BUILTIN_KERNELS} ran it"

    def last_error(self) -> str | None:
        for line in reversed(self.lines):
            if line.strip() and not line.startswith("INFO:"):
                return line.strip()
        return None


@contextlib.contextmanager
def captured_native_stderr() -> Iterator[NativeLog]:
    """Redirect fd 2 into a temporary file for the duration (process-wide, so keep it short)."""
    log = NativeLog()
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with tempfile.TemporaryFile() as sink:
            os.dup2(sink.fileno(), 2)
            try:
                yield log
            finally:
                os.dup2(saved, 2)
                sink.seek(0)
                log.lines.extend(sink.read().decode("utf-8", errors="replace").splitlines())
    finally:
        os.close(saved)


def litert_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ai-edge-litert")
    except PackageNotFoundError:
        return "unknown"


def separate_messages(text: str) -> str:
    """Put back the "; " LiteRT leaves out between two error messages it joins."""
    return _RUN_TOGETHER.sub("; ", text)


def _first_line(exc: BaseException, log: NativeLog) -> str:
    native = log.last_error()
    message = separate_messages(first_line(exc))
    if native and separate_messages(native) not in message:
        message = f"{message} ({separate_messages(native)})"
    return message


def _is_xnnpack_refusal(message: str) -> bool:
    return bool(_XNNPACK_REFUSAL.search(message))


def create_interpreter(
    path: Path,
    *,
    threads: int,
    xnnpack: bool = True,
    delegates: list[Any] | None = None,
    allocate: bool = True,
    preserve_all_tensors: bool = False,
) -> tuple[Any, NativeLog]:
    """An interpreter for ``path`` with tensors allocated; raises InterpreterLoadError with one line.

    This is the one place the project makes LiteRT interpreters (fidelity, bench, estimate, verify).
    ``xnnpack=False`` selects the resolver without default delegates: LiteRT's own kernels only.
    When XNNPACK cannot prepare the graph (Google's 2019 DeepLab v3: its RESIZE_BILINEAR; timm's
    resnet18: "failed to create XNNPACK runtime"), the model is loaded again with the built-in kernels
    and ``log.xnnpack_refused`` says why: a slower answer beats no answer, and the caller says so.
    The model goes in as bytes, not as a path: only that entry point runs the flatbuffer verifier, and
    a truncated file opened by path can crash the process instead of raising.
    """

    try:
        content = read_input(path, TFLITE)  # capped: a file that grew past the format is not loaded
    except InputError as exc:
        raise InterpreterLoadError(exc.message) from None
    broken = _broken_scale(content)
    if broken:  # LiteRT's kernels abort the whole process on it: refuse in one line instead
        raise InterpreterLoadError(
            f"{broken}: a broken calibration range, which LiteRT's kernels abort on"
        )
    # XNNPACK is applied lazily at the first allocation: without it a refusal would surface later,
    # outside this function, so a caller that defers allocation gets no XNNPACK fallback.
    try:
        return _load(content, threads, xnnpack, delegates, allocate, preserve_all_tensors)
    except InterpreterLoadError as exc:
        if not (xnnpack and allocate and _is_xnnpack_refusal(str(exc))):
            raise
        refusal = str(exc)
    interpreter, log = _load(content, threads, False, delegates, allocate, preserve_all_tensors)
    log.xnnpack_refused = refusal
    return interpreter, log


def _broken_scale(content: bytes) -> str | None:
    """A tensor whose quantization scale no real range gives (infinite, NaN, > 1e30), or None.
    Such a scale (onnx2tf's -3.4e38 max-pool padding once made 1.3e36) makes XNNPACK refuse the
    graph and LiteRT's built-in ADD kernel abort the whole process rather than return an error."""
    from ai_edge_litert import schema_py_generated as schema

    # The flatbuffer read lazily, scales only: a full parse of a 30 MB model would add ~0.2 s to
    # every load, and bench reports the load time. Anything unreadable is left to LiteRT's verifier.
    try:
        model = schema.Model.GetRootAs(content, 0)
        for s in range(model.SubgraphsLength()):
            graph = model.Subgraphs(s)
            for t in range(graph.TensorsLength()):
                tensor = graph.Tensors(t)
                quantization = tensor.Quantization()
                if quantization is None or quantization.ScaleLength() == 0:
                    continue
                scales = quantization.ScaleAsNumpy()
                bad = scales[~np.isfinite(scales) | (np.abs(scales) > ABSURD_SCALE)]
                if bad.size:
                    name = tensor.Name().decode("utf-8", errors="replace")
                    return f"tensor {name!r} has an int8 scale of {float(bad[0]):.3g}"
    except Exception:  # noqa: BLE001 - a corrupt buffer raises anything; LiteRT reports it better
        return None
    return None


def _load(
    content: bytes,
    threads: int,
    xnnpack: bool,
    delegates: list[Any] | None,
    allocate: bool,
    preserve_all_tensors: bool,
) -> tuple[Any, NativeLog]:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    resolver = OpResolverType.AUTO if xnnpack else OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    failure: BaseException | None = None
    with captured_native_stderr() as log, warnings.catch_warnings():
        # LiteRT warns that keeping every tensor is for debugging: that is what it is asked for.
        warnings.simplefilter("ignore")
        try:
            interpreter = Interpreter(
                model_content=content,
                num_threads=threads,
                experimental_delegates=delegates,
                experimental_op_resolver_type=resolver,
                experimental_preserve_all_tensors=preserve_all_tensors,
            )
            if allocate:
                interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            failure = exc
    if failure is not None:
        raise InterpreterLoadError(_first_line(failure, log)) from failure
    return interpreter, log


def delegate_partitions(interpreter: Any) -> int:
    """How many subgraphs a delegate (XNNPACK, the Edge TPU) took over, as the runtime reports it."""
    return sum(1 for op in interpreter._get_ops_details() if op["op_name"] == XNNPACK_PARTITION_OP)
