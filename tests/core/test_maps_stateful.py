"""State machines that drive each backend beside a ``dict`` model, one machine per configuration.

The adaptive machine can also start, force, step and finish migrations at any point, iterate and
copy in the middle of one, and keep writing and deleting while one is open.
"""

from __future__ import annotations

import unittest
from collections.abc import Mapping
from typing import Any, ClassVar, cast, get_args

from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    precondition,
    rule,
)

from adhash import AdaptiveMap, MapEvent
from adhash.maps import BackendName
from tests.core.map_cases import (
    ALL_FACTORIES,
    INSERTION_ORDERED,
    MODULUS,
    CollidingKey,
    MapUnderTest,
)

KEYS: st.SearchStrategy[Any] = st.one_of(
    st.integers(0, 30),
    st.integers(1, 4).map(lambda i: i << 40),
    st.integers(1, 6).map(lambda j: 3 + j * MODULUS),
    st.builds(CollidingKey, st.integers(0, 5)),
    st.none(),
    st.text(alphabet="xy", max_size=2),
)
VALUES: st.SearchStrategy[Any] = st.none() | st.integers(0, 3)
BACKENDS: tuple[BackendName, ...] = get_args(BackendName)


class MapMachine(RuleBasedStateMachine):
    """A map and a ``dict`` receive the same operations and must always agree."""

    factory_name: ClassVar[str] = "chaining"

    stored_keys = Bundle("stored_keys")

    def __init__(self) -> None:
        super().__init__()
        self.map: MapUnderTest = ALL_FACTORIES[self.factory_name]()
        self.model: dict[Any, Any] = {}

    @rule(target=stored_keys, key=KEYS, value=VALUES)
    def set_item(self, key: Any, value: Any) -> Any:
        self.map[key] = value
        self.model[key] = value
        return key

    @rule(key=stored_keys, value=VALUES)
    def overwrite_item(self, key: Any, value: Any) -> None:
        self.map[key] = value
        self.model[key] = value

    @rule(key=consumes(stored_keys))
    def delete_item(self, key: Any) -> None:
        if key in self.model:
            del self.map[key]
            del self.model[key]
        else:
            assert self.map.pop(key, "absent") == "absent"

    @rule(key=KEYS, default=VALUES)
    def pop_item(self, key: Any, default: Any) -> None:
        assert self.map.pop(key, default) == self.model.pop(key, default)

    @rule(key=stored_keys)
    def get_stored_item(self, key: Any) -> None:
        assert self.map.get(key, "absent") == self.model.get(key, "absent")
        assert (key in self.map) == (key in self.model)

    @rule(key=KEYS)
    def get_any_item(self, key: Any) -> None:
        assert self.map.get(key, "absent") == self.model.get(key, "absent")
        assert (key in self.map) == (key in self.model)

    @precondition(lambda self: self.model)
    @rule()
    def pop_some_item(self) -> None:
        key, value = self.map.popitem()
        if self.factory_name in INSERTION_ORDERED:
            assert (key, value) == self.model.popitem()
        else:
            assert self.model.pop(key) == value

    @rule()
    def clear(self) -> None:
        self.map.clear()
        self.model.clear()

    @invariant()
    def agrees_with_the_model(self) -> None:
        self.map.check_invariants()
        assert len(self.map) == len(self.model)
        expected: Mapping[Any, Any] = self.model
        assert self.map == expected


class AdaptiveMachine(MapMachine):
    """Adds migrations: started, forced mid-way, stepped, finished, iterated through, copied."""

    factory_name = "adaptive-tiny-chaining"

    map: AdaptiveMap[Any, Any]

    @rule(backend=st.sampled_from(BACKENDS), hashing=st.sampled_from([None, "plain", "salted"]))
    def migrate_to(self, backend: BackendName, hashing: Any) -> None:
        was = self.map.hashing
        self.map.migrate_to(backend, hashing=hashing)
        assert self.map.backend == backend
        assert self.map.hashing == (was if hashing is None else hashing)

    @precondition(lambda self: self.map.is_migrating)
    @rule(backend=st.sampled_from(BACKENDS))
    def force_migration_midway(self, backend: BackendName) -> None:
        seen: list[MapEvent] = []
        unsubscribe = self.map.subscribe(seen.append)
        self.map.migrate_to(backend)
        unsubscribe()
        finished, started = seen
        assert finished.kind.endswith("_completed")
        assert started.kind.endswith("_started")
        assert (started.source, started.target) == (finished.target, backend)
        assert self.map.backend == backend

    @rule(batch=st.integers(1, 4))
    def migrate_step(self, batch: int) -> None:
        was_migrating = self.map.is_migrating
        moved = self.map.migrate_step(batch)
        assert 0 <= moved <= batch
        if not was_migrating:
            assert moved == 0

    @rule()
    def finish_migration(self) -> None:
        self.map.finish_migration()
        assert not self.map.is_migrating

    @precondition(lambda self: self.map.is_migrating)
    @rule()
    def iterate_during_migration(self) -> None:
        keys = list(self.map)
        assert len(keys) == len(self.model)
        assert set(keys) == set(self.model)
        assert dict(self.map.items()) == self.model
        assert sorted(map(repr, self.map.values())) == sorted(map(repr, self.model.values()))

    @precondition(lambda self: self.map.is_migrating)
    @rule()
    def copy_during_migration(self) -> None:
        snapshot = self.map.copy()
        snapshot.check_invariants()
        assert snapshot == self.model
        assert snapshot.policy == self.map.policy


def machine_test_case(
    factory_name: str, base: type[MapMachine] = MapMachine
) -> type[unittest.TestCase]:
    """The ``unittest`` case that runs ``base`` on the maps that ``factory_name`` builds."""
    name = f"{base.__name__}[{factory_name}]"
    machine = cast(type[MapMachine], type(name, (base,), {"factory_name": factory_name}))
    return machine.TestCase


TestChainingMachine = machine_test_case("chaining-one-chain")
TestRobinHoodMachine = machine_test_case("robinhood-capacity-2")
TestRobinHoodTombstoneMachine = machine_test_case("robinhood-tombstone-capacity-2")
TestCompactMachine = machine_test_case("compact")
TestAdaptiveOnChainingMachine = machine_test_case("adaptive-tiny-chaining", AdaptiveMachine)
TestAdaptiveOnTombstoneRobinHoodMachine = machine_test_case(
    "adaptive-tiny-tombstone-robinhood", AdaptiveMachine
)
TestAdaptiveOnCompactMachine = machine_test_case("adaptive-tiny-compact", AdaptiveMachine)
TestAdaptiveFloodedMachine = machine_test_case("adaptive-tiny-flooded", AdaptiveMachine)
TestSaltedChainingMachine = machine_test_case("salted-chaining-one-chain")
TestSaltedRobinHoodMachine = machine_test_case("salted-robinhood-capacity-2")
TestSaltedTombstoneMachine = machine_test_case("salted-robinhood-tombstone")
TestSaltedCompactMachine = machine_test_case("salted-compact")
