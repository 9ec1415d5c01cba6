"""Saving, loading, inspecting, verifying, repairing and compacting snapshots.

A snapshot holds a map's backend, its configuration and its entries as typed records (see
:mod:`adhash.snapshot.codec` and :mod:`adhash.snapshot.container`). Nothing in a file can make
adhash import, evaluate or unpickle anything: the backend is looked up in a fixed table and the
configuration is validated by the backend's own constructor.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adhash._version import __version__
from adhash.atomic import AtomicFile
from adhash.errors import AdhashError, BadInputError, InvariantError
from adhash.maps import (
    AdaptiveMap,
    AdaptivePolicy,
    ChainingMap,
    CompactMap,
    RobinHoodMap,
    SaltedMap,
)
from adhash.snapshot.codec import decode_chunk, encode_chunk, first_unsupported, supported
from adhash.snapshot.container import (
    CODEC_ZSTD,
    SnapshotLimits,
    SnapshotReader,
    SnapshotWriter,
    key_from_environment,
)

__all__ = [
    "USE_ENVIRONMENT_KEY",
    "CompactReport",
    "KeyLookup",
    "LostChunk",
    "RepairReport",
    "SnapshotInfo",
    "VerifyReport",
    "compact",
    "inspect",
    "load",
    "repair",
    "save",
    "verify",
]

USE_ENVIRONMENT_KEY: Any = object()
"""The default ``key``: derive it from ``ADHASH_SNAPSHOT_KEY`` (no key when that is unset)."""

DEFAULT_CHUNK_ENTRIES = 65_536
_BACKENDS: dict[str, type[Any]] = {
    "chaining": ChainingMap,
    "robinhood": RobinHoodMap,
    "compact": CompactMap,
}
_PREVIEW_REPR = 160


def _resolve_key(key: Any) -> bytes | None:
    if key is USE_ENVIRONMENT_KEY:
        return key_from_environment()
    if key is None or key == b"":
        return None
    if isinstance(key, bytes):
        if len(key) > 64:
            raise BadInputError(f"a snapshot key is at most 64 bytes, got {len(key)}")
        return key
    raise BadInputError(f"key must be bytes or None, got {type(key).__name__}")


def _describe(m: Any) -> tuple[str, dict[str, Any]]:
    """The backend name and the configuration that rebuilds an empty ``m``."""
    if type(m) is dict:
        return "dict", {}
    if isinstance(m, AdaptiveMap):
        return "adaptive", {
            "policy": m.policy.as_dict(),
            "hash_seed": m._config()["hash_seed"],
            "backend": m.backend,
            "hashing": m.hashing,
        }
    if type(m) is SaltedMap:
        inner = m.inner
        # The secret itself is never written: a seeded map re-derives it, others get a new one.
        return "salted", {
            "inner": inner.backend_name,
            "inner_config": inner._config(),
            "seed": m._config()["seed"],
        }
    for name, backend in _BACKENDS.items():
        if type(m) is backend:
            return name, m._config()
    raise BadInputError(
        f"cannot save a {type(m).__name__}: snapshots hold dict, ChainingMap, RobinHoodMap, "
        "CompactMap, SaltedMap and AdaptiveMap"
    )


_SIZE_OPTIONS = ("capacity", "buckets", "robinhood_capacity", "compact_capacity")


def _check_config(backend: str, config: dict[str, Any], limits: SnapshotLimits, path: Path) -> None:
    """Refuse options a backend does not have and sizes past the limits, before allocating."""
    factory = _BACKENDS.get(backend)
    if factory:
        allowed = set(factory()._config())
    elif backend == "salted":
        allowed = {"inner", "inner_config", "seed"}
    else:
        allowed = {"policy", "hash_seed", "backend", "hashing"}
    unknown = set(config) - allowed
    if unknown:
        raise InvariantError(
            f"snapshot {path}: {backend} has no option(s) {', '.join(sorted(unknown))}",
            hint="the file is damaged",
        )
    sizes = dict(config)  # a salted map's inner configuration is checked on its own in _build
    if backend == "adaptive" and isinstance(config.get("policy"), dict):
        sizes = dict(config["policy"])
        sizes["buckets"] = sizes.get("chaining_buckets", 1)
    named = [(name, sizes.get(name)) for name in _SIZE_OPTIONS]
    groups = sizes.get("groups_per_bucket", 1)
    if isinstance(groups, int) and isinstance(sizes.get("buckets"), int):
        named.append(("buckets × groups_per_bucket", sizes["buckets"] * groups))
    for name, value in named:
        if (
            isinstance(value, int)
            and not isinstance(value, bool)
            and value > limits.max_initial_slots
        ):
            raise InvariantError(
                f"snapshot {path}: {backend} configuration: {name} of {value} slots exceeds the "
                f"limit {limits.max_initial_slots}",
                hint="the file is damaged or hostile",
            )


def _build(meta: dict[str, Any], path: Path, limits: SnapshotLimits | None = None) -> Any:
    """An empty map from a snapshot's metadata, validated by the backend's constructor."""
    backend = meta.get("backend")
    config = meta.get("config")
    if not isinstance(config, dict):
        raise InvariantError(f"snapshot {path}: metadata has no configuration")
    if backend not in ("dict", "adaptive", "salted") and backend not in _BACKENDS:
        raise InvariantError(f"snapshot {path}: unknown backend {backend!r}")
    _check_config(str(backend), config, limits or SnapshotLimits(), path)
    m: Any
    try:
        if backend == "dict":
            return {}
        if backend == "adaptive":
            policy = AdaptivePolicy(**config["policy"])
            # A salted map gets a new secret: the old one is never written to the file.
            hashing = config.get("hashing", "plain")
            m = AdaptiveMap(policy=policy, hash_seed=config["hash_seed"], hashing=hashing)
            current = config["backend"]
            if current != m.backend:
                m.migrate_to(current)
                m.finish_migration()
            return m
        if backend == "salted":
            inner_name = config["inner"]
            inner_config = config["inner_config"]
            if inner_name not in _BACKENDS or not isinstance(inner_config, dict):
                raise InvariantError(
                    f"snapshot {path}: salted map over unknown backend {inner_name!r}",
                    hint="the file is damaged",
                )
            _check_config(str(inner_name), inner_config, limits or SnapshotLimits(), path)
            inner = _BACKENDS[inner_name](**inner_config)
            return SaltedMap(inner=inner, seed=config["seed"])
        return _BACKENDS[str(backend)](**config)
    except (TypeError, KeyError) as exc:
        raise InvariantError(
            f"snapshot {path}: invalid {backend} configuration ({exc})", hint="the file is damaged"
        ) from None
    except BadInputError as exc:
        raise InvariantError(
            f"snapshot {path}: invalid {backend} configuration: {exc.detail}",
            hint="the file is damaged",
        ) from None


def _stats_of(m: Any) -> dict[str, Any]:
    if type(m) is dict:
        return {"backend": "dict", "size": len(m)}
    return dataclasses.asdict(m.stats())


def _export(m: Any) -> tuple[list[Any], list[Any]]:
    """Every key and value as parallel lists, in bulk (an AdaptiveMap mid-migration included)."""
    if type(m) is dict:
        return list(m.keys()), list(m.values())
    keys, values = m._export()
    if len(keys) != len(m):
        raise InvariantError(f"{type(m).__name__} exported {len(keys)} entries of {len(m)}")
    return keys, values


def _describe_unsupported(item: object) -> str:
    bad = first_unsupported(item)
    if type(bad) is int:
        return f"an integer of {(bad.bit_length() + 8) // 8} bytes exceeds the 65536-byte limit"
    where = "" if bad is item else f" (inside a {type(item).__name__})"
    return (
        f"type {type(bad).__name__}{where} is not supported (str, bytes, int, float, bool, "
        "None and tuples of these)"
    )


def _unsupported(keys: list[Any], values: list[Any]) -> BadInputError:
    for key, value in zip(keys, values, strict=True):
        if not supported(key):
            return BadInputError(
                f"cannot save key {_short_repr(key)}: {_describe_unsupported(key)}"
            )
        if not supported(value):
            return BadInputError(
                f"cannot save the value of key {_short_repr(key)}: {_describe_unsupported(value)}"
            )
    return BadInputError("an item of an unsupported type")


def save(
    m: Any,
    path: str | os.PathLike[str],
    *,
    key: Any = USE_ENVIRONMENT_KEY,
    chunk_entries: int = DEFAULT_CHUNK_ENTRIES,
    level: int = 3,
) -> int:
    """Write ``m`` to ``path`` atomically; return the file size in bytes.

    An AdaptiveMap in the middle of a migration is saved with every entry exactly once. With
    ``ADHASH_SNAPSHOT_KEY`` set (or ``key=``) every checksum is a keyed BLAKE2b MAC.
    Complexity: O(n).

    >>> import tempfile, os
    >>> from adhash import RobinHoodMap
    >>> path = os.path.join(tempfile.mkdtemp(), "m.adh")
    >>> _ = save(RobinHoodMap({"a": 1, ("t", 2): None}), path, key=None)
    >>> sorted(load(path, key=None).items(), key=repr)
    [('a', 1), (('t', 2), None)]
    """
    if isinstance(chunk_entries, bool) or not isinstance(chunk_entries, int) or chunk_entries < 1:
        raise BadInputError(f"chunk_entries must be an int >= 1, got {chunk_entries!r}")
    mac_key = _resolve_key(key)
    backend, config = _describe(m)
    count = len(m)
    meta = {
        "backend": backend,
        "config": config,
        "stats": _stats_of(m),
        "adhash_version": __version__,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "chunk_entries": chunk_entries,
    }
    hash_seed = config.get("hash_seed")
    if isinstance(hash_seed, int) and not -(2**63) <= hash_seed < 2**64:
        raise BadInputError(
            f"cannot save a map whose hash_seed ({hash_seed}) does not fit in 64 bits",
            hint="use a hash_seed between -2**63 and 2**64 - 1",
        )
    chunk_count = math.ceil(count / chunk_entries)
    target = Path(path)
    atomic = AtomicFile(target, "wb")
    try:
        writer = SnapshotWriter(
            atomic.file,
            meta=meta,
            entry_count=count,
            chunk_count=chunk_count,
            key=mac_key,
            codec=CODEC_ZSTD,
            level=level,
        )
        all_keys, all_values = _export(m)
        for start in range(0, count, chunk_entries):
            stop = start + chunk_entries
            _write_chunk(writer, all_keys[start:stop], all_values[start:stop])
        writer.finish()
    except BaseException:
        atomic.abort()
        raise
    atomic.commit()
    return target.stat().st_size


def _write_chunk(writer: SnapshotWriter, keys: list[Any], values: list[Any]) -> None:
    try:
        raw = encode_chunk(keys, values)
    except BadInputError:
        raise _unsupported(keys, values) from None
    writer.write_chunk(len(keys), raw)


def _checked_chunks(reader: SnapshotReader) -> Iterator[tuple[list[Any], list[Any]]]:
    for chunk in reader.chunks():
        if not chunk.mac_ok:
            raise InvariantError(
                f"snapshot {reader.path}: chunk {chunk.index} checksum mismatch"
                + (" (wrong key, or the file was altered)" if reader.header.keyed else ""),
                hint="`adhash verify-snapshot --repair` salvages the intact chunks",
            )
        keys, values = decode_chunk(reader.raw_payload(chunk), chunk.entries)
        if len(keys) != chunk.entries:
            raise InvariantError(f"snapshot {reader.path}: chunk {chunk.index} is short")
        yield keys, values


def load(
    path: str | os.PathLike[str],
    *,
    key: Any = USE_ENVIRONMENT_KEY,
    limits: SnapshotLimits | None = None,
) -> Any:
    """The map stored at ``path``: the same backend and configuration, equal contents.

    Every checksum is checked and every length bounded before use; a damaged, hostile or
    foreign file raises BadInputError, InvariantError or IOFailureError. Complexity: O(n).
    """
    with SnapshotReader(path, key=_resolve_key(key), limits=limits) as reader:
        m = _build(reader.header.meta, reader.path, reader.limits)
        # Every chunk is checked and decoded before the map is built: its size comes from the
        # data actually decoded, never from what the header claims, and a file that repeats a
        # key is refused before the bulk insert (which compares no keys) could store it twice.
        all_keys: list[Any] = []
        all_values: list[Any] = []
        for keys, values in _checked_chunks(reader):
            all_keys += keys
            all_values += values
        if not reader.finish():
            raise InvariantError(f"snapshot {reader.path}: file checksum mismatch")
        if type(m) is dict:
            m.update(zip(all_keys, all_values, strict=True))
            repeated = len(m) != len(all_keys)
        else:
            repeated = len(set(all_keys)) != len(all_keys)
            if not repeated:
                m._load_absent(all_keys, all_values)
        if repeated:
            raise InvariantError(
                f"snapshot {reader.path}: the file repeats keys",
                hint="`adhash verify-snapshot --repair` keeps the first of each",
            )
        if len(m) != reader.header.entry_count:
            raise InvariantError(
                f"snapshot {reader.path}: {reader.header.entry_count} entries declared, "
                f"{len(m)} stored"
            )
        return m


def _short_repr(item: object) -> str:
    try:
        text = repr(item)
    except ValueError:  # an int past CPython's int-to-str digit limit
        return f"<int of {item.bit_length()} bits>"  # type: ignore[attr-defined]
    return text if len(text) <= _PREVIEW_REPR else text[: _PREVIEW_REPR - 1] + "…"


@dataclass(frozen=True, slots=True)
class KeyLookup:
    """The answer to "is this key in the snapshot?"."""

    key: str
    found: bool
    value: str | None


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    """What :func:`inspect` found: header fields, stored statistics, a preview, a lookup."""

    path: str
    file_bytes: int
    format_version: int
    keyed: bool
    codec: str
    backend: str
    config: dict[str, Any]
    stats: dict[str, Any]
    entry_count: int
    chunk_count: int
    created_at: str | None
    adhash_version: str | None
    preview: list[tuple[str, str]]
    lookup: KeyLookup | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (schema ``adhash.snapshot_info.v1``)."""
        data = dataclasses.asdict(self)
        data["preview"] = [{"key": k, "value": v} for k, v in self.preview]
        return {"schema": "adhash.snapshot_info.v1", **data}


