"""`edgedeploy compile`: options, bad input, no compiler, timeouts - one clear line and a distinct exit
code each time, never a traceback and never a half-written compiled model."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import pytest
from compiler_double import install_script, process_gone
from fs_doubles import unwritable_output

from edgedeploy.errors import ExitCode

MODEL = "mobilenet_v1_0.25_128_quant"
YOLOV5 = "*yolov5s-224_sa_c16.txt"


@pytest.fixture
def model(edgetpu_models: Path) -> Path:
    return edgetpu_models / f"{MODEL}.tflite"


@pytest.fixture
def compiles(fake_compiler, compiler_logs, edgetpu_models):
    """The double replays a real successful 16.0 compile and writes the real compiled twin."""
    return fake_compiler.use(
        stdout=next(compiler_logs.glob(YOLOV5)), compiled=edgetpu_models / f"{MODEL}_edgetpu.tflite"
    )


def _no_traceback(result) -> None:
    assert "Traceback" not in result.out + result.err


def test_options_become_compiler_flags(compiles, model, cli, tmp_path):
    result = cli(
        "compile",
        model,
        "-o",
        tmp_path / "out",
        "--min-runtime",
        "13",
        "--multiple-subgraphs",
        "--segments",
        "2",
        "--intermediate-tensors",
        "a:0, b/c",
        "--search-delegate",
        "--search-step",
        "10",
        "--compiler-timeout",
        "60",
    )
    assert result.code == ExitCode.OPS_ON_CPU, result
    (argv,) = compiles.compile_calls()
    assert argv[:2] == ["-s", "-o"]
    assert argv[3:] == [
        "-m",
        "13",
        "-a",
        "-n",
        "2",
        "-i",
        "a:0,b/c",
        "-d",
        "-k",
        "10",
        "-t",
        "60",
        str(model),
    ]
    # -n 2: both segments are kept, and the report lists them
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert [Path(p).name for p in report["models"][0]["compiled"]] == [
        f"{MODEL}_segment_0_of_2_edgetpu.tflite",
        f"{MODEL}_segment_1_of_2_edgetpu.tflite",
    ]
    assert report["options"]["segments"] == 2 and report["options"]["search_step"] == 10


def test_co_compiling_runs_one_compiler_call(compiles, edgetpu_models, cli, tmp_path):
    second = edgetpu_models / "split_concat.tflite"
    result = cli(
        "compile", edgetpu_models / f"{MODEL}.tflite", second, "-o", tmp_path / "out", "--json"
    )
    assert result.code == ExitCode.OPS_ON_CPU, result
    (argv,) = compiles.compile_calls()  # one call: the models share the on-chip cache
    assert argv[-2:] == [str(edgetpu_models / f"{MODEL}.tflite"), str(second)]
    report = json.loads(result.out)
    assert [Path(m["input"]).name for m in report["models"]] == [
        f"{MODEL}.tflite",
        "split_concat.tflite",
    ]
    assert (tmp_path / "out" / "split_concat_edgetpu.tflite").is_file()


def test_model_path_with_spaces_and_non_ascii(compiles, model, cli, tmp_path):
    folder = tmp_path / "mödèl fïles ü"
    folder.mkdir()
    odd = folder / "my modèl ñ 模型.tflite"
    shutil.copyfile(model, odd)
    out = tmp_path / "öut dir"
    result = cli("compile", odd, "-o", out)
    assert result.code == ExitCode.OPS_ON_CPU, result
    assert compiles.compile_calls()[0][-1] == str(odd)  # one argv item, not split, not escaped
    assert (out / "my modèl ñ 模型_edgetpu.tflite").is_file()
    assert "my modèl ñ 模型.tflite" in result.out


def test_compiler_path_that_is_not_executable(model, cli, tmp_path, no_docker):
    fake = tmp_path / "edgetpu_compiler"
    fake.write_text("#!/bin/sh\necho hi\n")
    fake.chmod(0o644)
    result = cli("compile", model, "-o", tmp_path / "out", "--compiler", fake)
    assert result.code == ExitCode.TOOL_MISSING
    assert "is not executable" in result.err and str(fake) in result.err
    assert not (tmp_path / "out").exists()
    _no_traceback(result)


@pytest.mark.parametrize("what", ["missing", "directory", "bare-name"])
def test_compiler_path_that_is_not_a_compiler(what, model, cli, tmp_path, no_docker):
    value = {
        "missing": str(tmp_path / "nope" / "edgetpu_compiler"),
        "directory": str(tmp_path),
        "bare-name": "edgetpu_compiler_not_installed_anywhere",
    }[what]
    result = cli("compile", model, "-o", tmp_path / "out", "--compiler", value)
    assert result.code == ExitCode.TOOL_MISSING, result
    assert value in result.err
    _no_traceback(result)


def test_compiler_binary_for_another_architecture(model, cli, tmp_path, no_docker):
    binary = tmp_path / "edgetpu_compiler"
    binary.write_bytes(
        b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + b"\x02\x00\xb7\x00" + b"\x00" * 100
    )  # arm64 header
    binary.chmod(0o755)
    result = cli("compile", model, "-o", tmp_path / "out", "--compiler", binary)
    assert result.code == ExitCode.TOOL_MISSING, result
    assert "cannot run" in result.err
    _no_traceback(result)


def test_compiler_that_prints_nothing(fake_compiler, model, cli, tmp_path):
    fake_compiler.use(mode="silent")
    out = tmp_path / "out"
    result = cli("compile", model, "-o", out)
    assert result.code == ExitCode.COMPILER_FAILED, result
    assert "printed nothing" in result.out
    # Without --json too, the failure is one line on stderr (issue 20: stderr was empty).
    assert (
        result.err.startswith("error: Edge TPU compilation failed") and result.err.count("\n") == 1
    )
    assert not list(out.glob("*_edgetpu.tflite"))
    report = json.loads((out / "report.json").read_text())
    assert report["failure"]["code"] == "empty-output" and report["compiler"]["version"] is None


def test_garbage_output_is_a_compiler_failure(fake_compiler, model, cli, tmp_path):
    garbage = tmp_path / "garbage.txt"
    garbage.write_text("Segmentation fault (core dumped)\n\x00\x01 nonsense\n")
    fake_compiler.use(stdout=garbage, exit=0)  # exit 0 and a model written: still not a success
    out = tmp_path / "out"
    result = cli("compile", model, "-o", out, "--json")
    assert result.code == ExitCode.COMPILER_FAILED, result
    assert json.loads(result.out)["failure"]["code"] == "unrecognised-output"
    assert not list(out.glob("*_edgetpu.tflite"))
    assert "compilation failed" in result.err


def test_success_claimed_but_no_model_written(
    fake_compiler, compiler_logs, model, cli, tmp_path, monkeypatch
):
    # a compiler that prints success and exits 0 but writes into the wrong place
    fake_compiler.use(stdout=next(compiler_logs.glob(YOLOV5)))
    monkeypatch.setenv("FAKE_EDGETPU_MODE", "replay")
    wrapper = install_script(
        tmp_path / "wrap",
        "edgetpu_compiler",
        "import os, sys\nargv = sys.argv[1:]\nif '-o' in argv:\n"
        f"    argv[argv.index('-o') + 1] = {str(tmp_path / 'elsewhere')!r}\n"
        f"os.makedirs({str(tmp_path / 'elsewhere')!r}, exist_ok=True)\n"
        f"os.execv({str(fake_compiler.path)!r}, [{str(fake_compiler.path)!r}] + argv)\n",
    )
    result = cli("compile", model, "-o", tmp_path / "out", "--compiler", wrapper)
    assert result.code == ExitCode.COMPILER_FAILED, result
    assert f"wrote no {MODEL}_edgetpu.tflite" in result.out


def test_unwritable_output_dir(compiles, model, cli, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    result = cli("compile", model, "-o", blocker / "out")
    assert result.code == ExitCode.ERROR, result
    assert "cannot write" in result.err or "not a directory" in result.err
    assert compiles.compile_calls() == []
    _no_traceback(result)


def test_read_only_output_dir(compiles, model, cli, tmp_path):
    target = unwritable_output(tmp_path)
    result = cli("compile", model, "-o", target)
    assert result.code == ExitCode.ERROR and "cannot write" in result.err, result
    assert compiles.compile_calls() == []


def test_existing_results_need_force_and_a_failed_rerun_leaves_no_stale_model(
    compiles, fake_compiler, compiler_logs, model, cli, tmp_path
):
    out = tmp_path / "out"
    assert cli("compile", model, "-o", out).code == ExitCode.OPS_ON_CPU
    assert (out / f"{MODEL}_edgetpu.tflite").is_file()
    again = cli("compile", model, "-o", out)
    assert again.code == ExitCode.ERROR and "--force" in again.err
    fake_compiler.use(stdout=next(compiler_logs.glob("*model_not_quantized_c14.txt")))
    failed = cli("compile", model, "-o", out, "--force")
    assert failed.code == ExitCode.COMPILER_FAILED
    assert not (out / f"{MODEL}_edgetpu.tflite").exists()  # the earlier result would now be a lie
    assert json.loads((out / "report.json").read_text())["failure"]["code"] == "not-quantized"


@pytest.mark.parametrize("content", [b"", b"not a flatbuffer at all"])
def test_bad_input_model(content, compiles, cli, tmp_path):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(content)
    result = cli("compile", bad, "-o", tmp_path / "out")
    assert result.code == ExitCode.UNREADABLE_INPUT and "not a TFLite model" in result.err
    missing = cli("compile", tmp_path / "missing.tflite", "-o", tmp_path / "out")
    assert missing.code == ExitCode.UNREADABLE_INPUT and "no such file" in missing.err
    assert compiles.compile_calls() == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["--search-step", "3"], "--search-delegate"),
        (["--segments", "1"], "at least 2"),
        (["--min-runtime", "9"], "start at 10"),
        (["--timeout", "0"], "more than 0"),
        (["--intermediate-tensors", "a,,b"], "none empty"),
    ],
)
def test_bad_option_values(args, message, compiles, model, cli, tmp_path):
    result = cli("compile", model, "-o", tmp_path / "out", *args)
    assert result.code == ExitCode.USAGE and message in result.err
    assert compiles.compile_calls() == []


def test_compiler_16_flags_on_an_older_compiler(fake_compiler, compiler_logs, model, cli, tmp_path):
    fake_compiler.use(
        stdout=next(compiler_logs.glob("*yolov3-tiny_c15.txt"))
    )  # prints version 15.0
    result = cli("compile", model, "-o", tmp_path / "out", "--search-delegate")
    assert result.code == ExitCode.USAGE, result
    assert "need Edge TPU compiler 16" in result.err and "15.0.340273435" in result.err
    assert fake_compiler.compile_calls() == []


def test_hang_is_stopped_by_our_timeout(fake_compiler, model, cli, tmp_path):
    pidfile = tmp_path / "pids"
    fake_compiler.use(mode="hang", pidfile=pidfile)
    out = tmp_path / "out"
    started = time.monotonic()
    result = cli("compile", model, "-o", out, "--timeout", "1.5")
    assert time.monotonic() - started < 15
    assert result.code == ExitCode.COMPILER_FAILED, result
    assert "did not finish within 1.5 s" in result.out
    assert not list(out.glob("*_edgetpu.tflite"))  # the double had half-written one in staging
    assert (
        "Started a compilation timeout timer" in (out / "edgetpu_compiler.stdout.txt").read_text()
    )
    report = json.loads((out / "report.json").read_text())
    assert report["timed_out"] is True and report["returncode"] is None
    for pid in map(int, pidfile.read_text().split()):  # the compiler AND its child are gone
        assert _gone(pid), f"process {pid} survived the timeout"


def _gone(pid: int) -> bool:
    return process_gone(pid, 5)


def test_no_compiler_anywhere(model, cli, tmp_path, no_docker, monkeypatch):
    monkeypatch.setenv("PATH", str(no_docker))  # nothing but a docker whose engine does not answer
    monkeypatch.delenv("EDGEDEPLOY_EDGETPU_COMPILER", raising=False)
    out = tmp_path / "out"
    result = cli("compile", model, "-o", out)
    assert result.code == ExitCode.TOOL_MISSING, result
    message = " ".join(result.err.split())
    assert "no Edge TPU compiler found" in message
    assert "edgetpu_compiler is not on PATH" in message and "EDGEDEPLOY_EDGETPU_COMPILER" in message
    assert "Docker engine does not answer" in message
    assert "docker build --platform linux/amd64 -f docker/Dockerfile -t edgedeploy:" in message
    assert not out.exists()
    _no_traceback(result)


def test_compiler_from_the_environment_variable(
    fake_compiler, compiler_logs, model, cli, tmp_path, monkeypatch
):
    fake_compiler.use(stdout=next(compiler_logs.glob(YOLOV5)))
    elsewhere = tmp_path / "not-on-path"
    elsewhere.mkdir()
    moved = elsewhere / "my_compiler"
    shutil.copy2(fake_compiler.path, moved)
    fake_compiler.path.unlink()  # no longer on PATH
    monkeypatch.setenv("EDGEDEPLOY_EDGETPU_COMPILER", str(moved))
    result = cli("compile", model, "-o", tmp_path / "out", "--json")
    assert result.code == ExitCode.OPS_ON_CPU, result
    assert json.loads(result.out)["compiler"] == {
        "found_by": "EDGEDEPLOY_EDGETPU_COMPILER",
        "executable": str(moved),
        "docker": None,
        "image": None,
        "version": "16.0.384591198",
    }


def test_json_output_is_the_report_file(compiles, model, cli, tmp_path):
    out = tmp_path / "out"
    result = cli("compile", model, "-o", out, "--json")
    assert json.loads(result.out) == json.loads((out / "report.json").read_text())


def test_help_uses_our_option_names(cli):
    result = cli("compile", "--help")
    assert result.code == 0
    for name in (
        "--min-runtime",
        "--multiple-subgraphs",
        "--segments",
        "--intermediate-tensors",
        "--search-delegate",
        "--search-step",
        "--compiler-timeout",
        "--compiler",
        "--timeout",
        "--json",
        "--force",
        "--output-dir",
    ):
        assert name in result.out
    flat = " ".join(result.out.split())
    assert "[default: 600, or 3600 with --search-delegate]" in flat.replace("│ ", "").replace(
        " │", ""
    )


def test_the_compilers_own_letters_work_too(compiles, model, cli, tmp_path):
    # -t is --target in every edgedeploy command; the compiler's -t is spelt --compiler-timeout
    result = cli(
        "compile",
        model,
        "-o",
        tmp_path / "out",
        "-m",
        "13",
        "-a",
        "-n",
        "2",
        "-i",
        "t1,t2",
        "-d",
        "-k",
        "3",
        "--compiler-timeout",
        "90",
        "-t",
        "coral",
    )
    assert result.code == ExitCode.OPS_ON_CPU, result
    (argv,) = compiles.compile_calls()
    assert argv[3:] == [
        "-m",
        "13",
        "-a",
        "-n",
        "2",
        "-i",
        "t1,t2",
        "-d",
        "-k",
        "3",
        "-t",
        "90",
        str(model),
    ]


def test_short_options_mean_one_thing_in_every_command(cli):
    """-t is --target, -m --min-runtime, -o --output-dir, -r --resolution wherever they exist."""
    meanings: dict[str, set[str]] = {}
    for command in (
        "models",
        "convert",
        "check",
        "compile",
        "estimate",
        "bench",
        "targets",
        "compare",
    ):
        text = " ".join(cli(command, "--help").out.split()).replace("│", " ")
        for long, short in re.findall(r"(--[a-z][a-z-]+)\s+(-[a-zA-Z])\b", text):
            meanings.setdefault(short, set()).add(long)
    assert meanings["-t"] == {"--target"} and meanings["-m"] == {"--min-runtime"}
    assert all(len(longs) == 1 for longs in meanings.values()), meanings
