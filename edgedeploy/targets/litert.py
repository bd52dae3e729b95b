"""The LiteRT interpreter, created the same way for every target, with its native log captured.

The C++ runtime writes straight to file descriptor 2 ("INFO: Created TensorFlow Lite XNNPACK delegate
for CPU.", delegate errors). Capturing it keeps our table clean and lets a failure become one line that
quotes what the runtime said, instead of a C++ message followed by a Python traceback.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgedeploy.errors import first_line

XNNPACK_PARTITION_OP = "DELEGATE"  # the node name LiteRT gives each subgraph a delegate took over


class InterpreterLoadError(Exception):
    """The runtime refused the model or the delegate; the caller decides whose fault that is."""


@dataclass
class NativeLog:
    lines: list[str] = field(default_factory=list)

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


def _first_line(exc: BaseException, log: NativeLog) -> str:
    native = log.last_error()
    message = first_line(exc)
    if native and native not in message:
        message = f"{message} ({native})"
    return message


def create_interpreter(
    path: Path,
    *,
    threads: int,
    xnnpack: bool = True,
    delegates: list[Any] | None = None,
    allocate: bool = True,
) -> tuple[Any, NativeLog]:
    """An interpreter for ``path`` with tensors allocated; raises InterpreterLoadError with one line.

    ``xnnpack=False`` selects the resolver without default delegates: LiteRT's own kernels only.
    The model goes in as bytes, not as a path: only that entry point runs the flatbuffer verifier, and
    a truncated file opened by path can crash the process instead of raising.
    """
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    from edgedeploy.errors import InputError
    from edgedeploy.files import TFLITE, read_input

    try:
        content = read_input(path, TFLITE)  # capped: a file that grew past the format is not loaded
    except InputError as exc:
        raise InterpreterLoadError(exc.message) from None
    resolver = OpResolverType.AUTO if xnnpack else OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    failure: BaseException | None = None
    with captured_native_stderr() as log:
        try:
            interpreter = Interpreter(
                model_content=content,
                num_threads=threads,
                experimental_delegates=delegates,
                experimental_op_resolver_type=resolver,
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
