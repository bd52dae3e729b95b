"""``check_model``: what the Edge TPU will make of a file, whatever kind of file it is.

    check_model(path, *, compiler_version=16, min_runtime=None, source=None) -> CheckResult

Dispatch on the content, not only the name:
* TFLite (``TFL3``) with an ``edgetpu-custom-op``: the real mapping, recovered (``compiled``);
* TFLite otherwise: the prediction (``tflite``); a float model is refused with ``InputError``;
* ONNX (``.onnx``): the pre-conversion lint (``onnx``);
* text that parses as ``edgetpu_compiler`` output or its ``.log``: the parsed result (``compiler-log``).
Anything else - missing, empty, truncated, random bytes, unrelated text - raises ``InputError``.
"""

from __future__ import annotations

from pathlib import Path

from edgedeploy.errors import InputError, UsageError
from edgedeploy.files import COMPILER_LOG, ONNX, TFLITE, InputKind, check_input, read_input
from edgedeploy.targets.edgetpu.predict.result import CheckResult
from edgedeploy.targets.edgetpu.predict.rules import DEFAULT_COMPILER, load_rules
from edgedeploy.tflite import has_tflite_identifier, parse_model

_TEXT_LIMIT = (
    COMPILER_LOG.cap
)  # compiler outputs are a few KiB; big binaries are not decoded as text
# Before the content says which kind it is, only what the path is gets checked.
_ANY = InputKind("a model or compiler log", 1 << 62)


def _read(path: Path) -> bytes:
    """A TFLite or ONNX model is read whole; anything else only if it is small enough to be compiler output
    (a 3 GiB file is refused from its size, unread)."""
    # What the path is (a FIFO, a device, a loop: refused unopened); the size once the kind is known.
    check_input(path, {".tflite": TFLITE, ".onnx": ONNX}.get(path.suffix.lower(), _ANY))
    with open(path, "rb") as handle:
        head = handle.read(8)
    # A TFLite header decides even under another name (compiler_output.txt padded to 8 GiB).
    if has_tflite_identifier(head) or path.suffix.lower() == ".tflite":
        return read_input(path, TFLITE)
    if path.suffix.lower() == ".onnx":
        return read_input(path, ONNX)
    return read_input(path, COMPILER_LOG)


def _check_tflite(data: bytes, path: Path, rules, source: Path | None) -> CheckResult:
    from edgedeploy.targets.edgetpu.inspect.compiled import is_compiled
    from edgedeploy.targets.edgetpu.predict.analysis import analyse
    from edgedeploy.targets.edgetpu.predict.operators import uses_no_integer_tensors

    graph = parse_model(data, label=str(path))
    if is_compiled(graph):
        from edgedeploy.targets.edgetpu.inspect.compiled_report import check_compiled

        return check_compiled(graph, path, rules, source)
    if source is not None:
        raise UsageError(
            f"--source goes with a compiled *_edgetpu.tflite; {path} holds no edgetpu-custom-op",
            "check the model itself without --source",
        )
    if not graph.ops:
        raise InputError(f"{path} has no operators")
    if uses_no_integer_tensors(graph):
        raise InputError(
            f"{path} is not quantized (no int8/uint8 tensors: a float model?); "
            "the Edge TPU needs a full-int8 model",
            hint="convert it with: edgedeploy convert --target edgetpu",
        )
    try:
        return analyse(graph, rules, str(path))
    except (
        InputError
    ) as exc:  # a damaged operand found by a rule: say which file, the rule said which op
        raise InputError(f"{path}: {exc.message}", exc.hint) from None


def _check_text(data: bytes, path: Path, rules) -> CheckResult:
    from edgedeploy.targets.edgetpu.compiler.log import parse_compiler_output
    from edgedeploy.targets.edgetpu.inspect.log_report import report_from_output

    what = "not a TFLite or ONNX model, nor Edge TPU compiler output"
    if len(data) > _TEXT_LIMIT or b"\x00" in data:
        raise InputError(f"{path} is {what}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path} is {what} (binary data)") from None
    output = parse_compiler_output(text)
    failure = output.failure
    if (
        not output.recognised
        and failure
        and failure.code == "unrecognised-output"
        and not failure.message.startswith("not Edge TPU compiler output")
    ):
        raise InputError(
            f"{path} is {what}: {failure.message}"
        )  # what the parser found wrong, and where
    if not output.recognised:  # the parser never raises; here the user claimed this is a log
        first = next((line.strip() for line in text.splitlines() if line.strip()), "")
        raise InputError(
            f"{path} is {what}"
            + (f" (it starts with {first[:50]!r})" if first else " (blank text)")
        )
    return report_from_output(output, str(path), rules)


def check_model(
    path: str | Path,
    *,
    compiler_version: int = DEFAULT_COMPILER,
    min_runtime: int | None = None,
    source: str | Path | None = None,
) -> CheckResult:
    """Check one file for the Edge TPU; ``source`` is the compiler's input model when ``path`` is compiled."""
    path = Path(path)
    rules = load_rules(compiler_version, min_runtime)
    data = _read(path)
    if has_tflite_identifier(data) or path.suffix.lower() == ".tflite":
        return _check_tflite(data, path, rules, Path(source) if source is not None else None)
    if path.suffix.lower() == ".onnx":
        from edgedeploy.targets.edgetpu.predict.onnx_lint import lint

        return lint(path, rules)
    return _check_text(data, path, rules)
