"""Probe traces against the maps' real behaviour: what a trace says a ``get`` or ``put`` does is
what the operation then does, on every backend, and tracing changes nothing.

Each property builds a map from random writes and deletes (colliding keys included), traces an
operation, checks the trace leaves the map untouched, then performs the operation for real and
reads the map's arrays to compare. Adaptive maps are also caught mid-migration: every operation
then moves one entry, which the trace must foresee. Salted maps (a SaltedMap over each backend, an
AdaptiveMap on salted hashing, one migrating to it) are traced through the pairs they store.
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adhash import (
    AdaptiveMap,
    AdaptivePolicy,
    BadInputError,
    ChainingMap,
    CompactMap,
    RobinHoodMap,
    SaltedMap,
)
from adhash.maps.adaptive import BackendName
from adhash.maps.stats import Hashing
from adhash.trace import SCHEMA, ProbeTrace, TableRole, apply_and_check, trace_get, trace_put
from tests.core.map_cases import (
    ALL_FACTORIES,
    MODULUS,
    SEED,
    CollidingInt,
    CollidingKey,
    MapUnderTest,
)

KEYS: st.SearchStrategy[Any] = st.one_of(
    st.integers(-3, 12),
    st.integers(13, 200),
    st.text(alphabet="ab", max_size=2),
    st.none(),
    st.builds(CollidingKey, st.integers(0, 6)),
    # Equal hash() values, but never equal to the plain integers above.
    st.integers(300, 306).map(CollidingInt),
    # Equal modulo 2**40: the same low bits before index mixing.
    st.integers(1, 6).map(lambda i: i << 40),
)
VALUES: st.SearchStrategy[Any] = st.none() | st.integers(-2, 2)

Writes = list[tuple[Any, Any]]
Scenario = tuple[Writes, list[Any], Any]


def copy_of(key: Any) -> Any:
    """A key equal to ``key`` but (where Python allows) not the same object."""
    if isinstance(key, CollidingKey):
        return CollidingKey(key.value)
    if isinstance(key, CollidingInt):
        return CollidingInt(int(key))
    return key


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """Writes, then deletes, and a key to trace: about half the time one the map was given."""
    writes = draw(st.lists(st.tuples(KEYS, VALUES), max_size=48))
    written = st.sampled_from([key for key, _ in writes]) if writes else KEYS
    deletes = draw(st.lists(written | KEYS, max_size=8))
    trace_a_written_key = draw(st.booleans())
    if writes and trace_a_written_key:
        return writes, deletes, copy_of(draw(st.sampled_from(writes))[0])
    return writes, deletes, draw(KEYS)


Migration = tuple[AdaptiveMap[Any, Any], BackendName, Hashing | None]


def _migrating(
    start: BackendName,
    target: BackendName,
    deletion: str,
    *,
    hashing: Hashing = "plain",
    to_hashing: Hashing | None = None,
) -> Callable[[], Migration]:
    """An AdaptiveMap on ``start`` (and ``hashing``) that is told to migrate to ``target`` (and
    ``to_hashing``) halfway through its writes and then moves one entry per operation, so it is
    usually still migrating at the end."""

    def build() -> Migration:
        policy = AdaptivePolicy(
            start_backend=start,
            migration_batch=1,
            check_interval=1_000_000,
            robinhood_deletion=deletion,  # type: ignore[arg-type]
            chaining_buckets=1,
            groups_per_bucket=2,
            robinhood_capacity=2,
        )
        return AdaptiveMap(policy=policy, hash_seed=SEED, hashing=hashing), target, to_hashing

    return build


MIGRATING = {
    "migrating-chaining-to-robinhood": _migrating("chaining", "robinhood", "backward_shift"),
    "migrating-robinhood-to-compact": _migrating("robinhood", "compact", "tombstone"),
    "migrating-compact-to-chaining": _migrating("compact", "chaining", "backward_shift"),
    "compacting-robinhood": _migrating("robinhood", "robinhood", "tombstone"),
    # What a flood starts: the same structure, from plain to salted hashing.
    "migrating-chaining-to-salted-hashing": _migrating(
        "chaining", "chaining", "backward_shift", to_hashing="salted"
    ),
    "migrating-salted-robinhood-to-salted-chaining": _migrating(
        "robinhood", "chaining", "tombstone", hashing="salted"
    ),
    "migrating-salted-compact-to-plain-robinhood": _migrating(
        "compact", "robinhood", "backward_shift", hashing="salted", to_hashing="plain"
    ),
}
# Robin Hood tables run close to full, so that inserts rob residents on the way.
EXTRA_FACTORIES: dict[str, Callable[[], MapUnderTest]] = {
    "robinhood-dense": lambda: RobinHoodMap(capacity=64, max_load_factor=0.95, hash_seed=SEED),
    "robinhood-dense-tombstone": lambda: RobinHoodMap(
        capacity=64, max_load_factor=0.95, deletion="tombstone", hash_seed=SEED
    ),
    "salted-robinhood-dense": lambda: SaltedMap(
        inner=RobinHoodMap(capacity=64, max_load_factor=0.95, hash_seed=SEED), seed=SEED
    ),
    "salted-robinhood-dense-tombstone": lambda: SaltedMap(
        inner=RobinHoodMap(capacity=64, max_load_factor=0.95, deletion="tombstone", hash_seed=SEED),
        seed=SEED,
    ),
}
FACTORIES = {**ALL_FACTORIES, **EXTRA_FACTORIES}
CASES = sorted([*FACTORIES, *MIGRATING])
ROBINHOOD_CASES = [name for name in CASES if name.startswith(("robinhood", "salted-robinhood"))]
ONE_TABLE_CASES = [
    name for name in CASES if not name.startswith(("adaptive", "migrat", "compacting"))
]


def build(case: str, writes: Writes, deletes: list[Any]) -> MapUnderTest:
    """The map of ``case`` after ``writes`` and ``deletes``; a migration case is told to
    migrate before its last quarter of writes, which each move one entry."""
    m: MapUnderTest
    target: BackendName | None = None
    to_hashing: Hashing | None = None
    if case in MIGRATING:
        m, target, to_hashing = MIGRATING[case]()
    else:
        m = FACTORIES[case]()
    cut = len(writes) - len(writes) // 4
    for key, value in writes[:cut]:
        m[key] = value
    for key in deletes:
        m.pop(key, None)
    if target is not None:
        assert isinstance(m, AdaptiveMap)
        m.migrate_to(target, hashing=to_hashing)
    for key, value in writes[cut:]:
        m[key] = value
    return m


def model_of(writes: Writes, deletes: list[Any]) -> dict[Any, Any]:
    model = dict(writes[: len(writes) - len(writes) // 4])
    for key in deletes:
        model.pop(key, None)
    model.update(writes[len(writes) - len(writes) // 4 :])
    return model


def fingerprint(m: object) -> dict[str, Any]:
    """Every attribute of a map (recursively for an adaptive map's backends), containers copied,
    with the identity of each container: equal fingerprints mean an unchanged map."""
    state: dict[str, Any] = {}
    for name, value in vars(m).items():
        if isinstance(value, ChainingMap | RobinHoodMap | CompactMap | SaltedMap):
            state[name] = fingerprint(value)
        elif isinstance(value, list):
            inner = [list(item) if isinstance(item, list) else item for item in value]
            state[name] = (id(value), inner)
        elif isinstance(value, bytearray | array | deque):
            state[name] = (id(value), list(value))
        else:
            state[name] = value
    return state


def table_for(m: MapUnderTest, role: TableRole) -> Any:
    """The live backend a trace's table role names (a resize happens in place)."""
    if not isinstance(m, AdaptiveMap):
        return m
    return m._draining if role == "draining" else m._current


def plain_of(table: Any) -> tuple[Any, Callable[[Any], Any]]:
    """The plain backend holding ``table``'s entries, and how to read a user's key from what it
    stores (a salted table stores ``(keyed hash, key)`` pairs)."""
    if isinstance(table, SaltedMap):
        return table.inner, lambda stored: stored[1]
    return table, lambda stored: stored


def located(table: Any, key: Any) -> tuple[int, int]:
    """``(home or chain, slot or position)`` of ``key`` in ``table``, found by scanning its
    arrays: independent of the map's lookup and of the trace's."""
    table, user = plain_of(table)
    if isinstance(table, ChainingMap):
        spots = [
            (chain, position)
            for chain, keys in enumerate(table._chain_keys)
            for position, stored in enumerate(keys)
            if user(stored) == key
        ]
    elif isinstance(table, RobinHoodMap):
        spots = [
            (i - table._dist[i] + 1 & table._mask, i)
            for i in range(table._mask + 1)
            if table._dist[i] and not is_tombstone(table, i) and user(table._keys[i]) == key
        ]
    else:
        index, keys = table._index, table._keys
        spots = [
            (-1, s) for s in range(len(index)) if index[s] >= 0 and user(keys[index[s]]) == key
        ]
    assert len(spots) == 1, spots
    return spots[0]


def is_tombstone(table: RobinHoodMap[Any, Any], i: int) -> bool:
    from adhash.maps.robinhood import _TOMBSTONE

    return table._keys[i] is _TOMBSTONE


cases = pytest.mark.parametrize("case", CASES)


# -- get ---------------------------------------------------------------------------------------


@cases
@given(scenario=scenarios())
def test_traced_get_finds_exactly_the_keys_the_map_holds(case: str, scenario: Scenario) -> None:
    writes, deletes, key = scenario
    m = build(case, writes, deletes)
    model = model_of(writes, deletes)
    trace = trace_get(m, key)
    assert trace.outcome == ("found" if key in model else "missing")
    assert trace.found_value == m.get(key)


@cases
@given(scenario=scenarios())
def test_tracing_a_get_leaves_the_map_unchanged(case: str, scenario: Scenario) -> None:
    writes, deletes, key = scenario
    m = build(case, writes, deletes)
    before = fingerprint(m)
    trace_get(m, key)
    assert fingerprint(m) == before
    m.check_invariants()


@cases
@given(scenario=scenarios())
def test_a_get_finds_the_key_in_the_table_and_slot_its_trace_names(
    case: str, scenario: Scenario
) -> None:
    writes, deletes, key = scenario
    m = build(case, writes, deletes)
    trace = trace_get(m, key)
    m.get(key)  # the real get: mid-migration, it moves the entries the trace foresaw
    if trace.outcome == "found":
        final = trace.tables[-1]
        home, slot = located(table_for(m, final.role), key)
        assert slot == trace.slot
        assert home in (final.home, -1)


@cases
@given(scenario=scenarios())
def test_every_traced_occupant_is_what_the_table_holds_after_the_real_get(
    case: str, scenario: Scenario
) -> None:
    writes, deletes, key = scenario
    m = build(case, writes, deletes)
    trace = trace_get(m, key)
    m.get(key)
    for step in trace.steps:
        if step.state != "occupied":
            continue
        table, user = plain_of(table_for(m, step.table))
        if isinstance(table, RobinHoodMap):
            assert user(table._keys[step.index]) is step.occupant_key
        elif isinstance(table, CompactMap):
            assert user(table._keys[table._index[step.index]]) is step.occupant_key
        else:
            home = next(view.home for view in trace.tables if view.role == step.table)
            assert user(table._chain_keys[home][step.index]) is step.occupant_key


@pytest.mark.parametrize("case", ROBINHOOD_CASES)
@given(scenario=scenarios())
def test_robinhood_step_distances_are_the_stored_displacements(
    case: str, scenario: Scenario
) -> None:
    writes, deletes, key = scenario
    m = build(case, writes, deletes)
    table, _user = plain_of(m)
    assert isinstance(table, RobinHoodMap)
    for step in trace_get(m, key).steps:
        stored = table._dist[step.index]
        assert step.occupant_distance == (stored - 1 if stored else None)


@pytest.mark.parametrize("case", ROBINHOOD_CASES)
@given(scenario=scenarios())
def test_robinhood_get_walks_on_from_home_until_the_early_exit_rule_stops_it(
    case: str, scenario: Scenario
) -> None:
    writes, deletes, key = scenario
    m = build(case, writes, deletes)
    table, _user = plain_of(m)
    assert isinstance(table, RobinHoodMap)
    trace = trace_get(m, key)
    capacity = table._mask + 1
    assert [step.index for step in trace.steps] == [
        (trace.home + d) % capacity for d in range(len(trace.steps))
    ]
    assert [step.probe_distance for step in trace.steps] == list(range(len(trace.steps)))

    def stops(step: Any) -> bool:
        distance = step.occupant_distance
        return step.matched or distance is None or distance < step.probe_distance

    assert [stops(step) for step in trace.steps] == [False] * (len(trace.steps) - 1) + [True]


class CountingKey:
    """A key that counts every ``__eq__`` call, with few distinct hashes so chains and clusters
    form."""

    comparisons = 0

    def __init__(self, value: int) -> None:
        self.value = value

    def __hash__(self) -> int:
        return self.value % 3

    def __eq__(self, other: object) -> bool:
        CountingKey.comparisons += 1
        return isinstance(other, CountingKey) and self.value == other.value

    def __repr__(self) -> str:
        return f"CountingKey({self.value})"


@pytest.mark.parametrize("case", ONE_TABLE_CASES)
@given(values=st.lists(st.integers(0, 20), max_size=16), probe=st.integers(0, 25))
def test_a_get_compares_the_key_exactly_where_its_trace_says(
    case: str, values: list[int], probe: int
) -> None:
    m = build(case, [(CountingKey(v), v) for v in values], [])
    key = CountingKey(probe)  # equal to a stored key, never the same object
    trace = trace_get(m, key)
    CountingKey.comparisons = 0
    m.get(key)
    compared = sum(step.compared for step in trace.steps)
    # A chain is searched by `in`, then `tuple.index` walks it again up to the match.
    twice = trace.tables[-1].backend == "chaining" and trace.outcome == "found"
    assert CountingKey.comparisons == (2 * compared if twice else compared)


# -- put ---------------------------------------------------------------------------------------


@cases
@given(scenario=scenarios(), value=VALUES)
def test_traced_put_inserts_exactly_the_keys_the_map_lacks(
    case: str, scenario: Scenario, value: Any
) -> None:
    writes, deletes, key = scenario
    m = build(case, writes, deletes)
    trace = trace_put(m, key, value)
    before = len(m)
    m[key] = value
    assert trace.outcome == ("inserted" if len(m) > before else "updated")


@cases
@given(scenario=scenarios(), value=VALUES)
def test_tracing_a_put_leaves_the_map_unchanged(case: str, scenario: Scenario, value: Any) -> None:
    writes, deletes, key = scenario
    m = build(case, writes, deletes)
    before = fingerprint(m)
    trace_put(m, key, value)
    assert fingerprint(m) == before
    m.check_invariants()


@cases
@given(scenario=scenarios(), value=VALUES)
def test_a_put_leaves_the_key_in_the_table_and_slot_its_trace_names(
    case: str, scenario: Scenario, value: Any
) -> None:
    writes, deletes, key = scenario
    m = build(case, writes, deletes)
    trace = trace_put(m, key, value)
    final = trace.tables[-1]
    table = table_for(m, final.role)
    m[key] = value
    home, slot = located(table, key)
    assert slot == trace.slot
    assert home in (final.home, -1)
    assert table.stats().capacity == final.capacity


@cases
@given(scenario=scenarios(), value=VALUES)
def test_a_put_replaces_the_value_its_trace_found(
    case: str, scenario: Scenario, value: Any
) -> None:
    writes, deletes, key = scenario
    m = build(case, writes, deletes)
    model = model_of(writes, deletes)
    trace = trace_put(m, key, value)
    assert trace.found_value == model.get(key)


@pytest.mark.parametrize("case", ROBINHOOD_CASES)
@given(scenario=scenarios(), value=VALUES)
def test_robinhood_put_moves_every_swapped_key_where_its_trace_says(
    case: str, scenario: Scenario, value: Any
) -> None:
    writes, deletes, key = scenario
    m = build(case, writes, deletes)
    table, user = plain_of(m)
    assert isinstance(table, RobinHoodMap)
    trace = trace_put(m, key, value)
    m[key] = value  # a resize happens in place: ``table`` is still the map's table
    placed = [step for step in trace.steps if step.action in ("place", "reuse-tombstone")]
    # Each carried key lands in its swap slot; the last one carried fills the final slot.
    landings = [(swap.slot, swap.carried_key, swap.carried_distance) for swap in trace.swaps]
    if trace.outcome == "inserted":
        last = trace.swaps[-1].evicted_key if trace.swaps else key
        landings.append((placed[-1].index, last, placed[-1].probe_distance))
    for slot, carried, distance in landings:
        stored = user(table._keys[slot])
        assert stored is carried or (carried is key and stored == key)
        assert table._dist[slot] - 1 == distance


@pytest.mark.parametrize("case", ONE_TABLE_CASES)
@given(scenario=scenarios(), value=VALUES)
def test_a_put_looks_the_key_up_along_the_same_path_as_a_get(
    case: str, scenario: Scenario, value: Any
) -> None:
    writes, deletes, key = scenario
    m = build(case, writes, deletes)
    lookup = [step for step in trace_put(m, key, value).steps if step.phase == "lookup"]
    assert lookup == list(trace_get(m, key).steps)


@cases
@given(scenario=scenarios(), value=VALUES, put=st.booleans())
def test_apply_and_check_finds_the_operation_did_what_was_traced(
    case: str, scenario: Scenario, value: Any, put: bool
) -> None:
    writes, deletes, key = scenario
    m = build(case, writes, deletes)
    trace = trace_put(m, key, value) if put else trace_get(m, key)
    assert apply_and_check(m, trace).mismatches == ()


# -- particular paths --------------------------------------------------------------------------


def full_robinhood() -> RobinHoodMap[int, str]:
    m: RobinHoodMap[int, str] = RobinHoodMap(capacity=8, hash_seed=SEED)
    for i in range(m._grow_at):
        m[i] = f"v{i}"
    return m


def test_a_put_into_a_full_robinhood_table_is_traced_in_the_resized_table() -> None:
    m = full_robinhood()
    trace = trace_put(m, 99, "new")
    assert [view.role for view in trace.tables] == ["current", "resized"]
    assert trace.capacity == 16
    assert trace.resized
    assert any("rebuilds it with 16 slots" in note for note in trace.notes)


def test_the_resized_robinhood_table_is_the_one_the_real_put_builds() -> None:
    m = full_robinhood()
    trace = trace_put(m, 99, "new")
    m[99] = "new"
    assert (m._mask + 1, m._find(99)) == (trace.capacity, trace.slot)


def test_a_robinhood_insert_records_the_rich_get_poor_swap() -> None:
    # Keys with one hash() share a home; a key whose home is the next slot is robbed by them.
    m: RobinHoodMap[Any, int] = RobinHoodMap(capacity=16, hash_seed=SEED)
    first = CollidingInt(1)
    m[first] = 1
    home = m._home(first)
    neighbour = next(k for k in range(1000) if m._home(k) == (home + 1) % 16)
    m[neighbour] = 2
    trace = trace_put(m, CollidingInt(2), 3)
    assert [
        (s.slot, s.evicted_key, s.evicted_distance, s.carried_distance) for s in trace.swaps
    ] == [((home + 1) % 16, neighbour, 0, 1)]
    assert trace.slot == (home + 1) % 16


def test_a_tombstone_put_reuses_the_first_tombstone_on_its_second_walk() -> None:
    m: RobinHoodMap[Any, int] = RobinHoodMap(capacity=16, deletion="tombstone", hash_seed=SEED)
    for i in range(3):
        m[CollidingInt(i)] = i
    del m[CollidingInt(1)]
    trace = trace_put(m, CollidingInt(7), 7)
    assert [step.action for step in trace.steps if step.phase == "insert"] == [
        "pass",
        "reuse-tombstone",
    ]
    assert trace.slot == (trace.home + 1) % 16


def test_a_chaining_put_appends_to_the_end_of_the_home_chain() -> None:
    m: ChainingMap[Any, int] = ChainingMap(buckets=4, groups_per_bucket=4, hash_seed=SEED)
    m[CollidingKey(1)] = 1
    m[CollidingKey(2)] = 2
    trace = trace_put(m, CollidingKey(3), 3)
    assert [step.action for step in trace.steps] == [
        "mismatch",
        "mismatch",
        "end-of-chain",
        "append",
    ]
    assert trace.slot == 2


def test_a_chaining_home_names_its_bucket_and_group() -> None:
    m: ChainingMap[int, int] = ChainingMap(buckets=4, groups_per_bucket=8, hash_seed=SEED)
    view = trace_get(m, 5).tables[0]
    assert (view.bucket, view.group) == (view.home // 8, view.home % 8)


def test_a_compact_put_reuses_the_first_deleted_slot_on_its_path() -> None:
    m: CompactMap[Any, int] = CompactMap(capacity=16, hash_seed=SEED)
    for i in range(3):
        m[CollidingKey(i)] = i
    del m[CollidingKey(0)]
    trace = trace_put(m, CollidingKey(9), 9)
    assert trace.steps[-1].state == "deleted"
    assert trace.slot == trace.home


def migrating_map() -> AdaptiveMap[int, int]:
    policy = AdaptivePolicy(migration_batch=2, check_interval=1_000_000)
    m: AdaptiveMap[int, int] = AdaptiveMap(policy=policy, hash_seed=SEED)
    for i in range(20):
        m[i] = i
    m.migrate_to("robinhood")
    return m


def test_an_adaptive_get_of_a_key_not_yet_moved_reads_the_current_then_the_draining_table() -> None:
    m = migrating_map()
    assert m._draining is not None
    waiting = next(iter(m._draining))  # the first chain's key is moved last
    trace = trace_get(m, waiting)
    assert [view.role for view in trace.tables] == ["current", "draining"]
    assert (trace.outcome, trace.backend, trace.tables[-1].backend) == (
        "found",
        "adaptive",
        "chaining",
    )


def test_an_adaptive_trace_says_the_operation_first_moves_a_batch() -> None:
    trace = trace_get(migrating_map(), 3)
    assert any("first moves 2 of them" in note for note in trace.notes)


def test_an_adaptive_put_of_a_key_not_yet_moved_updates_it_in_the_draining_table() -> None:
    m = migrating_map()
    assert m._draining is not None
    waiting = next(iter(m._draining))
    trace = trace_put(m, waiting, -1)
    assert ([view.role for view in trace.tables], trace.outcome) == (["draining"], "updated")


def test_an_open_iterator_stops_the_migration_step_and_the_trace_says_so() -> None:
    m = migrating_map()
    keys = iter(m)
    next(keys)
    trace = trace_get(m, 3)
    assert any("an iterator is open" in note for note in trace.notes)


# -- salted hashing ----------------------------------------------------------------------------

# Ints equal modulo 2**61 - 1: one hash() value, which no plain backend can tell apart.
COLLIDING = [5 + j * MODULUS for j in range(4)]
# Tables of 1024 slots or chains: four keys spread over distinct homes once salted.
PlainBackend = ChainingMap[Any, Any] | RobinHoodMap[Any, Any] | CompactMap[Any, Any]
WIDE: dict[str, Callable[[], PlainBackend]] = {
    "chaining": lambda: ChainingMap(buckets=16, groups_per_bucket=64, hash_seed=SEED),
    "robinhood": lambda: RobinHoodMap(capacity=1024, hash_seed=SEED),
    "compact": lambda: CompactMap(capacity=1024, hash_seed=SEED),
}
wide = pytest.mark.parametrize("inner", sorted(WIDE))


def holding_the_colliding_ints(m: MapUnderTest) -> MapUnderTest:
    for key in COLLIDING:
        m[key] = f"v{key}"
    return m


@wide
def test_colliding_ints_share_one_home_and_one_path_on_a_plain_map(inner: str) -> None:
    traces = [trace_get(holding_the_colliding_ints(WIDE[inner]()), key) for key in COLLIDING]
    assert {trace.plain_hash for trace in traces} == {5}
    assert {trace.home for trace in traces} == {traces[0].home}
    assert [trace.hashing for trace in traces] == ["plain"] * 4
    assert [trace.salted_hash for trace in traces] == [None] * 4
    # The last one is looked up past the three before it, comparing each.
    assert sum(step.compared for step in traces[-1].steps) == 4


@wide
def test_colliding_ints_get_distinct_keyed_hashes_and_homes_on_a_salted_map(inner: str) -> None:
    m = holding_the_colliding_ints(SaltedMap(inner=WIDE[inner](), seed=SEED))
    traces = [trace_get(m, key) for key in COLLIDING]
    assert {trace.plain_hash for trace in traces} == {5}
    assert [trace.hashing for trace in traces] == ["salted"] * 4
    assert len({trace.salted_hash for trace in traces}) == 4
    assert len({trace.home for trace in traces}) == 4
    assert [sum(step.compared for step in trace.steps) for trace in traces] == [1] * 4


def test_a_salted_trace_names_the_keyed_hash_the_map_stores_the_key_under() -> None:
    inner: RobinHoodMap[Any, str] = RobinHoodMap(hash_seed=SEED)
    m: SaltedMap[int, str] = SaltedMap(inner=inner, seed=SEED)
    trace = trace_put(m, COLLIDING[1], "new")
    view = trace.tables[0]
    assert (view.backend, view.hashing, view.salted_hash) == (
        "robinhood",
        "salted",
        m.wrap(COLLIDING[1])[0],
    )
    assert (trace.backend, trace.salted_hash, trace.plain_hash) == ("salted", view.salted_hash, 5)
    assert view.home == inner._home(m.wrap(COLLIDING[1]))


def test_salted_steps_and_swaps_show_the_users_keys_not_the_stored_pairs() -> None:
    m: SaltedMap[Any, Any] = SaltedMap(
        inner=RobinHoodMap(capacity=64, max_load_factor=0.95, hash_seed=SEED), seed=SEED
    )
    for i in range(56):
        m[f"k{i}"] = i
    trace = next(t for t in (trace_put(m, f"new{i}", 0) for i in range(200)) if len(t.swaps) >= 2)
    occupants = {step.occupant_key for step in trace.steps if step.state == "occupied"}
    moved = {swap.evicted_key for swap in trace.swaps}
    assert occupants | moved <= set(m)
    assert apply_and_check(m, trace).mismatches == ()


def test_a_key_salted_hashing_cannot_hash_by_value_is_traced_on_its_plain_hash() -> None:
    m: SaltedMap[Any, int] = SaltedMap({CollidingKey(1): 1}, inner="compact", seed=SEED)
    trace = trace_get(m, CollidingKey(1))
    assert (trace.outcome, trace.hashing, trace.salted_hash) == ("found", "salted", None)
    assert any("stored as (None, key)" in note for note in trace.notes)
    assert "no keyed hash" in trace.render_text()


def migrating_to_salted_hashing() -> AdaptiveMap[int, str]:
    policy = AdaptivePolicy(migration_batch=2, check_interval=1_000_000)
    m: AdaptiveMap[int, str] = AdaptiveMap(policy=policy, hash_seed=SEED)
    for key in COLLIDING * 2:
        m[key] = f"v{key}"
    for i in range(20):
        m[i] = f"v{i}"
    m.migrate_to("chaining", hashing="salted")
    return m


def test_an_adaptive_migration_to_salted_hashing_shows_each_tables_hashing() -> None:
    m = migrating_to_salted_hashing()
    assert m._draining is not None
    waiting = next(iter(m._draining))  # the first chain's key is moved last
    trace = trace_get(m, waiting)
    assert [(view.role, view.hashing) for view in trace.tables] == [
        ("current", "salted"),
        ("draining", "plain"),
    ]
    assert (trace.tables[0].salted_hash is None, trace.tables[1].salted_hash) == (False, None)
    assert (trace.outcome, trace.hashing) == ("found", "plain")
    assert any("migration chaining -> salted chaining" in note for note in trace.notes)


def test_a_put_into_an_adaptive_map_migrating_to_salted_hashing_is_what_it_does() -> None:
    m = migrating_to_salted_hashing()
    trace = trace_put(m, COLLIDING[-1] + MODULUS, "new")
    assert (trace.outcome, trace.tables[-1].role, trace.hashing) == (
        "inserted",
        "current",
        "salted",
    )
    assert apply_and_check(m, trace).mismatches == ()


def test_a_flooded_adaptive_map_is_traced_on_salted_hashing() -> None:
    policy = AdaptivePolicy(check_interval=8)  # the default flood_min_keys: 16
    m: AdaptiveMap[int, int] = AdaptiveMap(policy=policy, hash_seed=SEED)
    flood = [5 + j * MODULUS for j in range(40)]
    for key in flood:
        m[key] = 0
    m.finish_migration()
    assert m.hashing == "salted"
    traces = [trace_get(m, key) for key in flood]
    assert [trace.tables[0].hashing for trace in traces] == ["salted"] * len(flood)
    assert max(len(trace.steps) for trace in traces) < 5


@pytest.mark.parametrize("case", [name for name in CASES if "salted" in name])
@given(scenario=scenarios(), value=VALUES)
def test_a_salted_trace_names_the_keyed_hash_of_every_salted_table(
    case: str, scenario: Scenario, value: Any
) -> None:
    writes, deletes, key = scenario
    m = build(case, writes, deletes)
    trace = trace_put(m, key, value)
    for view in trace.tables:
        table = table_for(m, view.role)
        if view.hashing == "salted":
            assert isinstance(table, SaltedMap)
            assert view.salted_hash == table.wrap(key)[0]
        else:
            assert not isinstance(table, SaltedMap)
            assert view.salted_hash is None


# -- refusals and formats ----------------------------------------------------------------------


def test_a_dict_is_refused_with_a_clear_bad_input_error() -> None:
    with pytest.raises(BadInputError, match="cannot trace a dict"):
        trace_get({"a": 1}, "a")  # type: ignore[arg-type]


def test_as_dict_is_json_with_the_schema_and_every_step() -> None:
    m: RobinHoodMap[Any, Any] = RobinHoodMap({CollidingKey(1): b"x", "k": 2}, hash_seed=SEED)
    trace = trace_put(m, CollidingKey(2), None)
    data = orjson.loads(orjson.dumps(trace.as_dict()))
    assert (data["schema"], data["operation"], data["key"]) == (SCHEMA, "put", "CollidingKey(2)")
    assert len(data["steps"]) == len(trace.steps)


def test_as_dict_keeps_text_and_integer_keys_as_json_values() -> None:
    data = trace_get(ChainingMap({"k": 1}, hash_seed=SEED), "k").as_dict()
    assert (data["key"], data["found_value"]) == ("k", 1)


def test_as_dict_gives_the_hashing_and_both_hashes() -> None:
    plain = trace_get(RobinHoodMap({7: 1}, hash_seed=SEED), 7).as_dict()
    assert (plain["hashing"], plain["plain_hash"], plain["salted_hash"]) == ("plain", 7, None)
    assert plain["tables"][0]["hashing"] == "plain"  # type: ignore[index]
    m: SaltedMap[int, int] = SaltedMap({7: 1}, seed=SEED)
    salted = orjson.loads(orjson.dumps(trace_get(m, 7).as_dict()))
    assert (salted["hashing"], salted["plain_hash"], salted["salted_hash"]) == (
        "salted",
        7,
        m.wrap(7)[0],
    )
    assert salted["tables"][0]["salted_hash"] == m.wrap(7)[0]
    assert salted["steps"][0]["occupant_key"] == 7


def test_render_text_of_a_salted_trace_shows_both_hashes() -> None:
    m: SaltedMap[int, str] = SaltedMap(inner="robinhood", seed=SEED)
    text = trace_get(m, COLLIDING[2]).render_text()
    assert "Hashing: hash(key) = 5;" in text.splitlines()[1]
    assert f"salted, keyed hash {m.wrap(COLLIDING[2])[0]}" in text.splitlines()[2]


def test_render_text_of_a_plain_trace_does_not_mention_hashing() -> None:
    text = trace_get(RobinHoodMap(hash_seed=SEED), 5).render_text()
    assert "Hashing" not in text
    assert "salted" not in text


def test_render_text_prints_one_line_per_step_then_the_outcome() -> None:
    m = full_robinhood()
    trace: ProbeTrace = trace_put(m, 99, "new")
    lines = trace.render_text().splitlines()
    header = lines.index(next(line for line in lines if line.lstrip().startswith("#")))
    assert len([line for line in lines[header + 1 :] if line[:4].strip().isdigit()]) == len(
        trace.steps
    )
    assert "Outcome: inserted at slot" in trace.render_text()
