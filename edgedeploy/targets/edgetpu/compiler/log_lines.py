"""What each line ``edgetpu_compiler`` prints means: the status texts of its operator table, its fatal
messages, the fields of its summary, and the line readers ``log.py``'s parser calls (each linear in the
line: the parser runs on outputs and logs of any size, docs/edgetpu.md section 7)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from edgedeploy.targets.edgetpu.compiler.parsed import OperatorStatus

# Compiler status text -> stable reason code (shared with the predictor's codes where they mean the same).
STATUS_REASONS: tuple[tuple[str, str], ...] = (
    ("Mapped to Edge TPU", "mapped"),
    ("More than one subgraph is not supported", "downstream-of-cpu-op"),
    ("Operation is otherwise supported, but not mapped", "unspecified-limitation"),
    ("Operation not supported", "unsupported-op"),
    ("Operation version not supported", "op-version-too-new"),
    ("Operation is working on an unsupported data type", "unsupported-dtype"),
    ("Tensor has unsupported rank", "rank"),
    ("Only Strided-Slice with unitary strides supported", "stride"),
)
UNKNOWN_STATUS = "unknown-status"

# Fatal lines -> failure code; first match wins, so the specific ones come before "Compilation failed".
# Anchored at the line start: the compiler's lines, not prose that quotes them. Every pattern is matched
# once per line from its start (re.match; the flag names by two
# searches), so its cost is linear in the line (docs/edgetpu.md section 7).
FAILURE_PATTERNS: tuple[tuple[str, str], ...] = (
    (
        r"ERROR: Attempting to use a delegate that only supports static-sized tensors",
        "dynamic-tensors",
    ),
    (r"Compilation failed: .*large activation tensors", "large-activations"),
    (r"Model not quantized", "not-quantized"),
    (r"Invalid model", "invalid-model"),
    (r"Compilation failed: Internal error", "internal-error"),
    (
        r"Internal compiler error",
        "internal-error",
    ),  # compilers 2.x-14 ("Internal compiler error. Aborting!")
    # The compiler's own one-line refusals of its command line, printed instead of any other output; the
    # one seen in public: "The number of lists given to intermediate_tensors doesn't match the number of
    # input models." Matched by a flag name, then a refusal word after it (``_argument_refusal``).
    (
        r"\b(intermediate_tensors|num_segments|min_runtime_version|delegate_search_step|timeout_sec|out_dir|"
        r"enable_multiple_subgraphs|search_delegate)\b",
        "argument-error",
    ),
    (r"(Compilation|ERROR)\b.*\btimed out\b", "timeout"),  # wording not seen in a real log yet
    (r"Compilation failed", "compilation-failed"),
)
_FAILURES = [(re.compile(pattern), code) for pattern, code in FAILURE_PATTERNS]
_REFUSAL = re.compile(r"\b(doesn't|does not|must|invalid|cannot|can't|not supported)\b")
_MAX_DIGITS = (
    15  # counts and sizes the compiler prints; longer digit runs are not numbers it printed
)
# How every line the parser recognises outside the operator table begins; other lines are skipped
# without running any pattern on them (a 5 MB log of noise parses in well under a second).
LINE_STARTS = (
    "Edge TPU Compiler version",
    "Operator",
    "Input ",
    "Output ",
    "On-chip memory",
    "Off-chip memory",
    "Number of",
    "Total number",
    "Model ",
    "Operation log",
    "Searching for",
    "Try to compile",
    "Intermediate tensors",
    "Compilation",
    "ERROR",
    "Invalid model",
    "Internal compiler",
    "Started a",
    "See the operation",
    "Aborting",
)

_UNITS = {"B": 1, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3}
_SIZE = r"(\d+(?:\.\d+)?) ?(B|KiB|MiB|GiB)\b"
VERSION_LINE = re.compile(r"Edge TPU Compiler version (\d+)(?:\.(\S+))?")
FIELDS: dict[
    str, tuple[re.Pattern[str], str]
] = {  # attribute -> (pattern, kind); matched from the line start
    "input_model": (re.compile(r"Input model: (.+)"), "str"),
    "input_size_bytes": (re.compile(rf"Input size: {_SIZE}"), "size"),
    "output_model": (re.compile(r"Output model: (.+)"), "str"),
    "output_size_bytes": (re.compile(rf"Output size: {_SIZE}"), "size"),
    "on_chip_used_bytes": (
        re.compile(rf"On-chip memory used for caching model parameters: {_SIZE}"),
        "size",
    ),
    "on_chip_remaining_bytes": (
        re.compile(rf"On-chip memory remaining for caching model parameters: {_SIZE}"),
        "size",
    ),
    "off_chip_bytes": (
        re.compile(rf"Off-chip memory used for streaming uncached model parameters: {_SIZE}"),
        "size",
    ),
    "subgraphs": (re.compile(r"Number of Edge TPU subgraphs: (\d+)"), "int"),
    "total_ops": (re.compile(r"Total number of operations: (\d+)"), "int"),
    "tpu_ops": (re.compile(r"Number of operations that will run on Edge TPU: (\d+)"), "int"),
    "cpu_ops": (re.compile(r"Number of operations that will run on CPU: (\d+)"), "int"),
    "compile_ms": (re.compile(r"Model compiled successfully in (\d+) ms"), "int"),
    "log_path": (re.compile(r"Operation log: (.+)"), "str"),
}
SEARCH_STEP = re.compile(r"Searching for valid delegate with step (\d+)")
ATTEMPT = re.compile(r"Try to compile segment with (\d+) ops")
INTERMEDIATE = "Intermediate tensors: "


def number(digits: str) -> int | None:
    """A count the compiler printed; None for a digit run no compiler prints (and int() refuses past 4300)."""
    return int(digits) if len(digits) <= _MAX_DIGITS else None


def lines_of(text: str) -> Iterator[str]:
    """The lines of ``text``, stripped, one at a time: a 100 MB output is never split into a list at once."""
    start, size = 0, len(text)
    while start < size:
        end = text.find("\n", start)
        if end < 0:
            end = size
        yield text[start:end].strip()
        start = end + 1


def first_lines(text: str, count: int) -> list[str]:
    found = []
    for line in lines_of(text):
        if line:
            found.append(line)
            if len(found) == count:
                break
    return found


def size_bytes(value: str, unit: str) -> int | None:
    if len(value) > 2 * _MAX_DIGITS:
        return None
    return int(round(float(value) * _UNITS[unit]))


def _status_reason(status: str) -> str:
    for prefix, code in STATUS_REASONS:
        if status.startswith(prefix):
            return code
    return UNKNOWN_STATUS


def failure_code(line: str) -> str | None:
    for pattern, code in _FAILURES:
        if code == "argument-error":
            # a flag name, then a refusal word later on the line: two linear scans (one pattern with ``.*``
            # between them backtracks once per flag name, quadratic on a long line)
            flag = pattern.search(line) if "_" in line else None
            if flag is not None and _REFUSAL.search(line, flag.end()):
                return code
        elif line.startswith(LINE_STARTS) and pattern.match(line):
            return code
    return None


def table_row(text: str) -> OperatorStatus | None:
    """``OP  COUNT  STATUS`` (split on whitespace, not matched: a status with long runs of spaces made
    a lazy pattern quadratic)."""
    parts = text.split(None, 2)
    if len(parts) < 3 or not parts[1].isdigit() or not parts[1].isascii():
        return None
    count = number(parts[1])
    if count is None:
        return None
    return OperatorStatus(parts[0], count, parts[2], _status_reason(parts[2]))


def is_table_header(text: str) -> bool:
    return len(text) < 200 and text.split() == ["Operator", "Count", "Status"]
