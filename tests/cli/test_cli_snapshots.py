"""The snapshot commands end to end: inspect, verify (and repair), compact, the key-value store
(put, get, del, items) and run-csv's --snapshot-in / --snapshot-out."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import orjson
import pytest

from adhash import ChainingMap, RobinHoodMap, SaltedMap
from adhash.snapshot import load, save
from adhash.workload.format import Op, WorkloadWriter
from tests.cli.cli_harness import RunCli, error_envelope, run_python, success_envelope

KEY_VARIABLE = "ADHASH_SNAPSHOT_KEY"
TRAILER_BYTES = 8 + 32


@pytest.fixture(autouse=True)
def _no_snapshot_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts without a MAC key; the keyed tests set one."""
    monkeypatch.delenv(KEY_VARIABLE, raising=False)


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    """A Robin Hood map of 100 entries in 10 chunks of 10."""
    path = tmp_path / "m.adh"
    save(RobinHoodMap({f"K{i}": f"v{i}" for i in range(100)}), path, chunk_entries=10)
    return path


@pytest.fixture
def damaged(snapshot: Path) -> Path:
    """The snapshot with one byte of its last chunk's payload flipped."""
    data = bytearray(snapshot.read_bytes())
    data[-TRAILER_BYTES - 1] ^= 0xFF
    snapshot.write_bytes(bytes(data))
    return snapshot


@pytest.fixture
def workload(tmp_path: Path) -> Path:
    path = tmp_path / "w.csv"
    with WorkloadWriter(path) as writer:
        writer.write_many((Op.PUT, f"W{i % 300}", f"w{i}") for i in range(900))
        writer.write_many((Op.GET, f"W{i}", None) for i in range(400))
        writer.write_many((Op.DEL, f"W{i}", None) for i in range(50))
    return path


# -- inspect-snapshot -------------------------------------------------------------------------


def test_inspect_snapshot_text_shows_header_stats_preview_and_key(
    run_cli: RunCli, snapshot: Path
) -> None:
    outcome = run_cli("inspect-snapshot", "--in", str(snapshot), "--key", "K7")
    assert (outcome.exit_code, outcome.stderr) == (0, "")
    lines = outcome.stdout.splitlines()
    assert lines[0] == f"path: {snapshot} ({snapshot.stat().st_size:,} bytes)"
    for expected in (
        "format version: 1",
        "keyed: no",
        "codec: zstd",
        "backend: robinhood",
        "entries: 100",
        "chunks: 10",
    ):
        assert expected in lines
    assert any(line.startswith("created_at: 20") for line in lines)
    assert any(line.startswith("stats: size 100, capacity ") for line in lines)
    assert "preview (15 more with --json):" in lines
    assert sum(line.startswith("  'K") for line in lines) == 5
    assert lines[-1] == "key 'K7': found, value 'v7'"


def _stats_line(run_cli: RunCli, path: Path) -> str:
    outcome = run_cli("inspect-snapshot", "--in", str(path))
    assert outcome.exit_code == 0, outcome.stderr
    return next(line for line in outcome.stdout.splitlines() if line.startswith("stats: "))


def test_inspect_snapshot_stats_show_the_hashing_and_a_flood(
    run_cli: RunCli, tmp_path: Path
) -> None:
    colliding = [5 + j * (2**61 - 1) for j in range(40)]  # one identical hash()
    flooded: ChainingMap[int, int] = ChainingMap()
    salted: SaltedMap[int, int] = SaltedMap(seed=2)
    for m in (flooded, salted):
        m.update((key, j) for j, key in enumerate(colliding))
    save(flooded, tmp_path / "flooded.adh")
    save(salted, tmp_path / "salted.adh")
    flooded_stats = _stats_line(run_cli, tmp_path / "flooded.adh")
    assert ", hashing plain, flood keys 40" in flooded_stats
    assert "unsalted keys" not in flooded_stats
    salted_stats = _stats_line(run_cli, tmp_path / "salted.adh")
    assert ", hashing salted, flood keys 1, unsalted keys 0" in salted_stats


