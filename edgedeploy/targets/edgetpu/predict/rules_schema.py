"""Validate a rules file (``rules/compiler-<N>.json``) when it is loaded.

The rules are data that people edit; a misspelt constraint or field would otherwise be ignored in
silence and an op predicted as mapped. Any unknown key, or a value of the wrong kind, is an error that
names the file and the key.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from edgedeploy.errors import EdgedeployError


class RulesDataError(EdgedeployError):
    """A rules file is not what the predictor can use (a packaging or editing mistake)."""


# top-level key -> the kind of value it must hold
TOP_LEVEL = {
    "compiler": int,
    "compiler_versions": list,
    "min_runtimes": list,
    "default_min_runtime": int,
    "tflite_release": str,
    "basis": dict,
    "on_chip_cache_bytes": int,
    "on_chip_cache_note": str,
    "activation_dtypes": list,
    "input_boundary_ops": list,
    "shape_operands": dict,
    "shape_operands_note": str,
    "ops": dict,
    "never_mapped": dict,
    "extends": str,
    "max_version_overrides": dict,
    "removed_ops": dict,
}
REQUIRED_WITHOUT_EXTENDS = (
    "compiler",
    "min_runtimes",
    "default_min_runtime",
    "tflite_release",
    "ops",
    "never_mapped",
    "activation_dtypes",
    "input_boundary_ops",
    "on_chip_cache_bytes",
)
OP_FIELDS = {"constraints": dict, "min_runtime": int}
REFUSAL_FIELDS = {"why": str, "fix": str}


def _kind(value: Any, kind: type) -> bool:
    return isinstance(value, kind) and not (kind is int and isinstance(value, bool))


def _check_fields(entry: Any, allowed: Mapping[str, type], where: str, file: str) -> None:
    if not isinstance(entry, dict):
        raise RulesDataError(f"rules file {file}: {where} must be an object")
    for key, value in entry.items():
        if key not in allowed:
            raise RulesDataError(
                f"rules file {file}: unknown field {where}.{key}",
                f"known fields there: {', '.join(sorted(allowed))}",
            )
        if not _kind(value, allowed[key]):
            raise RulesDataError(
                f"rules file {file}: {where}.{key} must be of type {allowed[key].__name__}"
            )


def validate_rules(data: Any, file: str, constraint_names: Collection[str]) -> None:
    """Raise RulesDataError naming ``file`` and the key at the first thing the predictor cannot use."""
    _check_fields(data, TOP_LEVEL, "(top level)", file)
    if "extends" not in data:
        missing = [key for key in REQUIRED_WITHOUT_EXTENDS if key not in data]
        if missing:
            raise RulesDataError(f"rules file {file}: missing {', '.join(missing)}")
    for op, spec in data.get("ops", {}).items():
        _check_fields(spec, OP_FIELDS, f"ops.{op}", file)
        for name in spec.get("constraints", {}):
            if name not in constraint_names:
                raise RulesDataError(
                    f"rules file {file}: unknown constraint ops.{op}.constraints.{name}",
                    f"known constraints: {', '.join(sorted(constraint_names))}",
                )
    for section in ("never_mapped", "removed_ops"):
        for op, refusal in data.get(section, {}).items():
            _check_fields(refusal, REFUSAL_FIELDS, f"{section}.{op}", file)
    for op, version in data.get("max_version_overrides", {}).items():
        if not _kind(version, int):
            raise RulesDataError(
                f"rules file {file}: max_version_overrides.{op} must be of type int"
            )
