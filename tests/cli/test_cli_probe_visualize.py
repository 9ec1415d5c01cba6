"""``adhash probe-visualize`` end to end: text and JSON, a snapshot or seeded map, plain or salted
hashing, --export-json, --apply, and the bad inputs it refuses before writing anything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from adhash import ChainingMap, RobinHoodMap, SaltedMap
from adhash.snapshot import load, save
from adhash.trace import SCHEMA, TraceCheck, trace_get
from tests.cli.cli_harness import RunCli, error_envelope, success_envelope

GET = ("probe-visualize", "--operation", "get")
PUT = ("probe-visualize", "--operation", "put")


@pytest.fixture(autouse=True)
def _no_snapshot_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ADHASH_SNAPSHOT_KEY", raising=False)


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    """A seeded Robin Hood map of 40 integer keys: its layout is the same in every process."""
    path = tmp_path / "m.adh"
    save(RobinHoodMap({i * 7: f"v{i}" for i in range(40)}, hash_seed=11), path, key=None)
    return path


def trace_of(outcome: Any) -> dict[str, Any]:
    trace: dict[str, Any] = success_envelope(outcome, "probe-visualize")["trace"]
    return trace


# -- what it prints ----------------------------------------------------------------------------


def test_text_names_the_map_lists_each_step_and_ends_with_the_outcome(run_cli: RunCli) -> None:
    outcome = run_cli(*GET, "--key", "K1", "--seed-entry", "K1=v1", "--seed-entry", "K2=v2")
    assert (outcome.exit_code, outcome.stderr) == (0, "")
    lines = outcome.stdout.splitlines()
    assert lines[0] == "Map: robinhood (new, 2 seed entries; 2 entries)"
    assert lines[1] == "Probe trace: GET 'K1' on robinhood"
    assert any(line.split()[-1] == "match" for line in lines)
    assert lines[-1].startswith("Outcome: found at slot ")
    assert lines[-1].endswith("value 'v1'")


def test_json_envelope_carries_the_trace_with_its_schema(run_cli: RunCli) -> None:
    outcome = run_cli("--json", *GET, "--key", "K1", "--seed-entry", "K1=v1")
    trace = trace_of(outcome)
    assert (trace["schema"], trace["operation"], trace["key"]) == (SCHEMA, "get", "K1")
    assert (trace["outcome"], trace["found_value"]) == ("found", "v1")


def test_json_envelope_describes_the_map_traced(run_cli: RunCli) -> None:
    outcome = run_cli("--json", *GET, "--key", "K1", "--seed-entry", "K1=v1")
    assert success_envelope(outcome)["map"] == {
        "snapshot": None,
        "backend": "robinhood",
        "hashing": "plain",
        "seed_entries": 1,
        "size": 1,
    }


def test_a_put_of_a_new_key_is_traced_as_an_insert(run_cli: RunCli) -> None:
    outcome = run_cli("--json", *PUT, "--key", "K3", "--value", "v3", "--seed-entry", "K1=v1")
    trace = trace_of(outcome)
    assert (trace["outcome"], trace["steps"][-1]["action"]) == ("inserted", "place")


def test_a_put_of_a_seeded_key_is_traced_as_an_update(run_cli: RunCli) -> None:
    outcome = run_cli("--json", *PUT, "--key", "K1", "--value", "new", "--seed-entry", "K1=old")
    trace = trace_of(outcome)
    assert (trace["outcome"], trace["found_value"], trace["value"]) == ("updated", "old", "new")


# -- where the map comes from ------------------------------------------------------------------


def test_a_snapshot_is_traced_exactly_as_the_api_traces_the_loaded_map(
    run_cli: RunCli, snapshot: Path
) -> None:
    outcome = run_cli("--json", *GET, "--key", "21", "--int-key", "--snapshot", str(snapshot))
    assert trace_of(outcome) == trace_get(load(snapshot, key=None), 21).as_dict()


def test_seed_entries_are_added_to_the_snapshot_map(run_cli: RunCli, snapshot: Path) -> None:
    seed = ("--seed-entry", "-5=extra")
    outcome = run_cli(
        "--json", *GET, "--key", "-5", "--int-key", "--snapshot", str(snapshot), *seed
    )
    envelope = success_envelope(outcome)
    assert (envelope["map"]["size"], envelope["trace"]["found_value"]) == (41, "extra")


def test_int_key_types_the_seed_keys_too(run_cli: RunCli) -> None:
    outcome = run_cli("--json", *GET, "--key", "7", "--int-key", "--seed-entry", "7=seven")
    assert (trace_of(outcome)["key"], trace_of(outcome)["found_value"]) == (7, "seven")


def test_mode_chooses_the_backend_of_a_seeded_map(run_cli: RunCli) -> None:
    outcome = run_cli("--json", *GET, "--key", "K1", "--mode", "chaining", "--seed-entry", "K1=a")
    trace = trace_of(outcome)
    assert (trace["backend"], trace["steps"][0]["kind"]) == ("chaining", "chain")


def test_mode_accepts_the_originals_alias(run_cli: RunCli) -> None:
    outcome = run_cli("--json", *GET, "--key", "K1", "--mode", "memory-tight")
    assert trace_of(outcome)["backend"] == "compact"


def test_an_adaptive_map_is_traced_on_its_current_backend(run_cli: RunCli) -> None:
    outcome = run_cli("--json", *GET, "--key", "K1", "--mode", "adaptive", "--seed-entry", "K1=a")
    trace = trace_of(outcome)
    assert (trace["backend"], trace["tables"][0]["backend"]) == ("adaptive", "chaining")


def test_set_sizes_the_new_map(run_cli: RunCli) -> None:
    outcome = run_cli("--json", *GET, "--key", "K1", "--set", "maps.robinhood_capacity=64")
    assert trace_of(outcome)["capacity"] == 64


def test_a_hash_seed_makes_the_home_slot_repeatable(run_cli: RunCli) -> None:
    argv = ("--json", *GET, "--key", "12345", "--int-key", "--set", "maps.hash_seed=9")
    homes = {trace_of(run_cli(*argv))["home"] for _ in range(3)}
    assert len(homes) == 1


# -- salted hashing ----------------------------------------------------------------------------

P = 2**61 - 1
COLLIDING = [str(5 + j * P) for j in range(3)]
"""Ints equal modulo 2**61 - 1: one hash() value, 5."""
# Room enough that the three keys, once salted, land in three distinct homes.
WIDE = ("--set", "maps.robinhood_capacity=1024", "--set", "maps.compact_capacity=1024")
WIDE_CHAINS = ("--set", "maps.chaining_buckets=16", "--set", "maps.groups_per_bucket=64")


def colliding_traces(run_cli: RunCli, mode: str, *hashing: str) -> list[dict[str, Any]]:
    """The trace of a get of each colliding int, in a map seeded with all three."""
    seeds = [arg for key in COLLIDING for arg in ("--seed-entry", f"{key}=v{key}")]
    fixed = ("--set", "maps.hash_seed=3", *WIDE, *WIDE_CHAINS, "--mode", mode, *hashing)
    return [
        trace_of(run_cli("--json", *GET, "--key", key, "--int-key", *seeds, *fixed))
        for key in COLLIDING
    ]


@pytest.mark.parametrize("mode", ["chaining", "robinhood", "compact"])
def test_plain_hashing_puts_colliding_ints_in_one_home(run_cli: RunCli, mode: str) -> None:
    traces = colliding_traces(run_cli, mode)
    assert [trace["plain_hash"] for trace in traces] == [5, 5, 5]
    assert len({trace["home"] for trace in traces}) == 1
    assert [trace["salted_hash"] for trace in traces] == [None, None, None]
    # The third key's lookup compares the two before it first.
    assert sum(step["compared"] for step in traces[-1]["steps"]) == 3


@pytest.mark.parametrize("mode", ["chaining", "robinhood", "compact", "adaptive"])
def test_salted_hashing_gives_colliding_ints_distinct_keyed_hashes_and_homes(
    run_cli: RunCli, mode: str
) -> None:
    traces = colliding_traces(run_cli, mode, "--hashing", "salted")
    assert [trace["plain_hash"] for trace in traces] == [5, 5, 5]
    assert [trace["hashing"] for trace in traces] == ["salted"] * 3
    assert len({trace["salted_hash"] for trace in traces}) == 3
    assert len({trace["home"] for trace in traces}) == 3
    assert [trace["tables"][0]["hashing"] for trace in traces] == ["salted"] * 3


def test_a_salted_map_is_described_with_its_hashing(run_cli: RunCli) -> None:
    argv = (*GET, "--key", "K1", "--seed-entry", "K1=a", "--mode", "compact", "--hashing", "salted")
    assert success_envelope(run_cli("--json", *argv))["map"] == {
        "snapshot": None,
        "backend": "salted",
        "hashing": "salted",
        "seed_entries": 1,
        "size": 1,
    }
    lines = run_cli(*argv).stdout.splitlines()
    assert lines[0] == "Map: compact, salted hashing (new, 1 seed entry; 1 entry)"
    assert lines[1] == "Probe trace: GET 'K1' on salted"


def test_salted_text_shows_the_plain_hash_and_each_tables_keyed_hash(run_cli: RunCli) -> None:
    key = COLLIDING[1]
    argv = ("--key", key, "--int-key", "--hashing", "salted", "--set", "maps.hash_seed=3")
    salted_hash = trace_of(run_cli("--json", *GET, *argv))["salted_hash"]
    lines = run_cli(*GET, *argv).stdout.splitlines()
    assert lines[2].startswith("Hashing: hash(key) = 5;")
    assert lines[3].startswith(f"Tables: current robinhood, salted, keyed hash {salted_hash},")


def test_a_salted_adaptive_map_is_traced_on_salted_hashing(run_cli: RunCli) -> None:
    argv = ("--key", "K1", "--seed-entry", "K1=a", "--mode", "adaptive", "--hashing", "salted")
    envelope = success_envelope(run_cli("--json", *GET, *argv))
    assert (envelope["map"]["backend"], envelope["map"]["hashing"]) == ("adaptive", "salted")
    assert (envelope["trace"]["tables"][0]["backend"], envelope["trace"]["hashing"]) == (
        "chaining",
        "salted",
    )


@pytest.mark.parametrize("mode", ["chaining", "robinhood", "compact", "adaptive"])
def test_apply_confirms_a_put_into_a_salted_map(run_cli: RunCli, mode: str) -> None:
    seeds = [arg for key in COLLIDING[:2] for arg in ("--seed-entry", f"{key}=v")]
    argv = (*PUT, "--key", COLLIDING[2], "--int-key", "--value", "new", *seeds, "--apply")
    outcome = run_cli("--json", *argv, "--mode", mode, "--hashing", "salted")
    applied = success_envelope(outcome)["applied"]
    assert (applied["outcome"], applied["matched"]) == ("inserted", True)


def test_plain_hashing_is_the_default(run_cli: RunCli) -> None:
    default = trace_of(run_cli("--json", *GET, "--key", "K1", "--set", "maps.hash_seed=2"))
    plain = trace_of(
        run_cli("--json", *GET, "--key", "K1", "--set", "maps.hash_seed=2", "--hashing", "plain")
    )
    assert default == plain
    assert default["hashing"] == "plain"


def test_a_salted_snapshot_is_traced_on_its_own_hashing(run_cli: RunCli, tmp_path: Path) -> None:
    path = tmp_path / "s.adh"
    inner: RobinHoodMap[Any, str] = RobinHoodMap(hash_seed=8)  # a layout the same in every process
    save(SaltedMap({int(key): "v" for key in COLLIDING}, inner=inner, seed=8), path, key=None)
    outcome = run_cli("--json", *GET, "--key", COLLIDING[1], "--int-key", "--snapshot", str(path))
    trace = trace_of(outcome)
    assert trace == trace_get(load(path, key=None), int(COLLIDING[1])).as_dict()
    assert (trace["hashing"], trace["outcome"]) == ("salted", "found")


# -- --export-json and --apply -----------------------------------------------------------------


def test_export_json_writes_the_trace_document(run_cli: RunCli, tmp_path: Path) -> None:
    target = tmp_path / "out" / "trace.json"
    put = (*PUT, "--key", "K2", "--value", "v", "--seed-entry", "K1=a")
    outcome = run_cli("--json", *put, "--export-json", str(target))
    envelope = success_envelope(outcome)
    assert orjson.loads(target.read_bytes()) == envelope["trace"]
    assert envelope["export_json"] == str(target)


def test_export_json_is_indented_for_reading(run_cli: RunCli, tmp_path: Path) -> None:
    target = tmp_path / "trace.json"
    run_cli(*GET, "--key", "K1", "--export-json", str(target))
    assert target.read_text().startswith('{\n  "schema": "adhash.probe_trace.v1"')


def test_text_says_where_the_trace_was_written(run_cli: RunCli, tmp_path: Path) -> None:
    target = tmp_path / "trace.json"
    outcome = run_cli(*GET, "--key", "K1", "--export-json", str(target))
    assert outcome.stdout.splitlines()[-1] == f"Trace written to {target}"


def test_apply_performs_the_put_and_reports_that_it_matched(run_cli: RunCli) -> None:
    outcome = run_cli(
        "--json", *PUT, "--key", "K9", "--value", "v", "--seed-entry", "K1=a", "--apply"
    )
    applied = success_envelope(outcome)["applied"]
    assert (applied["outcome"], applied["matched"], applied["mismatches"]) == ("inserted", True, [])


def test_apply_in_text_confirms_the_outcome(run_cli: RunCli) -> None:
    outcome = run_cli(*GET, "--key", "K1", "--seed-entry", "K1=a", "--apply")
    assert "Applied: the get was found, as traced." in outcome.stdout.splitlines()


def test_apply_leaves_the_snapshot_file_unchanged(run_cli: RunCli, snapshot: Path) -> None:
    before = snapshot.read_bytes()
    outcome = run_cli(
        *PUT, "--key", "1", "--int-key", "--value", "x", "--snapshot", str(snapshot), "--apply"
    )
    assert outcome.exit_code == 0
    assert snapshot.read_bytes() == before


def test_without_apply_no_applied_result_is_reported(run_cli: RunCli) -> None:
    assert success_envelope(run_cli("--json", *GET, "--key", "K1"))["applied"] is None


def test_an_apply_that_disagrees_with_the_trace_exits_3_and_writes_nothing(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disagree(m: Any, trace: Any) -> TraceCheck:
        return TraceCheck("missing", None, None, ("the get was missing, the trace says found",))

    monkeypatch.setattr("adhash.trace.apply_and_check", disagree)
    target = tmp_path / "trace.json"
    outcome = run_cli(
        "--json",
        *GET,
        "--key",
        "K1",
        "--seed-entry",
        "K1=a",
        "--apply",
        "--export-json",
        str(target),
    )
    assert "trace says found" in error_envelope(outcome, 3, "Invariant")["detail"]
    assert not target.exists()


# -- bad input ---------------------------------------------------------------------------------


def test_put_without_value_is_bad_input(run_cli: RunCli) -> None:
    envelope = error_envelope(run_cli("--json", *PUT, "--key", "K1"), 2, "BadInput")
    assert envelope["detail"] == "put needs --value"


def test_get_with_a_value_is_bad_input(run_cli: RunCli) -> None:
    envelope = error_envelope(run_cli("--json", *GET, "--key", "K1", "--value", "v"), 2, "BadInput")
    assert "--value applies to --operation put only" in envelope["detail"]


def test_an_unknown_operation_is_bad_input(run_cli: RunCli) -> None:
    outcome = run_cli("--json", "probe-visualize", "--operation", "del", "--key", "K1")
    assert "--operation must be get or put" in error_envelope(outcome, 2, "BadInput")["detail"]


def test_a_malformed_seed_entry_is_bad_input_naming_it(run_cli: RunCli) -> None:
    outcome = run_cli("--json", *GET, "--key", "K1", "--seed-entry", "K1=a", "--seed-entry", "K2")
    envelope = error_envelope(outcome, 2, "BadInput")
    assert envelope["detail"] == "--seed-entry 'K2' must be KEY=VALUE"


def test_a_seed_key_that_is_not_an_integer_is_bad_input_naming_it(run_cli: RunCli) -> None:
    outcome = run_cli("--json", *GET, "--key", "1", "--int-key", "--seed-entry", "x=1")
    assert "--seed-entry 'x=1'" in error_envelope(outcome, 2, "BadInput")["detail"]


def test_an_unknown_mode_is_bad_input(run_cli: RunCli) -> None:
    outcome = run_cli("--json", *GET, "--key", "K1", "--mode", "btree")
    assert "unknown mode 'btree'" in error_envelope(outcome, 2, "BadInput")["detail"]


def test_dict_mode_is_bad_input(run_cli: RunCli) -> None:
    outcome = run_cli("--json", *GET, "--key", "K1", "--mode", "dict")
    assert "cannot be traced" in error_envelope(outcome, 2, "BadInput")["detail"]


def test_a_snapshot_of_a_dict_is_bad_input(run_cli: RunCli, tmp_path: Path) -> None:
    path = tmp_path / "d.adh"
    save({"K1": "a"}, path, key=None)
    outcome = run_cli("--json", *GET, "--key", "K1", "--snapshot", str(path))
    assert "cannot trace a dict" in error_envelope(outcome, 2, "BadInput")["detail"]


def test_an_unknown_hashing_is_bad_input(run_cli: RunCli) -> None:
    outcome = run_cli("--json", *GET, "--key", "K1", "--hashing", "keyed")
    envelope = error_envelope(outcome, 2, "BadInput")
    assert envelope["detail"] == "--hashing must be plain or salted, got 'keyed'"


def test_hashing_with_a_snapshot_is_bad_input(run_cli: RunCli, snapshot: Path) -> None:
    outcome = run_cli(
        "--json", *GET, "--key", "K1", "--snapshot", str(snapshot), "--hashing", "salted"
    )
    assert "--hashing builds a new map" in error_envelope(outcome, 2, "BadInput")["detail"]


def test_mode_with_a_snapshot_is_bad_input(run_cli: RunCli, snapshot: Path) -> None:
    outcome = run_cli(
        "--json", *GET, "--key", "K1", "--snapshot", str(snapshot), "--mode", "compact"
    )
    assert "--mode builds a new map" in error_envelope(outcome, 2, "BadInput")["detail"]


def test_a_missing_snapshot_is_an_io_error(run_cli: RunCli, tmp_path: Path) -> None:
    outcome = run_cli("--json", *GET, "--key", "K1", "--snapshot", str(tmp_path / "none.adh"))
    assert "none.adh" in error_envelope(outcome, 5, "IO")["detail"]


def test_a_corrupt_snapshot_fails_verification(run_cli: RunCli, snapshot: Path) -> None:
    data = bytearray(snapshot.read_bytes())
    data[-41] ^= 0xFF  # the last byte of the last chunk, before the 40-byte trailer
    snapshot.write_bytes(bytes(data))
    outcome = run_cli("--json", *GET, "--key", "K1", "--snapshot", str(snapshot))
    assert "checksum mismatch" in error_envelope(outcome, 3, "Invariant")["detail"]


def test_a_failed_run_writes_no_export_file(run_cli: RunCli, tmp_path: Path) -> None:
    target = tmp_path / "trace.json"
    outcome = run_cli("--json", *PUT, "--key", "K1", "--export-json", str(target))
    assert outcome.exit_code == 2
    assert not target.exists()


def test_a_chaining_snapshot_is_traced_through_its_chain(run_cli: RunCli, tmp_path: Path) -> None:
    path = tmp_path / "c.adh"
    save(ChainingMap({i: i for i in range(30)}, hash_seed=4), path, key=None)
    outcome = run_cli("--json", *GET, "--key", "29", "--int-key", "--snapshot", str(path))
    trace = trace_of(outcome)
    assert [step["kind"] for step in trace["steps"]] == ["chain"] * len(trace["steps"])
    assert trace["found_value"] == 29
