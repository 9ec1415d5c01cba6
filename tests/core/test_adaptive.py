"""AdaptiveMap: policy decisions that really fire, bounded migration steps, safe migrations."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import Any, get_args

import pytest

from adhash import AdaptiveMap, AdaptivePolicy, BadInputError, MapEvent
from adhash.maps import BackendName
from tests.core.map_cases import (
    CollidingInt,
    KeyEqualityError,
    TrippingKey,
    Tripwire,
    events_of,
)

BACKENDS: tuple[BackendName, ...] = get_args(BackendName)
POLICY_REASONS = ("load_factor", "chain_length", "probe_length", "tombstones")


def write_until(
    m: AdaptiveMap[Any, Any], writes: Iterable[tuple[Any, Any]], kind: str = "migration_started"
) -> MapEvent:
    """Apply ``writes`` until the map records an event of ``kind``; return that event."""
    for key, value in writes:
        m[key] = value
        if found := events_of(m, kind):
            return found[0]
    raise AssertionError(f"no {kind} event; events: {m.events}")


def calm_policy(**fields: Any) -> AdaptivePolicy:
    """A policy that never migrates by itself while keys are only inserted: it starts on compact."""
    return AdaptivePolicy(start_backend="compact", **fields)


def policy_migrations(m: AdaptiveMap[Any, Any]) -> list[MapEvent]:
    return [e for e in events_of(m, "migration_started") if e.reason in POLICY_REASONS]


# -- the default policy fires --------------------------------------------------------------


def test_growing_map_migrates_from_chaining_to_robinhood_for_load_factor() -> None:
    m: AdaptiveMap[int, int] = AdaptiveMap()
    started = write_until(m, ((i, i) for i in range(10_000)))
    assert (started.source, started.target, started.reason) == (
        "chaining",
        "robinhood",
        "load_factor",
    )
    assert started.metric == "load_factor"
    assert started.threshold == AdaptivePolicy().chaining_max_load_factor
    assert started.value is not None
    assert started.value > started.threshold
    size = len(m)
    completed = write_until(m, ((i, i) for i in range(size, 10_000)), "migration_completed")
    assert (completed.reason, completed.metric, completed.moved) == (
        "load_factor",
        "load_factor",
        started.size,
    )
    assert m.backend == "robinhood"
    assert not m.is_migrating


def test_colliding_keys_on_chaining_migrate_to_robinhood_for_chain_length() -> None:
    policy = AdaptivePolicy(start_backend="chaining")
    m: AdaptiveMap[int, int] = AdaptiveMap(policy=policy)
    # Few keys rewritten often: the chain grows long while the load factor stays low.
    chain = policy.chaining_max_chain_length
    hot_keys = [CollidingInt(i) for i in range(chain)]
    rewrites = ((hot_keys[n % chain], n) for n in range(10_000))
    started = write_until(m, rewrites)
    assert (started.source, started.target, started.reason) == (
        "chaining",
        "robinhood",
        "chain_length",
    )
    assert (started.metric, started.value, started.threshold) == ("chain_length_max", chain, chain)
    m.check_invariants()
    assert sorted(m) == list(range(chain))


def test_colliding_keys_on_robinhood_migrate_to_chaining_for_probe_length() -> None:
    # Without the flooding defence (tests/core/test_flooding.py has it), a flood is just
    # long probes.
    policy = AdaptivePolicy(start_backend="robinhood", flood_min_keys=None)
    m: AdaptiveMap[int, int] = AdaptiveMap(policy=policy)
    started = write_until(m, ((CollidingInt(i), i) for i in range(2_000)))
    assert (started.source, started.target, started.reason) == (
        "robinhood",
        "chaining",
        "probe_length",
    )
    assert started.metric == "probe_length_mean"
    assert started.threshold == AdaptivePolicy().robinhood_max_probe_mean
    assert started.value is not None
    assert started.value > started.threshold
    m.finish_migration()
    m.check_invariants()
    assert m.backend == "chaining"


def test_tombstone_robinhood_compacts_after_many_deletions() -> None:
    policy = AdaptivePolicy(start_backend="robinhood", robinhood_deletion="tombstone")
    m: AdaptiveMap[int, int] = AdaptiveMap(((i, i) for i in range(1_000)), policy=policy)
    for i in range(1_000):
        del m[i]
        if events_of(m, "compaction_started"):
            break
    (started,) = events_of(m, "compaction_started")
    assert (started.source, started.target, started.reason) == (
        "robinhood",
        "robinhood",
        "tombstones",
    )
    assert started.metric == "tombstone_ratio"
    assert started.value is not None
    assert started.value >= policy.max_tombstone_ratio
    m.finish_migration()
    (completed,) = events_of(m, "compaction_completed")
    assert completed.moved == started.size == len(m)
    assert m.stats().tombstones == 0
    assert dict(m.items()) == {i: i for i in range(1_000 - len(m), 1_000)}


def test_compact_backend_compacts_after_deleting_from_the_middle() -> None:
    m: AdaptiveMap[int, int] = AdaptiveMap(
        ((i, i) for i in range(600)), policy=AdaptivePolicy(start_backend="compact")
    )
    for i in range(0, 600, 2):
        del m[i]
        if events_of(m, "compaction_started"):
            break
    (started,) = events_of(m, "compaction_started")
    assert (started.source, started.target, started.reason) == ("compact", "compact", "tombstones")
    m.finish_migration()
    assert m.stats().tombstones == 0
    m.check_invariants()


def test_cooldown_keeps_colliding_keys_from_ping_ponging() -> None:
    m: AdaptiveMap[int, int] = AdaptiveMap()
    for i in range(3_000):
        m[CollidingInt(i)] = i
    assert 1 <= len(policy_migrations(m)) <= 3
    m.check_invariants()
    assert len(m) == 3_000


def test_cooldown_doubles_after_each_migration_for_long_chains_or_probes() -> None:
    policy = AdaptivePolicy(cooldown_ops=16, check_interval=16)
    m: AdaptiveMap[int, int] = AdaptiveMap(policy=policy)
    for i in range(1_500):
        m[CollidingInt(i)] = i
    pathologies = [e for e in policy_migrations(m) if e.reason in ("chain_length", "probe_length")]
    assert len(pathologies) >= 3
    for n, (before, after) in enumerate(itertools.pairwise(pathologies)):
        assert after.writes - before.writes >= policy.cooldown_ops << n


# -- migrations move a bounded batch per operation -----------------------------------------


MIGRATION_OPERATIONS: dict[str, Callable[[AdaptiveMap[Any, Any], int], object]] = {
    "get": lambda m, n: m.get(n % 500),
    "getitem": lambda m, n: m[n % 500],
    "contains": lambda m, n: (n % 500) in m,
    "set-existing": lambda m, n: m.__setitem__(n % 500, -n),
    "set-new": lambda m, n: m.__setitem__(10_000 + n, n),
    "pop-absent": lambda m, n: m.pop(-1 - n, None),
    "setdefault": lambda m, n: m.setdefault(n % 500, 0),
}


@pytest.mark.parametrize("batch", [1, 3, 64])
@pytest.mark.parametrize("operation", sorted(MIGRATION_OPERATIONS))
def test_no_operation_moves_more_than_the_migration_batch(batch: int, operation: str) -> None:
    m: AdaptiveMap[int, int] = AdaptiveMap(
        ((i, i) for i in range(500)), policy=AdaptivePolicy(migration_batch=batch)
    )
    m.migrate_to("compact")
    total = len(m)
    progress = 0.0
    n = 0
    while m.is_migrating:
        MIGRATION_OPERATIONS[operation](m, n)
        n += 1
        now = m.stats().migration_progress
        now = 1.0 if now is None else now
        assert now - progress <= batch / total + 1e-12
        progress = now
    assert n >= total // batch


def test_migrate_step_moves_at_most_the_requested_entries() -> None:
    m: AdaptiveMap[int, int] = AdaptiveMap((i, i) for i in range(100))
    m.migrate_to("robinhood")
    assert [m.migrate_step(30) for _ in range(4)] == [30, 30, 30, 10]
    assert not m.is_migrating
    assert m.migrate_step(30) == 0


def test_migrate_step_defaults_to_the_policy_batch() -> None:
    m: AdaptiveMap[int, int] = AdaptiveMap(
        ((i, i) for i in range(100)), policy=AdaptivePolicy(migration_batch=7)
    )
    m.migrate_to("compact")
    assert m.migrate_step() == 7


def test_stats_during_a_migration_report_the_whole_map_and_the_progress() -> None:
    m: AdaptiveMap[int, int] = AdaptiveMap(
        ((i, i) for i in range(200)), policy=calm_policy(migration_batch=10)
    )
    m.migrate_to("robinhood")
    m.migrate_step(50)
    stats = m.stats()
    assert (stats.backend, stats.migrating_from, stats.size) == ("robinhood", "compact", 200)
    assert stats.migration_progress == pytest.approx(50 / 200)


# -- migrations keep every write and delete ------------------------------------------------


def test_write_to_a_key_not_yet_moved_wins_over_the_copy() -> None:
    m: AdaptiveMap[int, str] = AdaptiveMap(
        ((i, "old") for i in range(300)), policy=calm_policy(migration_batch=1)
    )
    m.migrate_to("robinhood")
    # A compact backend drains newest first: the oldest keys are the last to move.
    for i in range(100):
        m[i] = "new"
        assert m[i] == "new"
    assert m.is_migrating
    m.finish_migration()
    m.check_invariants()
    assert dict(m.items()) == {i: "new" if i < 100 else "old" for i in range(300)}


def test_deleted_key_never_comes_back_after_a_migration() -> None:
    m: AdaptiveMap[int, int] = AdaptiveMap(
        ((i, i) for i in range(400)), policy=calm_policy(migration_batch=1)
    )
    m.migrate_to("chaining")
    for i in range(0, 200, 2):
        del m[i]
        assert i not in m
    for i in range(1, 200, 4):
        assert m.pop(i) == i
    assert m.is_migrating
    m.finish_migration()
    m.check_invariants()
    assert dict(m.items()) == {i: i for i in [*range(3, 200, 4), *range(200, 400)]}


def test_popitem_during_a_migration_returns_every_pair_once() -> None:
    m: AdaptiveMap[int, int] = AdaptiveMap(
        ((i, -i) for i in range(150)), policy=AdaptivePolicy(migration_batch=2)
    )
    m.migrate_to("robinhood")
    popped = [m.popitem() for _ in range(150)]
    assert dict(popped) == {i: -i for i in range(150)}
    assert len(m) == 0
    assert not m.is_migrating


def test_iteration_during_a_migration_sees_every_key_exactly_once() -> None:
    m: AdaptiveMap[int, int] = AdaptiveMap(
        ((i, i) for i in range(300)), policy=AdaptivePolicy(migration_batch=5)
    )
    m.migrate_to("compact")
    m.migrate_step(100)
    keys = list(m)
    assert len(keys) == 300
    assert set(keys) == set(range(300))
    assert sorted(m.values()) == list(range(300))


def test_reads_inside_an_iteration_move_no_entries() -> None:
    m: AdaptiveMap[int, int] = AdaptiveMap(
        ((i, i) for i in range(300)), policy=AdaptivePolicy(migration_batch=5)
    )
    m.migrate_to("robinhood")
    before = m.stats().migration_progress
    seen = [m[key] for key in m]
    assert m.stats().migration_progress == before
    assert sorted(seen) == list(range(300))


def test_exception_from_key_eq_during_a_migration_step_loses_no_entry() -> None:
    tripwire = Tripwire()
    model = {TrippingKey(i, tripwire): i for i in range(10)}
    m: AdaptiveMap[Any, int] = AdaptiveMap(model, policy=AdaptivePolicy(migration_batch=4))
    m.migrate_to("robinhood")
    tripwire.armed = True
    with pytest.raises(KeyEqualityError):
        m.migrate_step()
    tripwire.armed = False
    m.check_invariants()
    assert dict(m.items()) == model
    m.finish_migration()
    assert dict(m.items()) == model


@pytest.mark.parametrize("source", BACKENDS)
@pytest.mark.parametrize("target", BACKENDS)
def test_migration_keeps_the_contents(source: BackendName, target: BackendName) -> None:
    pairs = {i: str(i) for i in range(300)}
    m: AdaptiveMap[int, str] = AdaptiveMap(pairs, policy=AdaptivePolicy(start_backend=source))
    m.migrate_to(target)
    m.finish_migration()
    m.check_invariants()
    assert m.backend == target
    assert dict(m.items()) == pairs
    kind = "compaction" if source == target else "migration"
    assert [e.kind for e in m.events] == [f"{kind}_started", f"{kind}_completed"]


def test_forced_migration_events_carry_no_numbers() -> None:
    m: AdaptiveMap[int, int] = AdaptiveMap((i, i) for i in range(10))
    m.migrate_to("compact")
    m.finish_migration()
    started, completed = m.events
    assert (started.reason, started.metric, started.value, started.threshold) == (
        "forced",
        None,
        None,
        None,
    )
    assert (started.moved, completed.moved, completed.size) == (0, 10, 10)


def test_migrate_to_while_migrating_finishes_the_first_migration() -> None:
    m: AdaptiveMap[int, int] = AdaptiveMap(
        ((i, i) for i in range(100)), policy=calm_policy(migration_batch=1)
    )
    m.migrate_to("robinhood")
    m.get(0)
    m.migrate_to("chaining")
    routes = [(e.kind, e.source, e.target) for e in m.events]
    assert routes == [
        ("migration_started", "compact", "robinhood"),
        ("migration_completed", "compact", "robinhood"),
        ("migration_started", "robinhood", "chaining"),
    ]
    m.finish_migration()
    assert dict(m.items()) == {i: i for i in range(100)}


def test_migrating_an_empty_map_completes_at_once() -> None:
    m: AdaptiveMap[int, int] = AdaptiveMap()
    m.migrate_to("robinhood")
    assert not m.is_migrating
    assert [e.kind for e in m.events] == ["migration_started", "migration_completed"]


def test_clear_during_a_migration_abandons_it() -> None:
    m: AdaptiveMap[int, int] = AdaptiveMap((i, i) for i in range(100))
    m.migrate_to("robinhood")
    m.clear()
    assert (len(m), m.is_migrating, list(m)) == (0, False, [])
    m[1] = 1
    m.check_invariants()
    assert dict(m.items()) == {1: 1}


def test_migrate_to_an_unknown_backend_raises_bad_input_error() -> None:
    m: AdaptiveMap[int, int] = AdaptiveMap(a=1)
    with pytest.raises(BadInputError):
        m.migrate_to("btree")  # type: ignore[arg-type]
    assert (m.backend, m.is_migrating) == ("chaining", False)


# -- events --------------------------------------------------------------------------------


def test_events_reach_every_subscriber() -> None:
    m: AdaptiveMap[int, int] = AdaptiveMap((i, i) for i in range(10))
    first: list[MapEvent] = []
    second: list[MapEvent] = []
    m.subscribe(first.append)
    m.subscribe(second.append)
    m.migrate_to("robinhood")
    m.finish_migration()
    assert first == second == list(m.events)
    assert [e.kind for e in first] == ["migration_started", "migration_completed"]


def test_unsubscribed_callback_receives_no_more_events() -> None:
    m: AdaptiveMap[int, int] = AdaptiveMap(a=1)
    seen: list[MapEvent] = []
    unsubscribe = m.subscribe(seen.append)
    m.migrate_to("compact")
    m.finish_migration()
    unsubscribe()
    unsubscribe()
    m.migrate_to("robinhood")
    m.finish_migration()
    assert [e.target for e in seen] == ["compact", "compact"]
    assert len(m.events) == 4


def test_events_keep_only_the_most_recent_256() -> None:
    m: AdaptiveMap[int, int] = AdaptiveMap()
    for n in range(200):
        m.migrate_to(BACKENDS[n % 3])
    events = m.events
    assert len(events) == 256
    assert events[-1].target == BACKENDS[199 % 3]


def test_event_message_names_the_route_reason_and_size() -> None:
    m: AdaptiveMap[int, int] = AdaptiveMap(a=1)
    m.migrate_to("compact")
    message = m.events[0].message
    assert "chaining -> compact" in message
    assert "forced" in message
    assert "size 1" in message


# -- the policy ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"start_backend": "x"},
        {"robinhood_deletion": "x"},
        {"migration_batch": 0},
        {"check_interval": 0},
        {"cooldown_ops": -1},
        {"chaining_max_chain_length": True},
        {"chaining_max_load_factor": 0},
        {"robinhood_max_probe_mean": -1.0},
        {"max_tombstone_ratio": 1.5},
        {"chaining_buckets": 3},
        {"groups_per_bucket": 0},
        {"robinhood_capacity": 6},
        {"compact_capacity": 4},
    ],
    ids=lambda fields: "-".join(f"{k}={v}" for k, v in fields.items()),
)
def test_invalid_policy_raises_bad_input_error(fields: dict[str, Any]) -> None:
    with pytest.raises(BadInputError) as raised:
        AdaptivePolicy(**fields)
    assert (raised.value.kind, raised.value.exit_code) == ("BadInput", 2)
    assert next(iter(fields)) in str(raised.value)


def test_policy_round_trips_through_as_dict() -> None:
    policy = AdaptivePolicy(start_backend="compact", migration_batch=3)
    assert AdaptivePolicy(**policy.as_dict()) == policy


@pytest.mark.parametrize("backend", BACKENDS)
def test_new_map_starts_on_the_policy_backend(backend: BackendName) -> None:
    m: AdaptiveMap[int, int] = AdaptiveMap(policy=AdaptivePolicy(start_backend=backend))
    assert (m.backend, m.stats().backend, m.is_migrating) == (backend, backend, False)