_NOT_GIVEN: Any = object()


def inspect(
    path: str | os.PathLike[str],
    *,
    contains: str | None = None,
    limit: int = 20,
    lookup: Any = _NOT_GIVEN,
    key: Any = USE_ENVIRONMENT_KEY,
    limits: SnapshotLimits | None = None,
) -> SnapshotInfo:
    """The header and stored statistics, plus a preview and an optional key lookup.

    Only as many chunks are decoded as the preview and the lookup need. ``contains`` keeps
    entries whose key or value ``repr`` contains it (case-insensitive). Complexity: O(header)
    without a preview or lookup; O(chunks read) with them.
    """
    if limit < 0:
        raise BadInputError(f"limit must be >= 0, got {limit}")
    needle = contains.lower() if contains else None
    preview: list[tuple[str, str]] = []
    found: KeyLookup | None = None
    with SnapshotReader(path, key=_resolve_key(key), limits=limits) as reader:
        header = reader.header
        wants_lookup = lookup is not _NOT_GIVEN
        if wants_lookup:
            found = KeyLookup(key=repr(lookup), found=False, value=None)
        if limit or wants_lookup:
            for keys, values in _checked_chunks(reader):
                for item_key, item_value in zip(keys, values, strict=True):
                    if (
                        found is not None
                        and not found.found
                        and type(item_key) is type(lookup)
                        and item_key == lookup
                    ):
                        found = KeyLookup(repr(lookup), True, _short_repr(item_value))
                    if len(preview) < limit:
                        key_text, value_text = _short_repr(item_key), _short_repr(item_value)
                        if needle is None or needle in (key_text + value_text).lower():
                            preview.append((key_text, value_text))
                if len(preview) >= limit and (not wants_lookup or (found and found.found)):
                    break
        meta = header.meta
        config = meta.get("config")
        stats = meta.get("stats")
        return SnapshotInfo(
            path=str(reader.path),
            file_bytes=header.file_bytes,
            format_version=header.version,
            keyed=header.keyed,
            codec="zstd" if header.codec == CODEC_ZSTD else "raw",
            backend=str(meta.get("backend")),
            config=config if isinstance(config, dict) else {},
            stats=stats if isinstance(stats, dict) else {},
            entry_count=header.entry_count,
            chunk_count=header.chunk_count,
            created_at=meta.get("created_at") if isinstance(meta.get("created_at"), str) else None,
            adhash_version=(
                meta.get("adhash_version") if isinstance(meta.get("adhash_version"), str) else None
            ),
            preview=preview,
            lookup=found,
        )


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome of :func:`verify`: ``ok`` and every problem found."""

    path: str
    ok: bool
    backend: str | None
    entries: int
    chunks: int
    problems: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (schema ``adhash.snapshot_verify.v1``)."""
        return {"schema": "adhash.snapshot_verify.v1", **dataclasses.asdict(self)}


