"""Typed records: how the keys and values of one chunk become bytes, and back.

A chunk holds two columns, keys then values, each encoded by the narrowest of three layouts:

* ``STR`` — every item is exactly ``str``: the item lengths in code points as little-endian
  ``u32`` s, then the UTF-8 of all items concatenated;
* ``INT`` — every item is exactly ``int`` and fits in 64 bits: little-endian ``i64`` s;
* ``TAGGED`` — anything else a snapshot supports (``None``, ``bool``, ``int`` of any size,
  ``float``, ``str``, ``bytes``, and tuples of these): one tag byte per item, then its payload.

Nothing here imports, evaluates or unpickles anything: decoding builds only those types, and
every length is checked against the bytes that remain before it is used.
"""

from __future__ import annotations

import struct
import sys
from array import array
from collections.abc import Sequence
from itertools import accumulate, pairwise
from typing import Any

from adhash.errors import BadInputError, InvariantError

__all__ = ["decode_chunk", "encode_chunk", "first_unsupported", "supported"]

COLUMN_STR = 1
COLUMN_INT = 2
COLUMN_TAGGED = 3

TAG_NONE = 0
TAG_FALSE = 1
TAG_TRUE = 2
TAG_INT = 3
TAG_FLOAT = 4
TAG_STR = 5
TAG_BYTES = 6
TAG_TUPLE = 7

MAX_TUPLE_DEPTH = 32
MAX_INT_BYTES = 1 << 16
_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
_U32 = struct.Struct("<I")
_F64 = struct.Struct("<d")
_LITTLE = sys.byteorder == "little"


def supported(item: object, depth: int = 0) -> bool:
    """Whether ``item`` is a type snapshots store: str, bytes, int, float, bool, None, tuples.

    >>> (supported(("a", 1, None, (2.5, b"x"))), supported([1]), supported(True))
    (True, False, True)
    """
    kind = type(item)
    if kind is int:
        size: int = (item.bit_length() + 8) // 8  # type: ignore[attr-defined]
        return size <= MAX_INT_BYTES
    if kind in (str, float, bool, bytes) or item is None:
        return True
    if kind is tuple and depth < MAX_TUPLE_DEPTH:
        return all(supported(part, depth + 1) for part in item)  # type: ignore[attr-defined]
    return False


def first_unsupported(item: object, depth: int = 0) -> object | None:
    """The first part of ``item`` (``item`` itself, or inside a tuple) snapshots cannot store.

    >>> first_unsupported((1, frozenset({2})))
    frozenset({2})
    """
    if type(item) is tuple and depth < MAX_TUPLE_DEPTH:
        for part in item:
            found = first_unsupported(part, depth + 1)
            if found is not None:
                return found
        return None
    return None if supported(item, depth) else item


def _u32_array(values: Sequence[int]) -> bytes:
    packed = array("I", values)
    if not _LITTLE:
        packed.byteswap()
    return packed.tobytes()


def _encode_column(items: Sequence[Any]) -> bytes:
    if all(type(item) is str for item in items):
        text = "".join(items).encode("utf-8", "surrogatepass")
        lengths = _u32_array([len(item) for item in items])
        return bytes([COLUMN_STR]) + _U32.pack(len(text)) + lengths + text
    if all(type(item) is int and _INT64_MIN <= item <= _INT64_MAX for item in items):
        packed = array("q", items)
        if not _LITTLE:
            packed.byteswap()
        return bytes([COLUMN_INT]) + packed.tobytes()
    out = bytearray([COLUMN_TAGGED])
    for item in items:
        _encode_tagged(item, out, 0)
    return bytes(out)


def _varint(n: int, out: bytearray) -> None:
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def _encode_tagged(item: Any, out: bytearray, depth: int) -> None:
    kind = type(item)
    if item is None:
        out.append(TAG_NONE)
    elif kind is bool:
        out.append(TAG_TRUE if item else TAG_FALSE)
    elif kind is int:
        size = (item.bit_length() + 8) // 8
        if size > MAX_INT_BYTES:
            raise BadInputError(
                f"an integer of {size} bytes exceeds the {MAX_INT_BYTES}-byte limit"
            )
        out.append(TAG_INT)
        _varint(size, out)
        out += item.to_bytes(size, "little", signed=True)
    elif kind is float:
        out.append(TAG_FLOAT)
        out += _F64.pack(item)
    elif kind is str:
        data = item.encode("utf-8", "surrogatepass")
        out.append(TAG_STR)
        _varint(len(data), out)
        out += data
    elif kind is bytes:
        out.append(TAG_BYTES)
        _varint(len(item), out)
        out += item
    elif kind is tuple and depth < MAX_TUPLE_DEPTH:
        out.append(TAG_TUPLE)
        _varint(len(item), out)
        for part in item:
            _encode_tagged(part, out, depth + 1)
    else:
        raise BadInputError(f"cannot store an item of type {kind.__name__}")


