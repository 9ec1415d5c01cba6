"""The snapshot tools: inspect, verify, repair and compact; keyed files; atomic saves.

``inspect`` reads the header and only the chunks its preview or lookup needs; ``verify`` reports
every problem without raising; ``repair`` salvages exactly the intact chunks and says what it
lost; ``compact`` rewrites a file with equal contents. A key (``ADHASH_SNAPSHOT_KEY`` or
``key=``) authenticates a file, and a writer killed mid-save leaves the previous file intact.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import adhash
from adhash import AdaptiveMap, ChainingMap, CompactMap, RobinHoodMap
from adhash.errors import BadInputError, InvariantError
from adhash.snapshot import (
    KeyLookup,
    LostChunk,
    compact,
    inspect,
    load,
    repair,
    save,
    verify,
)
from adhash.snapshot.codec import decode_chunk
from adhash.snapshot.container import SnapshotReader
from tests.core.map_cases import SEED
from tests.core.snapshot_cases import CHUNK_HEADER, flip, layout_of

KEY_ENV = "ADHASH_SNAPSHOT_KEY"


@pytest.fixture(autouse=True)
def no_environment_key(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every test starts unkeyed, whatever the developer's shell exports.
    monkeypatch.delenv(KEY_ENV, raising=False)


def three_chunks(tmp_path: Path) -> tuple[Path, RobinHoodMap[Any, Any]]:
    """A RobinHoodMap of 12 entries of mixed types, saved as three chunks of 4."""
    contents: dict[Any, Any] = {i: f"int-{i}" for i in range(4)}
    contents.update({f"Key-{c}": c.upper() for c in "abcd"})
    contents.update({("tuple", 1): None, b"bytes": 2.5, 2**70: True, "last": "Needle"})
    m: RobinHoodMap[Any, Any] = RobinHoodMap(contents, hash_seed=SEED)
    path = tmp_path / "three.adh"
    save(m, path, key=None, chunk_entries=4)
    return path, m


def keys_by_chunk(path: Path) -> list[list[Any]]:
    """The keys each chunk of an intact file holds, in file order."""
    with SnapshotReader(path, key=None) as reader:
        return [
            decode_chunk(reader.raw_payload(chunk), chunk.entries)[0] for chunk in reader.chunks()
        ]


def damage_payload(path: Path, chunk: int) -> int:
    """Flip a byte in one chunk's payload; return how many entries that chunk holds."""
    data = path.read_bytes()
    span = layout_of(data).chunks[chunk]
    path.write_bytes(flip(data, span.payload_offset + span.stored_len // 2))
    return span.entries


# -- inspect -----------------------------------------------------------------------------------


def test_inspect_reports_header_fields_and_stored_stats(tmp_path: Path) -> None:
    path, m = three_chunks(tmp_path)
    info = inspect(path, key=None, limit=0)
    assert info.path == str(path)
    assert info.file_bytes == path.stat().st_size
    assert (info.format_version, info.keyed, info.codec) == (1, False, "zstd")
    assert info.backend == "robinhood"
    assert info.config == m._config()
    stats = m.stats()
    assert info.stats["size"] == stats.size == 12
    assert info.stats["capacity"] == stats.capacity
    assert info.stats["backend"] == "robinhood"
    assert (info.entry_count, info.chunk_count) == (12, 3)
    assert info.adhash_version == adhash.__version__
    assert info.created_at is not None
    assert datetime.fromisoformat(info.created_at).tzinfo is not None
    assert info.preview == []
    assert info.lookup is None
    as_dict = info.as_dict()
    assert as_dict["schema"] == "adhash.snapshot_info.v1"
    json.dumps(as_dict)


def test_inspect_of_an_adaptive_map_reports_its_policy_and_current_backend(tmp_path: Path) -> None:
    m: AdaptiveMap[Any, Any] = AdaptiveMap({i: i for i in range(50)}, hash_seed=SEED)
    m.migrate_to("compact")
    m.migrate_step(10)
    path = tmp_path / "adaptive.adh"
    save(m, path, key=None)
    info = inspect(path, key=None, limit=0)
    assert info.backend == "adaptive"
    assert info.config["backend"] == "compact"
    assert info.config["policy"] == m.policy.as_dict()
    assert info.stats["migrating_from"] == "chaining"


def test_inspect_without_a_preview_reads_no_chunk(tmp_path: Path) -> None:
    path, _ = three_chunks(tmp_path)
    damage_payload(path, 0)
    with pytest.raises(InvariantError):
        load(path, key=None)
    info = inspect(path, key=None, limit=0)
    assert info.entry_count == 12


def test_inspect_reads_only_the_chunks_its_preview_needs(tmp_path: Path) -> None:
    path, _ = three_chunks(tmp_path)
    damage_payload(path, 2)
    with pytest.raises(InvariantError, match="chunk 2 checksum mismatch"):
        load(path, key=None)
    assert len(inspect(path, key=None, limit=1).preview) == 1
    assert len(inspect(path, key=None, limit=8).preview) == 8
    with pytest.raises(InvariantError, match="chunk 2"):
        inspect(path, key=None, limit=9)


@pytest.mark.parametrize("limit", [0, 1, 5, 12, 100])
def test_inspect_preview_respects_its_limit(tmp_path: Path, limit: int) -> None:
    path, m = three_chunks(tmp_path)
    preview = inspect(path, key=None, limit=limit).preview
    assert len(preview) == min(limit, 12)
    shown = {(repr(key), repr(value)) for key, value in m.items()}
    assert set(preview) <= shown


def test_inspect_preview_filter_is_case_insensitive_on_keys_and_values(tmp_path: Path) -> None:
    path, _ = three_chunks(tmp_path)
    by_key = inspect(path, key=None, contains="kEY-")
    assert sorted(by_key.preview) == [(f"'Key-{c}'", f"'{c.upper()}'") for c in "abcd"]
    by_value = inspect(path, key=None, contains="needle")
    assert by_value.preview == [("'last'", "'Needle'")]
    limited = inspect(path, key=None, contains="key-", limit=2)
    assert len(limited.preview) == 2
    assert inspect(path, key=None, contains="nowhere").preview == []


@pytest.mark.parametrize(
    ("lookup", "found", "value"),
    [
        (3, True, "'int-3'"),
        ("Key-b", True, "'B'"),
        (("tuple", 1), True, "None"),
        (2**70, True, "True"),
        ("absent", False, None),
        (99, False, None),
    ],
)
def test_inspect_looks_a_key_up(
    tmp_path: Path, lookup: Any, found: bool, value: str | None
) -> None:
    path, _ = three_chunks(tmp_path)
    info = inspect(path, key=None, limit=0, lookup=lookup)
    assert info.lookup == KeyLookup(key=repr(lookup), found=found, value=value)
    assert info.preview == []


def test_inspect_lookup_stops_at_the_chunk_holding_the_key(tmp_path: Path) -> None:
    path, _ = three_chunks(tmp_path)
    first_key = keys_by_chunk(path)[0][0]
    damage_payload(path, 2)
    info = inspect(path, key=None, limit=0, lookup=first_key)
    assert info.lookup is not None
    assert info.lookup.found
    with pytest.raises(InvariantError):
        inspect(path, key=None, limit=0, lookup="absent")


def test_inspect_preview_of_a_very_large_int_is_shortened_not_refused(tmp_path: Path) -> None:
    # repr() of an int over 4300 digits raises ValueError; a preview must not.
    path = tmp_path / "big.adh"
    number = 10**5000
    save({"big": number}, path, key=None)
    info = inspect(path, key=None, lookup="big")
    assert info.lookup is not None
    assert info.lookup.found
    assert len(info.preview) == 1


def test_inspect_refuses_a_negative_limit(tmp_path: Path) -> None:
    path, _ = three_chunks(tmp_path)
    with pytest.raises(BadInputError, match="limit"):
        inspect(path, key=None, limit=-1)


# -- verify ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "original",
    [
        {},
        {"a": 1},
        ChainingMap({i: i for i in range(30)}, hash_seed=SEED),
        CompactMap({str(i): i for i in range(30)}, hash_seed=SEED),
        AdaptiveMap({i: None for i in range(30)}, hash_seed=SEED),
    ],
    ids=["empty-dict", "dict", "chaining", "compact", "adaptive"],
)
def test_verify_passes_a_good_file(tmp_path: Path, original: Any) -> None:
    path = tmp_path / "good.adh"
    save(original, path, key=None, chunk_entries=7)
    report = verify(path, key=None)
    assert report.ok
    assert report.problems == []
    assert report.entries == len(original)
    assert report.chunks == -(-len(original) // 7)
    assert report.backend == ("dict" if type(original) is dict else original.backend_name)
    assert report.as_dict()["schema"] == "adhash.snapshot_verify.v1"
    if type(original) is not dict:
        assert "rebuilt map passes check_invariants()" in report.details


def test_verify_reports_each_damaged_chunk_without_raising(tmp_path: Path) -> None:
    path, _ = three_chunks(tmp_path)
    damage_payload(path, 0)
    damage_payload(path, 2)
    report = verify(path, key=None)
    assert not report.ok
    assert report.problems[:2] == ["chunk 0: checksum mismatch", "chunk 2: checksum mismatch"]
    assert report.chunks == 3
    assert report.entries == 4
    assert "chunk 1: 4 entries, ok" in report.details


def test_verify_reports_a_damaged_chunk_checksum(tmp_path: Path) -> None:
    path, _ = three_chunks(tmp_path)
    data = path.read_bytes()
    path.write_bytes(flip(data, layout_of(data).chunks[1].mac_offset))
    report = verify(path, key=None)
    assert not report.ok
    assert "chunk 1: checksum mismatch" in report.problems


def test_verify_reports_a_damaged_header(tmp_path: Path) -> None:
    path, _ = three_chunks(tmp_path)
    path.write_bytes(flip(path.read_bytes(), 40))  # inside the metadata
    report = verify(path, key=None)
    assert not report.ok
    assert any("header checksum mismatch" in problem for problem in report.problems)


def test_verify_reports_a_damaged_file_checksum(tmp_path: Path) -> None:
    path, _ = three_chunks(tmp_path)
    data = path.read_bytes()
    path.write_bytes(flip(data, len(data) - 1))
    report = verify(path, key=None)
    assert report.problems == ["file checksum mismatch"]


# -- repair ------------------------------------------------------------------------------------


def test_repair_keeps_exactly_the_intact_chunks_and_reports_the_lost_one(tmp_path: Path) -> None:
    path, m = three_chunks(tmp_path)
    chunks = keys_by_chunk(path)
    lost_entries = damage_payload(path, 1)
    out = tmp_path / "repaired.adh"
    report = repair(path, out, key=None)
    assert report.lost_chunks == [LostChunk(1, lost_entries, "checksum mismatch")]
    assert report.lost_entries == lost_entries == 4
    assert report.recovered_entries == 8
    assert report.duplicates_dropped == 0
    assert not report.trailer_ok
    assert report.as_dict()["schema"] == "adhash.snapshot_repair.v1"
    repaired = load(out, key=None)
    assert type(repaired) is RobinHoodMap
    assert repaired._config() == m._config()
    kept = chunks[0] + chunks[2]
    assert dict(repaired.items()) == {key: m[key] for key in kept}
    assert verify(out, key=None).ok


def test_repair_of_an_intact_file_loses_nothing(tmp_path: Path) -> None:
    path, m = three_chunks(tmp_path)
    out = tmp_path / "repaired.adh"
    report = repair(path, out, key=None)
    assert (report.lost_chunks, report.lost_entries, report.trailer_ok) == ([], 0, True)
    assert load(out, key=None) == m


def test_repair_reports_the_rest_lost_when_a_chunk_header_is_mangled(tmp_path: Path) -> None:
    path, m = three_chunks(tmp_path)
    chunks = keys_by_chunk(path)
    data = path.read_bytes()
    span = layout_of(data).chunks[1]
    # stored_len now points past the end of the file: chunks 1 and 2 cannot be located.
    mangled = bytearray(data)
    CHUNK_HEADER.pack_into(mangled, span.offset, span.entries, span.raw_len, 2**32 - 1, 0)
    path.write_bytes(bytes(mangled))
    out = tmp_path / "repaired.adh"
    report = repair(path, out, key=None)
    assert len(report.lost_chunks) == 1
    assert report.lost_chunks[0].index == 1
    assert report.lost_chunks[0].entries == -1
    assert "unreadable from here on" in report.lost_chunks[0].reason
    assert report.lost_entries == 8
    assert report.recovered_entries == 4
    assert dict(load(out, key=None).items()) == {key: m[key] for key in chunks[0]}


def test_repair_needs_an_intact_header_and_writes_nothing_without_one(tmp_path: Path) -> None:
    path, _ = three_chunks(tmp_path)
    path.write_bytes(flip(path.read_bytes(), 40))
    out = tmp_path / "repaired.adh"
    with pytest.raises(InvariantError, match="header checksum"):
        repair(path, out, key=None)
    assert not out.exists()


# -- compact -----------------------------------------------------------------------------------


def test_compact_writes_an_equal_map_and_reports_both_sizes(tmp_path: Path) -> None:
    m: RobinHoodMap[str, int] = RobinHoodMap(deletion="tombstone", hash_seed=SEED)
    for i in range(2000):
        m[f"key-{i}"] = i
    for i in range(0, 2000, 2):
        del m[f"key-{i}"]
    assert (m.stats().tombstones or 0) > 0
    path, out = tmp_path / "m.adh", tmp_path / "compacted.adh"
    save(m, path, key=None, level=1)
    report = compact(path, out, key=None)
    assert report.bytes_before == path.stat().st_size
    assert report.bytes_after == out.stat().st_size
    assert report.stats_before["tombstones"] == m.stats().tombstones
    assert report.stats_after["tombstones"] == 0
    assert report.stats_after["size"] == 1000
    assert report.as_dict()["schema"] == "adhash.snapshot_compact.v1"
    compacted = load(out, key=None)
    assert compacted == m
    assert compacted._config() == m._config()
    compacted.check_invariants()


def test_compact_refuses_a_damaged_file_and_writes_nothing(tmp_path: Path) -> None:
    path, _ = three_chunks(tmp_path)
    damage_payload(path, 1)
    out = tmp_path / "compacted.adh"
    with pytest.raises(InvariantError):
        compact(path, out, key=None)
    assert not out.exists()


# -- authenticity ------------------------------------------------------------------------------


def test_a_file_saved_with_the_environment_key_is_keyed_and_loads_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, "correct horse")
    path = tmp_path / "keyed.adh"
    save({"a": 1}, path)
    assert inspect(path).keyed
    assert load(path) == {"a": 1}
    assert verify(path).ok


def test_a_keyed_file_without_the_key_says_to_set_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, "correct horse")
    path = tmp_path / "keyed.adh"
    save({"a": 1}, path)
    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(BadInputError, match=f"set {KEY_ENV}"):
        load(path)
    with pytest.raises(BadInputError, match=KEY_ENV):
        inspect(path)
    assert not verify(path).ok


