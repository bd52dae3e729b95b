"""What the registry adds to a command's options: the -t/--target option (its default and the target
names in its help) and the options the registered targets declare for the command (``TargetSpec.options``).

A command names its target parameter with ``target_option(...)`` and takes the declared options' values
as one keyword, ``target_flags`` ({keyword: value}); it hands them on to the target without knowing
them. typer reads a command's signature each time the command line is built (every ``run``), so a
target registered later (a plug-in, the tests' toy) gets its options on the commands it names.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import typer
from typer.models import OptionInfo

from edgedeploy.targets.contract import TargetOption
from edgedeploy.targets.registry import (
    DEFAULT_TARGET,
    command_options,
    device_syntaxes,
    known_names,
)

FLAGS_PARAMETER = "target_flags"


class TargetChoice:
    """The marker default of a command's target parameter: filled in from the registry when the command
    line is built. ``help`` holds ``{names}`` where the target names (and aliases) go."""

    def __init__(self, help: str, capability: str | None, default: list[str] | None) -> None:
        self.help = help
        self.capability = capability
        self.default = default  # None: the registry's default target

    def option(self) -> OptionInfo:
        default: str | list[str] = self.default if self.default is not None else DEFAULT_TARGET
        text = self.help.format(names=known_names(self.capability))
        return typer.Option(default, "--target", "-t", help=text)


def target_option(
    help: str, capability: str | None = None, default: list[str] | None = None
) -> Any:
    """The command's -t/--target: one target (the registry's default) or, with ``default``, a list."""
    return TargetChoice(help, capability, default)


class DeviceChoice:
    """The marker default of a command's --device parameter: its help names each registered target's
    device syntax (``TargetSpec.device_syntax``) where ``{devices}`` stands."""

    def __init__(self, help: str) -> None:
        self.help = help

    def option(self) -> OptionInfo:
        return typer.Option(None, "--device", help=self.help.format(devices=device_syntaxes()))


def device_option(help: str) -> Any:
    """The command's --device (default: None, each target's first device)."""
    return DeviceChoice(help)


def _declared_parameter(option: TargetOption) -> inspect.Parameter:
    """A declared ``TargetOption`` as the keyword parameter typer makes an option of."""
    info = typer.Option(
        option.default,
        *option.flags,
        help=option.help,
        metavar="" if option.value_type is bool else option.metavar,
        callback=option.check,
    )
    return inspect.Parameter(
        option.name, inspect.Parameter.KEYWORD_ONLY, default=info, annotation=option.value_type
    )


class CommandWithTargetFlags:
    """The callback typer registers for a command: the command's own signature with its target option
    filled in and the declared options added; called, it passes those on as ``target_flags``."""

    def __init__(self, name: str, function: Callable[..., Any]) -> None:
        self.command_name = name
        self.function = function
        self.__name__ = function.__name__
        self.__doc__ = function.__doc__
        self._own = inspect.signature(function, eval_str=True)

    def _declared(self) -> list[TargetOption]:
        own = set(self._own.parameters)
        return [o for o in command_options(self.command_name) if o.name not in own]

    @property
    def __signature__(self) -> inspect.Signature:  # typer reads this when it builds the command
        parameters = []
        for parameter in self._own.parameters.values():
            if parameter.name == FLAGS_PARAMETER:
                continue
            if isinstance(parameter.default, (TargetChoice, DeviceChoice)):
                parameter = parameter.replace(default=parameter.default.option())
            parameters.append(parameter)
        keywords = [_declared_parameter(o) for o in self._declared()]
        as_keywords = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in parameters]
        return self._own.replace(parameters=[*as_keywords, *keywords])

    @property
    def __annotations__(self) -> dict[str, Any]:  # type: ignore[override]  # typing.get_type_hints
        return {p.name: p.annotation for p in self.__signature__.parameters.values()}

    def __call__(self, **values: Any) -> Any:
        declared = {o.name for o in self._declared()}
        flags = {key: values.pop(key) for key in list(values) if key in declared}
        if FLAGS_PARAMETER in self._own.parameters:
            values[FLAGS_PARAMETER] = flags
        return self.function(**values)