def test_inspect_snapshot_json_is_the_snapshot_info(run_cli: RunCli, snapshot: Path) -> None:
    outcome = run_cli("--json", "inspect-snapshot", "--in", str(snapshot), "--limit", "3")
    envelope = success_envelope(outcome, "inspect-snapshot")
    assert envelope["schema"] == "adhash.snapshot_info.v1"
    assert (envelope["backend"], envelope["entry_count"], envelope["chunk_count"]) == (
        "robinhood",
        100,
        10,
    )
    assert envelope["file_bytes"] == snapshot.stat().st_size
    assert envelope["keyed"] is False
    assert envelope["stats"]["size"] == 100
    assert len(envelope["preview"]) == 3
    assert envelope["lookup"] is None


def test_inspect_snapshot_contains_filters_the_preview(run_cli: RunCli, snapshot: Path) -> None:
    outcome = run_cli("--json", "inspect-snapshot", "--in", str(snapshot), "--contains", "k9")
    preview = success_envelope(outcome, "inspect-snapshot")["preview"]
    assert sorted(item["key"] for item in preview) == ["'K9'", *(f"'K9{i}'" for i in range(10))]


def test_inspect_snapshot_int_key_looks_up_an_integer(run_cli: RunCli, tmp_path: Path) -> None:
    path = tmp_path / "ints.adh"
    save(ChainingMap({5: "five", "5": "text five"}), path)
    outcome = run_cli("--json", "inspect-snapshot", "--in", str(path), "--key", "5", "--int-key")
    lookup = success_envelope(outcome, "inspect-snapshot")["lookup"]
    assert lookup == {"key": "5", "found": True, "value": "'five'"}
    outcome = run_cli("inspect-snapshot", "--in", str(path), "--key", "6", "--int-key")
    assert outcome.stdout.splitlines()[-1] == "key 6: not found"


@pytest.mark.parametrize("flags", [("--int-key",), ("--key", "x1", "--int-key"), ("--limit", "-1")])
def test_inspect_snapshot_bad_flags_are_bad_input(
    run_cli: RunCli, snapshot: Path, flags: tuple[str, ...]
) -> None:
    outcome = run_cli("--json", "inspect-snapshot", "--in", str(snapshot), *flags)
    error_envelope(outcome, 2, "BadInput")


def test_inspect_snapshot_of_a_missing_file_is_an_io_error(run_cli: RunCli, tmp_path: Path) -> None:
    outcome = run_cli("--json", "inspect-snapshot", "--in", str(tmp_path / "none.adh"))
    assert "not found" in error_envelope(outcome, 5, "IO")["detail"]


def test_inspect_snapshot_of_a_pickle_is_bad_input(run_cli: RunCli, tmp_path: Path) -> None:
    path = tmp_path / "legacy.pkl"
    # What the original's run-csv --snapshot-out wrote: a raw pickle. It is never unpickled.
    path.write_bytes(pickle.dumps({f"key{i}": i for i in range(20)}, protocol=5))
    outcome = run_cli("--json", "inspect-snapshot", "--in", str(path))
    assert "not an adhash snapshot" in error_envelope(outcome, 2, "BadInput")["detail"]


# -- verify-snapshot --------------------------------------------------------------------------


def test_verify_snapshot_text_says_ok(run_cli: RunCli, snapshot: Path) -> None:
    outcome = run_cli("verify-snapshot", "--in", str(snapshot))
    assert (outcome.exit_code, outcome.stderr) == (0, "")
    assert outcome.stdout == (
        f"OK: snapshot verified: {snapshot} (robinhood, entries 100, chunks 10)\n"
    )


