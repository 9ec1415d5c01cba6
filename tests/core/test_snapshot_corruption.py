"""Damaged and hostile snapshots: every outcome is a correct load or a clean adhash error.

Hypothesis flips, truncates, extends and splices valid files; a corpus of crafted files (made
here, in code) lies in every header and chunk field. ``load``, ``verify`` and ``inspect`` must
answer each with a correct result or BadInputError / InvariantError / IOFailureError (``verify``
reports instead of raising) — quickly, and without allocating what a file merely declares.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import zstandard
from hypothesis import example, given
from hypothesis import strategies as st

from adhash import ChainingMap, RobinHoodMap
from adhash.errors import AdhashError, BadInputError, InvariantError, IOFailureError
from adhash.snapshot import SnapshotLimits, inspect, load, repair, save, verify
from adhash.snapshot.codec import encode_chunk
from adhash.snapshot.container import CODEC_RAW, CODEC_ZSTD
from tests.core.map_cases import SEED
from tests.core.snapshot_cases import (
    CLEAN_ERRORS,
    HEADER,
    MEMORY_BOUND,
    ROBINHOOD_META,
    Outcome,
    RawChunk,
    assemble,
    layout_of,
    meta_bytes,
    patch_header,
    traced,
    zeros_frame,
    zstd_chunk,
)

KEY = b"corruption-test-key"
ONE_GIB = 1 << 30
QUICK_SECONDS = 2.0

# The operations a damaged file is fed to; each returns what it returned, or raises.
Operation = Callable[[Path, bytes | None], Any]
OPERATIONS: dict[str, Operation] = {
    "load": lambda path, key: load(path, key=key),
    "verify": lambda path, key: verify(path, key=key),
    "inspect": lambda path, key: inspect(path, key=key, limit=5),
    "inspect-lookup": lambda path, key: inspect(path, key=key, limit=0, lookup="absent"),
}


def _map_a() -> RobinHoodMap[Any, Any]:
    contents: dict[Any, Any] = {i: f"value {i}" for i in range(20)}
    contents.update({("t", i): (i, b"\x00" * i) for i in range(6)})
    contents.update({"é": None, 2**70: -1.5, b"k": True})
    return RobinHoodMap(contents, hash_seed=SEED)


def _map_b() -> ChainingMap[Any, Any]:
    return ChainingMap({f"b{i}": i * i for i in range(14)}, hash_seed=SEED + 1)


def _entries(m: Any) -> list[tuple[str, str]]:
    return sorted((repr(key), repr(value)) for key, value in m.items())


@dataclass(frozen=True)
class Originals:
    """Two valid snapshots (several chunks each) and the contents they hold."""

    a: bytes
    b: bytes
    a_keyed: bytes
    contents: tuple[list[tuple[str, str]], list[tuple[str, str]]]
    folder: Path


@pytest.fixture(scope="module")
def originals(tmp_path_factory: pytest.TempPathFactory) -> Originals:
    folder = tmp_path_factory.mktemp("corruption")
    files = {}
    for name, m, key in (("a", _map_a(), None), ("b", _map_b(), None), ("ak", _map_a(), KEY)):
        path = folder / f"{name}.adh"
        save(m, path, key=key, chunk_entries=8)
        files[name] = path.read_bytes()
    return Originals(
        files["a"], files["b"], files["ak"], (_entries(_map_a()), _entries(_map_b())), folder
    )


def _run_all(
    originals: Originals, data: bytes, key: bytes | None = None, *, crafted: bool = False
) -> dict[str, Outcome]:
    """Feed ``data`` to every operation; check each ended cleanly, quickly, in bounded memory.

    A successful load must hold one of the originals' contents, unless the file was ``crafted``
    (then it must only pass ``check_invariants()``).
    """
    path = originals.folder / "damaged.adh"
    path.write_bytes(data)
    outcomes = {}
    for name, operation in OPERATIONS.items():
        outcome = traced(partial(operation, path, key))
        assert outcome.error is None or isinstance(outcome.error, CLEAN_ERRORS), (
            f"{name} raised {outcome.error!r}"
        )
        assert outcome.peak_bytes < MEMORY_BOUND, f"{name} peaked at {outcome.peak_bytes} bytes"
        assert outcome.seconds < QUICK_SECONDS, f"{name} took {outcome.seconds:.2f} s"
        outcomes[name] = outcome
    # verify() reports every problem; it never raises, and it agrees with load().
    assert outcomes["verify"].error is None
    loaded = outcomes["load"]
    assert outcomes["verify"].result.ok == (loaded.error is None)
    if loaded.error is None:
        if not crafted:
            assert _entries(loaded.result) in originals.contents
        if type(loaded.result) is not dict:
            loaded.result.check_invariants()
    return outcomes


def _assert_refused(outcomes: dict[str, Outcome]) -> None:
    assert outcomes["load"].error is not None
    assert not outcomes["verify"].result.ok
    assert outcomes["verify"].result.problems


# -- Hypothesis: flips, truncations, extensions, splices of valid files ------------------------

FLIPS = st.lists(st.tuples(st.integers(min_value=0), st.integers(1, 255)), min_size=1, max_size=4)


@pytest.mark.timeout(60)
@given(flips=FLIPS, keyed=st.booleans())
@example(flips=[(0, 1)], keyed=False)  # the magic
@example(flips=[(10, 1)], keyed=False)  # the keyed flag of an unkeyed file
@example(flips=[(10, 1)], keyed=True)  # the keyed flag of a keyed file
@example(flips=[(12, 1)], keyed=False)  # the codec: zstd becomes raw
def test_any_flipped_byte_is_detected(
    originals: Originals, flips: list[tuple[int, int]], keyed: bool
) -> None:
    original = originals.a_keyed if keyed else originals.a
    damaged = bytearray(original)
    for position, mask in flips:
        damaged[position % len(damaged)] ^= mask
    outcomes = _run_all(originals, bytes(damaged), KEY if keyed else None)
    if bytes(damaged) != original:
        # Every byte is covered by a checksum or checked against a constant.
        _assert_refused(outcomes)


@pytest.mark.timeout(60)
@given(cut=st.integers(min_value=0), keyed=st.booleans())
def test_any_truncation_is_detected(originals: Originals, cut: int, keyed: bool) -> None:
    original = originals.a_keyed if keyed else originals.a
    _assert_refused(_run_all(originals, original[: cut % len(original)], KEY if keyed else None))


@pytest.mark.timeout(60)
@given(extra=st.binary(min_size=1, max_size=64))
def test_any_extension_is_detected(originals: Originals, extra: bytes) -> None:
    _assert_refused(_run_all(originals, originals.a + extra))


SPLICES = st.lists(
    st.tuples(st.sampled_from("ab"), st.integers(min_value=0), st.integers(min_value=0)),
    min_size=1,
    max_size=4,
)


@pytest.mark.timeout(60)
@given(parts=SPLICES)
@example(parts=[("a", 0, 10**6)])
@example(parts=[("a", 0, 40), ("b", 40, 10**6)])
def test_any_splice_of_two_snapshots_loads_one_of_them_or_is_refused(
    originals: Originals, parts: list[tuple[str, int, int]]
) -> None:
    data = b""
    for name, start, length in parts:
        source = originals.a if name == "a" else originals.b
        start %= len(source) + 1
        data += source[start : start + length]
    _run_all(originals, data)


def test_a_chunk_moved_from_another_snapshot_fails_the_file_checksum(
    originals: Originals,
) -> None:
    # Same key, so the foreign chunk's own checksum is valid: only the trailer's file MAC,
    # which chains every chunk's MAC to the header's, tells the file was assembled.
    a, b = originals.a, originals.b
    a_chunk, b_chunk = layout_of(a).chunks[0], layout_of(b).chunks[0]
    assert b_chunk.entries == a_chunk.entries  # so the entry count does not give it away
    foreign = a[: a_chunk.offset] + b[b_chunk.offset : b_chunk.end] + a[a_chunk.end :]
    outcomes = _run_all(originals, foreign)
    _assert_refused(outcomes)
    assert "file checksum mismatch" in outcomes["verify"].result.problems


# -- Hypothesis: valid checksums around damaged contents ---------------------------------------

SCALARS: st.SearchStrategy[Any] = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=4), st.binary(max_size=4)
)
ITEMS: st.SearchStrategy[Any] = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3).map(tuple), max_leaves=6
)


@pytest.mark.timeout(60)
@given(
    contents=st.dictionaries(ITEMS, ITEMS, min_size=1, max_size=8),
    flips=FLIPS,
    cut=st.integers(min_value=0),
    entries_delta=st.integers(-2, 2),
    codec=st.sampled_from([CODEC_RAW, CODEC_ZSTD]),
)
def test_damaged_records_under_valid_checksums_are_refused_cleanly(
    originals: Originals,
    contents: dict[Any, Any],
    flips: list[tuple[int, int]],
    cut: int,
    entries_delta: int,
    codec: int,
) -> None:
    # The checksums are recomputed over the damage: the record decoder itself is on trial.
    raw = bytearray(encode_chunk(list(contents), list(contents.values())))
    for position, mask in flips:
        raw[position % len(raw)] ^= mask
    raw = raw[: len(raw) - cut % 4]
    entries = max(0, len(contents) + entries_delta)
    payload = bytes(raw)
    if codec == CODEC_ZSTD:
        payload = zstandard.ZstdCompressor(write_content_size=True).compress(payload)
    chunk = RawChunk(entries=entries, raw_len=len(raw), payload=payload)
    _run_all(originals, assemble([chunk], codec=codec), crafted=True)


JSON_LEAVES: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 2**12),
    st.sampled_from([1.0, 0.5, -1.0, 1e300]),
    st.sampled_from(["chaining", "robinhood", "compact", "tombstone", "backward_shift", ""]),
)
CONFIG_NAMES = [
    "capacity",
    "buckets",
    "groups_per_bucket",
    "max_load_factor",
    "deletion",
    "tombstone_purge_ratio",
    "hash_seed",
    "policy",
    "backend",
    "start_backend",
    "migration_batch",
    "robinhood_capacity",
    "bogus",
]
JSON_VALUES: st.SearchStrategy[Any] = st.recursive(
    JSON_LEAVES,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(CONFIG_NAMES), inner, max_size=4)
    ),
    max_leaves=10,
)


@pytest.mark.timeout(60)
@given(
    backend=st.sampled_from(["dict", "chaining", "robinhood", "compact", "adaptive", "x", 1]),
    config=JSON_VALUES,
)
@example(backend="robinhood", config={"capacity": 3})
@example(backend="adaptive", config={"policy": {"start_backend": ""}, "backend": "chaining"})
def test_any_metadata_under_a_valid_checksum_builds_a_map_or_is_refused(
    originals: Originals, backend: Any, config: Any
) -> None:
    meta = meta_bytes({"backend": backend, "config": config})
    _run_all(originals, assemble([zstd_chunk([1, "a"], [None, 2])], meta=meta), crafted=True)


# -- a corpus of hostile files ------------------------------------------------------------------

GOOD_CHUNKS = (zstd_chunk([1, 2, 3], ["a", "b", "c"]), zstd_chunk(["d"], [None]))


def _config_meta(backend: str, /, **config: Any) -> bytes:
    return meta_bytes({"backend": backend, "config": config})


# name: (the file, the error load() raises, a fragment of its message)
HOSTILE: dict[str, tuple[Callable[[], bytes], type[AdhashError], str]] = {
    "huge-meta-length": (
        lambda: assemble(GOOD_CHUNKS, meta_len=2**32 - 1),
        BadInputError,
        "exceeds the limit",
    ),
    "meta-length-beyond-the-file": (
        lambda: assemble(GOOD_CHUNKS, meta_len=1 << 20),
        BadInputError,
        "header lies",
    ),
    "huge-chunk-count": (
        lambda: assemble(GOOD_CHUNKS, chunk_count=2**32 - 1),
        BadInputError,
        "chunks, over",
    ),
    "chunk-count-beyond-the-file": (
        lambda: assemble(GOOD_CHUNKS, chunk_count=1 << 20),
        BadInputError,
        "header lies",
    ),
    "one-chunk-more-than-written": (
        lambda: assemble(GOOD_CHUNKS, chunk_count=3),
        BadInputError,
        "truncated",
    ),
    "one-chunk-fewer-than-written": (
        lambda: assemble(GOOD_CHUNKS, chunk_count=1),
        BadInputError,
        "trailer",
    ),
    "huge-entry-count": (
        lambda: assemble(GOOD_CHUNKS, entry_count=2**64 - 1),
        BadInputError,
        "entries, over",
    ),
    "entry-count-above-the-entries": (
        lambda: assemble(GOOD_CHUNKS, entry_count=1 << 31),
        InvariantError,
        "entries declared",
    ),
    "entry-count-below-the-entries": (
        lambda: assemble(GOOD_CHUNKS, entry_count=3),
        BadInputError,
        "more entries than the header",
    ),
    "stored-length-beyond-the-file": (
        lambda: assemble([RawChunk(3, 50, b"x" * 10, stored_len=2**32 - 1)]),
        BadInputError,
        "impossible sizes",
    ),
    "raw-length-above-the-limit": (
        lambda: assemble([RawChunk(3, 2**32 - 1, b"x" * 10)]),
        BadInputError,
        "impossible sizes",
    ),
    "chunk-entries-above-the-limit": (
        lambda: assemble([RawChunk(2**23, 10, b"x" * 10)], entry_count=2**23),
        BadInputError,
        "impossible sizes",
    ),
    "bomb-of-1-gib-declared-as-64-raw-bytes": (
        lambda: assemble([RawChunk(1, 64, zeros_frame(ONE_GIB, declared_size=ONE_GIB))]),
        InvariantError,
        "chunk 0",
    ),
    "bomb-of-1-gib-without-a-content-size": (
        lambda: assemble([RawChunk(1, 64, zeros_frame(ONE_GIB, declared_size=None))]),
        InvariantError,
        "does not decompress",
    ),
    "frame-claiming-a-tib-declared-as-64-raw-bytes": (
        lambda: assemble([RawChunk(1, 64, zeros_frame(1 << 20, declared_size=1 << 40))]),
        InvariantError,
        "chunk 0",
    ),
    "bomb-declaring-its-1-gib-raw-length": (
        lambda: assemble([RawChunk(1, ONE_GIB, zeros_frame(ONE_GIB, declared_size=ONE_GIB))]),
        BadInputError,
        "impossible sizes",
    ),
    "payload-that-is-not-zstd": (
        lambda: assemble([RawChunk(1, 10, b"not a zstd frame")]),
        InvariantError,
        "does not decompress",
    ),
    "raw-length-that-lies": (
        lambda: assemble(
            [RawChunk(3, GOOD_CHUNKS[0].raw_len + 1, GOOD_CHUNKS[0].payload), GOOD_CHUNKS[1]]
        ),
        InvariantError,
        "decompresses to",
    ),
    "chunk-entries-that-lie": (
        lambda: assemble([RawChunk(5, GOOD_CHUNKS[0].raw_len, GOOD_CHUNKS[0].payload)]),
        InvariantError,
        "column",
    ),
    "raw-codec-with-stored-and-raw-lengths-apart": (
        lambda: assemble([RawChunk(1, 5, b"x" * 10)], codec=CODEC_RAW),
        BadInputError,
        "impossible sizes",
    ),
    "wrong-magic": (
        lambda: assemble(GOOD_CHUNKS, magic=b"PK\x03\x04\x00\x00\x00\x00"),
        BadInputError,
        "not an adhash snapshot",
    ),
    "format-version-2": (
        lambda: assemble(GOOD_CHUNKS, version=2),
        BadInputError,
        "version 2",
    ),
    "unknown-flag": (lambda: assemble(GOOD_CHUNKS, flags=0x0004), BadInputError, "flags"),
    "nonzero-reserved-header-byte": (
        lambda: assemble(GOOD_CHUNKS, reserved=(1, 0)),
        BadInputError,
        "flags",
    ),
    "unknown-codec": (lambda: assemble(GOOD_CHUNKS, codec=9), BadInputError, "codec 9"),
    "damaged-trailer-magic": (
        lambda: assemble(GOOD_CHUNKS, trailer_magic=b"\x89ADHENX\n"),
        BadInputError,
        "trailer",
    ),
    "bytes-after-the-trailer": (
        lambda: assemble(GOOD_CHUNKS, after_trailer=b"\x00"),
        BadInputError,
        "after the trailer",
    ),
    "empty-file": (lambda: b"", BadInputError, "truncated"),
    "header-only": (lambda: assemble(GOOD_CHUNKS)[:32], BadInputError, "truncated"),
    "metadata-that-is-not-json": (
        lambda: assemble(GOOD_CHUNKS, meta=b"{not json"),
        InvariantError,
        "not JSON",
    ),
    "metadata-that-is-not-utf8": (
        lambda: assemble(GOOD_CHUNKS, meta=b"\xff\xfe{}"),
        InvariantError,
        "not JSON",
    ),
    "metadata-that-is-a-list": (
        lambda: assemble(GOOD_CHUNKS, meta=b"[]"),
        InvariantError,
        "not a JSON object",
    ),
    "metadata-without-a-configuration": (
        lambda: assemble(GOOD_CHUNKS, meta=b'{"backend": "robinhood"}'),
        InvariantError,
        "no configuration",
    ),
    "unknown-backend": (
        lambda: assemble(GOOD_CHUNKS, meta=_config_meta("btree")),
        InvariantError,
        "unknown backend 'btree'",
    ),
    "backend-that-names-a-class": (
        lambda: assemble(GOOD_CHUNKS, meta=_config_meta("builtins.dict")),
        InvariantError,
        "unknown backend",
    ),
    "robinhood-capacity-3": (
        lambda: assemble(GOOD_CHUNKS, meta=_config_meta("robinhood", capacity=3)),
        InvariantError,
        "capacity",
    ),
    # The entry count includes the one entry a constructor's **items would make of the option.
    "robinhood-option-it-does-not-have": (
        lambda: assemble(
            GOOD_CHUNKS,
            meta=_config_meta("robinhood", capacity=8, injected="entry"),
            entry_count=5,
        ),
        InvariantError,
        "injected",
    ),
    "hash-seed-that-is-a-string": (
        lambda: assemble(GOOD_CHUNKS, meta=_config_meta("compact", hash_seed="7")),
        InvariantError,
        "hash_seed",
    ),
    "adaptive-with-an-unknown-current-backend": (
        lambda: assemble(
            GOOD_CHUNKS,
            meta=_config_meta("adaptive", policy={}, hash_seed=1, backend="btree"),
        ),
        InvariantError,
        "adaptive configuration",
    ),
    "adaptive-with-a-bad-policy": (
        lambda: assemble(
            GOOD_CHUNKS,
            meta=_config_meta(
                "adaptive", policy={"migration_batch": 0}, hash_seed=1, backend="chaining"
            ),
        ),
        InvariantError,
        "migration_batch",
    ),
    # Sizes in the configuration are allocated when the empty map is built: a file of a few
    # hundred bytes must not make the reader allocate a huge table.
    "robinhood-capacity-2-to-the-40": (
        lambda: assemble(GOOD_CHUNKS, meta=_config_meta("robinhood", capacity=2**40)),
        InvariantError,
        "robinhood configuration",
    ),
    "compact-capacity-2-to-the-40": (
        lambda: assemble(GOOD_CHUNKS, meta=_config_meta("compact", capacity=2**40)),
        InvariantError,
        "capacity",
    ),
    "chaining-groups-per-bucket-2-to-the-40": (
        lambda: assemble(
            GOOD_CHUNKS, meta=_config_meta("chaining", buckets=1, groups_per_bucket=2**40)
        ),
        InvariantError,
        "groups_per_bucket",
    ),
    "compact-capacity-2-to-the-24": (
        lambda: assemble(GOOD_CHUNKS, meta=_config_meta("compact", capacity=2**24)),
        InvariantError,
        "capacity",
    ),
    # A salted map's inner backend is checked like a backend of its own, before it is built.
    "salted-over-a-huge-robinhood": (
        lambda: assemble(
            GOOD_CHUNKS,
            meta=_config_meta(
                "salted", inner="robinhood", inner_config={"capacity": 2**40}, seed=None
            ),
        ),
        InvariantError,
        "robinhood configuration",
    ),
    "salted-over-an-unknown-backend": (
        lambda: assemble(
            GOOD_CHUNKS, meta=_config_meta("salted", inner="btree", inner_config={}, seed=None)
        ),
        InvariantError,
        "unknown backend 'btree'",
    ),
    "salted-inner-with-an-injected-option": (
        lambda: assemble(
            GOOD_CHUNKS,
            meta=_config_meta("salted", inner="chaining", inner_config={"x": 1}, seed=None),
        ),
        InvariantError,
        "chaining has no option(s) x",
    ),
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_file_is_refused_quickly_in_bounded_memory(tmp_path: Path, case: str) -> None:
    build, error, fragment = HOSTILE[case]
    path = tmp_path / "hostile.adh"
    path.write_bytes(build())
    assert path.stat().st_size < 64 * 1024
    for name, operation in OPERATIONS.items():
        outcome = traced(partial(operation, path, None))
        assert outcome.peak_bytes < MEMORY_BOUND, f"{name} peaked at {outcome.peak_bytes} bytes"
        assert outcome.seconds < QUICK_SECONDS, f"{name} took {outcome.seconds:.2f} s"
        if name == "load":
            assert isinstance(outcome.error, error), f"load raised {outcome.error!r}"
            assert fragment in outcome.error.detail
        elif name == "verify":
            assert outcome.error is None, f"verify raised {outcome.error!r}"
            assert not outcome.result.ok
            assert outcome.result.problems
        else:
            # inspect() reads only the chunks it needs: a fault past them may go unnoticed.
            assert outcome.error is None or isinstance(outcome.error, CLEAN_ERRORS), (
                f"{name} raised {outcome.error!r}"
            )


def test_limits_refuse_a_chunk_larger_than_allowed(tmp_path: Path) -> None:
    path = tmp_path / "m.adh"
    save({i: "x" * 100 for i in range(100)}, path, key=None)
    limits = SnapshotLimits(max_chunk_raw_bytes=1024)
    with pytest.raises(BadInputError, match="impossible sizes"):
        load(path, key=None, limits=limits)
    assert not verify(path, key=None, limits=limits).ok
    assert len(load(path, key=None)) == 100


@pytest.mark.parametrize(
    ("field", "limits"),
    [
        ("meta", SnapshotLimits(max_meta_bytes=16)),
        ("chunks", SnapshotLimits(max_chunks=1)),
        ("entries", SnapshotLimits(max_entries=3)),
        ("sizes", SnapshotLimits(max_chunk_entries=2)),
    ],
)
def test_each_limit_is_enforced(tmp_path: Path, field: str, limits: SnapshotLimits) -> None:
    path = tmp_path / "m.adh"
    save({i: i for i in range(9)}, path, key=None, chunk_entries=3)
    with pytest.raises(BadInputError):
        load(path, key=None, limits=limits)


@pytest.mark.parametrize("value", [0, -1, True, 1.5])
def test_limits_must_be_positive_ints(value: Any) -> None:
    with pytest.raises(BadInputError, match="max_chunks"):
        SnapshotLimits(max_chunks=value)


# -- header lies, with and without a recomputed checksum ----------------------------------------


@pytest.mark.parametrize(
    ("field", "delta"), [("entry_count", 5), ("entry_count", -1), ("meta_len", -1)]
)
def test_a_patched_header_without_its_checksum_fails_the_header_checksum(
    tmp_path: Path, field: str, delta: int
) -> None:
    path = tmp_path / "m.adh"
    save({i: i for i in range(9)}, path, key=None, chunk_entries=4)
    data = path.read_bytes()
    layout = layout_of(data)
    current = {"entry_count": layout.entry_count, "meta_len": layout.meta_len}[field]
    path.write_bytes(patch_header(data, **{field: current + delta}))
    with pytest.raises(InvariantError, match="header checksum mismatch"):
        load(path, key=None)
    assert "header checksum mismatch" in " ".join(verify(path, key=None).problems)


@pytest.mark.parametrize(
    ("entry_count", "error", "fragment"),
    [(14, InvariantError, "14 entries declared, 9 stored"), (8, BadInputError, "more entries")],
)
def test_a_resealed_header_that_lies_about_its_entries_is_caught_by_the_count(
    tmp_path: Path, entry_count: int, error: type[AdhashError], fragment: str
) -> None:
    chunks = [zstd_chunk(list(range(i, i + 3)), [None] * 3) for i in range(0, 9, 3)]
    path = tmp_path / "m.adh"
    path.write_bytes(assemble(chunks, entry_count=entry_count))
    with pytest.raises(error, match=fragment):
        load(path, key=None)
    assert not verify(path, key=None).ok


# -- duplicate keys ----------------------------------------------------------------------------

DUPLICATE_METAS: dict[str, dict[str, Any]] = {
    "dict": {"backend": "dict", "config": {}},
    "robinhood": ROBINHOOD_META,
    "compact": {"backend": "compact", "config": {"capacity": 8, "hash_seed": 3}},
    "chaining": {
        "backend": "chaining",
        "config": {"buckets": 1, "groups_per_bucket": 1, "max_load_factor": 1.0, "hash_seed": 3},
    },
    "adaptive": {
        "backend": "adaptive",
        "config": {"policy": {}, "hash_seed": 3, "backend": "robinhood"},
    },
}
DUPLICATED_CHUNKS = (
    zstd_chunk(["k0", "k1", 2], ["first", "first", "first"]),
    zstd_chunk(["k3", "k1"], ["second", "second"]),
    # Equal keys of different types are duplicates too: 2 == 2.0 == True + True.
    zstd_chunk([2.0, "k4"], ["third", "third"]),
)


@pytest.mark.parametrize("backend", sorted(DUPLICATE_METAS))
def test_a_file_repeating_keys_across_chunks_is_refused_reported_and_repaired(
    tmp_path: Path, backend: str
) -> None:
    path, out = tmp_path / "dup.adh", tmp_path / "repaired.adh"
    path.write_bytes(assemble(DUPLICATED_CHUNKS, meta=meta_bytes(DUPLICATE_METAS[backend])))
    with pytest.raises(InvariantError, match="repeats keys"):
        load(path, key=None)
    report = verify(path, key=None)
    assert not report.ok
    assert "2 duplicate keys" in report.problems
    repaired = repair(path, out, key=None)
    assert repaired.duplicates_dropped == 2
    assert repaired.recovered_entries == 5
    assert repaired.lost_chunks == []
    # The first of each key is kept.
    expected = {"k0": "first", "k1": "first", 2: "first", "k3": "second", "k4": "third"}
    assert load(out, key=None) == expected


# -- not a snapshot file at all -----------------------------------------------------------------


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_a_missing_file_or_a_folder_is_an_io_failure(tmp_path: Path, operation: str) -> None:
    for path in (tmp_path / "missing.adh", tmp_path):
        if operation == "verify":
            report = verify(path, key=None)
            assert not report.ok
            continue
        with pytest.raises(IOFailureError):
            OPERATIONS[operation](path, None)


@pytest.mark.parametrize("key", [None, b"k" * 32], ids=["unkeyed", "keyed"])
def test_the_header_checksum_is_blake2b_256_of_the_header_and_metadata(
    tmp_path: Path, key: bytes | None
) -> None:
    # What docs/snapshots.md specifies, recomputed without adhash's helper.
    path = tmp_path / "m.adh"
    save({"a": 1}, path, key=key)
    data = path.read_bytes()
    end = HEADER.size + layout_of(data).meta_len
    digest = hashlib.blake2b(data[:end], digest_size=32, key=key or b"").digest()
    assert data[end : end + 32] == digest
