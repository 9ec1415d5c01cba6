"""The snapshot container: header, checksummed chunks, trailer — written and read with bounds.

Layout (integers little-endian; specified byte by byte in ``docs/snapshots.md``)::

    header     magic "\\x89ADHSNP\\n" (8) | version u16 | flags u16 | codec u8 | reserved u8
               | reserved u16 | meta_len u32 | chunk_count u32 | entry_count u64       = 32 bytes
    meta       meta_len bytes of UTF-8 JSON: backend, configuration, statistics, versions
    header MAC 32 bytes: BLAKE2b-256 of the 32 header bytes and the meta
    chunk × N  entries u32 | raw_len u32 | stored_len u32 | reserved u32 (16 bytes)
               | chunk MAC 32 bytes: BLAKE2b-256 of those 16 bytes and the payload
               | payload: stored_len bytes (zstd frame of raw_len bytes, or raw)
    trailer    magic "\\x89ADHEND\\n" (8) | file MAC 32 bytes: BLAKE2b-256 of the header MAC and
               every chunk MAC, in order

Every MAC is keyed when flag bit 0 is set (the key comes from ``ADHASH_SNAPSHOT_KEY``). A reader
checks every length against the file size and the :class:`SnapshotLimits` before reading,
allocating or decompressing anything.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson
import zstandard

from adhash.errors import BadInputError, InvariantError, IOFailureError

__all__ = [
    "CODEC_RAW",
    "CODEC_ZSTD",
    "MAGIC",
    "TRAILER_MAGIC",
    "ChunkRecord",
    "SnapshotHeader",
    "SnapshotLimits",
    "SnapshotReader",
    "SnapshotWriter",
    "key_from_environment",
]

MAGIC = b"\x89ADHSNP\n"
TRAILER_MAGIC = b"\x89ADHEND\n"
FORMAT_VERSION = 1
FLAG_KEYED = 0x0001
CODEC_RAW = 0
CODEC_ZSTD = 1
_HEADER = struct.Struct("<8sHHBBHIIQ")
_CHUNK = struct.Struct("<IIII")
_MAC_SIZE = 32
_KEY_ENV = "ADHASH_SNAPSHOT_KEY"
_HINT = "see docs/snapshots.md"


@dataclass(frozen=True, slots=True)
class SnapshotLimits:
    """What a reader accepts before refusing a file as hostile or damaged."""

    max_meta_bytes: int = 1 << 20
    max_chunks: int = 1 << 20
    max_entries: int = 1 << 31
    max_chunk_raw_bytes: int = 256 << 20
    max_chunk_entries: int = 1 << 22
    max_initial_slots: int = 1 << 22

    def __post_init__(self) -> None:
        for name in (
            "max_meta_bytes",
            "max_chunks",
            "max_entries",
            "max_chunk_raw_bytes",
            "max_chunk_entries",
            "max_initial_slots",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise BadInputError(f"SnapshotLimits.{name} must be an int >= 1, got {value!r}")


def key_from_environment() -> bytes | None:
    """The MAC key derived from ``ADHASH_SNAPSHOT_KEY``, or None when it is unset or empty.

    The variable's text is stretched to a 32-byte BLAKE2b key; it is never written anywhere.
    """
    secret = os.environ.get(_KEY_ENV)
    if not secret:
        return None
    return hashlib.blake2b(secret.encode(), digest_size=32, person=b"adhash-snapkey").digest()


def _mac(key: bytes | None, *parts: bytes) -> bytes:
    digest = hashlib.blake2b(digest_size=_MAC_SIZE, key=key or b"")
    for part in parts:
        digest.update(part)
    return digest.digest()


@dataclass(frozen=True, slots=True)
class SnapshotHeader:
    """The parsed header and metadata of a snapshot file."""

    version: int
    keyed: bool
    codec: int
    chunk_count: int
    entry_count: int
    meta: dict[str, Any]
    header_mac: bytes
    file_bytes: int


@dataclass(frozen=True, slots=True)
class ChunkRecord:
    """One chunk as read: its declared sizes, its MAC, its stored payload, and where it was."""

    index: int
    offset: int
    entries: int
    raw_len: int
    stored: bytes
    mac: bytes
    mac_ok: bool


class SnapshotWriter:
    """Streams a snapshot into an open binary file; the caller makes the write atomic."""

    def __init__(
        self,
        handle: IO[bytes],
        *,
        meta: dict[str, Any],
        entry_count: int,
        chunk_count: int,
        key: bytes | None,
        codec: int = CODEC_ZSTD,
        level: int = 3,
    ) -> None:
        self._handle = handle
        self._key = key
        self._codec = codec
        self._compressor = zstandard.ZstdCompressor(level=level, write_content_size=True)
        meta_bytes = orjson.dumps(meta, option=orjson.OPT_SORT_KEYS)
        header = _HEADER.pack(
            MAGIC,
            FORMAT_VERSION,
            FLAG_KEYED if key else 0,
            codec,
            0,
            0,
            len(meta_bytes),
            chunk_count,
            entry_count,
        )
        self._header_mac = _mac(key, header, meta_bytes)
        self._chunk_macs: list[bytes] = []
        self._expected_chunks = chunk_count
        handle.write(header)
        handle.write(meta_bytes)
        handle.write(self._header_mac)

    def write_chunk(self, entries: int, raw: bytes) -> None:
        """Compress and append one chunk of ``entries`` entries."""
        stored = self._compressor.compress(raw) if self._codec == CODEC_ZSTD else raw
        chunk_header = _CHUNK.pack(entries, len(raw), len(stored), 0)
        mac = _mac(self._key, chunk_header, stored)
        self._chunk_macs.append(mac)
        self._handle.write(chunk_header)
        self._handle.write(mac)
        self._handle.write(stored)

    def finish(self) -> None:
        """Write the trailer."""
        if len(self._chunk_macs) != self._expected_chunks:
            raise InvariantError(
                f"wrote {len(self._chunk_macs)} chunks, the header promised {self._expected_chunks}"
            )
        self._handle.write(TRAILER_MAGIC)
        self._handle.write(_mac(self._key, self._header_mac, *self._chunk_macs))


class SnapshotReader:
    """Reads a snapshot file with every length checked before it is trusted.

    ``key`` is the MAC key to check against (``None``: the file must be unkeyed). Use as a
    context manager.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        key: bytes | None,
        limits: SnapshotLimits | None = None,
    ) -> None:
        self.path = Path(path)
        self.limits = limits if limits is not None else SnapshotLimits()
        self._key = key
        if self.path.is_dir():
            raise IOFailureError(f"snapshot {self.path} is a directory, not a file")
        try:
            self._handle: IO[bytes] = open(self.path, "rb")  # noqa: SIM115 - closed in close()
            self._size = os.fstat(self._handle.fileno()).st_size
        except FileNotFoundError:
            raise IOFailureError(
                f"snapshot not found: {self.path}", hint="check the path"
            ) from None
        except OSError as exc:
            raise IOFailureError(f"cannot read snapshot {self.path}: {exc.strerror}") from None
        try:
            self.header = self._read_header()
        except BaseException:
            self._handle.close()
            raise
        self._chunk_macs: list[bytes] = []

    def __enter__(self) -> SnapshotReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the file."""
        self._handle.close()

    def _read(self, n: int, what: str) -> bytes:
        data = self._handle.read(n)
        if len(data) != n:
            raise BadInputError(
                f"snapshot {self.path} is truncated: {what} needs {n} bytes, {len(data)} remain",
                hint=_HINT,
            )
        return data

    def _read_header(self) -> SnapshotHeader:
        raw = self._read(_HEADER.size, "the header")
        (magic, version, flags, codec, reserved1, reserved2, meta_len, chunk_count, entry_count) = (
            _HEADER.unpack(raw)
        )
        if magic != MAGIC:
            raise BadInputError(f"{self.path} is not an adhash snapshot (bad magic)", hint=_HINT)
        if version != FORMAT_VERSION:
            raise BadInputError(
                f"snapshot format version {version} is not supported (this adhash reads "
                f"version {FORMAT_VERSION})",
                hint="upgrade adhash to read newer snapshots",
            )
        if flags & ~FLAG_KEYED:
            raise BadInputError(f"snapshot {self.path} has unknown flags {flags:#06x}", hint=_HINT)
        if reserved1 or reserved2:
            raise BadInputError(
                f"snapshot {self.path}: the reserved bytes beside the flags are not zero",
                hint=_HINT,
            )
        if codec not in (CODEC_RAW, CODEC_ZSTD):
            raise BadInputError(f"snapshot {self.path} uses unknown codec {codec}", hint=_HINT)
        limits = self.limits
        if meta_len > limits.max_meta_bytes:
            raise BadInputError(
                f"snapshot metadata of {meta_len} bytes exceeds the limit {limits.max_meta_bytes}"
            )
        if chunk_count > limits.max_chunks:
            raise BadInputError(f"snapshot declares {chunk_count} chunks, over {limits.max_chunks}")
        if entry_count > limits.max_entries:
            raise BadInputError(
                f"snapshot declares {entry_count} entries, over {limits.max_entries}"
            )
        minimum = (
            _HEADER.size
            + meta_len
            + _MAC_SIZE
            + chunk_count * (_CHUNK.size + _MAC_SIZE)
            + len(TRAILER_MAGIC)
            + _MAC_SIZE
        )
        if minimum > self._size:
            raise BadInputError(
                f"snapshot {self.path} is truncated or its header lies: it declares at least "
                f"{minimum} bytes but the file has {self._size}",
                hint=_HINT,
            )
        keyed = bool(flags & FLAG_KEYED)
        if keyed and self._key is None:
            raise BadInputError(
                f"snapshot {self.path} is authenticated with a key; set ADHASH_SNAPSHOT_KEY to "
                "the key it was written with",
            )
        if not keyed and self._key is not None:
            raise BadInputError(
                f"snapshot {self.path} carries no authentication, but ADHASH_SNAPSHOT_KEY is "
                "set: refusing an unauthenticated file",
                hint="unset ADHASH_SNAPSHOT_KEY to read files written without a key",
            )
        meta_bytes = self._read(meta_len, "the metadata")
        header_mac = self._read(_MAC_SIZE, "the header checksum")
        if _mac(self._key, raw, meta_bytes) != header_mac:
            raise InvariantError(
                f"snapshot {self.path}: header checksum mismatch"
                + (" (wrong key, or the file was altered)" if keyed else " (the file is damaged)"),
                hint=_HINT,
            )
        try:
            meta = orjson.loads(meta_bytes)
        except orjson.JSONDecodeError:
            raise InvariantError(f"snapshot {self.path}: metadata is not JSON") from None
        if not isinstance(meta, dict):
            raise InvariantError(f"snapshot {self.path}: metadata is not a JSON object")
        return SnapshotHeader(
            version=version,
            keyed=keyed,
            codec=codec,
            chunk_count=chunk_count,
            entry_count=entry_count,
            meta=meta,
            header_mac=header_mac,
            file_bytes=self._size,
        )

    def chunks(self) -> Iterator[ChunkRecord]:
        """Yield every chunk with its MAC checked (``mac_ok``), payload not yet decoded.

        Raises BadInputError when a chunk's declared sizes cannot be true (the rest of the file
        cannot be located after that); a MAC mismatch is reported, not raised.
        """
        limits = self.limits
        declared = 0
        for index in range(self.header.chunk_count):
            offset = self._handle.tell()
            chunk_header = self._read(_CHUNK.size, f"chunk {index}'s header")
            entries, raw_len, stored_len, reserved = _CHUNK.unpack(chunk_header)
            mac = self._read(_MAC_SIZE, f"chunk {index}'s checksum")
            remaining = self._size - self._handle.tell() - len(TRAILER_MAGIC) - _MAC_SIZE
            if (
                reserved
                or stored_len > remaining
                or raw_len > limits.max_chunk_raw_bytes
                or entries > limits.max_chunk_entries
                or (self.header.codec == CODEC_RAW and stored_len != raw_len)
            ):
                raise BadInputError(
                    f"snapshot {self.path}: chunk {index} at byte {offset} declares impossible "
                    f"sizes ({entries} entries, {raw_len} raw bytes, {stored_len} stored bytes)",
                    hint=_HINT,
                )
            declared += entries
            if declared > self.header.entry_count:
                raise BadInputError(
                    f"snapshot {self.path}: chunks hold more entries than the header's "
                    f"{self.header.entry_count}",
                    hint=_HINT,
                )
            stored = self._read(stored_len, f"chunk {index}'s payload")
            self._chunk_macs.append(mac)
            yield ChunkRecord(
                index=index,
                offset=offset,
                entries=entries,
                raw_len=raw_len,
                stored=stored,
                mac=mac,
                mac_ok=_mac(self._key, chunk_header, stored) == mac,
            )

    def raw_payload(self, chunk: ChunkRecord) -> bytes:
        """The decompressed payload of ``chunk``, never more than its declared ``raw_len``."""
        if self.header.codec == CODEC_RAW:
            return chunk.stored
        # Never trust the frame's own size field: read at most raw_len + 1 bytes from a stream,
        # so a frame that expands to gigabytes costs at most one chunk's worth of memory.
        try:
            reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(chunk.stored))
            raw = reader.read(chunk.raw_len + 1)
            while len(raw) <= chunk.raw_len:
                more = reader.read(chunk.raw_len + 1 - len(raw))
                if not more:
                    break
                raw += more
        except zstandard.ZstdError as exc:
            raise InvariantError(
                f"snapshot {self.path}: chunk {chunk.index} does not decompress ({exc})"
            ) from None
        if len(raw) != chunk.raw_len:
            problem = (
                f"does not decompress to its declared {chunk.raw_len} bytes (it holds more)"
                if len(raw) > chunk.raw_len
                else f"decompresses to {len(raw)} bytes, not its declared {chunk.raw_len}"
            )
            raise InvariantError(f"snapshot {self.path}: chunk {chunk.index} {problem}")
        return raw

    def finish(self) -> bool:
        """Check the trailer after every chunk was read; True when the file MAC matches."""
        magic = self._read(len(TRAILER_MAGIC), "the trailer")
        if magic != TRAILER_MAGIC:
            raise BadInputError(f"snapshot {self.path}: trailer is missing or damaged", hint=_HINT)
        file_mac = self._read(_MAC_SIZE, "the file checksum")
        if self._handle.read(1):
            raise BadInputError(f"snapshot {self.path}: bytes after the trailer", hint=_HINT)
        return _mac(self._key, self.header.header_mac, *self._chunk_macs) == file_mac
