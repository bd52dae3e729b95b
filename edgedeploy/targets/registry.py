"""Every target by name: the one place commands resolve ``--target`` (names, aliases, capabilities).

Targets register a ``TargetSpec``. The built-in ones are named here as import paths, so nothing is
imported until a command asks; another target (a plug-in, a test's toy accelerator) is one call::

    register(my_accelerator.TARGET)
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from edgedeploy.errors import UsageError
from edgedeploy.targets.contract import BenchRuntime, TargetOption, TargetOptions, TargetSpec

# Each module exposes TARGET (a TargetSpec). Order is the listing order of `edgedeploy targets`.
BUILTIN_TARGETS = ("edgedeploy.targets.cpu", "edgedeploy.targets.edgetpu")
# The --target of commands made for an accelerator (convert, check, compile, estimate, limits, verify)
# when none is given. Like the list above, the only place outside a target's package that names one.
DEFAULT_TARGET = "edgetpu"

_registered: dict[str, TargetSpec] = {}
_builtins_loaded = False


def register(spec: TargetSpec) -> TargetSpec:
    """Add a target (or replace one of the same name); its aliases must not name another target."""
    _load_builtins()
    for alias in (spec.name, *spec.aliases):
        owner = _owner_of(alias)
        if owner is not None and owner.name != spec.name:
            raise ValueError(f"target name {alias!r} is already taken by {owner.name!r}")
    _registered[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    _registered.pop(name, None)


def _load_builtins() -> None:
    global _builtins_loaded
    if not _builtins_loaded:
        _builtins_loaded = True
        for module in BUILTIN_TARGETS:
            spec = importlib.import_module(module).TARGET
            _registered.setdefault(spec.name, spec)


def _owner_of(name: str) -> TargetSpec | None:
    for spec in _registered.values():
        if name == spec.name or name in spec.aliases:
            return spec
    return None


def all_targets(capability: str | None = None) -> list[TargetSpec]:
    """Registered targets in order; only those offering ``capability`` ("check", "runtime", ...) if given."""
    _load_builtins()
    return [s for s in _registered.values() if capability is None or s.has(capability)]


def known_names(capability: str | None = None) -> str:
    """``cpu, edgetpu (alias coral)``: what a usage error offers."""
    return ", ".join(
        s.name + (f" (alias {', '.join(s.aliases)})" if s.aliases else "")
        for s in all_targets(capability)
    )


def device_syntaxes() -> str:
    """``Edge TPU: usb, usb:N, ...``: how --device names a device of each target that has a choice."""
    named = [f"{s.column_name}: {s.device_syntax}" for s in all_targets() if s.device_syntax]
    return "; ".join(named) or "no registered target has a device choice"


def default_target() -> TargetSpec:
    """The target of a command made for an accelerator when no --target is given."""
    return get_target(DEFAULT_TARGET)


def command_options(command: str) -> list[TargetOption]:
    """The options registered targets declare for ``command``, in registry order; of two declarations
    of one keyword (or one flag), the first is kept: targets that share an option share its meaning."""
    chosen: list[TargetOption] = []
    for spec in all_targets():
        for option in spec.options:
            taken = any(o.name == option.name or set(o.flags) & set(option.flags) for o in chosen)
            if command in option.commands and not taken:
                chosen.append(option)
    return chosen


def get_target(name: str, capability: str | None = None) -> TargetSpec:
    """The target called ``name`` or one of its aliases (any case); UsageError naming the choices if none,
    or if it lacks ``capability``."""
    _load_builtins()
    spec = _owner_of(name.strip().lower())
    if spec is None:
        raise UsageError(
            f"unknown target {name.strip()!r}", f"choose from {known_names(capability)}"
        )
    if capability is not None and not spec.has(capability):
        what = {
            "runtime": "run benchmarks",
            "check": "check models",
            "compile": "compile models",
            "convert_step": "be converted for",
            "limits": "find size limits for",
        }.get(capability, capability)
        raise UsageError(
            f"target {spec.name!r} cannot {what}", f"choose from {known_names(capability)}"
        )
    return spec


def parse_target_names(spec: str | list[str], capability: str | None = None) -> list[str]:
    """``"cpu,coral"`` or ``["cpu", "edgetpu"]`` -> canonical names in order, without duplicates."""
    parts = (
        spec.split(",") if isinstance(spec, str) else [p for item in spec for p in item.split(",")]
    )
    names = [get_target(part, capability).name for part in (p.strip() for p in parts) if part]
    if not names:
        raise UsageError("no target given", f"choose from {known_names(capability)}")
    return list(dict.fromkeys(names))


def create_runtime(name: str, options: TargetOptions | None = None) -> BenchRuntime:
    """The bench runtime of target ``name`` with the command line's settings."""
    runtime = get_target(name, "runtime").runtime
    assert runtime is not None  # get_target(..., "runtime") refuses a target without one
    return runtime(options or TargetOptions())


def compiled_for(op_names: Collection[str]) -> TargetSpec | None:
    """The target whose compiled custom op a model holds (``op_names``: its operator names), if any."""
    return next((s for s in all_targets() if s.compiled_op and s.compiled_op in op_names), None)


def shared_model_name(path: Path, op_names: Collection[str]) -> str:
    """Row name of a model file: a compiled model and its source share one (``X_edgetpu`` -> ``X``)."""
    spec = compiled_for(op_names)
    return spec.model_name(path) if spec is not None and spec.model_name else path.stem


def source_of(path: Path, op_names: Collection[str]) -> Path | None:
    """For a compiled model: the file it was compiled from, by its target's naming rule."""
    spec = compiled_for(op_names)
    return spec.source_of(path) if spec is not None and spec.source_of else None


def call_capability(name: str, capability: str, *args: Any, **options: Any) -> Any:
    """Call target ``name``'s ``capability`` with the options the user set (None/False = not set).

    An option the target does not take is a UsageError naming it, not a TypeError: ``check --target toy
    --compiler-version 15`` says that the toy target has no --compiler-version.
    """
    spec = get_target(name, capability)
    function: Callable[..., Any] = getattr(spec, capability)
    given = {
        key: value for key, value in options.items() if value is not None and value is not False
    }
    accepted = inspect.signature(function).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values()):
        unknown = sorted(set(given) - set(accepted))
        if unknown:
            flags = ", ".join(_flag_of(key) for key in unknown)
            raise UsageError(f"target {spec.name!r} does not take {flags}")
    return function(*args, **given)


def _flag_of(keyword: str) -> str:
    """The command-line flag of an option's keyword: as a target declared it, else ``--the-keyword``."""
    declared = (o for spec in all_targets() for o in spec.options if o.name == keyword)
    option = next(declared, None)
    return option.flags[0] if option is not None else "--" + keyword.replace("_", "-")


def require_batch(batch: int, what: str, hint: str | None = None) -> None:
    """The batch rule, in one place: edgedeploy's models run on every target, so a batch size a
    target does not run (``TargetSpec.batch``) is refused, naming that target."""
    for spec in all_targets():
        if spec.batch is not None and batch != spec.batch:
            raise UsageError(
                f"{what} has batch {batch}; {spec.display_name} runs batch {spec.batch}", hint
            )
