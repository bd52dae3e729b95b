"""The structure kind of damage for the readers' property tests (tests/test_fuzz_readers.py): a TFLite
model rebuilt through the schema's object API with fields set to values a valid file can carry but a sane
one never does (a shape of 2^31, a NaN scale, an opcode index past the table, a float axis operand, an
output listed twice). The other kinds and the shared settings are in ``fuzzing.py``."""

from __future__ import annotations

import math
from typing import Any

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as schema
from hypothesis import strategies as st


def _slots(obj: Any, out: list, depth: int = 0) -> None:
    """Every settable field of the object tree (tables recursively, the first 64 of each vector)."""
    if depth > 6:
        return
    for key, value in vars(obj).items():
        if value is None:
            continue
        if isinstance(value, list) and value and hasattr(value[0], "__dict__"):
            for item in value[:64]:
                _slots(item, out, depth + 1)
            out.append((obj, key, value))
        elif hasattr(value, "__dict__") and not isinstance(value, (np.ndarray, bytes, str)):
            _slots(value, out, depth + 1)
        else:
            out.append((obj, key, value))


_ODD_FLOATS = (0.0, -0.0, math.nan, math.inf, -math.inf, 1e-45, 3.4e38, -1.0)
_ODD_INTS = (
    0,
    1,
    -1,
    2,
    3,
    5,
    16,
    255,
    256,
    2**15,
    2**31 - 1,
    -(2**31),
    2**31,
    2**32 - 1,
    10**9,
    -7,
)


def _odd_value(draw, value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, np.integer)):
        return draw(st.sampled_from(_ODD_INTS + (int(value) + 1, int(value) - 1, int(value) * 2)))
    if isinstance(value, (float, np.floating)):
        return draw(st.sampled_from(_ODD_FLOATS))
    if isinstance(value, np.ndarray):
        array = value.copy()
        kind = draw(st.sampled_from(("element", "shorter", "longer", "reversed")))
        if kind == "element" and array.size:
            at = draw(st.integers(0, array.size - 1))
            if array.dtype.kind in "iu":
                info = np.iinfo(array.dtype)
                array.flat[at] = int(np.clip(draw(st.sampled_from(_ODD_INTS)), info.min, info.max))
            elif array.dtype.kind == "f":
                array.flat[at] = draw(st.sampled_from(_ODD_FLOATS))
            return array
        if kind == "shorter":
            return array[: draw(st.integers(0, array.size))]
        if kind == "longer" and array.size:
            return np.concatenate([array, array[: draw(st.integers(1, 3))]])
        return array[::-1].copy()
    if isinstance(value, list):
        if not value:
            return value
        kind = draw(st.sampled_from(("shorter", "longer", "reordered")))
        if kind == "shorter":
            return value[: draw(st.integers(0, len(value)))]
        if kind == "longer":
            return value + [value[draw(st.integers(0, len(value) - 1))]]
        return list(reversed(value))
    if isinstance(value, (str, bytes)):
        raw = value.encode() if isinstance(value, str) else value
        return draw(
            st.sampled_from((raw + b"\xff\xfe", b"", raw[: len(raw) // 2], raw + b":smiley:"))
        )
    return value


@st.composite
def mutated_tflite_structure(draw, seed: bytes) -> bytes:
    """The seed model, unpacked, 1 to 16 fields set to odd values, packed again (a valid flatbuffer)."""
    for _ in range(20):  # some odd values do not fit their field's type: draw again
        model = schema.ModelT.InitFromPackedBuf(bytearray(seed), 0)
        fields: list = []
        _slots(model, fields)
        for _ in range(draw(st.sampled_from((1, 2, 4, 8, 16)))):
            owner, key, value = fields[draw(st.integers(0, len(fields) - 1))]
            setattr(owner, key, _odd_value(draw, value))
        try:
            builder = flatbuffers.Builder(len(seed) + 1024)
            builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
            return bytes(builder.Output())
        except (TypeError, ValueError, OverflowError, AttributeError, IndexError):
            continue
    return seed
