"""``inspect_model``: a model file as every target sees it (targets/model_file.py), with the registry's
word on which target compiled it, the row name it shares with its source and where that source is.

Kept apart from model_file.py so that the data types at the bottom of targets/ import no registry
(no model_file -> registry -> contract -> model_file cycle)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from edgedeploy.targets.model_file import ModelFile, read_model_file
from edgedeploy.targets.registry import compiled_for, shared_model_name, source_of


def inspect_model(path: Path) -> ModelFile:
    """Read ``path`` (InputError, one line, for anything damaged) and name its compiling target."""
    model = read_model_file(path)
    target = compiled_for(model.op_counts)
    return dataclasses.replace(
        model,
        compiled_for=target.name if target else None,
        row_name=shared_model_name(model.path, model.op_counts),
        source_path=source_of(model.path, model.op_counts),
    )