def test_verify_snapshot_verbose_adds_the_details(run_cli: RunCli, snapshot: Path) -> None:
    outcome = run_cli("verify-snapshot", "--in", str(snapshot), "--verbose")
    assert outcome.exit_code == 0
    assert "  chunk 9: 10 entries, ok" in outcome.stdout.splitlines()
    assert "  rebuilt map passes check_invariants()" in outcome.stdout.splitlines()


def test_verify_snapshot_json_carries_the_report(run_cli: RunCli, snapshot: Path) -> None:
    envelope = success_envelope(
        run_cli("--json", "verify-snapshot", "--in", str(snapshot)), "verify-snapshot"
    )
    assert envelope["verified"] is True
    assert envelope["report"]["ok"] is True
    assert (envelope["report"]["entries"], envelope["report"]["chunks"]) == (100, 10)
    assert (envelope["repair"], envelope["repaired"]) == (None, None)


def test_verify_snapshot_of_a_damaged_file_exits_3_with_the_report(
    run_cli: RunCli, damaged: Path
) -> None:
    outcome = run_cli("--json", "verify-snapshot", "--in", str(damaged))
    envelope = error_envelope(outcome, 3, "Invariant")
    assert envelope["detail"] == "snapshot verification failed: chunk 9: checksum mismatch"
    assert "--repair" in envelope["hint"]
    assert envelope["report"]["ok"] is False
    assert envelope["report"]["problems"] == ["chunk 9: checksum mismatch"]


def test_verify_snapshot_failure_in_text_goes_to_stderr(run_cli: RunCli, damaged: Path) -> None:
    outcome = run_cli("verify-snapshot", "--in", str(damaged))
    assert (outcome.exit_code, outcome.stdout) == (3, "")
    assert outcome.stderr.splitlines() == [
        f"FAIL: {damaged}: 1 problem",
        "  - chunk 9: checksum mismatch",
        "adhash: Invariant error: snapshot verification failed: chunk 9: checksum mismatch",
        f"hint: `adhash verify-snapshot --in {damaged} --repair --out REPAIRED` salvages the "
        "intact chunks",
    ]


def test_verify_snapshot_of_a_non_snapshot_fails_verification(
    run_cli: RunCli, tmp_path: Path
) -> None:
    path = tmp_path / "text.adh"
    path.write_text("not a snapshot at all\n" * 10)
    envelope = error_envelope(
        run_cli("--json", "verify-snapshot", "--in", str(path)), 3, "Invariant"
    )
    assert "bad magic" in envelope["detail"]


def test_verify_snapshot_of_a_missing_file_is_an_io_error(run_cli: RunCli, tmp_path: Path) -> None:
    outcome = run_cli("--json", "verify-snapshot", "--in", str(tmp_path / "none.adh"))
    error_envelope(outcome, 5, "IO")


def test_verify_snapshot_repair_salvages_the_intact_chunks(
    run_cli: RunCli, damaged: Path, tmp_path: Path
) -> None:
    before = damaged.read_bytes()
    repaired = tmp_path / "repaired.adh"
    outcome = run_cli(
        "--json", "verify-snapshot", "--in", str(damaged), "--repair", "--out", str(repaired)
    )
    envelope = success_envelope(outcome, "verify-snapshot")
    assert envelope["verified"] is False
    assert envelope["repair"]["recovered_entries"] == 90
    assert envelope["repair"]["lost_entries"] == 10
    assert envelope["repair"]["lost_chunks"] == [
        {"index": 9, "entries": 10, "reason": "checksum mismatch"}
    ]
    assert envelope["repaired"]["ok"] is True
    assert damaged.read_bytes() == before
    recovered = dict(load(repaired).items())
    assert len(recovered) == 90
    assert recovered.items() <= {f"K{i}": f"v{i}" for i in range(100)}.items()


