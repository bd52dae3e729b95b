"""`edgedeploy compile` with a working compiler: options become its flags, output folders and bad input
are refused before it runs. A missing or misbehaving compiler: test_compiler_faults_cli.py."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from compiler_double import COMPILE_MODEL, YOLOV5_LOG
from fs_doubles import unwritable_output

from edgedeploy.errors import ExitCode


@pytest.fixture
def compiles(fake_compiler, compiler_logs, edgetpu_models):
    """The double replays a real successful 16.0 compile and writes the real compiled twin."""
    return fake_compiler.use(
        stdout=next(compiler_logs.glob(YOLOV5_LOG)),
        compiled=edgetpu_models / f"{COMPILE_MODEL}_edgetpu.tflite",
    )


def test_options_become_compiler_flags(compiles, compile_model, cli, tmp_path):
    result = cli(
        "compile",
        compile_model,
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
        str(compile_model),
    ]
    # -n 2: both segments are kept, and the report lists them
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert [Path(p).name for p in report["models"][0]["compiled"]] == [
        f"{COMPILE_MODEL}_segment_0_of_2_edgetpu.tflite",
        f"{COMPILE_MODEL}_segment_1_of_2_edgetpu.tflite",
    ]
    assert report["options"]["segments"] == 2 and report["options"]["search_step"] == 10


def test_co_compiling_runs_one_compiler_call(compiles, edgetpu_models, cli, tmp_path):
    second = edgetpu_models / "split_concat.tflite"
    result = cli(
        "compile",
        edgetpu_models / f"{COMPILE_MODEL}.tflite",
        second,
        "-o",
        tmp_path / "out",
        "--json",
    )
    assert result.code == ExitCode.OPS_ON_CPU, result
    (argv,) = compiles.compile_calls()  # one call: the models share the on-chip cache
    assert argv[-2:] == [str(edgetpu_models / f"{COMPILE_MODEL}.tflite"), str(second)]
    report = json.loads(result.out)
    assert [Path(m["input"]).name for m in report["models"]] == [
        f"{COMPILE_MODEL}.tflite",
        "split_concat.tflite",
    ]
    assert (tmp_path / "out" / "split_concat_edgetpu.tflite").is_file()


def test_model_path_with_spaces_and_non_ascii(compiles, compile_model, cli, tmp_path):
    folder = tmp_path / "mödèl fïles ü"
    folder.mkdir()
    odd = folder / "my modèl ñ 模型.tflite"
    shutil.copyfile(compile_model, odd)
    out = tmp_path / "öut dir"
    result = cli("compile", odd, "-o", out)
    assert result.code == ExitCode.OPS_ON_CPU, result
    assert compiles.compile_calls()[0][-1] == str(odd)  # one argv item, not split, not escaped
    assert (out / "my modèl ñ 模型_edgetpu.tflite").is_file()
    assert "my modèl ñ 模型.tflite" in result.out


def test_unwritable_output_dir(compiles, compile_model, cli, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    result = cli("compile", compile_model, "-o", blocker / "out")
    assert result.code == ExitCode.ERROR, result
    assert "cannot write" in result.err or "not a directory" in result.err
    assert compiles.compile_calls() == []
    assert "Traceback" not in result.out + result.err


def test_read_only_output_dir(compiles, compile_model, cli, tmp_path):
    target = unwritable_output(tmp_path)
    result = cli("compile", compile_model, "-o", target)
    assert result.code == ExitCode.ERROR and "cannot write" in result.err, result
    assert compiles.compile_calls() == []


def test_existing_results_need_force_and_a_failed_rerun_leaves_no_stale_model(
    compiles, fake_compiler, compiler_logs, compile_model, cli, tmp_path
):
    out = tmp_path / "out"
    assert cli("compile", compile_model, "-o", out).code == ExitCode.OPS_ON_CPU
    assert (out / f"{COMPILE_MODEL}_edgetpu.tflite").is_file()
    again = cli("compile", compile_model, "-o", out)
    assert again.code == ExitCode.ERROR and "--force" in again.err
    fake_compiler.use(stdout=next(compiler_logs.glob("*model_not_quantized_c14.txt")))
    failed = cli("compile", compile_model, "-o", out, "--force")
    assert failed.code == ExitCode.COMPILER_FAILED
    assert not (
        out / f"{COMPILE_MODEL}_edgetpu.tflite"
    ).exists()  # the earlier result would now be a lie
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
def test_bad_option_values(args, message, compiles, compile_model, cli, tmp_path):
    result = cli("compile", compile_model, "-o", tmp_path / "out", *args)
    assert result.code == ExitCode.USAGE and message in result.err
    assert compiles.compile_calls() == []


def test_json_output_is_the_report_file(compiles, compile_model, cli, tmp_path):
    out = tmp_path / "out"
    result = cli("compile", compile_model, "-o", out, "--json")
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


def test_the_compilers_own_letters_work_too(compiles, compile_model, cli, tmp_path):
    # -t is --target in every edgedeploy command; the compiler's -t is spelt --compiler-timeout
    result = cli(
        "compile",
        compile_model,
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
        str(compile_model),
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
