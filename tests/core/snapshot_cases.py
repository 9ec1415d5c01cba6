"""Snapshot files built byte by byte for the snapshot tests: honest, damaged and hostile ones.

Every crafted file is made here in code (no binaries are committed). :func:`assemble` writes any
header and chunk fields, true or lying, and seals them with correct checksums, so a test reaches
the check it is aimed at instead of failing early on a checksum; :func:`layout_of` finds the
parts of a file so that a test can damage exactly one of them.
"""

from __future__ import annotations

import json
import struct
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import zstandard

from adhash.errors import BadInputError, InvariantError, IOFailureError
from adhash.snapshot.codec import encode_chunk
from adhash.snapshot.container import CODEC_ZSTD, MAGIC, TRAILER_MAGIC, _mac

HEADER = struct.Struct("<8sHHBBHIIQ")
HEADER_FIELDS = (
    "magic",
    "version",
    "flags",
    "codec",
    "reserved1",
    "reserved2",
    "meta_len",
    "chunk_count",
    "entry_count",
)
CHUNK_HEADER = struct.Struct("<IIII")
MAC_SIZE = 32

CLEAN_ERRORS = (BadInputError, InvariantError, IOFailureError)
"""What a damaged or hostile file may raise: adhash's own errors, nothing else."""

MEMORY_BOUND = 50 * 2**20
"""Peak traced memory allowed while reading a file of a few KB, whatever it declares."""

ROBINHOOD_META: dict[str, Any] = {
    "backend": "robinhood",
    "config": {
        "capacity": 8,
        "max_load_factor": 0.7,
        "deletion": "backward_shift",
        "tombstone_purge_ratio": 0.3,
        "hash_seed": 7,
    },
}


@dataclass(frozen=True, slots=True)
class RawChunk:
    """One chunk's header fields and stored payload, exactly as they go into the file."""

    entries: int
    raw_len: int
    payload: bytes
    stored_len: int | None = None
    reserved: int = 0

    def header(self) -> bytes:
        stored_len = len(self.payload) if self.stored_len is None else self.stored_len
        return CHUNK_HEADER.pack(self.entries, self.raw_len, stored_len, self.reserved)


def zstd_chunk(keys: Sequence[Any], values: Sequence[Any]) -> RawChunk:
    """An honest zstd chunk holding ``keys`` and ``values``."""
    raw = encode_chunk(keys, values)
    compressor = zstandard.ZstdCompressor(write_content_size=True)
    return RawChunk(entries=len(keys), raw_len=len(raw), payload=compressor.compress(raw))


def raw_chunk(keys: Sequence[Any], values: Sequence[Any]) -> RawChunk:
    """An honest uncompressed chunk (for files whose header says codec raw)."""
    raw = encode_chunk(keys, values)
    return RawChunk(entries=len(keys), raw_len=len(raw), payload=raw)


def meta_bytes(meta: dict[str, Any]) -> bytes:
    """Metadata as a writer would store it (``json`` here: it also writes ints over 64 bits)."""
    return json.dumps(meta, sort_keys=True).encode()


def assemble(
    chunks: Sequence[RawChunk],
    *,
    meta: bytes | None = None,
    key: bytes | None = None,
    magic: bytes = MAGIC,
    version: int = 1,
    flags: int | None = None,
    codec: int = CODEC_ZSTD,
    reserved: tuple[int, int] = (0, 0),
    meta_len: int | None = None,
    chunk_count: int | None = None,
    entry_count: int | None = None,
    trailer_magic: bytes = TRAILER_MAGIC,
    after_trailer: bytes = b"",
) -> bytes:
    """A snapshot with the given fields (true by default), every checksum computed correctly.

    Fields left as None are made true: ``meta`` is :data:`ROBINHOOD_META`, the counts are those
    of ``chunks``, ``flags`` says keyed exactly when ``key`` is given.
    """
    meta = meta_bytes(ROBINHOOD_META) if meta is None else meta
    header = HEADER.pack(
        magic,
        version,
        (1 if key else 0) if flags is None else flags,
        codec,
        *reserved,
        len(meta) if meta_len is None else meta_len,
        len(chunks) if chunk_count is None else chunk_count,
        sum(chunk.entries for chunk in chunks) if entry_count is None else entry_count,
    )
    header_mac = _mac(key, header, meta)
    out = bytearray(header + meta + header_mac)
    chunk_macs = []
    for chunk in chunks:
        chunk_header = chunk.header()
        chunk_mac = _mac(key, chunk_header, chunk.payload)
        chunk_macs.append(chunk_mac)
        out += chunk_header + chunk_mac + chunk.payload
    out += trailer_magic + _mac(key, header_mac, *chunk_macs) + after_trailer
    return bytes(out)