def test_verify_snapshot_repair_text_reports_the_loss(
    run_cli: RunCli, damaged: Path, tmp_path: Path
) -> None:
    repaired = tmp_path / "repaired.adh"
    outcome = run_cli("verify-snapshot", "--in", str(damaged), "--repair", "--out", str(repaired))
    assert (outcome.exit_code, outcome.stderr) == (0, "")
    lines = outcome.stdout.splitlines()
    assert lines[0] == f"FAIL: {damaged}: 1 problem"
    assert f"repaired: {damaged} -> {repaired}" in lines
    assert "recovered 90 entries, lost 10, dropped 0 duplicate keys" in lines
    assert "  lost chunk 9 (10 entries): checksum mismatch" in lines
    assert lines[-1] == f"OK: snapshot verified: {repaired} (robinhood, entries 90, chunks 1)"


@pytest.mark.parametrize(
    "flags",
    [("--repair",), ("--out", "{tmp}/x.adh"), ("--repair", "--out", "{snapshot}")],
    ids=["repair-without-out", "out-without-repair", "out-is-in"],
)
def test_verify_snapshot_repair_flags_are_checked(
    run_cli: RunCli, snapshot: Path, tmp_path: Path, flags: tuple[str, ...]
) -> None:
    before = snapshot.read_bytes()
    args = [flag.format(tmp=tmp_path, snapshot=snapshot) for flag in flags]
    outcome = run_cli("--json", "verify-snapshot", "--in", str(snapshot), *args)
    error_envelope(outcome, 2, "BadInput")
    assert snapshot.read_bytes() == before
    assert not (tmp_path / "x.adh").exists()


# -- compact-snapshot -------------------------------------------------------------------------


@pytest.fixture
def sparse(tmp_path: Path) -> Path:
    """A Robin Hood map grown to 1000 entries, then cut to 100: far larger than it needs."""
    m: RobinHoodMap[str, int] = RobinHoodMap({f"k{i}": i for i in range(1000)})
    for i in range(900):
        del m[f"k{i}"]
    path = tmp_path / "sparse.adh"
    save(m, path)
    return path


def test_compact_snapshot_json_reports_bytes_and_stats(
    run_cli: RunCli, sparse: Path, tmp_path: Path
) -> None:
    out = tmp_path / "compacted.adh"
    outcome = run_cli("--json", "compact-snapshot", "--in", str(sparse), "--out", str(out))
    envelope = success_envelope(outcome, "compact-snapshot")
    assert envelope["bytes_before"] == sparse.stat().st_size
    assert envelope["bytes_after"] == out.stat().st_size
    assert envelope["stats_after"]["size"] == envelope["stats_before"]["size"] == 100
    assert envelope["stats_after"]["capacity"] < envelope["stats_before"]["capacity"]
    assert dict(load(out).items()) == dict(load(sparse).items())


def test_compact_snapshot_text_reports_bytes_and_stats(
    run_cli: RunCli, sparse: Path, tmp_path: Path
) -> None:
    out = tmp_path / "compacted.adh"
    outcome = run_cli("compact-snapshot", "--in", str(sparse), "--out", str(out))
    assert (outcome.exit_code, outcome.stderr) == (0, "")
    lines = outcome.stdout.splitlines()
    assert lines[0] == f"compacted: {sparse} -> {out}"
    assert lines[1].startswith(f"bytes: {sparse.stat().st_size:,} -> {out.stat().st_size:,}")
    assert lines[2].startswith("before: size 100, capacity 512")
    assert lines[3].startswith("after:  size 100, capacity 256")


def test_compact_snapshot_of_a_damaged_file_writes_nothing(
    run_cli: RunCli, damaged: Path, tmp_path: Path
) -> None:
    out = tmp_path / "compacted.adh"
    outcome = run_cli("--json", "compact-snapshot", "--in", str(damaged), "--out", str(out))
    error_envelope(outcome, 3, "Invariant")
    assert not out.exists()


# -- put, get, del, items ---------------------------------------------------------------------


