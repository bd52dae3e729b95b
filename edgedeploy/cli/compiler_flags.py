"""Compiler options shared by `edgedeploy compile` and `edgedeploy convert`: one definition, one help text."""

from __future__ import annotations

import typer

MIN_RUNTIME = typer.Option(
    None,
    "--min-runtime",
    "-m",
    metavar="N",
    help="Oldest Edge TPU runtime version the compiled model must load on "
    "(compiler 16 defaults to 14; pass 13 for older runtimes).",
)
MULTIPLE_SUBGRAPHS = typer.Option(
    False,
    "--multiple-subgraphs",
    "-a",
    help="Allow several Edge TPU regions when an unsupported operator sits in the "
    "middle (not always faster: each CPU hop costs).",
)
SEGMENTS = typer.Option(
    None,
    "--segments",
    "-n",
    metavar="N",
    help="Split the model into N segments, to pipeline it over N Edge TPUs.",
)
COMPILER = typer.Option(
    None,
    "--compiler",
    metavar="PATH",
    help="Use this edgetpu_compiler executable instead of searching "
    "$EDGEDEPLOY_EDGETPU_COMPILER, PATH and the Docker image.",
)
TIMEOUT = typer.Option(
    None,
    "--timeout",
    metavar="SECONDS",
    help="edgedeploy's wall-clock limit: the compiler is stopped after this "
    "\\[default: 600, or 3600 with --search-delegate].",
)
