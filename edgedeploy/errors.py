"""The one error hierarchy of edgedeploy and the exit codes it maps to.

Library code raises these; only ``edgedeploy.cli.app.main`` turns them into a one-line message and an
exit code, so every command fails the same way. Exit codes are part of the CLI contract (CI gates on
them) and are listed in the README.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1  # a stage failed, output could not be written, anything not listed below
    # bad option value, unknown model or target name (click uses 2 for usage errors too), or the
    # command needs an optional install that is missing (the message gives the pip line)
    USAGE = 2
    OPS_ON_CPU = 3  # check/convert: the model is readable but some operators fall back to the CPU
    UNREADABLE_INPUT = (
        4  # input missing, empty, truncated, corrupt or not the kind of file expected
    )
    TOOL_MISSING = 5  # an external tool (the Edge TPU compiler) is not installed or not runnable
    COMPILER_FAILED = (
        6  # the Edge TPU compiler ran and failed (non-zero exit, timeout, fatal message)
    )
    TARGET_UNAVAILABLE = 7  # bench: every requested target was unavailable
    REGRESSION = 8  # bench --compare: a result regressed beyond the tolerance; verify: a run departs from float
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, as shells report it)


class EdgedeployError(Exception):
    """Base class. ``message`` is one line for the user; ``hint`` says what to do about it."""

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class UsageError(EdgedeployError):
    """An option value or name the user gave is not valid."""

    exit_code = ExitCode.USAGE


class ExtraMissingError(UsageError):
    """The command needs an optional install ("extra", e.g. the convert side) that is not installed:
    exit 2 with the exact ``pip install`` line, like any other request this install cannot serve."""


class InputError(EdgedeployError):
    """The input file is missing, unreadable, corrupt, or not the kind of model expected."""

    exit_code = ExitCode.UNREADABLE_INPUT


class OutputError(EdgedeployError):
    """The output location cannot be written, or would overwrite results without --force."""


class ConversionError(EdgedeployError):
    """A conversion stage failed on a readable input."""


class ToolMissingError(EdgedeployError):
    """An external tool the step needs is not installed here."""

    exit_code = ExitCode.TOOL_MISSING


class CompilerError(EdgedeployError):
    """The Edge TPU compiler ran but did not produce a usable model."""

    exit_code = ExitCode.COMPILER_FAILED


class TargetUnavailableError(EdgedeployError):
    """A benchmark target cannot run here (no library, no device, no permission)."""

    exit_code = ExitCode.TARGET_UNAVAILABLE


def first_line(exc: BaseException, fallback: str | None = None) -> str:
    """What an exception says, in one line: its message's first non-blank line; when it says nothing,
    ``fallback`` (default: the exception's type name). Every "one clear line" is cut here."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if lines:
        return lines[0]
    return type(exc).__name__ if fallback is None else fallback