def test_put_then_get_prints_the_value(run_cli: RunCli, tmp_path: Path) -> None:
    store = tmp_path / "s.adh"
    outcome = run_cli("put", "--store", str(store), "K1", "V1")
    assert outcome.stdout == f"stored K1 in {store} (size 1, new adaptive store)\n"
    outcome = run_cli("get", "--store", str(store), "K1")
    assert (outcome.exit_code, outcome.stdout, outcome.stderr) == (0, "V1\n", "")


def test_put_then_get_across_processes(tmp_path: Path) -> None:
    store = tmp_path / "s.adh"
    put = run_python("-m", "adhash_cli", "put", "--store", str(store), "K1", "V1")
    assert put.exit_code == 0, put.stderr
    got = run_python("-m", "adhash_cli", "get", "--store", str(store), "K1")
    assert (got.exit_code, got.stdout, got.stderr) == (0, "V1\n", "")


def test_put_json_envelope_says_whether_it_created_the_store(
    run_cli: RunCli, tmp_path: Path
) -> None:
    store = tmp_path / "s.adh"
    first = success_envelope(run_cli("--json", "put", "--store", str(store), "a", "1"), "put")
    assert {k: first[k] for k in ("key", "value", "created", "size")} == {
        "key": "a",
        "value": "1",
        "created": True,
        "size": 1,
    }
    second = success_envelope(run_cli("--json", "put", "--store", str(store), "b", "2"), "put")
    assert (second["created"], second["size"]) == (False, 2)
    third = success_envelope(run_cli("--json", "put", "--store", str(store), "a", "3"), "put")
    assert (third["created"], third["size"]) == (False, 2)
    assert dict(load(store).items()) == {"a": "3", "b": "2"}


def test_get_json_envelope_of_a_present_key(run_cli: RunCli, tmp_path: Path) -> None:
    store = tmp_path / "s.adh"
    run_cli("put", "--store", str(store), "K1", "V1")
    envelope = success_envelope(run_cli("--json", "get", "--store", str(store), "K1"), "get")
    assert {k: envelope[k] for k in ("key", "found", "value")} == {
        "key": "K1",
        "found": True,
        "value": "V1",
    }


def test_get_of_a_missing_key_exits_0_with_found_false(run_cli: RunCli, tmp_path: Path) -> None:
    store = tmp_path / "s.adh"
    run_cli("put", "--store", str(store), "K1", "V1")
    envelope = success_envelope(run_cli("--json", "get", "--store", str(store), "K2"), "get")
    assert (envelope["found"], envelope["value"]) == (False, None)


def test_get_of_a_missing_key_in_text_says_so_on_stderr(run_cli: RunCli, tmp_path: Path) -> None:
    store = tmp_path / "s.adh"
    run_cli("put", "--store", str(store), "K1", "V1")
    outcome = run_cli("get", "--store", str(store), "K2")
    assert (outcome.exit_code, outcome.stdout) == (0, "")
    assert outcome.stderr == f"adhash: key 'K2' not found in {store}\n"


def test_del_removes_a_key_and_reports_it(run_cli: RunCli, tmp_path: Path) -> None:
    store = tmp_path / "s.adh"
    run_cli("put", "--store", str(store), "K1", "V1")
    run_cli("put", "--store", str(store), "K2", "V2")
    envelope = success_envelope(run_cli("--json", "del", "--store", str(store), "K1"), "del")
    assert (envelope["key"], envelope["deleted"]) == ("K1", True)
    assert dict(load(store).items()) == {"K2": "V2"}
    outcome = run_cli("del", "--store", str(store), "K2")
    assert outcome.stdout == f"deleted K2 from {store} (size 0)\n"


def test_del_of_a_missing_key_leaves_the_file_untouched(run_cli: RunCli, tmp_path: Path) -> None:
    store = tmp_path / "s.adh"
    run_cli("put", "--store", str(store), "K1", "V1")
    before = (store.read_bytes(), store.stat().st_mtime_ns)
    envelope = success_envelope(run_cli("--json", "del", "--store", str(store), "K9"), "del")
    assert envelope["deleted"] is False
    assert (store.read_bytes(), store.stat().st_mtime_ns) == before
    outcome = run_cli("del", "--store", str(store), "K9")
    assert outcome.stdout == f"K9 not found in {store}; nothing deleted\n"