def test_a_keyed_file_with_another_key_fails_its_checksum(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, "correct horse")
    path = tmp_path / "keyed.adh"
    save({"a": 1}, path)
    monkeypatch.setenv(KEY_ENV, "battery staple")
    with pytest.raises(InvariantError, match="checksum mismatch"):
        load(path)
    report = verify(path)
    assert not report.ok
    assert "wrong key" in report.problems[0]


def test_an_unkeyed_file_is_refused_while_a_key_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "plain.adh"
    save({"a": 1}, path)
    assert not inspect(path).keyed
    monkeypatch.setenv(KEY_ENV, "correct horse")
    with pytest.raises(BadInputError, match="no authentication"):
        load(path)


def test_an_empty_environment_key_means_no_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, "")
    path = tmp_path / "plain.adh"
    save({"a": 1}, path)
    assert not inspect(path).keyed
    assert load(path, key=None) == {"a": 1}


def test_an_explicit_key_overrides_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, "correct horse")
    keyed, plain = tmp_path / "keyed.adh", tmp_path / "plain.adh"
    save({"a": 1}, keyed, key=b"explicit")
    save({"b": 2}, plain, key=None)
    assert inspect(keyed, key=b"explicit").keyed
    assert not inspect(plain, key=None).keyed
    assert load(keyed, key=b"explicit") == {"a": 1}
    assert load(plain, key=None) == {"b": 2}
    with pytest.raises(InvariantError, match="checksum mismatch"):
        load(keyed)  # the environment's key is another key
    with pytest.raises(InvariantError, match="checksum mismatch"):
        load(keyed, key=b"other")
    with pytest.raises(BadInputError, match="authenticated with a key"):
        load(keyed, key=None)


