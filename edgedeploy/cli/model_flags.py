"""Model options shared by the commands that build a built-in model: one definition, one check."""

from __future__ import annotations

import typer


def _checked_resolution(value: int | None) -> int | None:
    """0 and negative sizes are usage errors here, not "use the default" further down (0 is falsy)."""
    from edgedeploy.models.registry import check_resolution

    return None if value is None else check_resolution(value)


def resolution_option(help_text: str):
    return typer.Option(None, "--resolution", "-r", help=help_text, callback=_checked_resolution)
