"""`-t` is `--target` on every command that takes a target (the README says so), and a short option
means the same thing on every command that has it: walked from each command's own --help."""

from __future__ import annotations

import re

import typer.main

from edgedeploy.cli.app import app
from edgedeploy.errors import ExitCode

# The short options the docs promise, by long option (limits spells its list --resolutions).
PROMISED = {"--target": "-t", "--output-dir": "-o", "--resolution": "-r", "--resolutions": "-r"}


def _options(command) -> dict[str, list[str]]:
    """long option -> its short forms, for one click command."""
    found = {}
    for param in command.params:
        if param.param_type_name == "option":
            names = param.opts + param.secondary_opts
            shorts = [n for n in names if not n.startswith("--")]
            for name in names:
                if name.startswith("--"):
                    found[name] = shorts
    return found


def test_every_command_with_a_target_takes_t_and_says_so_in_its_help(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    commands = typer.main.get_command(app).commands
    with_target = [name for name, command in commands.items() if "--target" in _options(command)]
    assert {
        "convert",
        "check",
        "compile",
        "estimate",
        "limits",
        "bench",
        "compare",
        "verify",
    } <= set(with_target)
    for name in with_target:
        assert _options(commands[name])["--target"] == ["-t"], name
        result = cli(name, "--help")
        assert result.code == ExitCode.OK, (name, result)
        assert re.search(r"--target\s+-t\b", result.out), (name, result.out)


def test_a_short_option_means_one_thing_on_every_command():
    meaning: dict[str, set[str]] = {}
    for name, command in typer.main.get_command(app).commands.items():
        options = _options(command)
        for long, short in PROMISED.items():
            if long in options:
                assert options[long] == [short], (name, long, options[long])
        for long, shorts in options.items():
            for short in shorts:
                meaning.setdefault(short, set()).add(long.rstrip("s"))  # --resolution(s) are one
    ambiguous = {short: longs for short, longs in meaning.items() if len(longs) > 1}
    assert not ambiguous, ambiguous


def test_estimate_takes_t(cli, edgetpu_models):
    model = edgetpu_models / "mobilenet_v1_0.25_128_quant.tflite"
    assert cli("estimate", "-t", "edgetpu", model).code == ExitCode.OK
    assert cli("estimate", "-t", "no-such-npu", model).code == ExitCode.USAGE
