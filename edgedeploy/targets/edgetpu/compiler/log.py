"""Parse what ``edgetpu_compiler`` prints (stdout) and the ``*_edgetpu.log`` file it writes.

Public API (the compile stage imports exactly these)::

    parse_compiler_output(stdout: str, log_text: str | None = None) -> CompilerOutput
    parse_compiler_log_file(text: str) -> CompilerOutput
    CompilerOutput            # dataclass; .to_dict() is plain JSON data

The parsers never raise on content: garbage or empty text gives a ``CompilerOutput`` whose
``recognised`` is False and whose ``failure.code`` is ``"unrecognised-output"`` / ``"empty-output"``.
A caller that was handed a file *claiming* to be compiler output (``edgedeploy check notes.txt``)
turns that into ``InputError`` itself; the compile stage, which really ran the compiler, reports it
as a compiler failure instead. Fatal compiler messages (dynamic tensors, large activations, model not
quantized, internal error) are data too: ``succeeded`` is False and ``failure`` says why.

Sizes are printed by the compiler with two decimals (``5.90MiB``); the ``*_bytes`` fields are that
value times the unit, so they are exact to +-0.005 of the printed unit, not to the byte.
``tpu_ops`` / ``cpu_ops``: from the "Number of operations that will run on ..." lines; when that
paragraph is absent and the compile succeeded, every op is on the TPU (docs/edgetpu.md section 7); for a
``.log`` file (which has no totals) they are summed from the operator table.

This module holds the parser's state and what it concludes; what each printed line means (status
texts, fatal messages, summary fields) is in ``log_lines.py``.
"""

from __future__ import annotations

from typing import Any

from edgedeploy.targets.edgetpu.compiler.log_lines import (
    ATTEMPT,
    FAILURE_PATTERNS,
    FIELDS,
    INTERMEDIATE,
    LINE_STARTS,
    SEARCH_STEP,
    STATUS_REASONS,
    VERSION_LINE,
    failure_code,
    first_lines,
    is_table_header,
    lines_of,
    number,
    size_bytes,
    table_row,
)
from edgedeploy.targets.edgetpu.compiler.parsed import (
    CompilerFailure,
    CompilerOutput,
    OperatorStatus,
    SearchAttempt,
)

__all__ = [
    "STATUS_REASONS",
    "CompilerFailure",
    "CompilerOutput",
    "OperatorStatus",
    "SearchAttempt",
    "parse_compiler_log_file",
    "parse_compiler_output",
]

# A compiler prints one table row per op type and status: a few hundred rows at most. Far more is not
# compiler output, and keeping it would cost memory many times the input's size.
MAX_TABLE_ROWS = 10_000
# Below this share of recognised lines (and with no version line or table), text is not compiler output.
_MIN_RECOGNISED_SHARE = 0.3


def _unrecognised(text: str, source: str, why: str | None = None) -> CompilerOutput:
    first = first_lines(text, 1)
    if not first:
        return CompilerOutput(
            source=source, failure=CompilerFailure("empty-output", "the compiler printed nothing")
        )
    message = why or f"not Edge TPU compiler output (starts with {first[0][:60]!r})"
    return CompilerOutput(source=source, failure=CompilerFailure("unrecognised-output", message))


class _Parser:
    """Line-by-line state: the operator table, the current -d attempt, fatal messages."""

    def __init__(self, out: CompilerOutput):
        self.out = out
        self.in_table = False
        self.failure_lines: list[tuple[str, str]] = []  # (code, line) in order of appearance
        self.attempt: SearchAttempt | None = None
        self.recognised_lines = 0
        self.non_empty = 0
        self.line_number = 0
        self.too_long: str | None = None  # why the text is not compiler output after all

    def feed(self, text: str) -> None:
        self.line_number += 1
        if not text:
            return
        self.non_empty += 1
        out = self.out
        if self.in_table and (row := table_row(text)) is not None:
            if len(out.operators) >= MAX_TABLE_ROWS:
                self.too_long = (
                    f"the operator table goes on past {MAX_TABLE_ROWS} rows (line {self.line_number}); "
                    "no compiler prints that many: not Edge TPU compiler output"
                )
                return
            out.operators.append(row)
            self.recognised_lines += 1
            return
        if not text.startswith(LINE_STARTS) and "_" not in text:
            self.in_table = False
            return
        if match := VERSION_LINE.match(text):
            major = number(match.group(1))
            if major is not None:
                out.compiler_major = major
                out.compiler_version = text.split("version", 1)[1].strip()
                self.recognised_lines += 1
            return
        if is_table_header(text):
            self.in_table, out.operators = (
                True,
                [],
            )  # a later table (a later -d attempt) replaces an earlier one
            self.recognised_lines += 1
            return
        self.in_table = False
        # no short-circuit: "Model compiled successfully in N ms." is both a field and an outcome
        if any([self._field(text), self._search(text), self._outcome(text)]):
            self.recognised_lines += 1

    def _field(self, text: str) -> bool:
        for name, (pattern, kind) in FIELDS.items():
            if match := pattern.match(text):
                value: Any = match.group(1).strip()
                if kind == "int":
                    value = number(value)
                elif kind == "size":
                    value = size_bytes(match.group(1), match.group(2))
                if value is None:
                    self.out.notes.append(
                        f"line {self.line_number}: the number on '{text[:40]}...' is too long to be "
                        "one the compiler printed; ignored"
                    )
                    return False
                setattr(self.out, name, value)
                return True
        return False

    def _search(self, text: str) -> bool:
        if match := SEARCH_STEP.match(text):
            self.out.search_step = number(match.group(1))
        elif (match := ATTEMPT.match(text)) and (ops := number(match.group(1))) is not None:
            self.attempt = SearchAttempt(ops=ops)
            self.out.search_attempts.append(self.attempt)
        elif text.startswith(INTERMEDIATE):
            if self.attempt is not None:
                self.attempt.intermediate_tensors = [
                    t for t in text[len(INTERMEDIATE) :].split(",") if t
                ]
        else:
            return False
        return True

    def _outcome(self, text: str) -> bool:
        if text.startswith(
            ("Model compiled successfully", "Compilation succeeded", "Model successfully compiled")
        ):
            self._finish(succeeded=True)
            return True
        if code := failure_code(text):
            self.failure_lines.append((code, text))
            if text.startswith("Compilation failed!") or code in ("not-quantized", "invalid-model"):
                self._finish(succeeded=False)
            return True
        return text.startswith(
            (
                "Started a compilation timeout timer",
                "Compilation child process completed",
                "See the operation log file",
                "ERROR: Restored original execution plan",
            )
        )

    def _finish(self, succeeded: bool) -> None:
        self.out.succeeded = succeeded
        if self.attempt is not None and self.attempt.outcome == "unknown":
            self.attempt.outcome = "succeeded" if succeeded else "failed"
            if not succeeded and self.failure_lines:
                self.attempt.failure = _most_specific(self.failure_lines)[0]


