"""Compile int8 TFLite models with the real ``edgetpu_compiler``, locally or in the project's image.

``compile_models(models, out_dir, options) -> CompileResult``. The compiler writes into a private
staging folder inside ``out_dir``; its ``.log`` files, stdout and stderr are always kept in
``out_dir``, but a ``*_edgetpu.tflite`` is moved there only when the whole run succeeded, so a
failure or timeout never leaves a half-written model behind. A failed run is a report
(``report.failure``), not an exception: callers that need one raise ``CompilationFailedError``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path

from edgedeploy.errors import CompilerError, InputError, OutputError, UsageError
from edgedeploy.files import TFLITE, check_input
from edgedeploy.outputs import STAGING_PREFIX
from edgedeploy.targets.edgetpu.compiler import docker
from edgedeploy.targets.edgetpu.compiler.locate import CompilerLocation, locate_compiler
from edgedeploy.targets.edgetpu.compiler.log import parse_compiler_output
from edgedeploy.targets.edgetpu.compiler.options import CompileOptions
from edgedeploy.targets.edgetpu.compiler.outcome import classify, per_model_outputs
from edgedeploy.targets.edgetpu.compiler.predictions import Predictor, attach_predictions
from edgedeploy.targets.edgetpu.compiler.process import PARSED_BYTES, TAIL_BYTES, run_bounded
from edgedeploy.targets.edgetpu.compiler.report import CompileResult, ModelResult
from edgedeploy.targets.edgetpu.naming import compiled_outputs
from edgedeploy.tflite import read_model
from edgedeploy.tflite.files import is_tflite_file

STDOUT_FILE = "edgetpu_compiler.stdout.txt"
STDERR_FILE = "edgetpu_compiler.stderr.txt"
VERSION_TIMEOUT_S = 60.0  # a Docker container start is included
_VERSION = re.compile(r"Edge TPU Compiler version (\d+)\.(\S+)")
_MAJOR = re.compile(r"\s*(\d{1,6})(?!\d)")


class CompilationFailedError(CompilerError):
    """The compiler ran and failed; ``report`` says why and where its output was kept."""

    def __init__(self, report: CompileResult):
        super().__init__(
            f"Edge TPU compilation failed: {report.failure.reason if report.failure else '?'}",
            f"the compiler's output is kept in {report.out_dir}",
        )
        self.report = report


def check_input_models(models: Sequence[Path]) -> list[Path]:
    if not models:
        raise UsageError("give at least one .tflite model to compile")
    checked: list[Path] = []
    for model in models:
        path = Path(model).expanduser()
        check_input(
            path, TFLITE, allow_empty=True
        )  # what it is (a FIFO, a loop) and its size, unopened
        if not is_tflite_file(path):
            raise InputError(f"{path}: not a TFLite model (no TFL3 identifier)")
        read_model(
            path
        )  # a damaged model is the user's input error (exit 4), not a compiler failure
        checked.append(path.resolve())
    stems = [p.stem for p in checked]
    if len(set(stems)) != len(stems):
        raise UsageError(
            "two models share a file name; their compiled outputs would overwrite each other"
        )
    return checked


def read_compiler_version(
    location: CompilerLocation, timeout: float = VERSION_TIMEOUT_S
) -> str | None:
    """``16.0.384591198`` from ``edgetpu_compiler --version``; None when it does not say."""
    in_docker = location.docker_and_image()
    argv = (
        docker.version_argv(*in_docker)
        if in_docker is not None
        else [str(location.executable), "--version"]
    )
    outcome = run_bounded(argv, timeout)
    match = _VERSION.search(outcome.stdout + outcome.stderr)
    return f"{match.group(1)}.{match.group(2)}" if match else None


def compiler_major(version: str | None) -> int | None:
    """16 from ``16.0.384591198``; None for a version line that does not start with a number
    (``16 (build x)`` gives 16: the major version is all the rules need)."""
    match = _MAJOR.match(version or "")
    return int(match.group(1)) if match else None


def compiler_argv(
    location: CompilerLocation,
    models: Sequence[Path],
    out_dir: Path,
    flags: Sequence[str],
    container: str | None = None,
) -> list[str]:
    in_docker = location.docker_and_image()
    if in_docker is not None:
        return docker.compile_argv(
            *in_docker,
            models,
            out_dir,
            flags,
            container or docker.new_container_name(),
        )
    return [str(location.executable), "-s", "-o", str(out_dir), *flags, *(str(m) for m in models)]


def _staging(out_dir: Path) -> Path:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(dir=out_dir, prefix=STAGING_PREFIX + "compiler-"))
    except OSError as exc:
        raise OutputError(
            f"cannot write to output directory {out_dir}: {exc.strerror or exc}"
        ) from exc


def remove_stale_models(out_dir: Path, inputs: Sequence[Path]) -> None:
    """For ``compile --force`` after a failure: a compiled model left in ``out_dir`` by an earlier run
    would pass for this run's result beside its failure log. (``compile_models`` itself never deletes
    files it did not write: library callers may compile into a folder of their own.)"""
    for stale in (p for m in inputs for p in compiled_outputs(out_dir, m)):
        stale.unlink()


def _keep(staging: Path, out_dir: Path, succeeded: bool) -> None:
    """Move the compiler's files out of staging: logs always, compiled models only on success."""
    for item in sorted(staging.iterdir()):
        if item.is_file() and (succeeded or item.suffix != ".tflite"):
            shutil.move(str(item), out_dir / item.name)