def verify(
    path: str | os.PathLike[str],
    *,
    key: Any = USE_ENVIRONMENT_KEY,
    limits: SnapshotLimits | None = None,
) -> VerifyReport:
    """Check every checksum, decode every record, count entries, look for duplicate keys,
    rebuild the map and run its ``check_invariants()``; report instead of raising.

    Complexity: O(n).
    """
    problems: list[str] = []
    details: list[str] = []
    backend: str | None = None
    entries = chunks = 0
    try:
        with SnapshotReader(path, key=_resolve_key(key), limits=limits) as reader:
            header = reader.header
            backend = str(header.meta.get("backend"))
            details.append(
                f"format v{header.version}, {'keyed' if header.keyed else 'unkeyed'}, "
                f"{header.chunk_count} chunks, {header.entry_count} entries, backend {backend}"
            )
            m = _build(header.meta, reader.path, reader.limits)
            for chunk in reader.chunks():
                chunks += 1
                if not chunk.mac_ok:
                    problems.append(f"chunk {chunk.index}: checksum mismatch")
                    continue
                try:
                    keys, values = decode_chunk(reader.raw_payload(chunk), chunk.entries)
                except AdhashError as exc:
                    problems.append(f"chunk {chunk.index}: {exc.detail}")
                    continue
                details.append(f"chunk {chunk.index}: {len(keys)} entries, ok")
                for item_key, item_value in zip(keys, values, strict=True):
                    m[item_key] = item_value
                entries += len(keys)
            if not reader.finish():
                problems.append("file checksum mismatch")
            if not problems and entries != header.entry_count:
                problems.append(f"{entries} entries read, header says {header.entry_count}")
            if not problems and len(m) != entries:
                problems.append(f"{entries - len(m)} duplicate keys")
            if type(m) is not dict:
                try:
                    m.check_invariants()
                    details.append(
                        "rebuilt map passes check_invariants()"
                        + (" (from the chunks that could be read)" if problems else "")
                    )
                except InvariantError as exc:
                    problems.append(f"rebuilt map: {exc.detail}")
    except AdhashError as exc:
        problems.append(exc.detail)
    return VerifyReport(
        path=str(path),
        ok=not problems,
        backend=backend,
        entries=entries,
        chunks=chunks,
        problems=problems,
        details=details,
    )


