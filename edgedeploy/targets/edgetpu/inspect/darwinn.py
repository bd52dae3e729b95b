"""Read the DarwiNN package inside a compiled model's ``edgetpu-custom-op`` (docs/edgetpu.md section 8).

The custom op's ``custom_options`` is a flexbuffer map (libedgetpu ``tflite/custom_op_data.cc``):
key "1" version, "4" the serialized package, "6" chip enum per executable, "7" further packages.
The package is a flatbuffer with root ``Package`` (libedgetpu ``executable/executable.fbs``, identifier
``DWN1``). Field slots below are the declaration order of that schema; we read raw tables with the
flatbuffers runtime instead of generated code, and only the fields the report needs.

What it gives: compiler version string, minimum runtime version, and per executable its type
(PARAMETER_CACHING executables hold the parameters cached on-chip; the EXECUTION_ONLY / STAND_ALONE
executable's own parameters are streamed from the host on every inference), parameter bytes, and the
input/output layer names (which are the boundary tensor names in the CPU model).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import flatbuffers
from flatbuffers import flexbuffers
from flatbuffers.table import Table

from edgedeploy.errors import InputError, first_line

PACKAGE_IDENTIFIER = b"DWN1"
EXECUTABLE_TYPES = {0: "STAND_ALONE", 1: "PARAMETER_CACHING", 2: "EXECUTION_ONLY"}


class _Raw:
    """One flatbuffer table; ``slot`` is the field's position in the schema (0-based)."""

    def __init__(self, buf: bytes, pos: int):
        self.buf, self.tab = buf, Table(buf, pos)

    @classmethod
    def root(cls, buf: bytes) -> "_Raw":
        if len(buf) < 8:
            raise ValueError("too short for a flatbuffer")
        return cls(buf, flatbuffers.encode.Get(flatbuffers.packer.uoffset, buf, 0))

    def _offset(self, slot: int) -> int:
        return self.tab.Offset(4 + 2 * slot)

    def integer(self, slot: int, fmt: str = "<i", default: int = 0) -> int:
        off = self._offset(slot)
        return struct.unpack_from(fmt, self.buf, self.tab.Pos + off)[0] if off else default

    def string(self, slot: int) -> str | None:
        off = self._offset(slot)
        return (
            self.tab.String(off + self.tab.Pos).decode("utf-8", errors="replace") if off else None
        )

    def byte_vector(self, slot: int) -> bytes:
        off = self._offset(slot)
        if not off:
            return b""
        start, length = self.tab.Vector(off), self.tab.VectorLen(off)
        if start + length > len(self.buf):
            raise ValueError("vector runs past the end")
        return self.buf[start : start + length]

    def table(self, slot: int) -> "_Raw | None":
        off = self._offset(slot)
        return _Raw(self.buf, self.tab.Indirect(self.tab.Pos + off)) if off else None

    def byte_vector_length(self, slot: int) -> int:
        off = self._offset(slot)
        return self.tab.VectorLen(off) if off else 0

    def _offsets_vector(self, slot: int) -> tuple[int, int]:
        """(start, count) of a vector of 4-byte offsets, checked to lie inside the buffer; (0, 0) if absent."""
        off = self._offset(slot)
        if not off:
            return 0, 0
        start, count = self.tab.Vector(off), self.tab.VectorLen(off)
        if start + 4 * count > len(self.buf):
            raise ValueError("vector runs past the end")
        return start, count

    def tables(self, slot: int) -> list["_Raw"]:
        start, count = self._offsets_vector(slot)
        return [_Raw(self.buf, self.tab.Indirect(start + 4 * i)) for i in range(count)]

    def string_list(self, slot: int) -> list[bytes]:
        start, count = self._offsets_vector(slot)
        return [bytes(self.tab.String(start + 4 * i)) for i in range(count)]


@dataclass
class Layer:
    name: str
    size_bytes: int
    shape_yxz: tuple[int, int, int]


@dataclass
class Executable:
    type: str
    name: str | None
    chip: str | None
    parameter_bytes: int
    batch_size: int
    estimated_cycles: int | None
    input_layers: list[Layer] = field(default_factory=list)
    output_layers: list[Layer] = field(default_factory=list)
    instruction_bytes: int = (
        0  # instruction bitstreams (field 5), sent to the device with the executable
    )
    scratch_bytes: int = 0  # host memory for activations that do not fit on chip (field 4)
    dma_bytes: dict[str, int] = field(
        default_factory=dict
    )  # per inference, from the DMA hints: see _dma_bytes


@dataclass
class DarwinnPackage:
    compiler_version: str | None
    min_runtime_version: int
    executables: list[Executable]

    @property
    def on_chip_parameter_bytes(self) -> int:
        return sum(e.parameter_bytes for e in self.executables if e.type == "PARAMETER_CACHING")

    @property
    def off_chip_parameter_bytes(self) -> int:
        return sum(e.parameter_bytes for e in self.executables if e.type != "PARAMETER_CACHING")

    @property
    def input_names(self) -> list[str]:
        return list(dict.fromkeys(layer.name for e in self.executables for layer in e.input_layers))

    @property
    def output_names(self) -> list[str]:
        return list(
            dict.fromkeys(layer.name for e in self.executables for layer in e.output_layers)
        )


