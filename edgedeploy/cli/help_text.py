"""How command help reads on a terminal: paragraphs that wrap as one, and no ``<bool>`` beside flags.

Docstrings are written at source width; typer keeps their line breaks, so a sentence broke mid-line at
80 columns. Paragraphs are joined here; indented lines (the examples) and blank lines stay as written.
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable

from typer.core import TyperCommand, TyperGroup
from typer.models import OptionInfo


def reflow(doc: str | None) -> str:
    lines = textwrap.dedent(inspect.cleandoc(doc or "")).splitlines()
    out: list[str] = []
    for line in lines:
        joinable = (
            line.strip()
            and not line.startswith(" ")
            and out
            and out[-1].strip()
            and not out[-1].startswith(" ")
        )
        if joinable:
            out[-1] = f"{out[-1]} {line.strip()}"
        else:
            out.append(line)
    return "\n".join(out)


def hide_flag_metavars(command: Callable) -> Callable:
    """A flag takes no value; typer would still show ``<bool>`` in the value column."""
    for parameter in inspect.signature(command).parameters.values():
        option = parameter.default
        if (
            isinstance(option, OptionInfo)
            and parameter.annotation in (bool, "bool")
            and option.metavar is None
        ):
            option.metavar = ""
    return command


class _HelpWithoutBoolMetavar:
    """typer makes --help itself and shows it as ``--help <bool>``: a flag, so no value column."""

    def get_help_option(self, ctx):  # noqa: ANN001, ANN201 - typer's own signature
        option = super().get_help_option(ctx)
        if option is not None and option.metavar is None:
            option.metavar = ""
        return option


class Command(_HelpWithoutBoolMetavar, TyperCommand):
    pass


class Group(_HelpWithoutBoolMetavar, TyperGroup):
    pass