@dataclass(frozen=True, slots=True)
class LostChunk:
    """A chunk repair could not use, and why."""

    index: int
    entries: int
    reason: str


@dataclass(frozen=True, slots=True)
class RepairReport:
    """What :func:`repair` salvaged and exactly what it lost."""

    source: str
    out: str
    recovered_entries: int
    lost_entries: int
    lost_chunks: list[LostChunk]
    duplicates_dropped: int
    trailer_ok: bool

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (schema ``adhash.snapshot_repair.v1``)."""
        return {"schema": "adhash.snapshot_repair.v1", **dataclasses.asdict(self)}


def repair(
    path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    key: Any = USE_ENVIRONMENT_KEY,
    limits: SnapshotLimits | None = None,
) -> RepairReport:
    """Write to ``out`` a snapshot of every entry in the intact chunks of ``path``.

    The header must be intact (without it the backend is unknown). A chunk whose checksum or
    records fail is skipped and reported; when a chunk's sizes are impossible, the rest of the
    file cannot be located and every later chunk is reported lost. Complexity: O(n).
    """
    mac_key = _resolve_key(key)
    lost: list[LostChunk] = []
    recovered = 0
    trailer_ok = False
    with SnapshotReader(path, key=mac_key, limits=limits) as reader:
        header = reader.header
        m = _build(header.meta, reader.path, reader.limits)
        chunks = reader.chunks()
        seen = 0
        while True:
            try:
                chunk = next(chunks)
            except StopIteration:
                break
            except AdhashError as exc:
                lost.append(LostChunk(seen, -1, f"unreadable from here on: {exc.detail}"))
                break
            seen += 1
            if not chunk.mac_ok:
                lost.append(LostChunk(chunk.index, chunk.entries, "checksum mismatch"))
                continue
            try:
                keys, values = decode_chunk(reader.raw_payload(chunk), chunk.entries)
            except AdhashError as exc:
                lost.append(LostChunk(chunk.index, chunk.entries, exc.detail))
                continue
            for item_key, item_value in zip(keys, values, strict=True):
                if item_key not in m:
                    m[item_key] = item_value
            recovered += len(keys)
        if seen == header.chunk_count and not lost:
            try:
                trailer_ok = reader.finish()
            except AdhashError:
                trailer_ok = False
    duplicates = recovered - len(m)
    save(m, out, key=mac_key)
    return RepairReport(
        source=str(path),
        out=str(out),
        recovered_entries=len(m),
        lost_entries=max(0, header.entry_count - recovered),
        lost_chunks=lost,
        duplicates_dropped=duplicates,
        trailer_ok=trailer_ok,
    )


@dataclass(frozen=True, slots=True)
class CompactReport:
    """File size and map shape before and after :func:`compact`."""

    source: str
    out: str
    bytes_before: int
    bytes_after: int
    stats_before: dict[str, Any]
    stats_after: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (schema ``adhash.snapshot_compact.v1``)."""
        return {"schema": "adhash.snapshot_compact.v1", **dataclasses.asdict(self)}


def compact(
    path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    key: Any = USE_ENVIRONMENT_KEY,
    level: int = 10,
    limits: SnapshotLimits | None = None,
) -> CompactReport:
    """Load ``path`` (fully verified), rebuild it right-sized, and save it recompressed to ``out``.

    Complexity: O(n).
    """
    with SnapshotReader(path, key=_resolve_key(key), limits=limits) as reader:
        stats_before = dict(reader.header.meta.get("stats") or {})
        bytes_before = reader.header.file_bytes
    loaded = load(path, key=key, limits=limits)
    # load() already built the map from scratch with reserve(n): right-sized, no tombstones.
    rebuilt = loaded
    bytes_after = save(rebuilt, out, key=key, level=level)
    return CompactReport(
        source=str(path),
        out=str(out),
        bytes_before=bytes_before,
        bytes_after=bytes_after,
        stats_before=stats_before,
        stats_after=_stats_of(rebuilt),
    )
