"""``--json`` on failure (issue 20): every command that takes --json still writes one JSON document on
stdout - the envelope with ``error`` (code, exit_code, message, hint; edgedeploy/docs/json-output.md) -
and keeps its one error line on stderr, so a script that parses stdout never gets an empty string."""

from __future__ import annotations

import json

import pytest

from edgedeploy import __version__
from edgedeploy.cli.app import _COMMANDS
from edgedeploy.errors import ExitCode

FAILING = {
    "check": (
        ["check", "missing.tflite"],
        ExitCode.UNREADABLE_INPUT,
        "missing.tflite: no such file",
    ),
    "convert": (["convert", "missing.onnx"], ExitCode.UNREADABLE_INPUT, "no such file"),
    "compile": (["compile", "missing.tflite"], ExitCode.UNREADABLE_INPUT, "no such file"),
    "estimate": (["estimate", "missing.tflite"], ExitCode.UNREADABLE_INPUT, "no such file"),
    "limits": (["limits", "missing.onnx"], ExitCode.UNREADABLE_INPUT, "no such file"),
    "bench": (["bench", "missing.tflite"], ExitCode.UNREADABLE_INPUT, "no such file"),
    "compare": (["compare", "missing.onnx"], ExitCode.UNREADABLE_INPUT, "no such file"),
    "verify": (["verify", "missing.tflite", "--images", "."], ExitCode.UNREADABLE_INPUT, "no such"),
    "targets": (["targets", "nosuch"], ExitCode.USAGE, "unknown target 'nosuch'"),
    "models": (["models", "extra"], ExitCode.USAGE, "unexpected extra argument"),
}


def _error_document(text: str, command: str) -> dict:
    data = json.loads(text)  # exactly one document: json.loads refuses anything after it
    assert list(data) == ["schema_version", "command", "edgedeploy_version", "error"], data
    assert data["command"] == command and data["edgedeploy_version"] == __version__
    assert list(data["error"]) == ["code", "exit_code", "message", "hint"]
    return data["error"]


def test_every_command_with_json_is_walked():
    assert set(FAILING) == _COMMANDS


@pytest.mark.parametrize("command", sorted(FAILING))
def test_a_failure_is_one_json_document_and_one_error_line(cli, tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    args, code, says = FAILING[command]
    result = cli(*args, "--json")
    assert result.code == code, result
    error = _error_document(result.out, command)
    assert error["exit_code"] == code and error["code"] == code.name.lower().replace("_", "-")
    assert says in error["message"], error
    if code != ExitCode.USAGE:  # click prints its own usage lines for a malformed command line
        assert result.err.startswith("error: ") and result.err.count("\n") == 1, result


def test_without_json_stdout_stays_empty(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("check", "missing.tflite")
    assert result.code == ExitCode.UNREADABLE_INPUT and result.out == "", result


def test_a_compile_without_a_compiler(cli, tmp_path, monkeypatch, edgetpu_models, no_docker):
    """The issue's case: 'compile a b -o out --json' with no compiler printed nothing on stdout."""
    monkeypatch.setenv("PATH", str(no_docker))  # no edgetpu_compiler; a docker that does not answer
    monkeypatch.delenv("EDGEDEPLOY_EDGETPU_COMPILER", raising=False)
    model = edgetpu_models / "split_concat.tflite"
    result = cli("compile", model, "-o", tmp_path / "out", "--json")
    assert result.code == ExitCode.TOOL_MISSING, result
    error = _error_document(result.out, "compile")
    assert error["code"] == "tool-missing" and error["hint"], error


def test_a_hint_and_a_control_character(cli, tmp_path):
    """The hint travels apart from the message; a newline in a name is escaped on stderr only."""
    name = tmp_path / "a\nb.tflite"
    name.write_bytes(b"garbage!")
    result = cli("check", name, "--json")
    assert result.code == ExitCode.UNREADABLE_INPUT
    assert "a\\nb.tflite" in result.err and result.err.count("\n") == 1, result
    assert "a\nb.tflite" in _error_document(result.out, "check")["message"]


def test_an_unreadable_onnx_is_one_line_without_a_tick(cli, test_data):
    """estimate on a truncated ONNX printed 'v load-model 0.0 s' before its error (43 of 43 cases)."""
    truncated = test_data / "fuzz" / "regressions" / "issue20" / "truncated_56_bytes.onnx"
    result = cli("estimate", truncated)
    assert result.code == ExitCode.UNREADABLE_INPUT, result
    assert result.err.startswith("error: ") and result.err.count("\n") == 1, result
    assert "is not a readable ONNX model" in result.err and "load-model" not in result.err