def test_items_lists_entries_sorted_by_key(run_cli: RunCli, tmp_path: Path) -> None:
    store = tmp_path / "s.adh"
    for key, value in (("b", "2"), ("a", "1"), ("c", "3")):
        run_cli("put", "--store", str(store), key, value)
    run_cli("put", "--store", str(store), "--int-key", "7", "seven")
    envelope = success_envelope(run_cli("--json", "items", "--store", str(store)), "items")
    assert envelope["count"] == 4
    assert envelope["items"] == [
        {"key": 7, "value": "seven"},
        {"key": "a", "value": "1"},
        {"key": "b", "value": "2"},
        {"key": "c", "value": "3"},
    ]
    outcome = run_cli("items", "--store", str(store), "--limit", "2")
    assert outcome.stdout == "7\tseven\na\t1\n(2 more; 4 entries in all)\n"


def test_int_key_and_text_key_are_different_keys(run_cli: RunCli, tmp_path: Path) -> None:
    store = tmp_path / "s.adh"
    run_cli("put", "--store", str(store), "--int-key", "5", "int")
    run_cli("put", "--store", str(store), "5", "text")
    assert run_cli("get", "--store", str(store), "--int-key", "5").stdout == "int\n"
    assert run_cli("get", "--store", str(store), "5").stdout == "text\n"
    assert dict(load(store).items()) == {5: "int", "5": "text"}


@pytest.mark.parametrize("key", ["five", "4.5", "0x10", "99999999999999999999"])
def test_int_key_that_is_not_a_64_bit_integer_is_bad_input(
    run_cli: RunCli, tmp_path: Path, key: str
) -> None:
    store = tmp_path / "s.adh"
    outcome = run_cli("--json", "put", "--store", str(store), "--int-key", key, "v")
    assert "--int-key" in error_envelope(outcome, 2, "BadInput")["detail"]
    assert not store.exists()


def test_put_mode_chooses_the_backend_of_a_new_store(run_cli: RunCli, tmp_path: Path) -> None:
    store = tmp_path / "s.adh"
    run_cli("put", "--store", str(store), "--mode", "robinhood", "K1", "V1")
    assert type(load(store)) is RobinHoodMap
    outcome = run_cli("--json", "put", "--store", str(store), "--mode", "chaining", "K2", "V2")
    assert "applies only when put creates" in error_envelope(outcome, 2, "BadInput")["detail"]
    same = run_cli("--json", "put", "--store", str(store), "--mode", "fast-lookup", "K2", "V2")
    assert success_envelope(same, "put")["size"] == 2


@pytest.mark.parametrize("command", [("get", "K"), ("del", "K"), ("items",)])
def test_reading_a_missing_store_is_an_io_error_naming_put(
    run_cli: RunCli, tmp_path: Path, command: tuple[str, ...]
) -> None:
    store = tmp_path / "none.adh"
    name, *rest = command
    outcome = run_cli("--json", name, "--store", str(store), *rest)
    envelope = error_envelope(outcome, 5, "IO")
    assert envelope["detail"] == f"store not found: {store}"
    assert "adhash put --store" in envelope["hint"]
    assert not store.exists()


def _flip_last_chunk(data: bytes) -> bytes:
    damaged = bytearray(data)
    damaged[-TRAILER_BYTES - 1] ^= 0xFF
    return bytes(damaged)


