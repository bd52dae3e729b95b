"""The edgedeploy command line: the one place that turns errors into a message and an exit code."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sys
import traceback

# Before any framework is imported: TensorFlow's C++ logging would otherwise flood the terminal.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import typer  # noqa: E402
from rich.markup import escape  # noqa: E402

from edgedeploy import __version__  # noqa: E402
from edgedeploy.cli import (
    bench,
    check,
    compare,
    compile,
    convert,
    estimate,
    limits,
    models,
    targets,
    verify,
)  # noqa: E402,E501
from edgedeploy.cli.help_text import Command, Group, hide_flag_metavars, reflow  # noqa: E402
from edgedeploy.cli.interrupts import interrupt_handling  # noqa: E402
from edgedeploy.cli.target_flags import CommandWithTargetFlags  # noqa: E402
from edgedeploy.errors import EdgedeployError, ExitCode  # noqa: E402
from edgedeploy.exiting import end_process  # noqa: E402
from edgedeploy.extras import missing_extra  # noqa: E402
from edgedeploy.files import leave_deleted_cwd  # noqa: E402
from edgedeploy.report import error_document, stderr, written  # noqa: E402
from edgedeploy.targets.registry import DEFAULT_TARGET, default_target  # noqa: E402

_BUILT_IN = default_target()  # the accelerator the tool's description names

app = typer.Typer(
    name="edgedeploy",
    help=(
        f"Take a vision model from PyTorch or ONNX to an accelerator (built in: {_BUILT_IN.summary}): "
        "convert to full-int8 TFLite, predict which operators it cannot map (and why, and what to "
        "change), compile with its compiler, and benchmark latency and power on the CPU and the "
        "device.\n\n"
        "Examples:\n\n"
        "  edgedeploy models\n\n"
        f"  edgedeploy convert --target {DEFAULT_TARGET} mobilenet_v2 --output-dir out/mnv2\n\n"
        "  edgedeploy check out/mnv2/mobilenet_v2_1.0_224_int8.tflite\n\n"
        f"  edgedeploy bench --target cpu,{DEFAULT_TARGET} out/mnv2/mobilenet_v2_1.0_224_int8.tflite\n\n"
        f"  edgedeploy compare mobilenet_v2:0.5,1.0 -r 96,224 --target cpu,{DEFAULT_TARGET}"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    cls=Group,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"edgedeploy {__version__}")
        raise typer.Exit(0)


@app.callback()
@hide_flag_metavars
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    debug: bool = typer.Option(
        False, "--debug", help="Show the full traceback when something fails."
    ),
) -> None:
    """Global options (they go before the command name)."""


for _module in (models, convert, check, compile, estimate, limits, bench, targets, compare, verify):
    app.command(
        name=_module.NAME,
        help=reflow(_module.command.__doc__),
        no_args_is_help=_module.NO_ARGS_IS_HELP,
        cls=Command,
    )(CommandWithTargetFlags(_module.NAME, hide_flag_metavars(_module.command)))


_COMMANDS = {
    module.NAME
    for module in (
        models,
        convert,
        check,
        compile,
        estimate,
        limits,
        bench,
        targets,
        compare,
        verify,
    )
}
_CONTROL = {code: f"\\x{code:02x}" for code in [*range(0x20), 0x7F]} | {
    ord("\n"): "\\n",
    ord("\r"): "\\r",
    ord("\t"): "\\t",
}


def one_line(text: str) -> str:
    """``text`` with control characters escaped: a newline in a file name must not split the error line
    (nor a carriage return overwrite it, nor an escape sequence restyle the terminal)."""
    return text.translate(_CONTROL)


def _fail(message: str, code: int, hint: str | None = None, args: list[str] | None = None) -> int:
    """The one-line error on stderr; with ``--json``, also the error document on stdout (unless the
    command had already written its own), so that a script parsing stdout always gets one document."""
    shown = escape(one_line(message)) + (f" [dim]({escape(one_line(hint))})[/dim]" if hint else "")
    stderr.print(
        f"[bold red]error:[/bold red] {shown}", highlight=False, markup=True, soft_wrap=True
    )
    _json_error(args, code, message, hint)
    return code


def _json_error(args: list[str] | None, code: int, message: str, hint: str | None) -> None:
    """With ``--json`` and no document written yet: the error document on stdout."""
    if args is None or "--json" not in args or written.json_document:
        return
    command = next((a for a in args if a in _COMMANDS), "edgedeploy")
    with contextlib.suppress(OSError, ValueError):  # a closed stdout: the stderr line stays
        sys.stdout.write(error_document(command, code, message, hint))
        sys.stdout.flush()


INTERRUPTED_LINE = "interrupted; no partial output was kept"
_WRITE_ERRORS = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "the file system is read-only",
}


def _quiet_stdout() -> None:
    """The reader of our stdout went away (``| head -1``): what it did not read is not an error. Point
    stdout at /dev/null so that the interpreter's own flush at exit does not fail on the closed pipe."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (``main`` exits with it)."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    leave_deleted_cwd()  # before any framework loads: torch's loader needs a working directory
    written.json_document = False  # per run: the CLI may run several times in one process (tests)
    try:
        with interrupt_handling() as interrupts:
            code = _run(args, debug)
            if (
                interrupts.count and code == ExitCode.INTERRUPTED
            ):  # typer turns Ctrl-C into a silent 130
                return _fail(INTERRUPTED_LINE, ExitCode.INTERRUPTED, args=args)
            return code
    except KeyboardInterrupt:  # a Ctrl-C that landed after the command's own handling
        return _fail(INTERRUPTED_LINE, ExitCode.INTERRUPTED, args=args)


