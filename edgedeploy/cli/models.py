"""`edgedeploy models`: the built-in models with parameters, MACs and input size."""

from __future__ import annotations

import typer

from edgedeploy.cli import model_flags
from edgedeploy.models.listing import list_models
from edgedeploy.report import emit

NAME = "models"
NO_ARGS_IS_HELP = False


def command(
    alpha: float = typer.Option(
        None, "--alpha", help="Width multiplier to measure at (families that offer any alpha)."
    ),
    resolution: int = model_flags.resolution_option(
        "Input size (rho) to measure at \\[default: 224]."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the list as JSON."),
) -> int:
    """List the built-in models with params, MACs and default input size.

    Params and MACs are counted on the model built at the chosen alpha and resolution.

    Examples:

      edgedeploy models

      edgedeploy models --alpha 0.5 --resolution 96 --json
    """

    return emit(list_models(alpha, resolution), as_json, NAME)
