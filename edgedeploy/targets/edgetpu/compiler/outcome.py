"""Decide what one compiler run amounted to: which files it made, whether it failed and why, and
what it said about each model (through the compiler-output parser, ``compiler_log``).

A run counts as a success only when everything agrees: exit status 0, no timeout, output we
recognise that does not say it failed, and a real TFLite file for every input model. Anything else
is a failure with the most specific reason we can give.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from edgedeploy.errors import InputError
from edgedeploy.targets.edgetpu.compiler.advice import advice_for
from edgedeploy.targets.edgetpu.compiler.log import (
    CompilerOutput,
    parse_compiler_log_file,
    parse_compiler_output,
)
from edgedeploy.targets.edgetpu.compiler.process import PARSED_BYTES, ProcessOutcome
from edgedeploy.targets.edgetpu.naming import compiled_path
from edgedeploy.tflite import read_model


@dataclass(frozen=True)
class Failure:
    code: str  # timeout | empty-output | exit-status | no-output-model | bad-output-model | a parser failure code
    reason: str  # one line for the user

    @property
    def advice(self) -> str | None:
        return advice_for(self.code)


def _telling_line(text: str) -> str:
    """The line that says what went wrong: a crash's last line (the exception or the fatal message),
    not the "Traceback (most recent call last):" it starts with; otherwise the first line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if lines and (
        lines[0].startswith("Traceback") or lines[0].startswith("*** ") or "Check failed" in text
    ):
        return lines[-1]
    return lines[0] if lines else ""


def _unreadable(path: Path) -> str | None:
    """Why a file the compiler wrote is not a model we can use (edgedeploy's own reader, the same one
    check and bench trust), or None: a file that only starts like TFLite is not a compiled model."""
    try:
        read_model(path)
    except InputError as exc:
        return exc.message
    return None


def classify(
    outcome: ProcessOutcome,
    overall: CompilerOutput,
    outputs: dict[Path, list[Path]],
    limit_s: float,
) -> Failure | None:
    """``None`` for a usable compile; else the failure, most specific reason first."""
    if outcome.timed_out:
        return Failure(
            "timeout",
            f"the compiler did not finish within {limit_s:g} s (edgedeploy's --timeout) "
            "and was stopped",
        )
    if (
        outcome.signal_name is not None
    ):  # whatever it printed before, a crash is never a usable compile
        said = _telling_line(outcome.stderr) or _telling_line(outcome.stdout)
        return Failure(
            "killed-by-signal",
            f"the compiler was killed by {outcome.signal_name}"
            + (f" after printing: {said[:200]}" if said else ""),
        )
    if not outcome.stdout.strip() and not outcome.stderr.strip():
        return Failure(
            "empty-output", f"the compiler printed nothing (exit status {outcome.returncode})"
        )
    missing = [model for model, files in outputs.items() if not files]
    broken = [
        (f, why) for files in outputs.values() for f in files if (why := _unreadable(f)) is not None
    ]
    if (
        outcome.returncode == 0
        and overall.recognised
        and overall.succeeded is not False
        and not missing
        and not broken
    ):
        return None
    if overall.failure is not None and overall.failure.code not in (
        "empty-output",
        "unrecognised-output",
    ):
        return Failure(overall.failure.code, overall.failure.message)
    if outcome.returncode != 0:
        said = _telling_line(outcome.stderr) or _telling_line(outcome.stdout)
        return Failure(
            "exit-status",
            f"the compiler exited with status {outcome.returncode}"
            + (f": {said[:200]}" if said else ""),
        )
    if not overall.recognised:
        return Failure(
            "unrecognised-output",
            f"the compiler's output is not recognised: {overall.failure.message}"
            if overall.failure
            else "the compiler's output is not recognised",
        )
    if missing:
        names = ", ".join(compiled_path(m).name for m in missing)
        return Failure("no-output-model", f"the compiler exited with status 0 but wrote no {names}")
    return Failure(
        "bad-output-model",
        f"{broken[0][0].name} written by the compiler is not a readable model: {broken[0][1]}",
    )


def _sections(stdout: str, count: int) -> list[str] | None:
    """Co-compilation prints one ``Input model:`` block per model: split there, keeping the common
    lines before the first block (version, "Model compiled successfully") with each section."""
    lines = stdout.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("Input model:")]
    if len(starts) != count:
        return None
    prelude = lines[: starts[0]]
    ends = starts[1:] + [len(lines)]
    return ["\n".join(prelude + lines[start:end]) for start, end in zip(starts, ends)]


def _read(path: Path | None) -> str | None:
    if path is None or not path.is_file():
        return None
    with path.open(
        "rb"
    ) as handle:  # a .log is a few KiB; a runaway one is read no further than stdout is
        return handle.read(PARSED_BYTES).decode("utf-8", errors="replace")


def per_model_outputs(
    stdout: str, models: Sequence[Path], logs: Sequence[Path | None]
) -> tuple[list[CompilerOutput], list[str]]:
    """What the compiler said about each model, plus notes on how sure that split is."""
    notes: list[str] = []
    if len(models) == 1:
        return [parse_compiler_output(stdout, _read(logs[0]))], notes
    sections = _sections(stdout, len(models))
    results = []
    for index, log in enumerate(logs):
        log_text = _read(log)
        if sections is None:
            results.append(
                parse_compiler_log_file(log_text) if log_text else parse_compiler_output("")
            )
            continue
        parsed = parse_compiler_output(sections[index], log_text)
        from_log = parse_compiler_log_file(log_text) if log_text else None
        if from_log is not None and from_log.operators:  # the per-model .log is unambiguous
            parsed.operators = from_log.operators
        results.append(parsed)
    if sections is None:
        notes.append(
            "the co-compilation output could not be split per model; per-model figures come "
            "from each model's .log file only (no memory figures)"
        )
    else:
        notes.append("co-compilation output was split per model at its 'Input model:' lines")
    return results, notes