def _fail_with(exc: EdgedeployError, debug: bool, args: list[str]) -> int:
    if debug:
        traceback.print_exc()
    return _fail(exc.message, exc.exit_code, exc.hint, args)


def _run(args: list[str], debug: bool) -> int:
    try:
        result = app(args=args, prog_name="edgedeploy", standalone_mode=False)
        return int(result) if isinstance(result, int) else 0
    except typer.Exit as exc:
        return exc.exit_code
    except (KeyboardInterrupt, typer.Abort):
        return _fail(INTERRUPTED_LINE, ExitCode.INTERRUPTED, args=args)
    except BrokenPipeError:
        _quiet_stdout()
        return ExitCode.OK
    except typer.TyperException as exc:  # usage errors: unknown option, missing argument, bad value
        # typer raises only its vendored click's ClickException here, which has show() and
        # format_message(); its public API names only the base class, TyperException
        exc.show(file=sys.stderr)  # type: ignore[attr-defined]
        code = getattr(exc, "exit_code", ExitCode.USAGE)
        _json_error(args, code, exc.format_message(), None)
        return code
    except EdgedeployError as exc:
        return _fail_with(exc, debug, args)
    except ImportError as exc:  # a module of an optional install reached lazily: name the pip line
        # None: not an extra's module, so a bug or a broken install
        missing = missing_extra(exc, next((a for a in args if not a.startswith("-")), None))
        if missing is None:
            return _unexpected(exc, debug, args)
        return _fail_with(missing, debug, args)
    except (
        OSError
    ) as exc:  # a write the library did not expect to fail: a full disk, a read-only mount
        if debug:
            traceback.print_exc()
        what = _WRITE_ERRORS.get(exc.errno or 0, exc.strerror or str(exc))
        where = f" writing {exc.filename}" if exc.filename else ""
        return _fail(f"{what}{where}", ExitCode.ERROR, args=args)
    except Exception as exc:  # a bug or an unexpected library failure: one line unless --debug
        return _unexpected(exc, debug, args)


def _unexpected(exc: Exception, debug: bool, args: list[str]) -> int:
    if debug:
        traceback.print_exc()
    detail = f"{type(exc).__name__}: {exc}".splitlines()[0]
    return _fail(
        f"unexpected failure: {detail}", ExitCode.ERROR, "run with --debug for the traceback", args
    )


def main() -> None:
    code = run()
    # Interpreter teardown (atexit, library finalizers) is no place for a KeyboardInterrupt traceback, nor
    # for dying by the signal after the work is done: the exit code is decided. (SIG_IGN, unlike a Python
    # handler, survives the interpreter's finalization.)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    end_process(code)
