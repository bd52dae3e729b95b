"""80-column terminals (and pipes, which rich treats as 80 columns): model names, tensor shapes and
copy-paste commands stay whole; tables switch to a list layout instead of folding them."""

from __future__ import annotations

import re

import pytest
from bench_models import QUICK_BENCH
from rich.console import Console

from edgedeploy import report
from edgedeploy.errors import ExitCode

QUICK = (*QUICK_BENCH, "--threads", "1")


@pytest.fixture
def narrow(monkeypatch):
    console = Console(width=80, highlight=False, soft_wrap=False, force_terminal=False)
    monkeypatch.setattr(report, "stdout", console)
    return console


def test_check_keeps_every_tensor_shape_whole(cli, narrow, edgetpu_models):
    result = cli("check", edgetpu_models / "deeplabv3_mnv2_dm05_pascal_quant.tflite")
    assert result.code == ExitCode.OPS_ON_CPU
    lines = result.out.splitlines()
    for shape in (
        "uint8[1,1,1,256]",
        "uint8[1,33,33,256]",
        "uint8[1,513,513,21]",
        "int64[1,513,513]",
    ):
        assert any(shape in line for line in lines), shape
    assert not any(
        re.search(r"\[[\d,]*$", line.rstrip()) for line in lines
    )  # no shape cut at a line end


def test_bench_keeps_long_model_names_whole(cli, narrow, edgetpu_models, tmp_path):
    long_name = tmp_path / "deeplabv3_mnv2_dm05_pascal_quant_with_a_long_name.tflite"
    long_name.write_bytes((edgetpu_models / "deeplabv3_mnv2_dm05_pascal_quant.tflite").read_bytes())
    result = cli("bench", *QUICK, long_name, edgetpu_models / "mobilenet_v1_0.25_128_quant.tflite")
    assert result.code == ExitCode.OK, result
    for name in (long_name.stem, "mobilenet_v1_0.25_128_quant"):
        assert sum(name in line for line in result.out.splitlines()) >= 2, (
            result.out
        )  # both tables name it whole


def test_help_examples_fit_an_80_column_terminal_so_they_copy_whole(cli):
    from edgedeploy.cli.app import app

    for info in app.registered_commands:
        examples = [
            line.strip()
            for line in (info.help or "").splitlines()
            if line.strip().startswith("edgedeploy ")
        ]
        assert examples, info.name  # every command shows how to use it
        too_long = [
            line for line in examples if len(line) > 76
        ]  # help indents examples by 3, plus a margin
        assert not too_long, (info.name, too_long)


def test_help_keeps_every_bracketed_default_and_shows_no_bool_metavar(cli):
    """Rich markup swallows an unescaped "[default: ...]" and leaves "Where the results go ."."""
    from edgedeploy.cli.app import app

    for info in app.registered_commands:
        text = " ".join(cli(info.name, "--help").out.replace("│", " ").split())
        assert not re.search(r"[a-z] \.(\s|$)", text), info.name  # a sentence that lost its bracket
        assert text.count("<bool>") <= 1, info.name  # only typer's own --help flag keeps one
    convert = " ".join(cli("convert", "--help").out.replace("│", " ").split())
    assert (
        "[default: photos shipped with edgedeploy]" in convert
        and "[default: edgedeploy-out/<model>]" in convert
    )
