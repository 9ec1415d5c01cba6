"""Probe traces against the maps' real behaviour: what a trace says a ``get`` or ``put`` does is
what the operation then does, on every backend, and tracing changes nothing.

Each property builds a map from random writes and deletes (colliding keys included), traces an
operation, checks the trace leaves the map untouched, then performs the operation for real and
reads the map's arrays to compare. Adaptive maps are also caught mid-migration: every operation
then moves one entry, which the trace must foresee.
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

from adhash import AdaptiveMap, AdaptivePolicy, BadInputError, ChainingMap, CompactMap, RobinHoodMap
from adhash.maps.adaptive import BackendName
from adhash.trace import SCHEMA, ProbeTrace, TableRole, apply_and_check, trace_get, trace_put
from tests.core.map_cases import ALL_FACTORIES, SEED, CollidingInt, CollidingKey, MapUnderTest

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


def _migrating(
    start: BackendName, target: BackendName, deletion: str
) -> Callable[[], tuple[AdaptiveMap[Any, Any], BackendName]]:
    """An AdaptiveMap on ``start`` that is told to migrate to ``target`` halfway through its
    writes and then moves one entry per operation, so it is usually still migrating at the end."""

    def build() -> tuple[AdaptiveMap[Any, Any], BackendName]:
        policy = AdaptivePolicy(
            start_backend=start,
            migration_batch=1,
            check_interval=1_000_000,
            robinhood_deletion=deletion,  # type: ignore[arg-type]
            chaining_buckets=1,
            groups_per_bucket=2,
            robinhood_capacity=2,
        )
        return AdaptiveMap(policy=policy, hash_seed=SEED), target

    return build


MIGRATING = {
    "migrating-chaining-to-robinhood": _migrating("chaining", "robinhood", "backward_shift"),
    "migrating-robinhood-to-compact": _migrating("robinhood", "compact", "tombstone"),
    "migrating-compact-to-chaining": _migrating("compact", "chaining", "backward_shift"),
    "compacting-robinhood": _migrating("robinhood", "robinhood", "tombstone"),
}
# Robin Hood tables run close to full, so that inserts rob residents on the way.
EXTRA_FACTORIES: dict[str, Callable[[], MapUnderTest]] = {
    "robinhood-dense": lambda: RobinHoodMap(capacity=64, max_load_factor=0.95, hash_seed=SEED),
    "robinhood-dense-tombstone": lambda: RobinHoodMap(
        capacity=64, max_load_factor=0.95, deletion="tombstone", hash_seed=SEED
    ),
}
FACTORIES = {**ALL_FACTORIES, **EXTRA_FACTORIES}
CASES = sorted([*FACTORIES, *MIGRATING])
ROBINHOOD_CASES = [name for name in CASES if name.startswith("robinhood")]
PLAIN_CASES = [name for name in CASES if not name.startswith(("adaptive", "migrat", "compacting"))]


def build(case: str, writes: Writes, deletes: list[Any]) -> MapUnderTest:
    """The map of ``case`` after ``writes`` and ``deletes``; a migration case is told to
    migrate before its last quarter of writes, which each move one entry."""
    m: MapUnderTest
    target: BackendName | None = None
    if case in MIGRATING:
        m, target = MIGRATING[case]()
    else:
        m = FACTORIES[case]()
    cut = len(writes) - len(writes) // 4
    for key, value in writes[:cut]:
        m[key] = value
    for key in deletes:
        m.pop(key, None)
    if target is not None:
        assert isinstance(m, AdaptiveMap)
        m.migrate_to(target)
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
        if isinstance(value, ChainingMap | RobinHoodMap | CompactMap):
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


def located(table: Any, key: Any) -> tuple[int, int]:
    """``(home or chain, slot or position)`` of ``key`` in ``table``, found by scanning its
    arrays: independent of the map's lookup and of the trace's."""
    if isinstance(table, ChainingMap):
        spots = [
            (chain, position)
            for chain, keys in enumerate(table._chain_keys)
            for position, stored in enumerate(keys)
            if stored == key
        ]
    elif isinstance(table, RobinHoodMap):
        spots = [
            (i - table._dist[i] + 1 & table._mask, i)
            for i in range(table._mask + 1)
            if table._dist[i] and not is_tombstone(table, i) and table._keys[i] == key
        ]
    else:
        index, keys = table._index, table._keys
        spots = [(-1, s) for s in range(len(index)) if index[s] >= 0 and keys[index[s]] == key]
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
        table = table_for(m, step.table)
        if isinstance(table, RobinHoodMap):
            assert table._keys[step.index] is step.occupant_key
        elif isinstance(table, CompactMap):
            assert table._keys[table._index[step.index]] is step.occupant_key
        else:
            home = next(view.home for view in trace.tables if view.role == step.table)
            assert table._chain_keys[home][step.index] is step.occupant_key


@pytest.mark.parametrize("case", ROBINHOOD_CASES)
@given(scenario=scenarios())
def test_robinhood_step_distances_are_the_stored_displacements(
    case: str, scenario: Scenario
) -> None:
    writes, deletes, key = scenario
    m = build(case, writes, deletes)
    assert isinstance(m, RobinHoodMap)
    for step in trace_get(m, key).steps:
        stored = m._dist[step.index]
        assert step.occupant_distance == (stored - 1 if stored else None)


@pytest.mark.parametrize("case", ROBINHOOD_CASES)
@given(scenario=scenarios())
def test_robinhood_get_walks_on_from_home_until_the_early_exit_rule_stops_it(
    case: str, scenario: Scenario
) -> None:
    writes, deletes, key = scenario
    m = build(case, writes, deletes)
    assert isinstance(m, RobinHoodMap)
    trace = trace_get(m, key)
    capacity = m._mask + 1
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


@pytest.mark.parametrize("case", PLAIN_CASES)
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
    twice = isinstance(m, ChainingMap) and trace.outcome == "found"
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
    assert isinstance(m, RobinHoodMap)
    trace = trace_put(m, key, value)
    m[key] = value
    placed = [step for step in trace.steps if step.action in ("place", "reuse-tombstone")]
    # Each carried key lands in its swap slot; the last one carried fills the final slot.
    landings = [(swap.slot, swap.carried_key, swap.carried_distance) for swap in trace.swaps]
    if trace.outcome == "inserted":
        last = trace.swaps[-1].evicted_key if trace.swaps else key
        landings.append((placed[-1].index, last, placed[-1].probe_distance))
    for slot, carried, distance in landings:
        assert m._keys[slot] is carried or (carried is key and m._keys[slot] == key)
        assert m._dist[slot] - 1 == distance


@pytest.mark.parametrize("case", PLAIN_CASES)
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


def test_render_text_prints_one_line_per_step_then_the_outcome() -> None:
    m = full_robinhood()
    trace: ProbeTrace = trace_put(m, 99, "new")
    lines = trace.render_text().splitlines()
    header = lines.index(next(line for line in lines if line.lstrip().startswith("#")))
    assert len([line for line in lines[header + 1 :] if line[:4].strip().isdigit()]) == len(
        trace.steps
    )
    assert "Outcome: inserted at slot" in trace.render_text()
