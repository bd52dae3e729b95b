"""One result object per command, rendered as a table (rich), as JSON, or by the command as a plot.

A result object is any object with ``to_dict()`` (plain JSON-able data, the documented schema),
``render(console)`` (the human table) and ``exit_code``. ``emit`` is the one place that chooses.
"""

from __future__ import annotations

import json
import math
import re
import sys
import textwrap
from dataclasses import asdict, is_dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Protocol

from rich.console import Console

from edgedeploy import __version__
from edgedeploy.errors import ExitCode


class _Console(Console):
    def on_broken_pipe(self) -> None:
        # The reader went away (``| head -1``). rich would exit 1 here; the CLI ends quietly with 0 instead
        # (cli/app.py), as other Unix tools do.
        self.quiet = True
        raise BrokenPipeError


stdout = _Console(highlight=False, soft_wrap=False)
# Progress displays, notes and errors go to stderr so that ``--json`` output on stdout stays pure JSON.
stderr = _Console(stderr=True, highlight=False)


class Result(Protocol):
    @property
    def exit_code(self) -> ExitCode: ...

    def to_dict(self) -> dict[str, Any]: ...

    def render(self, console: Console) -> None: ...


def jsonable(value: Any) -> Any:
    """Turn dataclasses, enums, paths and numpy scalars/arrays into plain JSON data."""
    if is_dataclass(value) and not isinstance(value, type):
        return jsonable(asdict(value))
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN/inf; null means "not a number", never a made-up value
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return jsonable(value.tolist())
    if isinstance(value, str):
        # A name read from a damaged file can hold a lone surrogate, which no UTF-8 writer accepts: the
        # document would stop half-written. It becomes "?".
        return value if value.isascii() else value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", errors="replace")
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return str(
        value
    )  # anything else a library hands us (a protobuf container): its text, never a crash


def to_json(data: dict[str, Any]) -> str:
    # allow_nan=False: jsonable has already made every NaN/inf null; one that slipped through is a bug,
    # better a failure than a document no JSON parser accepts.
    return json.dumps(jsonable(data), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def envelope(command: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Every JSON document edgedeploy writes (``--json``, report.json, results.json, bench --save) starts
    with the same three keys, then the command's payload (edgedeploy/docs/json-output.md). ``schema_version`` is the
    version of that command's payload schema: 1 unless the payload says otherwise."""
    header = {
        "schema_version": payload.get("schema_version", 1),
        "command": command,
        "edgedeploy_version": __version__,
    }
    return {**header, **{key: value for key, value in payload.items() if key not in header}}


def envelope_json(command: str, payload: dict[str, Any]) -> str:
    return to_json(envelope(command, payload))


class _Written:
    """Whether this process already wrote its JSON document on stdout (then a failure adds none)."""

    json_document = False


written = _Written()


def error_document(command: str, code: int, message: str, hint: str | None) -> str:
    """The one JSON document a failed ``--json`` run writes on stdout: the envelope with ``error``
    (edgedeploy/docs/json-output.md). ``code`` is the exit code's name (``unreadable-input``)."""
    known = {int(c): c.name for c in ExitCode}
    name = known.get(int(code), "ERROR")
    error = {
        "code": name.lower().replace("_", "-"),
        "exit_code": int(code),
        "message": message,
        "hint": hint,
    }
    return envelope_json(command, {"error": error})


def emit(result: Result, as_json: bool, command: str) -> ExitCode:
    """Show ``result``: as the command's JSON document, or as its table."""
    if as_json:
        written.json_document = True
        # Written as is, not through rich: rich would still turn ":smiley:" in a model's op names into an
        # emoji, and it holds the whole document as styled segments (gigabytes for a large report).
        text = envelope_json(command, result.to_dict())
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        result.render(stdout)
    return result.exit_code


def note(message: str, command: str | None = None) -> None:
    """A one-line remark for the user (stderr): what was assumed, skipped or could not be measured;
    ``command``, one to copy, goes on a line of its own (``command_line``)."""
    print_wrapped(stderr, message, marker="[dim]note:[/dim] ")
    if command:
        command_line(stderr, command)


# Kept on one line when text is wrapped: a quoted command ('edgedeploy bench --power') and a command
# named in a sentence (edgedeploy check).
_UNBROKEN = re.compile(r"'[^']*'|\bedgedeploy [a-z]+")
_GLUE = "\x00"  # stands for a space inside a quoted command while the text is wrapped


def print_wrapped(console: Console, text: str, marker: str = "", style: str = "") -> None:
    """``marker`` (rich markup, e.g. a coloured "-") then plain ``text`` wrapped at the console's width at
    spaces, except inside a quoted command ('edgedeploy bench --power'), which stays on one line so it
    can be copied (rich would break it at any space)."""
    from rich.text import Text

    lead = Text.from_markup(marker)
    glued = _UNBROKEN.sub(lambda m: m.group(0).replace(" ", _GLUE), text)
    width = max(20, console.width - len(lead.plain) - 1)
    lines = textwrap.wrap(glued, width, break_long_words=False, break_on_hyphens=False) or [""]
    lines[1:] = [" " * len(lead.plain) + line for line in lines[1:]]
    first = lead + Text(lines[0].replace(_GLUE, " "), style=style)
    console.print(first, soft_wrap=True, highlight=False)
    for line in lines[1:]:
        console.print(Text(line.replace(_GLUE, " "), style=style), soft_wrap=True, highlight=False)


def command_line(console: Console, command: str, indent: int = 4) -> None:
    """A command the user may copy, on a line of its own and never broken by rich (on a terminal
    narrower than the command the terminal wraps it for display only; a copy is still one line)."""
    console.print(" " * indent + command, soft_wrap=True, highlight=False, markup=False)


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """``1 op``, ``2 ops``, ``0 models``: a count with its noun in the right number."""
    return f"{count} {noun if count == 1 else plural_form or noun + 's'}"


def fmt_ms(value: float | None) -> str:
    """Milliseconds to three significant digits: 0.412, 7.41, 41.2, 412; "-" when not measured."""
    if value is None:
        return "-"
    return (
        f"{value:.3f}"
        if value < 1
        else f"{value:.2f}"
        if value < 10
        else f"{value:.1f}"
        if value < 100
        else f"{value:.0f}"
    )


def fmt_bytes(n: float | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1024
    return f"{n:.2f} GiB"


def fmt_count(n: float | None) -> str:
    """Human-size counts for parameters and MACs: 3.50M, 300.8M, 1.20G."""
    if n is None:
        return "-"
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.2f}{unit}"
    return f"{n:.0f}"