def _layer(raw: _Raw) -> Layer:
    return Layer(
        name=raw.string(0) or "",
        size_bytes=raw.integer(1),
        shape_yxz=(raw.integer(2), raw.integer(3), raw.integer(4)),
    )


_DMA_KINDS = {
    0: "output",
    1: "input",
    2: "parameters",
    3: "scratch",
}  # Description of a DMA descriptor's Meta


def _dma_bytes(raw: _Raw) -> dict[str, int]:
    """Bytes each DMA transfer of one run moves, by what and which way (``input_in``, ``scratch_out``,
    ``scratch_in``, ...): the executable's DmaHints (field 7) -> DmaHint {any_type, any, direction} whose
    DmaDescriptorHint {meta {description}, offset, size}. Empty when the file carries no hints."""
    hints = raw.table(7)
    found: dict[str, int] = {}
    for hint in hints.tables(0) if hints is not None else []:
        descriptor = hint.table(1) if hint.integer(0, "<B") == 1 else None
        if descriptor is None:
            continue
        meta = descriptor.table(0)
        kind = _DMA_KINDS.get(meta.integer(0, "<h") if meta is not None else -1, "other")
        key = f"{kind}_{'out' if hint.integer(2, '<h') == 1 else 'in'}"
        found[key] = found.get(key, 0) + descriptor.integer(2)
    return found


def _executable(buf: bytes) -> Executable:
    raw = _Raw.root(buf)
    cycles = raw.integer(16, "<q", default=0) or raw.integer(11) or None
    return Executable(
        type=EXECUTABLE_TYPES.get(raw.integer(13, "<h"), f"type{raw.integer(13, '<h')}"),
        name=raw.string(1),
        chip=raw.string(10),
        parameter_bytes=raw.byte_vector_length(6),
        batch_size=raw.integer(3),
        estimated_cycles=cycles,
        input_layers=[_layer(t) for t in raw.tables(8)],
        output_layers=[_layer(t) for t in raw.tables(9)],
        instruction_bytes=sum(t.byte_vector_length(0) for t in raw.tables(5)),
        scratch_bytes=raw.integer(4),
        dma_bytes=_dma_bytes(raw),
    )


def _package(buf: bytes, where: list[str], number: int) -> DarwinnPackage:
    where[0] = f"package {number}"
    if buf[4:8] != PACKAGE_IDENTIFIER:
        raise ValueError("no DWN1 identifier")
    package = _Raw.root(buf)
    multi = _Raw.root(package.byte_vector(1))
    executables = []
    for index, exe in enumerate(multi.string_list(0)):
        where[0] = f"executable {index} of package {number}"
        executables.append(_executable(exe))
    return DarwinnPackage(
        compiler_version=package.string(4),
        min_runtime_version=package.integer(0),
        executables=executables,
    )


# What damaged flexbuffer / flatbuffer bytes raise from inside the runtimes' accessors.
DAMAGED_BYTES = (
    ValueError,
    TypeError,
    IndexError,
    KeyError,
    struct.error,
    UnicodeDecodeError,
    RecursionError,
    OverflowError,
    ZeroDivisionError,
    AttributeError,
    MemoryError,
)


def read_package(custom_options: bytes | None) -> DarwinnPackage:
    """Decode ``edgetpu-custom-op`` custom options; ``InputError`` if they are not a DarwiNN package."""
    if not custom_options:
        raise InputError(
            "the edgetpu-custom-op has no custom options (no compiled executable inside)"
        )
    where = ["the custom options' flexbuffer map"]  # the part being read, for the message
    try:
        root = flexbuffers.GetRoot(custom_options).AsMap
        keys = [k.AsKey for k in root.Keys]
        if "4" not in keys:
            raise KeyError("no key '4' (the serialized package)")
        packages = [root["4"].AsStringBytes]
        if "7" in keys:
            packages += [ref.AsStringBytes for ref in root["7"].AsVector]
        parsed = [_package(bytes(p), where, number) for number, p in enumerate(packages)]
    except InputError:
        raise
    except DAMAGED_BYTES as exc:
        said = first_line(exc, fallback="")[:120]
        raise InputError(
            f"the edgetpu-custom-op does not hold a readable DarwiNN package: {where[0]} is damaged "
            f"({type(exc).__name__}{': ' + said if said else ''})"
        ) from None
    first = parsed[0]
    return DarwinnPackage(
        compiler_version=first.compiler_version,
        min_runtime_version=first.min_runtime_version,
        executables=[e for p in parsed for e in p.executables],
    )