def test_the_tools_take_the_key_too(tmp_path: Path) -> None:
    path, out = tmp_path / "keyed.adh", tmp_path / "out.adh"
    save({i: i for i in range(10)}, path, key=b"k", chunk_entries=3)
    assert verify(path, key=b"k").ok
    assert not verify(path, key=b"j").ok
    assert compact(path, out, key=b"k").bytes_after == out.stat().st_size
    assert inspect(out, key=b"k").keyed
    assert repair(path, out, key=b"k").lost_chunks == []
    assert load(out, key=b"k") == {i: i for i in range(10)}


@pytest.mark.parametrize("key", ["text", 7, bytearray(b"k")], ids=["str", "int", "bytearray"])
def test_a_key_that_is_not_bytes_is_refused(tmp_path: Path, key: Any) -> None:
    path = tmp_path / "m.adh"
    with pytest.raises(BadInputError, match="key must be bytes"):
        save({"a": 1}, path, key=key)
    assert not path.exists()


def test_an_empty_key_saves_a_file_that_loads_with_the_same_key(tmp_path: Path) -> None:
    # key=b"" is accepted by save(); whatever it means, load() with the same key must agree.
    path = tmp_path / "m.adh"
    try:
        save({"a": 1}, path, key=b"")
    except BadInputError:
        assert not path.exists()
        return
    assert load(path, key=b"") == {"a": 1}


