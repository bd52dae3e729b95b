"""Accelerator knowledge lives under edgedeploy/targets/<name>/: outside edgedeploy/targets/, no string
in the code names a built-in accelerator (``edgetpu``, ``coral``) but the registry's list of built-ins
and its default target (the command line reads --target's default and names from the registry, and a
target's own options from its ``TargetSpec.options``). Docstrings and comments may name it; code paths
may not. The files still holding one are listed with the reason, so that the list can only shrink."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import edgedeploy

PACKAGE = Path(edgedeploy.__file__).parent
NAMES = re.compile(r"\b(edgetpu|coral)\b", re.IGNORECASE)
ALLOWED = {
    "targets/registry.py": "the list of built-in targets and the default --target",
}


def _strings(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def _outside_targets() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith("targets/") and relative.count("/") > 1:
            continue  # inside a target's own package
        hits = [f"{line}: {text[:80]!r}" for line, text in _strings(path) if NAMES.search(text)]
        if hits:
            found[relative] = hits
    return found


def test_no_accelerator_is_named_outside_its_package_but_in_the_registry():
    found = _outside_targets()
    unexpected = {path: hits for path, hits in found.items() if path not in ALLOWED}
    assert not unexpected


def test_the_allowed_list_only_holds_files_that_still_need_it():
    found = _outside_targets()
    assert not [path for path in ALLOWED if path not in found], "remove them from ALLOWED"


def test_the_scan_sees_a_literal():
    assert NAMES.search("--target edgetpu") and NAMES.search("coral, usb")
    assert not NAMES.search("mobilenet_edgetpu") and not NAMES.search("libedgetpu.so.1")
