"""Strategies for the input classes of issue 20's campaign, for the property tests in
tests/test_fuzz_readers.py: special files (FIFO, ``/dev/zero``, a directory, a socket, a symlink loop, a
dangling link, a sparse file past its kind's cap), JSON nested past the limit, and a sidecar with one
field set to an impossible value (NaN, an infinity, null, a wrong word or type)."""

from __future__ import annotations

import copy
import json
import math
import os
import socket
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from edgedeploy.files import MAX_JSON_DEPTH

SPECIAL_KINDS = ("fifo", "dev-zero", "directory", "socket", "loop", "dangling", "sparse", "empty")
# What the one error line must say for each (the sparse file: its size, past the cap).
SAYS = {
    "fifo": "is a FIFO (named pipe)",
    "dev-zero": "is a character device",
    "directory": "is a directory",
    "socket": "is a socket",
    "loop": "is a symlink loop",
    "dangling": "no such file",
    "sparse": "MiB, more than",
    "empty": "empty",
}


def make_special(kind: str, path: Path) -> socket.socket | None:
    """Put a ``kind`` special file at ``path``; a socket is returned, to be closed by the caller."""
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "directory":
        path.mkdir()
    elif kind == "socket":
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))
        return server
    elif kind == "loop":
        path.symlink_to(path.name)
    elif kind == "dangling":
        path.symlink_to(path.name + ".gone")
    elif kind == "sparse":
        with path.open("wb") as handle:
            handle.truncate(9 * 2**30)  # past every cap, taking no disk
    else:
        path.write_bytes(b"")
    return None


@st.composite
def deep_json(draw, seed: Any) -> tuple[str, int]:
    """``seed`` with arrays and objects nested ``depth`` deep at one of its places; (text, depth)."""
    depth = draw(st.one_of(st.integers(MAX_JSON_DEPTH + 1, 3_000), st.just(100_000)))
    opener = draw(st.sampled_from(("[", '{"a":', "mixed")))
    if opener == "mixed":
        parts = [draw(st.sampled_from(("[", '{"a":'))) for _ in range(min(depth, 200))]
        parts = (parts * (depth // len(parts) + 1))[:depth]
    else:
        parts = [opener] * depth
    closing = "".join("]" if p == "[" else "}" for p in reversed(parts))
    nested = "".join(parts) + "0" + closing
    data = copy.deepcopy(seed)
    keys = [k for k, v in data.items() if isinstance(v, (dict, list))] or list(data)
    key = draw(st.sampled_from(keys))
    text = json.dumps({**data, key: "@@NESTED@@"}).replace('"@@NESTED@@"', nested)
    return text, depth


# Leaves of a sidecar that edgedeploy writes but never reads (informational text), and the marker that
# decides whether a document is a sidecar at all (another value: "not a sidecar", no error).
UNREAD_FIELDS = {("command",), ("edgedeploy_version",), ("preprocessing", "steps"), ("kind",)}
IMPOSSIBLE = (math.nan, math.inf, -math.inf, None, "x", [], {}, True, -1, 1e400)


def leaves(node: Any, prefix: tuple = ()) -> list[tuple]:
    if isinstance(node, dict):
        return [p for key, value in node.items() for p in leaves(value, prefix + (key,))]
    if isinstance(node, list) and node:
        return [p for i, value in enumerate(node[:4]) for p in leaves(value, prefix + (i,))]
    return [prefix]


@st.composite
def sidecar_with_one_bad_field(draw, seed: dict) -> tuple[dict, tuple, Any]:
    """``seed`` with one read field set to an impossible value: (document, path, value)."""
    data = copy.deepcopy(seed)
    path = draw(st.sampled_from([p for p in leaves(data) if p not in UNREAD_FIELDS]))
    value = draw(st.sampled_from(IMPOSSIBLE))
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = copy.deepcopy(value)
    return data, path, value


def dotted(path: tuple) -> str:
    """('outputs', 0, 'scale') -> 'outputs[0].scale', as the error names a field."""
    text = ""
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else key)
    return text
