"""Two bad inputs that used to slip through: a resolution of 0 or below (silently "the default"), and a
compiler output that holds only the compiler's refusal of its own command line."""

from __future__ import annotations

import json

import pytest

from edgedeploy.errors import ExitCode

ARGUMENT_ERROR = (
    "The number of lists given to intermediate_tensors doesn't match the number of input models.\n"
)


@pytest.mark.parametrize("size", ["0", "-5", "16"])
@pytest.mark.parametrize(
    "command",
    [("convert", "mobilenet_v2", "--no-compile"), ("models",), ("compare", "mobilenet_v2")],
)
def test_resolutions_out_of_range_are_usage_errors(cli, tmp_path, command, size):
    flag = "-r" if command[0] == "compare" else "--resolution"
    result = cli(
        *command,
        f"{flag}={size}" if flag.startswith("--") else flag,
        *([] if flag.startswith("--") else [size]),
        *(["-o", str(tmp_path / "out")] if command[0] != "models" else []),
    )
    assert result.code == ExitCode.USAGE, result
    assert f"resolution {size} is out of range" in result.err and "Traceback" not in result.err
    assert not (tmp_path / "out").exists()


def test_a_compiler_argument_error_is_a_failed_compile(cli, tmp_path):
    capture = tmp_path / "edgetpu_compiler.stdout.txt"
    capture.write_text(ARGUMENT_ERROR)
    result = cli("check", "--json", capture)
    assert result.code == ExitCode.COMPILER_FAILED, result
    report = json.loads(result.out)
    assert report["verdict"].endswith("compilation failed (argument-error)")
    finding = report["findings"][0]
    assert finding["title"] == ARGUMENT_ERROR.strip() and "option" in finding["fix"]


def test_old_compilers_internal_error_line_is_read(cli, tmp_path):
    capture = tmp_path / "out.txt"
    capture.write_text(
        "Edge TPU Compiler version 2.0.291256449\n\nInternal compiler error. Aborting! \n"
    )
    result = cli("check", "--json", capture)
    assert result.code == ExitCode.COMPILER_FAILED
    assert (
        json.loads(result.out)["details"]["compiler_output"]["failure"]["code"] == "internal-error"
    )
