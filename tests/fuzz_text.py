"""The text and JSON kinds of damage for the readers' property tests (tests/test_fuzz_readers.py): a
compiler output edited line by line (numbers with 5,000 digits, "inf", a lone ".", long runs of spaces,
duplicated and dropped lines, invalid UTF-8), and a saved result with values swapped for other types,
NaN, huge numbers or deleted keys. The other kinds and the shared settings are in ``fuzzing.py``."""

from __future__ import annotations

import copy
import json
import math
from typing import Any

from hypothesis import strategies as st

# ---- text ------------------------------------------------------------------------------------------

_ODD_NUMBERS = (
    "9" * 5000,
    "inf",
    "nan",
    ".",
    "-1",
    "1e999",
    "0",
    "99999999999999999999",
    "١٢",
    "1.2.3",
    "",
)


@st.composite
def mutated_text(draw, seed: str) -> str:
    lines = seed.splitlines()
    for _ in range(draw(st.integers(1, 5))):
        if not lines:
            lines = [""]
        at = draw(st.integers(0, len(lines) - 1))
        kind = draw(
            st.sampled_from(
                ("number", "spaces", "duplicate", "drop", "swap", "truncate", "garbage", "long")
            )
        )
        line = lines[at]
        if kind == "number":
            digits = [i for i, ch in enumerate(line) if ch.isdigit()]
            if digits:
                i = digits[draw(st.integers(0, len(digits) - 1))]
                j = i
                while j < len(line) and (line[j].isdigit() or line[j] == "."):
                    j += 1
                lines[at] = line[:i] + draw(st.sampled_from(_ODD_NUMBERS)) + line[j:]
        elif kind == "spaces":
            i = draw(st.integers(0, len(line)))
            lines[at] = line[:i] + " " * draw(st.sampled_from((2, 100, 5000))) + line[i:] + "x"
        elif kind == "duplicate":
            lines[at:at] = [line] * draw(st.integers(1, 50))
        elif kind == "drop":
            del lines[at]
        elif kind == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[at], lines[other] = lines[other], lines[at]
        elif kind == "truncate":
            lines = lines[:at] + [line[: draw(st.integers(0, len(line)))]]
        elif kind == "garbage":
            lines[at] = draw(st.text(max_size=40))
        else:
            # long lines of what the patterns look for; the 100 MB ones are in test_reader_limits.py
            lines[at] = (
                line + draw(st.sampled_from(("x", "Mapped to Edge TPU ", "out_dir ", "\t"))) * 2000
            )
    return "\n".join(lines) + draw(st.sampled_from(("", "\n", "\r\n", "\x00")))


# ---- JSON ------------------------------------------------------------------------------------------

_ODD_JSON = (
    None,
    0,
    -1,
    1e308,
    10**30,
    "",
    "x",
    [],
    {},
    True,
    math.nan,
    math.inf,
    [1, 2],
    {"a": 1},
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node[:8]):
            found += _paths(value, prefix + (i,))
    return found


@st.composite
def mutated_json(draw, seed: Any) -> str:
    data = copy.deepcopy(seed)
    for _ in range(draw(st.integers(1, 5))):
        paths = [p for p in _paths(data) if p]
        if not paths:
            break
        path = paths[draw(st.integers(0, len(paths) - 1))]
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = copy.deepcopy(
                draw(st.sampled_from(_ODD_JSON))
            )  # never share the constants
    return json.dumps(data)  # NaN and Infinity included: Python's json writes and reads them