@pytest.mark.parametrize(
    ("damage", "exit_code", "kind"),
    [
        (_flip_last_chunk, 3, "Invariant"),
        (lambda data: data[: len(data) // 2], 2, "BadInput"),
        (lambda data: b"\x80\x05N." + data[4:], 2, "BadInput"),
        (lambda data: b"", 2, "BadInput"),
    ],
    ids=["flipped-byte", "truncated", "pickle-magic", "empty"],
)
def test_put_on_a_damaged_store_fails_and_leaves_it_unchanged(
    run_cli: RunCli, snapshot: Path, damage: Any, exit_code: int, kind: str
) -> None:
    snapshot.write_bytes(damage(snapshot.read_bytes()))
    before = snapshot.read_bytes()
    outcome = run_cli("--json", "put", "--store", str(snapshot), "K1", "new")
    error_envelope(outcome, exit_code, kind)
    assert snapshot.read_bytes() == before
    assert sorted(path.name for path in snapshot.parent.iterdir()) == [snapshot.name]


# -- ADHASH_SNAPSHOT_KEY ----------------------------------------------------------------------


def test_a_store_written_with_a_key_needs_that_key(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "s.adh"
    monkeypatch.setenv(KEY_VARIABLE, "correct horse")
    run_cli("put", "--store", str(store), "K1", "V1")
    assert run_cli("get", "--store", str(store), "K1").stdout == "V1\n"
    info = success_envelope(
        run_cli("--json", "inspect-snapshot", "--in", str(store)), "inspect-snapshot"
    )
    assert info["keyed"] is True

    monkeypatch.setenv(KEY_VARIABLE, "wrong horse")
    outcome = run_cli("--json", "get", "--store", str(store), "K1")
    assert "wrong key" in error_envelope(outcome, 3, "Invariant")["detail"]
    outcome = run_cli("--json", "verify-snapshot", "--in", str(store))
    error_envelope(outcome, 3, "Invariant")

    monkeypatch.delenv(KEY_VARIABLE)
    outcome = run_cli("--json", "get", "--store", str(store), "K1")
    assert KEY_VARIABLE in error_envelope(outcome, 2, "BadInput")["detail"]


def test_an_unkeyed_store_is_refused_while_a_key_is_set(
    run_cli: RunCli, snapshot: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot.read_bytes()
    monkeypatch.setenv(KEY_VARIABLE, "correct horse")
    outcome = run_cli("--json", "put", "--store", str(snapshot), "K1", "new")
    assert "carries no authentication" in error_envelope(outcome, 2, "BadInput")["detail"]
    assert snapshot.read_bytes() == before


def test_the_key_reaches_a_subprocess_through_the_environment(tmp_path: Path) -> None:
    store = tmp_path / "s.adh"
    keyed = {KEY_VARIABLE: "correct horse"}
    put = run_python("-m", "adhash_cli", "put", "--store", str(store), "K1", "V1", env=keyed)
    assert put.exit_code == 0, put.stderr
    got = run_python("-m", "adhash_cli", "get", "--store", str(store), "K1", env=keyed)
    assert (got.exit_code, got.stdout) == (0, "V1\n")
    unkeyed = run_python("-m", "adhash_cli", "--json", "get", "--store", str(store), "K1")
    assert unkeyed.exit_code == 2
    assert orjson.loads(unkeyed.stderr)["error"] == "BadInput"


# -- run-csv --snapshot-in / --snapshot-out ---------------------------------------------------


def test_run_csv_snapshot_out_can_be_inspected_and_verified(
    run_cli: RunCli, workload: Path, tmp_path: Path
) -> None:
    out = tmp_path / "final.adh"
    outcome = run_cli(
        "--json", "run-csv", "--csv", str(workload), "--mode", "robinhood",
        "--snapshot-out", str(out), "--no-progress",
    )  # fmt: skip
    summary = success_envelope(outcome, "run-csv")
    assert (summary["snapshot_in"], summary["snapshot_out"]) == (None, str(out))
    size = summary["final_stats"]["size"]
    assert size == 250

    info = success_envelope(
        run_cli("--json", "inspect-snapshot", "--in", str(out)), "inspect-snapshot"
    )
    assert (info["backend"], info["entry_count"]) == ("robinhood", size)
    text = run_cli("inspect-snapshot", "--in", str(out), "--key", "W299")
    assert text.stdout.splitlines()[-1] == "key 'W299': found, value 'w899'"
    verified = run_cli("verify-snapshot", "--in", str(out))
    assert verified.exit_code == 0
    assert verified.stdout.startswith("OK: snapshot verified")


def test_run_csv_text_names_the_snapshot_written(
    run_cli: RunCli, workload: Path, tmp_path: Path
) -> None:
    out = tmp_path / "final.adh"
    outcome = run_cli(
        "run-csv", "--csv", str(workload), "--snapshot-out", str(out), "--no-progress"
    )
    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.stdout.splitlines()[-1] == f"snapshot out: {out} (250 entries)"


def test_run_csv_snapshot_in_continues_from_the_snapshot(
    run_cli: RunCli, workload: Path, tmp_path: Path
) -> None:
    start = tmp_path / "start.adh"
    save(ChainingMap({f"S{i}": f"s{i}" for i in range(20)} | {"W0": "old"}), start)
    out = tmp_path / "final.adh"
    outcome = run_cli(
        "--json", "run-csv", "--csv", str(workload), "--mode", "robinhood",
        "--snapshot-in", str(start), "--snapshot-out", str(out), "--no-progress",
    )  # fmt: skip
    summary = success_envelope(outcome, "run-csv")
    assert (summary["mode"], summary["backend_start"]) == ("chaining", "chaining")
    assert (summary["snapshot_in"], summary["snapshot_out"]) == (str(start), str(out))
    final = load(out)
    assert type(final) is ChainingMap
    assert {f"S{i}": f"s{i}" for i in range(20)}.items() <= dict(final.items()).items()
    assert "W0" not in final
    assert len(final) == 20 + 250
    assert load(start)["W0"] == "old"


def test_run_csv_text_says_which_mode_the_snapshot_imposed(
    run_cli: RunCli, workload: Path, snapshot: Path
) -> None:
    outcome = run_cli(
        "run-csv", "--csv", str(workload), "--mode", "compact",
        "--snapshot-in", str(snapshot), "--no-progress",
    )  # fmt: skip
    assert outcome.exit_code == 0, outcome.stderr
    lines = outcome.stdout.splitlines()
    assert lines[1].startswith("mode robinhood: robinhood -> ")
    assert lines[-1] == f"snapshot in: {snapshot} (robinhood, 100 entries; --mode compact ignored)"


def test_run_csv_snapshot_in_refuses_a_hash_seed(
    run_cli: RunCli, workload: Path, snapshot: Path
) -> None:
    outcome = run_cli(
        "--json", "run-csv", "--csv", str(workload), "--snapshot-in", str(snapshot),
        "--hash-seed", "3",
    )  # fmt: skip
    error_envelope(outcome, 2, "BadInput")


def test_run_csv_with_a_damaged_snapshot_in_runs_nothing_and_writes_nothing(
    run_cli: RunCli, workload: Path, damaged: Path, tmp_path: Path
) -> None:
    before = damaged.read_bytes()
    out = tmp_path / "final.adh"
    outcome = run_cli(
        "--json", "run-csv", "--csv", str(workload), "--snapshot-in", str(damaged),
        "--snapshot-out", str(out),
    )  # fmt: skip
    error_envelope(outcome, 3, "Invariant")
    assert not out.exists()
    assert damaged.read_bytes() == before


def test_run_csv_with_a_missing_snapshot_in_is_an_io_error(
    run_cli: RunCli, workload: Path, tmp_path: Path
) -> None:
    outcome = run_cli(
        "--json", "run-csv", "--csv", str(workload), "--snapshot-in", str(tmp_path / "no.adh")
    )
    error_envelope(outcome, 5, "IO")