@dataclass(frozen=True, slots=True)
class ChunkSpan:
    """Where one chunk lies in a file, and what its header says."""

    index: int
    offset: int
    entries: int
    raw_len: int
    stored_len: int

    @property
    def mac_offset(self) -> int:
        return self.offset + CHUNK_HEADER.size

    @property
    def payload_offset(self) -> int:
        return self.mac_offset + MAC_SIZE

    @property
    def end(self) -> int:
        return self.payload_offset + self.stored_len


@dataclass(frozen=True, slots=True)
class Layout:
    """The parts of an honest snapshot file."""

    meta_len: int
    chunk_count: int
    entry_count: int
    chunks: tuple[ChunkSpan, ...]


def layout_of(data: bytes) -> Layout:
    """Parse an honest file's layout (the tests damage it afterwards, never before)."""
    fields = HEADER.unpack_from(data)
    meta_len, chunk_count, entry_count = fields[-3:]
    offset = HEADER.size + meta_len + MAC_SIZE
    spans = []
    for index in range(chunk_count):
        entries, raw_len, stored_len, _ = CHUNK_HEADER.unpack_from(data, offset)
        span = ChunkSpan(index, offset, entries, raw_len, stored_len)
        spans.append(span)
        offset = span.end
    assert data[offset : offset + len(TRAILER_MAGIC)] == TRAILER_MAGIC
    return Layout(meta_len, chunk_count, entry_count, tuple(spans))


def patch_header(data: bytes, **fields: int) -> bytes:
    """``data`` with header fields replaced in place, the checksum left as it was."""
    values = dict(zip(HEADER_FIELDS, HEADER.unpack_from(data), strict=True))
    values.update(fields)
    return HEADER.pack(*values.values()) + data[HEADER.size :]


def flip(data: bytes, offset: int, mask: int = 0x01) -> bytes:
    """``data`` with the byte at ``offset`` XOR-ed with ``mask``."""
    damaged = bytearray(data)
    damaged[offset] ^= mask
    return bytes(damaged)


def zeros_frame(total: int, *, declared_size: int | None) -> bytes:
    """A valid zstd frame that expands to ``total`` zero bytes, built from RLE blocks.

    It costs 4 bytes per 128 KiB block, so a 1 GiB bomb is 32 KiB and is made without ever
    holding the gigabyte. ``declared_size`` goes into the frame header's content size field
    (None leaves it out); it need not be true.
    """
    block = 1 << 17
    assert total % block == 0
    # Descriptor: content size field of 8 bytes (0xC0) or none (0x00); a window descriptor
    # follows (no single-segment flag) declaring a 128 KiB window (log 17 = 10 + 7).
    frame = bytearray(struct.pack("<I", 0xFD2FB528))
    if declared_size is None:
        frame += bytes([0x00, 7 << 3])
    else:
        frame += bytes([0xC0, 7 << 3]) + struct.pack("<Q", declared_size)
    blocks = total // block
    for n in range(blocks):
        last = 1 if n == blocks - 1 else 0
        frame += (last | (1 << 1) | (block << 3)).to_bytes(3, "little") + b"\x00"
    return bytes(frame)


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a call ended: what it returned or raised, its traced memory peak and its duration."""

    result: Any
    error: Exception | None
    peak_bytes: int
    seconds: float


def traced(action: Callable[[], Any]) -> Outcome:
    """Run ``action`` with allocations traced; its exception is returned, not raised."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        try:
            result = action()
        except Exception as exc:  # the caller judges which errors are acceptable
            return Outcome(None, exc, tracemalloc.get_traced_memory()[1], _since(started))
        return Outcome(result, None, tracemalloc.get_traced_memory()[1], _since(started))
    finally:
        tracemalloc.stop()


def _since(started: float) -> float:
    return time.perf_counter() - started