def _most_specific(lines: list[tuple[str, str]]) -> tuple[str, str]:
    """The failure that explains the most: a specific code beats the generic 'Compilation failed'."""
    order = [code for _, code in FAILURE_PATTERNS]
    code = min((c for c, _ in lines), key=order.index)
    # every fatal line except the bare closing "Compilation failed!", which adds nothing
    said = [line[:500] for _, line in lines if line.rstrip() != "Compilation failed!"] or [
        lines[0][1][:500]
    ]
    return code, " / ".join(dict.fromkeys(said[:20]))


def _conclude(parser: _Parser) -> CompilerOutput:
    out = parser.out
    out.recognised = parser.recognised_lines > 0
    if parser.failure_lines and out.succeeded is not True:
        out.succeeded = False
        out.failure = CompilerFailure(*_most_specific(parser.failure_lines))
    if out.search_attempts and out.search_attempts[-1].outcome == "unknown":
        out.succeeded = None  # an earlier -d attempt may have failed, but the search went on
        out.notes.append(
            f"the output ends during the -d attempt with {out.search_attempts[-1].ops} ops; "
            "its result is not shown"
        )
    if out.source == "log" and out.operators:
        if out.total_ops is None:
            out.total_ops = sum(r.count for r in out.operators)
        out.tpu_ops = sum(r.count for r in out.operators if r.mapped)
        out.cpu_ops = out.total_ops - out.tpu_ops
    elif out.succeeded and out.tpu_ops is None and out.total_ops is not None:
        out.tpu_ops, out.cpu_ops = out.total_ops, 0  # the "not all operations" paragraph is absent
    if out.total_ops is None and out.tpu_ops is not None and out.cpu_ops is not None:
        out.total_ops = out.tpu_ops + out.cpu_ops
    if out.succeeded and not out.operators:
        out.notes.append("no operator table (compile with -s, or pass the *_edgetpu.log file)")
    out.notes.extend(out.invariant_problems())
    return out


def _parse(text: str, source: str) -> CompilerOutput:
    parser = _Parser(CompilerOutput(source=source))
    for line in lines_of(text):
        parser.feed(line)
        if parser.too_long:
            return _unrecognised(text, source, parser.too_long)
    strong = parser.out.compiler_version is not None or bool(parser.out.operators)
    if parser.recognised_lines == 0 or (
        not strong and parser.recognised_lines < _MIN_RECOGNISED_SHARE * parser.non_empty
    ):
        return _unrecognised(text, source)
    return _conclude(parser)


def _is_log_format(text: str) -> bool:
    lines = first_lines(text, 3)
    return (
        len(lines) >= 3
        and bool(VERSION_LINE.match(lines[0]))
        and lines[1].startswith("Input: ")
        and lines[2].startswith("Output: ")
    )


def parse_compiler_log_file(text: str) -> CompilerOutput:
    """Parse a ``*_edgetpu.log`` file: a 3-line header (version, ``Input:``, ``Output:``) and the table."""
    if not _is_log_format(text):
        return _unrecognised(text, "log")
    header = first_lines(text, 3)
    out = _parse(text, "log")
    out.input_model = header[1].split(":", 1)[1].strip()
    out.output_model = header[2].split(":", 1)[1].strip()
    if not out.operators:
        out.notes.append("the log has no operator rows")
    return out


def parse_compiler_output(stdout: str, log_text: str | None = None) -> CompilerOutput:
    """Parse compiler stdout; ``log_text`` (the ``.log`` file) fills in the table when stdout lacks it.

    Text in the ``.log`` format passed as ``stdout`` is recognised and parsed as a log.
    """
    if _is_log_format(stdout):
        return parse_compiler_log_file(stdout)
    out = _parse(stdout, "stdout")
    if log_text is not None and out.recognised and not out.operators:
        log = parse_compiler_log_file(log_text)
        if log.operators:
            out.operators = log.operators
            out.notes = [n for n in out.notes if not n.startswith("no operator table")]
            out.notes.extend(out.invariant_problems())
    return out