def encode_chunk(keys: Sequence[Any], values: Sequence[Any]) -> bytes:
    """The raw (uncompressed) bytes of one chunk: the key column, then the value column.

    Complexity: O(total size of the items).

    >>> raw = encode_chunk(["a", "bc"], [1, None])
    >>> decode_chunk(raw, 2)
    (['a', 'bc'], [1, None])
    """
    keys_column = _encode_column(keys)
    return _U32.pack(len(keys_column)) + keys_column + _encode_column(values)


class _Reader:
    """A cursor over a chunk's bytes; every read is bounds-checked."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if n < 0 or end > len(self.data):
            raise InvariantError(
                f"chunk record overruns its chunk ({n} bytes wanted at {self.pos} of "
                f"{len(self.data)})"
            )
        piece = self.data[self.pos : end]
        self.pos = end
        return piece

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise InvariantError("chunk record overruns its chunk")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def varint(self) -> int:
        shift = 0
        result = 0
        while True:
            byte = self.byte()
            result |= (byte & 0x7F) << shift
            if byte < 0x80:
                return result
            shift += 7
            if shift > 63:
                raise InvariantError("chunk record has an over-long length field")


def _decode_tagged(reader: _Reader, depth: int) -> Any:
    tag = reader.byte()
    if tag == TAG_NONE:
        return None
    if tag == TAG_FALSE:
        return False
    if tag == TAG_TRUE:
        return True
    if tag == TAG_INT:
        size = reader.varint()
        if size > MAX_INT_BYTES:
            raise InvariantError(f"integer of {size} bytes exceeds the {MAX_INT_BYTES}-byte limit")
        return int.from_bytes(reader.take(size), "little", signed=True)
    if tag == TAG_FLOAT:
        value: float = _F64.unpack(reader.take(8))[0]
        return value
    if tag == TAG_STR:
        try:
            return reader.take(reader.varint()).decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            raise InvariantError("a string record is not valid UTF-8") from None
    if tag == TAG_BYTES:
        return reader.take(reader.varint())
    if tag == TAG_TUPLE:
        if depth >= MAX_TUPLE_DEPTH:
            raise InvariantError(f"tuples nested deeper than {MAX_TUPLE_DEPTH}")
        count = reader.varint()
        if count > len(reader.data) - reader.pos:
            raise InvariantError("a tuple record declares more items than its chunk holds")
        return tuple(_decode_tagged(reader, depth + 1) for _ in range(count))
    raise InvariantError(f"unknown record tag {tag}")


def _decode_column(reader: _Reader, count: int, end: int) -> list[Any]:
    kind = reader.byte()
    if kind == COLUMN_STR:
        (text_bytes,) = _U32.unpack(reader.take(4))
        lengths = array("I")
        lengths.frombytes(reader.take(4 * count))
        if not _LITTLE:
            lengths.byteswap()
        try:
            text = reader.take(text_bytes).decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            raise InvariantError("a string column is not valid UTF-8") from None
        offsets = list(accumulate(lengths, initial=0))
        if offsets[-1] != len(text):
            raise InvariantError("string lengths do not add up to the column's text")
        return [text[start:stop] for start, stop in pairwise(offsets)]
    if kind == COLUMN_INT:
        numbers = array("q")
        numbers.frombytes(reader.take(8 * count))
        if not _LITTLE:
            numbers.byteswap()
        return numbers.tolist()
    if kind == COLUMN_TAGGED:
        items = [_decode_tagged(reader, 0) for _ in range(count)]
        if reader.pos > end:
            raise InvariantError("a column overruns its chunk")
        return items
    raise InvariantError(f"unknown column layout {kind}")


def decode_chunk(raw: bytes, count: int) -> tuple[list[Any], list[Any]]:
    """The keys and values of a chunk of ``count`` entries; InvariantError if malformed.

    Complexity: O(len(raw)).
    """
    reader = _Reader(raw)
    (keys_length,) = _U32.unpack(reader.take(4))
    keys_end = 4 + keys_length
    if keys_end > len(raw):
        raise InvariantError("the key column overruns its chunk")
    keys = _decode_column(reader, count, keys_end)
    if reader.pos != keys_end:
        raise InvariantError("the key column's length does not match its contents")
    values = _decode_column(reader, count, len(raw))
    if reader.pos != len(raw):
        raise InvariantError("a chunk has bytes after its value column")
    return keys, values
