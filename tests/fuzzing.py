"""Mutation strategies for the readers' property tests (tests/test_fuzz_readers.py), built from the real
files in tests/data: Google's models and their compiled twins, the recorded compiler outputs, ONNX
graphs and a saved bench result.

Four kinds of damage:
- bytes: bit flips, overwritten bytes, truncation, deletion, insertion, duplicated spans; half of them
  aimed at the bytes the reader actually looked at on the intact file (``hot_positions``: every offset,
  vtable and length the flatbuffers runtime read), where a change reaches the reader's logic instead of
  weight data;
- structure: a TFLite model rebuilt through the schema's object API with fields set to values a valid
  file can carry but a sane one never does (a shape of 2^31, a NaN scale, an opcode index past the
  table, a float axis operand, an output listed twice);
- text: a compiler output edited line by line (numbers with 5,000 digits, "inf", a lone ".", long runs
  of spaces, duplicated and dropped lines, invalid UTF-8);
- JSON: a saved result with values swapped for other types, NaN, huge numbers or deleted keys.

The bytes kind and what every kind shares (settings, seeds, the error check) are here; the structure
kind is in ``fuzz_structure.py``, the text and JSON kinds in ``fuzz_text.py``.

Every strategy draws through hypothesis, so a failure shrinks and replays (the tests use
``derandomize=True``: CI runs the same examples every time).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from flatbuffers import encode
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from edgedeploy.errors import EdgedeployError

DATA = Path(__file__).resolve().parent / "data"
MODELS = DATA / "edgetpu" / "models"
LOGS = DATA / "edgetpu" / "compiler_logs"
SEEDS = DATA / "fuzz" / "seeds"
REGRESSIONS = DATA / "fuzz" / "regressions"
# Small enough that 2,000 examples of each reader stay within a CI budget of seconds, not minutes;
# between them every op type, the custom op and its DarwiNN package, LSTM state and per-channel weights.
TFLITE_SEEDS = (
    "split_concat.tflite",
    "keras_lstm_mnist_ptq.tflite",
    "split_concat_edgetpu.tflite",
    "keras_lstm_mnist_ptq_edgetpu.tflite",
    "mobilenet_v1_0.25_128_quant.tflite",
)
# Rebuilt through the object API on every example: 3-10 ms for these, 60 ms for the MobileNet.
STRUCTURE_SEEDS = TFLITE_SEEDS[:4]
FUZZ_EXAMPLES = 2000  # per reader, in CI (deliverable of issue 15)
# One example's limit: seeds parse in 2-70 ms; the slack is for a shared CI machine, not for the code.
EXAMPLE_BUDGET_S = 3.0

# The TFLite reader gets FUZZ_EXAMPLES byte mutations and this many structural ones on top.
STRUCTURE_EXAMPLES = FUZZ_EXAMPLES // 2

FUZZ_SETTINGS = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
        HealthCheck.filter_too_much,
    ],
)

INTERESTING_INTS = (
    0,
    1,
    2,
    3,
    4,
    7,
    8,
    0x7F,
    0x80,
    0xFF,
    0x7FFF,
    0x8000,
    0xFFFF,
    0x10000,
    0x7FFFFFFF,
    0x80000000,
    0xFFFFFFFF,
    0x40000000,
)


# ---- helpers ---------------------------------------------------------------------------------------


def only_project_errors(call: Callable[[], Any], budget_s: float = EXAMPLE_BUDGET_S) -> Any:
    """``call()``'s result, or None when it raised one of edgedeploy's errors with a one-line message.
    Anything else (an IndexError, a hang past the budget) fails the test."""
    started = time.monotonic()
    try:
        result = call()
    except EdgedeployError as exc:
        assert exc.message and "\n" not in exc.message, f"not one line: {exc.message!r}"
        result = None
    elapsed = time.monotonic() - started
    assert elapsed < budget_s, f"took {elapsed:.1f} s (budget {budget_s} s)"
    return result


def strict_json(text: str) -> Any:
    """Parse as JSON as strictly as any consumer would: no NaN, no Infinity, encodable as UTF-8."""
    text.encode("utf-8")

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} in JSON output")

    return json.loads(text, parse_constant=refuse)


@contextlib.contextmanager
def _recording_reads() -> Iterator[dict[int, tuple[Any, set]]]:
    seen: dict[int, tuple[Any, set]] = {}
    original = encode.Get

    def get(packer_type, buf, head):
        seen.setdefault(id(buf), (buf, set()))[1].add((head, packer_type.size))
        return original(packer_type, buf, head)

    encode.Get = get
    try:
        yield seen
    finally:
        encode.Get = original


def hot_positions(data: bytes, read: Callable[[bytes], Any]) -> tuple[tuple[int, int], ...]:
    """(offset, size) of every scalar the flatbuffers runtime read while ``read(data)`` ran, mapped back
    into ``data`` (nested buffers, such as a DarwiNN package inside custom options, are found in it)."""
    with _recording_reads() as seen:
        read(data)
    found = set()
    for buf, heads in seen.values():
        raw = bytes(buf)
        base = 0 if len(raw) == len(data) else data.find(raw)
        if base < 0:
            continue
        found |= {(base + head, size) for head, size in heads if base + head + size <= len(data)}
    return tuple(sorted(found))


# ---- bytes -----------------------------------------------------------------------------------------


@st.composite
def mutated_bytes(draw, seed: bytes, hot: tuple[tuple[int, int], ...] = ()) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        if hot and draw(st.booleans()):
            at, size = hot[draw(st.integers(0, len(hot) - 1))]
            at, size = min(at, len(data) - 1), max(1, min(size, len(data) - at))
            value = draw(
                st.sampled_from(INTERESTING_INTS) | st.integers(0, 2**32 - 1) | st.just(len(data))
            )
            if draw(st.booleans()):
                data[at] ^= 1 << draw(st.integers(0, 7))
            else:
                data[at : at + size] = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
            continue
        at = draw(st.integers(0, len(data) - 1))
        kind = draw(st.sampled_from(("flip", "byte", "truncate", "delete", "insert", "duplicate")))
        if kind == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "byte":
            data[at] = draw(st.integers(0, 255))
        elif kind == "truncate":
            del data[at:]
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:
            start = draw(st.integers(0, len(data) - 1))
            data[at:at] = data[start : start + draw(st.integers(1, 64))]
    return bytes(data)


# ---- TFLite seeds --------------------------------------------------------------------------------


@cache
def tflite_seed(name: str) -> bytes:
    return (MODELS / name).read_bytes()