def _version_problem(version: str | None, options: CompileOptions) -> None:
    needs = options.needing_compiler_16()
    major = compiler_major(version)
    if major is not None and needs and major < 16:
        raise UsageError(f"{', '.join(needs)} need Edge TPU compiler 16; this one is {version}")


def compile_models(
    models: Sequence[Path],
    out_dir: Path,
    options: CompileOptions | None = None,
    location: CompilerLocation | None = None,
    predict: Predictor | None = None,
) -> CompileResult:
    """``predict``: the mapping predictor to set beside the compiler's table (None: no prediction)."""
    options = options or CompileOptions()
    options.validate()
    models = check_input_models(models)
    out_dir = Path(out_dir).resolve()
    location = location or locate_compiler(options.compiler)
    limit = options.wall_clock_limit()
    version = read_compiler_version(location, min(VERSION_TIMEOUT_S, limit))
    _version_problem(version, options)
    staging = _staging(out_dir)
    try:
        container = docker.new_container_name() if location.in_docker else None
        argv = compiler_argv(location, models, staging, options.compiler_flags(), container)

        def stop_container() -> None:  # killing the docker client does not stop the container
            if container and location.docker:
                with suppress(OSError, subprocess.TimeoutExpired):
                    subprocess.run(
                        docker.kill_argv(location.docker, container),
                        capture_output=True,
                        timeout=20,
                    )

        # Captured into staging beside the compiler's own files and moved out with its logs (_keep), whole.
        outcome = run_bounded(
            argv,
            limit,
            cwd=staging,
            on_timeout=stop_container,
            stdout_path=staging / STDOUT_FILE,
            stderr_path=staging / STDERR_FILE,
        )
        said = outcome.stdout + ("\n" + outcome.stderr if outcome.stderr.strip() else "")
        overall = parse_compiler_output(said)
        produced = {m: compiled_outputs(staging, m) for m in models}
        failure = classify(outcome, overall, produced, limit)
        # names from this run's staging, so that files of an earlier run (--force) are never reported
        logs = [
            next((out_dir / p.name for p in compiled_outputs(staging, m, ".log")), None)
            for m in models
        ]
        compiled = {
            m: [out_dir / p.name for p in files] if failure is None else []
            for m, files in produced.items()
        }
        _keep(staging, out_dir, succeeded=failure is None)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    parsed, notes = per_model_outputs(outcome.stdout, models, logs)
    results = [
        ModelResult(input=m, compiler=p, log=log, compiled=compiled[m])
        for m, p, log in zip(models, parsed, logs)
    ]
    version = version or overall.compiler_version
    if predict is not None and failure is None:
        attach_predictions(results, predict, compiler_major(version), options.min_runtime)
    if version is None:
        notes.append("the compiler did not print its version")
    if outcome.truncated:
        notes.append(
            f"the compiler printed {max(outcome.stdout_bytes, outcome.stderr_bytes) / 2**20:.0f} MiB; its first "
            f"{PARSED_BYTES // 2**20} MiB and last {TAIL_BYTES // 2**20} MiB were read, all of it is kept in "
            f"{STDOUT_FILE} and {STDERR_FILE}"
        )
    shown_argv = [arg.replace(str(staging), str(out_dir)) for arg in argv]  # staging is gone by now
    return CompileResult(
        out_dir=out_dir,
        location=location,
        version=version,
        options=options,
        argv=shown_argv,
        returncode=outcome.returncode,
        timed_out=outcome.timed_out,
        seconds=outcome.seconds,
        failure=failure,
        models=results,
        stdout_file=out_dir / STDOUT_FILE,
        stderr_file=out_dir / STDERR_FILE,
        notes=notes,
    )
