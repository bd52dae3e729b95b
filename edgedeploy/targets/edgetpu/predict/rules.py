"""Load the Edge TPU op rules (``rules/compiler-<N>.json``) for a compiler version and minimum runtime.

The JSON files are the single source of what maps: supported ops with their constraints, ops that never
map (with the why and the fix), and the TFLite release the compiler embeds, from which the highest
op version per op follows (``rules/tflite-op-versions.json``). A file may ``extend`` another and
override or remove entries; every file says on what evidence it differs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from edgedeploy.errors import UsageError
from edgedeploy.targets.edgetpu.predict.rules_schema import RulesDataError, validate_rules

DEFAULT_COMPILER = 16


def _release_key(release: str) -> tuple[int, ...]:
    return tuple(int(part) for part in release.split("."))


@cache
def _load_json(name: str) -> dict[str, Any]:
    text = (
        resources.files("edgedeploy.targets.edgetpu").joinpath("rules", f"{name}.json").read_text()
    )
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RulesDataError(f"rules file {name}.json is not valid JSON: {exc}") from None
    if name.startswith("compiler-"):
        from edgedeploy.targets.edgetpu.predict.constraints import CHECKS

        validate_rules(data, f"{name}.json", CHECKS)
    return data


def available_compilers() -> list[int]:
    folder = resources.files("edgedeploy.targets.edgetpu").joinpath("rules")
    return sorted(
        int(p.name[len("compiler-") : -5])
        for p in folder.iterdir()
        if p.name.startswith("compiler-") and p.name.endswith(".json")
    )


def _merged(name: str) -> dict[str, Any]:
    data = _load_json(name)
    if "extends" not in data:
        return dict(data)
    base = _merged(data["extends"])
    merged = {
        **base,
        **{k: v for k, v in data.items() if k not in ("ops", "never_mapped", "basis")},
    }
    merged["ops"] = dict(base.get("ops", {}))
    merged["never_mapped"] = {**base.get("never_mapped", {}), **data.get("never_mapped", {})}
    merged["basis"] = {**base.get("basis", {}), **data.get("basis", {})}
    merged["max_version_overrides"] = {
        **base.get("max_version_overrides", {}),
        **data.get("max_version_overrides", {}),
    }
    for op, why in {**base.get("removed_ops", {}), **data.get("removed_ops", {})}.items():
        merged["ops"].pop(op, None)
        merged["never_mapped"][op] = why
    merged.pop("extends", None)
    return merged


@dataclass(frozen=True)
class OpRule:
    name: str
    max_version: int
    min_runtime: int | None = None
    constraints: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rules:
    compiler: int
    min_runtime: int
    tflite_release: str
    ops: dict[str, OpRule]
    never_mapped: dict[str, dict[str, str]]
    activation_dtypes: frozenset[str]
    input_boundary_ops: frozenset[str]
    on_chip_cache_bytes: int
    basis: dict[str, str]
    shape_operands: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def describe(self) -> str:
        return (
            f"Edge TPU compiler {self.compiler} rules, min runtime {self.min_runtime} "
            f"(TFLite {self.tflite_release} op versions)"
        )


@cache
def load_rules(compiler_version: int = DEFAULT_COMPILER, min_runtime: int | None = None) -> Rules:
    """Rules for ``edgetpu_compiler`` major version ``compiler_version`` and ``-m min_runtime``."""
    known = available_compilers()
    if compiler_version not in known:
        raise UsageError(
            f"no Edge TPU rules for compiler version {compiler_version}",
            hint=f"known: {', '.join(map(str, known))}",
        )
    data = _merged(f"compiler-{compiler_version}")
    runtime = data["default_min_runtime"] if min_runtime is None else min_runtime
    if runtime not in data["min_runtimes"]:
        raise UsageError(
            f"compiler {compiler_version} does not target runtime {runtime}",
            hint=f"valid --min-runtime values: {', '.join(map(str, data['min_runtimes']))}",
        )
    versions = _load_json("tflite-op-versions")["versions"]
    release = _release_key(data["tflite_release"])
    ops = {}
    for name, spec in data["ops"].items():
        known_versions = [
            int(v)
            for v, rel in versions.get(name, {"1": "0.0.0"}).items()
            if _release_key(rel) <= release
        ]
        max_version = max(known_versions, default=1)
        if name in data.get("max_version_overrides", {}):  # evidence that the compiler refuses more
            max_version = min(max_version, int(data["max_version_overrides"][name]))
        ops[name] = OpRule(
            name, max_version, spec.get("min_runtime"), dict(spec.get("constraints", {}))
        )
    return Rules(
        compiler=compiler_version,
        min_runtime=runtime,
        tflite_release=data["tflite_release"],
        ops=ops,
        never_mapped=dict(data["never_mapped"]),
        activation_dtypes=frozenset(data["activation_dtypes"]),
        input_boundary_ops=frozenset(data["input_boundary_ops"]),
        on_chip_cache_bytes=int(data["on_chip_cache_bytes"]),
        basis=dict(data.get("basis", {})),
        shape_operands={op: tuple(pos) for op, pos in data.get("shape_operands", {}).items()},
    )
