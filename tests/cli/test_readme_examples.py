"""Every README example that can run here gives the same answer twice: the same exit code, the same
bytes in every model it writes, and (for commands whose output is not a timing) the same text.

The commands are parsed from README.md as it is, so an example added later is checked too. Examples
that need what this machine has not got are skipped, each for a stated reason: placeholder files
(model.onnx, photos of one's own), a network download (--pretrained), a device or power meter, and
limits with its confirming conversions (minutes: they convert through the same seeded built-ins that
tests/models/test_builtin_seeded.py holds to identical bytes; its forecast is data). ``photos/`` is the
shipped photos. compare runs: the example a user saw fail at random (issue 23)."""

from __future__ import annotations

import hashlib
import re
import shlex
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUTPUT_OPTIONS = {"-o", "--output-dir", "--save", "--csv", "--plot"}
TOO_LONG = {"limits"}  # minutes per example: see the module docstring
NEEDS = {  # option -> what it needs that this machine has not
    "--pretrained": "a network download",
    "--power": "a power meter",
    "--device": "an Edge TPU",
    "--compiler": "an Edge TPU compiler at that path",
}
# Their text holds timings or this machine's state: their answer is the exit code and the models written.
TIMED = {"convert", "bench", "estimate", "targets", "compile", "limits", "compare"}
PHOTOS = "photos"


def readme_commands(readme: Path) -> list[str]:
    """The ``edgedeploy ...`` lines of README.md's code blocks, comments stripped, continuations joined;
    a block listing the commands with their descriptions is not a command."""
    found, block, pending = [], False, ""
    for line in readme.read_text().splitlines():
        if line.startswith("```"):
            block = not block
            continue
        if not block:
            continue
        line = pending + line.strip().removeprefix("$ ")
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        line = line.split(" && ")[-1]  # "pip install ... && edgedeploy convert ...": the command
        if not line.startswith("edgedeploy "):
            continue
        command = re.split(r"\s+#", line)[0].strip()
        if re.match(r"edgedeploy \w+ {2,}[A-Za-z(]", command):
            continue  # "edgedeploy check      predict / explain ...": a list of commands
        found.append(" ".join(command.split()))
    return found


def skip_reason(args: list[str], made: set[str]) -> str | None:
    if args[0] in TOO_LONG and "--no-confirm" not in args:  # limits --no-confirm converts nothing
        return f"{args[0]} runs for minutes"
    for option, need in NEEDS.items():
        if option in args:
            return f"{option} needs {need}"
    if "-t" in args and "coral" in args[args.index("-t") + 1]:
        return "needs an Edge TPU"
    for before, token in zip(["", *args], args):
        if before in OUTPUT_OPTIONS or token.startswith("-"):
            continue
        looks_like_file = "/" in token or Path(token).suffix in {".onnx", ".tflite", ".pt", ".txt"}
        if looks_like_file and not (
            (ROOT / token).exists() or token.rstrip("/") == PHOTOS or token in made
        ):
            return f"{token} is a placeholder"
    return None


def _outputs_of(args: list[str]) -> set[str]:
    """Files an example writes that a later example reads (convert -o DIR: DIR/<model>_int8.tflite)."""
    if args[0] != "convert":
        return set()
    folder = args[args.index("-o") + 1] if "-o" in args else None
    names = {a for a in args[1:] if not a.startswith("-")}
    made = set()
    for name in names:
        for resolution in ("224",):
            stem = f"{name}_1.0_{resolution}"
            made.add(f"{folder or 'edgedeploy-out/' + stem}/{stem}_int8.tflite")
    return made


def _workspace(path: Path, photo_dir: Path) -> Path:
    path.mkdir()
    (path / "edgedeploy").symlink_to(ROOT / "edgedeploy")
    (path / "tests").symlink_to(ROOT / "tests")
    shutil.copytree(photo_dir, path / PHOTOS)
    return path


def _answers(cli, folder: Path, commands: list[list[str]]) -> list[tuple]:
    answers = []
    for args in commands:
        result = cli(*args)
        text = "" if args[0] in TIMED else " ".join(result.out.split())
        answers.append((" ".join(args), result.code, text))
    models = sorted(p for p in folder.rglob("*.tflite") if not p.is_symlink())
    models = [p for p in models if "edgedeploy" not in p.relative_to(folder).parts[:1]]
    digests = {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in models
    }
    return answers + [("models written", digests)]


def test_the_readme_is_parsed_into_commands():
    commands = readme_commands(ROOT / "README.md")
    assert commands and all(c.startswith("edgedeploy ") for c in commands)
    assert not any("  " in c for c in commands)


@pytest.mark.slow
def test_every_runnable_readme_example_gives_the_same_answer_twice(
    cli, tmp_path, photo_dir, monkeypatch
):
    runnable, skipped, made = [], [], set()
    for command in readme_commands(ROOT / "README.md"):
        args = shlex.split(command)[1:]
        reason = skip_reason(args, made)
        if reason:
            skipped.append(f"{command}: {reason}")
            continue
        runnable.append(args)
        made |= _outputs_of(args)
    assert any(a[0] == "convert" for a in runnable), skipped
    runs = []
    for name in ("first", "second"):
        folder = _workspace(tmp_path / name, photo_dir)
        monkeypatch.chdir(folder)
        runs.append(_answers(cli, folder, runnable))
    for first, second in zip(*runs):
        assert first == second, f"{first[0]} answered differently the second time"
    print("\n".join(["skipped:", *skipped]))