# -- atomicity ---------------------------------------------------------------------------------

# Saves 300k entries in chunks of 10k, pausing after each chunk so that the parent can kill it
# while the temporary file is half written.
_SLOW_WRITER = """
import sys, time
from adhash.snapshot import container, save

write_chunk = container.SnapshotWriter.write_chunk

def slow_write_chunk(self, entries, raw):
    write_chunk(self, entries, raw)
    self._handle.flush()
    time.sleep(0.05)

container.SnapshotWriter.write_chunk = slow_write_chunk
save({i: -i for i in range(300_000)}, sys.argv[1], key=None, chunk_entries=10_000)
"""


def _wait_for_partial_temp(folder: Path, name: str, child: subprocess.Popen[bytes]) -> Path:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert child.poll() is None, "the writer finished before it could be killed"
        for temp in folder.glob(f".{name}.*.tmp"):
            if temp.stat().st_size > 100_000:
                return temp
        time.sleep(0.01)
    raise AssertionError("the writer never started writing")


@pytest.mark.timeout(60)
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_writer_killed_mid_save_leaves_the_previous_snapshot_intact(tmp_path: Path) -> None:
    path = tmp_path / "m.adh"
    previous: CompactMap[str, Any] = CompactMap({"old": 1, "older": (2, b"3")}, hash_seed=SEED)
    save(previous, path, key=None)
    previous_bytes = path.read_bytes()
    env = {key: value for key, value in os.environ.items() if key != KEY_ENV}
    child = subprocess.Popen([sys.executable, "-c", _SLOW_WRITER, str(path)], env=env)
    try:
        temp = _wait_for_partial_temp(tmp_path, path.name, child)
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert path.read_bytes() == previous_bytes
    assert load(path, key=None) == previous
    assert verify(path, key=None).ok
    # The dead writer's partial file is left behind; it is refused cleanly if read...
    assert temp.exists()
    with pytest.raises((BadInputError, InvariantError)):
        load(temp, key=None)
    # ...and it neither blocks the next save nor is mistaken for the snapshot.
    save({"new": 1}, path, key=None)
    assert load(path, key=None) == {"new": 1}
    leftovers = sorted(entry.name for entry in tmp_path.iterdir())
    assert leftovers == sorted([path.name, temp.name])
