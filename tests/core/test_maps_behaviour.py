"""Every backend behaves like ``dict`` wherever a user would look, and reports its own shape."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pytest

from adhash import (
    AdaptiveMap,
    AdaptivePolicy,
    BadInputError,
    ChainingMap,
    CompactMap,
    LengthHistogram,
    MapStats,
    RobinHoodMap,
)
from tests.core.map_cases import (
    DEFAULT_FACTORIES,
    CollidingKey,
    KeyEqualityError,
    MapFactory,
    MapUnderTest,
    TrippingKey,
    Tripwire,
)


@pytest.fixture(params=sorted(DEFAULT_FACTORIES))
def make_map(request: pytest.FixtureRequest) -> MapFactory:
    """Each backend with its default configuration (Robin Hood also with tombstones)."""
    factory: MapFactory = DEFAULT_FACTORIES[request.param]
    return factory


MAP_CLASSES = [ChainingMap, RobinHoodMap, CompactMap, AdaptiveMap]


def filled(make_map: MapFactory, pairs: Iterable[tuple[Any, Any]]) -> MapUnderTest:
    m = make_map()
    for key, value in pairs:
        m[key] = value
    return m


# -- construction ---------------------------------------------------------------------------


@pytest.mark.parametrize("cls", MAP_CLASSES)
def test_constructor_accepts_a_mapping(cls: type[MapUnderTest]) -> None:
    m = cls({"a": 1, "b": 2})
    assert dict(m.items()) == {"a": 1, "b": 2}


@pytest.mark.parametrize("cls", MAP_CLASSES)
def test_constructor_accepts_an_iterable_of_pairs(cls: type[MapUnderTest]) -> None:
    m = cls(iter([("a", 1), ("b", 2), ("a", 3)]))
    assert dict(m.items()) == {"a": 3, "b": 2}


@pytest.mark.parametrize("cls", MAP_CLASSES)
def test_constructor_accepts_keyword_items(cls: type[MapUnderTest]) -> None:
    m = cls(a=1, other=2, self=3)
    assert dict(m.items()) == {"a": 1, "other": 2, "self": 3}


@pytest.mark.parametrize("cls", MAP_CLASSES)
def test_constructor_keyword_items_override_positional_ones(cls: type[MapUnderTest]) -> None:
    m = cls({"a": 1, "b": 2}, a=10)
    assert dict(m.items()) == {"a": 10, "b": 2}


@pytest.mark.parametrize("source_cls", MAP_CLASSES)
@pytest.mark.parametrize("cls", MAP_CLASSES)
def test_constructor_copies_another_backend(
    cls: type[MapUnderTest], source_cls: type[MapUnderTest]
) -> None:
    source = source_cls((i, str(i)) for i in range(100))
    m = cls(source)
    m.check_invariants()
    assert dict(m.items()) == {i: str(i) for i in range(100)}


@pytest.mark.parametrize("cls", MAP_CLASSES)
def test_constructor_rejects_a_malformed_pair_like_dict(cls: type[MapUnderTest]) -> None:
    with pytest.raises(ValueError, match="unpack"):
        cls([("a", 1, 2)])


@pytest.mark.parametrize("cls", MAP_CLASSES)
def test_tuning_parameters_are_keyword_only(cls: type[MapUnderTest]) -> None:
    with pytest.raises(TypeError):
        cls({}, 64)  # type: ignore[call-arg, arg-type]


def test_tuning_parameters_are_not_stored_as_items() -> None:
    m: RobinHoodMap[str, int] = RobinHoodMap(capacity=64, capacitance=1)
    assert dict(m.items()) == {"capacitance": 1}
    assert m.stats().capacity == 64


@pytest.mark.parametrize("cls", MAP_CLASSES)
def test_fromkeys_maps_every_key_to_none_by_default(cls: type[MapUnderTest]) -> None:
    m = cls.fromkeys("abc")
    assert type(m) is cls
    assert dict(m.items()) == dict.fromkeys("abc")


@pytest.mark.parametrize("cls", MAP_CLASSES)
def test_fromkeys_maps_every_key_to_the_given_value(cls: type[MapUnderTest]) -> None:
    m = cls.fromkeys(range(50), 0)
    assert dict(m.items()) == dict.fromkeys(range(50), 0)


def test_fromkeys_passes_tuning_parameters_to_the_new_map() -> None:
    m: RobinHoodMap[int, int] = RobinHoodMap.fromkeys(range(10), 0, capacity=1024)
    assert m.stats().capacity == 1024


# -- lookups and updates --------------------------------------------------------------------


def test_get_returns_the_value_or_the_default(make_map: MapFactory) -> None:
    m = filled(make_map, [("a", 1)])
    assert (m.get("a"), m.get("b"), m.get("b", 0)) == (1, None, 0)


def test_getitem_raises_key_error_naming_a_missing_key(make_map: MapFactory) -> None:
    m = filled(make_map, [("a", 1)])
    with pytest.raises(KeyError) as raised:
        m["b"]
    assert raised.value.args == ("b",)


def test_setitem_replaces_the_value_of_an_existing_key(make_map: MapFactory) -> None:
    m = filled(make_map, [("a", 1), ("a", 2)])
    assert (len(m), m["a"]) == (1, 2)


def test_delitem_removes_the_key(make_map: MapFactory) -> None:
    m = filled(make_map, [("a", 1), ("b", 2)])
    del m["a"]
    assert dict(m.items()) == {"b": 2}


def test_delitem_of_a_missing_key_raises_key_error(make_map: MapFactory) -> None:
    m = filled(make_map, [("a", 1)])
    with pytest.raises(KeyError):
        del m["b"]
    assert dict(m.items()) == {"a": 1}


def test_pop_returns_the_value_and_removes_the_key(make_map: MapFactory) -> None:
    m = filled(make_map, [("a", 1), ("b", 2)])
    assert m.pop("a") == 1
    assert dict(m.items()) == {"b": 2}


def test_pop_returns_the_default_for_a_missing_key(make_map: MapFactory) -> None:
    m = filled(make_map, [("a", 1)])
    assert m.pop("b", None) is None
    assert dict(m.items()) == {"a": 1}


def test_pop_without_default_raises_key_error_for_a_missing_key(make_map: MapFactory) -> None:
    m = make_map()
    with pytest.raises(KeyError):
        m.pop("a")


def test_popitem_removes_and_returns_a_stored_pair(make_map: MapFactory) -> None:
    pairs = {i: i * i for i in range(20)}
    m = filled(make_map, pairs.items())
    popped = dict(m.popitem() for _ in range(20))
    assert popped == pairs
    assert len(m) == 0


def test_popitem_on_an_empty_map_raises_key_error(make_map: MapFactory) -> None:
    with pytest.raises(KeyError):
        make_map().popitem()


def test_setdefault_inserts_only_when_the_key_is_absent(make_map: MapFactory) -> None:
    m = make_map()
    first: list[int] = []
    assert m.setdefault("a", first) is first
    assert m.setdefault("a", [1]) is first
    assert m.setdefault("b") is None
    assert dict(m.items()) == {"a": [], "b": None}


def test_update_accepts_a_mapping_pairs_and_keywords(make_map: MapFactory) -> None:
    m = make_map()
    m.update({"a": 1})
    m.update([("b", 2)], c=3)
    m.update(ChainingMap(d=4))
    assert dict(m.items()) == {"a": 1, "b": 2, "c": 3, "d": 4}


def test_update_accepts_an_object_with_keys_and_getitem(make_map: MapFactory) -> None:
    class KeysOnly:
        def keys(self) -> list[str]:
            return ["a", "b"]

        def __getitem__(self, key: str) -> str:
            return key.upper()

    m = make_map()
    m.update(KeysOnly())
    assert dict(m.items()) == {"a": "A", "b": "B"}


def test_update_with_itself_changes_nothing(make_map: MapFactory) -> None:
    m = filled(make_map, ((i, i) for i in range(30)))
    m.update(m)
    m.check_invariants()
    assert dict(m.items()) == {i: i for i in range(30)}


def test_clear_empties_the_map_and_leaves_it_usable(make_map: MapFactory) -> None:
    m = filled(make_map, ((i, i) for i in range(100)))
    m.clear()
    assert len(m) == 0
    m["a"] = 1
    m.check_invariants()
    assert dict(m.items()) == {"a": 1}


def test_contains_len_and_bool_follow_the_contents(make_map: MapFactory) -> None:
    m = make_map()
    assert (bool(m), len(m), "a" in m) == (False, 0, False)
    m["a"] = 1
    assert (bool(m), len(m), "a" in m, "b" in m) == (True, 1, True, False)


def test_none_is_a_storable_value(make_map: MapFactory) -> None:
    m = filled(make_map, [("a", None)])
    assert "a" in m
    assert m["a"] is None
    assert m.get("a", 0) is None
    assert m.pop("a", 0) is None


def test_none_is_a_usable_key(make_map: MapFactory) -> None:
    m = filled(make_map, [(None, 1), (0, 2)])
    assert (m[None], None in m, len(m)) == (1, True, 2)
    del m[None]
    assert None not in m
    assert dict(m.items()) == {0: 2}


def test_keys_that_are_equal_across_types_are_one_key(make_map: MapFactory) -> None:
    m = filled(make_map, [(1, "int"), (1.0, "float")])
    assert dict(m.items()) == {1: "float"}


# -- copies -----------------------------------------------------------------------------------


def test_copy_is_an_independent_shallow_copy(make_map: MapFactory) -> None:
    shared: list[int] = []
    m = filled(make_map, [("a", shared), ("b", 2)])
    c = m.copy()
    c["c"] = 3
    assert type(c) is type(m)
    assert dict(m.items()) == {"a": [], "b": 2}
    assert c["a"] is shared


def test_copy_module_copy_is_a_shallow_copy(make_map: MapFactory) -> None:
    shared: list[int] = []
    m = filled(make_map, [("a", shared)])
    c = copy.copy(m)
    del c["a"]
    assert m["a"] is shared
    assert type(c) is type(m)


def test_deepcopy_copies_the_values_too(make_map: MapFactory) -> None:
    m = filled(make_map, [("a", [1]), ("b", {"x": [2]})])
    c = copy.deepcopy(m)
    c["a"].append(99)
    assert type(c) is type(m)
    assert dict(m.items()) == {"a": [1], "b": {"x": [2]}}
    assert dict(c.items()) == {"a": [1, 99], "b": {"x": [2]}}


def test_copy_keeps_the_tombstone_deletion_of_a_robinhood_map() -> None:
    m: RobinHoodMap[int, int] = RobinHoodMap.fromkeys(range(10), 0, deletion="tombstone")
    for c in (m.copy(), copy.copy(m), copy.deepcopy(m)):
        del c[0]
        assert c.stats().tombstones == 1


def test_copy_keeps_the_policy_of_an_adaptive_map() -> None:
    policy = AdaptivePolicy(start_backend="compact", migration_batch=7)
    m: AdaptiveMap[int, None] = AdaptiveMap.fromkeys(range(10), policy=policy)
    for c in (m.copy(), copy.copy(m), copy.deepcopy(m)):
        assert c.policy == policy
        assert c.backend == "compact"


# -- views -------------------------------------------------------------------------------------


def test_keys_view_is_live(make_map: MapFactory) -> None:
    m = make_map()
    keys = m.keys()
    m["a"] = 1
    m["b"] = 2
    del m["a"]
    assert list(keys) == ["b"]
    assert "b" in keys
    assert len(keys) == 1


def test_values_view_is_live(make_map: MapFactory) -> None:
    m = make_map()
    values = m.values()
    m["a"] = 1
    m["b"] = None
    assert sorted(values, key=repr) == [1, None]
    assert None in values
    assert 3 not in values
    assert len(values) == 2


def test_items_view_is_live(make_map: MapFactory) -> None:
    m = make_map()
    items = m.items()
    m["a"] = 1
    assert list(items) == [("a", 1)]
    assert ("a", 1) in items
    assert ("a", 2) not in items
    assert ("b", 1) not in items


def test_keys_view_supports_set_operations(make_map: MapFactory) -> None:
    m = filled(make_map, [("a", 1), ("b", 2), ("c", 3)])
    keys = m.keys()
    assert keys & {"a", "z"} == {"a"}
    assert keys | {"z"} == {"a", "b", "c", "z"}
    assert keys - {"a"} == {"b", "c"}
    assert keys ^ {"a", "z"} == {"b", "c", "z"}
    assert keys == {"a", "b", "c"}
    assert keys == {"a": 0, "b": 0, "c": 0}.keys()
    assert keys.isdisjoint({"x"})


def test_items_view_supports_set_operations(make_map: MapFactory) -> None:
    m = filled(make_map, [("a", 1), ("b", 2)])
    items = m.items()
    assert items & {("a", 1), ("b", 3)} == {("a", 1)}
    assert items - {("a", 1)} == {("b", 2)}
    assert items | {("c", 3)} == {("a", 1), ("b", 2), ("c", 3)}
    assert items == {"a": 1, "b": 2}.items()


# -- equality and repr ---------------------------------------------------------------------


def test_equals_a_dict_with_the_same_items(make_map: MapFactory) -> None:
    m = filled(make_map, [("a", 1), (None, None)])
    same: Mapping[Any, Any] = {"a": 1, None: None}
    assert m == same
    assert same == m
    assert (m != same) is False


@pytest.mark.parametrize("other_cls", MAP_CLASSES)
def test_equals_another_backend_with_the_same_items(
    make_map: MapFactory, other_cls: type[MapUnderTest]
) -> None:
    m = filled(make_map, ((i, -i) for i in range(40)))
    other = other_cls((i, -i) for i in reversed(range(40)))
    assert m == other
    assert other == m


def test_differs_from_a_mapping_with_another_value(make_map: MapFactory) -> None:
    m = filled(make_map, [("a", 1)])
    other_value: Mapping[str, int] = {"a": 2}
    assert m != other_value
    assert other_value != m
    assert m != RobinHoodMap(a=2)


def test_differs_from_a_mapping_with_another_key(make_map: MapFactory) -> None:
    m = filled(make_map, [("a", 1)])
    more: Mapping[str, int] = {"a": 1, "b": 1}
    empty: Mapping[str, int] = {}
    assert m != more
    assert m != empty
    assert m != CompactMap(b=1)


def test_differs_from_a_non_mapping(make_map: MapFactory) -> None:
    m = filled(make_map, [("a", 1)])
    pairs: object = [("a", 1)]
    keys: object = {"a"}
    assert m != pairs
    assert m != keys


def test_is_unhashable_like_dict(make_map: MapFactory) -> None:
    with pytest.raises(TypeError):
        hash(make_map())


def test_repr_shows_the_class_and_the_items(make_map: MapFactory) -> None:
    m = filled(make_map, [("a", 1)])
    assert repr(m) == f"{type(m).__name__}({{'a': 1}})"


def test_repr_survives_self_reference(make_map: MapFactory) -> None:
    m = filled(make_map, [("a", 1)])
    m["self"] = m
    text = repr(m)
    assert "{...}" in text
    assert "'a': 1" in text


# -- keys that misbehave -------------------------------------------------------------------


UNHASHABLE_OPERATIONS: dict[str, Callable[[MapUnderTest], object]] = {
    "set": lambda m: m.__setitem__([1], 1),
    "get": lambda m: m.get([1]),
    "getitem": lambda m: m[[1]],
    "contains": lambda m: [1] in m,
    "delete": lambda m: m.__delitem__([1]),
    "pop": lambda m: m.pop([1], None),
    "setdefault": lambda m: m.setdefault([1], 1),
}


@pytest.mark.parametrize("operation", sorted(UNHASHABLE_OPERATIONS))
def test_unhashable_key_raises_type_error_and_leaves_the_map_unchanged(
    make_map: MapFactory, operation: str
) -> None:
    m = filled(make_map, ((i, i) for i in range(10)))
    with pytest.raises(TypeError, match="unhashable"):
        UNHASHABLE_OPERATIONS[operation](m)
    m.check_invariants()
    assert dict(m.items()) == {i: i for i in range(10)}


TRIPPING_OPERATIONS: dict[str, Callable[[MapUnderTest, TrippingKey], object]] = {
    "set": lambda m, key: m.__setitem__(key, "new"),
    "get": lambda m, key: m.get(key),
    "getitem": lambda m, key: m[key],
    "contains": lambda m, key: key in m,
    "delete": lambda m, key: m.__delitem__(key),
    "pop": lambda m, key: m.pop(key, None),
    "setdefault": lambda m, key: m.setdefault(key, "new"),
}


@pytest.mark.parametrize("operation", sorted(TRIPPING_OPERATIONS))
@pytest.mark.parametrize("present", [True, False], ids=["present-key", "absent-key"])
def test_exception_from_key_eq_propagates_and_leaves_the_map_intact(
    make_map: MapFactory, operation: str, present: bool
) -> None:
    tripwire = Tripwire()
    model: dict[Any, Any] = {TrippingKey(i, tripwire): i for i in range(6)}
    model.update((i, i) for i in range(20))
    m = filled(make_map, model.items())
    probe = TrippingKey(3 if present else 99, tripwire)
    tripwire.armed = True
    with pytest.raises(KeyEqualityError):
        TRIPPING_OPERATIONS[operation](m, probe)
    tripwire.armed = False
    m.check_invariants()
    assert dict(m.items()) == model


class KeyHashError(Exception):
    """What a :class:`FailingHashKey` raises from ``__hash__``."""


class FailingHashKey:
    """A key whose ``__hash__`` raises while ``failing`` is set."""

    failing = True

    def __init__(self, value: int) -> None:
        self.value = value

    def __hash__(self) -> int:
        if self.failing:
            raise KeyHashError(f"__hash__ of {self.value}")
        return hash(self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FailingHashKey) and other.value == self.value

    def __repr__(self) -> str:
        return f"FailingHashKey({self.value})"


def test_exception_from_a_new_key_hash_propagates_and_leaves_the_map_intact(
    make_map: MapFactory,
) -> None:
    m = filled(make_map, ((i, i) for i in range(10)))
    with pytest.raises(KeyHashError):
        m[FailingHashKey(1)] = 1
    with pytest.raises(KeyHashError):
        m.get(FailingHashKey(1))
    m.check_invariants()
    assert dict(m.items()) == {i: i for i in range(10)}


def test_exception_from_a_stored_key_hash_during_a_resize_leaves_the_map_intact(
    make_map: MapFactory,
) -> None:
    # dict never rehashes a stored key; a map that does must not lose entries when that fails.
    stored = FailingHashKey(-1)
    stored.failing = False
    m = filled(make_map, [(stored, "stored")])
    model: dict[Any, Any] = {stored: "stored"}
    stored.failing = True
    with pytest.raises(KeyHashError):
        insert_until_it_raises(m, model, range(1, 5000))
    stored.failing = False
    m.check_invariants()
    assert dict(m.items()) == model


def insert_until_it_raises(m: MapUnderTest, model: dict[Any, Any], keys: Iterable[int]) -> None:
    """Insert ``key: key`` for each key, recording in ``model`` the inserts that succeeded."""
    for key in keys:
        m[key] = key
        model[key] = key


class ValueErrorOnEq:
    """A key whose ``__eq__`` raises ``ValueError`` (as comparing NumPy arrays does)."""

    def __hash__(self) -> int:
        return 0

    def __eq__(self, other: object) -> bool:
        raise ValueError("the truth value of this comparison is ambiguous")


def test_value_error_from_key_eq_propagates_from_a_lookup(make_map: MapFactory) -> None:
    m = filled(make_map, [(ValueErrorOnEq(), 1)])
    with pytest.raises(ValueError, match="ambiguous"):
        m[ValueErrorOnEq()]


def test_colliding_keys_are_told_apart_by_equality(make_map: MapFactory) -> None:
    pairs = {CollidingKey(i): i for i in range(40)}
    m = filled(make_map, pairs.items())
    for i in range(0, 40, 2):
        del m[CollidingKey(i)]
    m.check_invariants()
    assert dict(m.items()) == {CollidingKey(i): i for i in range(1, 40, 2)}


# -- iteration -----------------------------------------------------------------------------


ITERATIONS: dict[str, Callable[[MapUnderTest], Iterable[Any]]] = {
    "map": lambda m: m,
    "keys": lambda m: m.keys(),
    "values": lambda m: m.values(),
    "items": lambda m: m.items(),
}


def insert_while_iterating(m: MapUnderTest, items: Iterable[Any]) -> None:
    for n, _ in enumerate(items):
        m[100 + n] = n


def delete_while_iterating(m: MapUnderTest, items: Iterable[Any]) -> None:
    for n, _ in enumerate(items):
        del m[n]


@pytest.mark.parametrize("view", sorted(ITERATIONS))
def test_inserting_during_iteration_raises_runtime_error(make_map: MapFactory, view: str) -> None:
    m = filled(make_map, ((i, i) for i in range(5)))
    with pytest.raises(RuntimeError, match="changed size during iteration"):
        insert_while_iterating(m, ITERATIONS[view](m))


@pytest.mark.parametrize("view", sorted(ITERATIONS))
def test_deleting_during_iteration_raises_runtime_error(make_map: MapFactory, view: str) -> None:
    m = filled(make_map, ((i, i) for i in range(5)))
    with pytest.raises(RuntimeError, match="changed size during iteration"):
        delete_while_iterating(m, ITERATIONS[view](m))


@pytest.mark.parametrize("view", sorted(ITERATIONS))
def test_inserting_while_handling_the_last_item_raises_runtime_error(
    make_map: MapFactory, view: str
) -> None:
    m = filled(make_map, [("only", 1)])
    with pytest.raises(RuntimeError, match="changed size during iteration"):
        insert_while_iterating(m, ITERATIONS[view](m))


def test_iterator_made_before_a_size_change_raises_runtime_error(make_map: MapFactory) -> None:
    m = filled(make_map, [("a", 1)])
    iterator = iter(m)
    m["b"] = 2
    with pytest.raises(RuntimeError, match="changed size during iteration"):
        next(iterator)


def test_replacing_values_during_iteration_is_allowed(make_map: MapFactory) -> None:
    m = filled(make_map, ((i, i) for i in range(50)))
    for key in m:
        m[key] = -key
    assert dict(m.items()) == {i: -i for i in range(50)}


# -- merge operators -----------------------------------------------------------------------


def test_or_returns_a_new_merged_map(make_map: MapFactory) -> None:
    m = filled(make_map, [("a", 1), ("b", 2)])
    merged = m | {"b": 3, "c": 4}
    assert type(merged) is type(m)
    assert dict(merged.items()) == {"a": 1, "b": 3, "c": 4}
    assert dict(m.items()) == {"a": 1, "b": 2}


def test_or_with_a_non_mapping_raises_type_error(make_map: MapFactory) -> None:
    with pytest.raises(TypeError):
        make_map() | [("a", 1)]


def test_ior_updates_in_place_from_a_mapping_or_pairs(make_map: MapFactory) -> None:
    m = filled(make_map, [("a", 1)])
    alias = m
    m |= {"b": 2}
    m |= [("c", 3)]
    assert m is alias
    assert dict(m.items()) == {"a": 1, "b": 2, "c": 3}


# -- insertion order (CompactMap) ----------------------------------------------------------


def test_compact_map_iterates_in_insertion_order() -> None:
    keys = [5, "x", None, (1, 2), -3, 2**70]
    m: CompactMap[object, None] = CompactMap.fromkeys(keys)
    assert list(m) == keys
    assert list(m.values()) == [None] * len(keys)
    assert list(m.items()) == [(key, None) for key in keys]


def test_compact_map_keeps_order_like_dict_across_deletes_and_reinserts() -> None:
    m: CompactMap[int, int] = CompactMap()
    model: dict[int, int] = {}
    for i in range(300):
        m[i % 37] = model[i % 37] = i
        victim = (i * 7) % 37
        if i % 3 == 0 and victim in model:
            del m[victim], model[victim]
    m.check_invariants()
    assert list(m.items()) == list(model.items())


def test_compact_map_reversed_yields_keys_newest_first() -> None:
    m: CompactMap[str, Any] = CompactMap.fromkeys(["a", "b", "c", "d"])
    del m["b"]
    m["a"] = 1
    assert list(reversed(m)) == ["d", "c", "a"]


def test_compact_map_popitem_is_last_in_first_out_like_dict() -> None:
    m: CompactMap[int, None] = CompactMap.fromkeys(range(10))
    model = dict.fromkeys(range(10))
    del m[9], model[9]
    assert [m.popitem() for _ in range(9)] == [model.popitem() for _ in range(9)]


def test_compact_map_reversed_raises_when_the_size_changes() -> None:
    m: CompactMap[str, None] = CompactMap.fromkeys(["a", "b", "c"])
    with pytest.raises(RuntimeError, match="changed size during iteration"):
        insert_while_iterating(m, reversed(m))


def test_compact_map_reversed_raises_when_the_last_key_adds_one() -> None:
    m: CompactMap[str, None] = CompactMap.fromkeys(["a"])
    with pytest.raises(RuntimeError, match="changed size during iteration"):
        insert_while_iterating(m, reversed(m))


# -- statistics ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("factory", "backend", "capacity"),
    [
        (ChainingMap, "chaining", 64),
        (lambda: ChainingMap(buckets=2, groups_per_bucket=4), "chaining", 8),
        (RobinHoodMap, "robinhood", 8),
        (lambda: RobinHoodMap(capacity=256), "robinhood", 256),
        (CompactMap, "compact", 8),
        (lambda: CompactMap(capacity=64), "compact", 64),
        (AdaptiveMap, "chaining", 64),
    ],
)
def test_stats_report_backend_size_capacity_and_load_factor(
    factory: MapFactory, backend: str, capacity: int
) -> None:
    m = factory()
    m.update((i, i) for i in range(3))
    stats = m.stats()
    assert isinstance(stats, MapStats)
    assert (stats.backend, stats.size, stats.capacity) == (backend, 3, capacity)
    assert stats.load_factor == pytest.approx(3 / capacity)
    assert (stats.migrating_from, stats.migration_progress) == (None, None)


def test_stats_follow_the_map_as_it_grows_and_shrinks(make_map: MapFactory) -> None:
    m = make_map()
    for size in (1, 500, 37, 0):
        m.update((i, i) for i in range(size))
        for key in range(size, 500):
            m.pop(key, None)
        stats = m.stats()
        assert stats.size == len(m) == size
        assert stats.load_factor == pytest.approx(size / stats.capacity)


def test_chaining_stats_report_chain_lengths() -> None:
    m: ChainingMap[CollidingKey, None] = ChainingMap.fromkeys(CollidingKey(i) for i in range(5))
    stats = m.stats()
    assert (stats.chain_length_max, stats.chain_length_mean) == (5, 5.0)
    assert (stats.probe_length_mean, stats.probe_length_max, stats.tombstones) == (None,) * 3


def test_robinhood_stats_report_displacements_and_tombstones() -> None:
    colliding = (CollidingKey(i) for i in range(5))
    m: RobinHoodMap[Any, None] = RobinHoodMap.fromkeys(colliding, capacity=16)
    stats = m.stats()
    assert (stats.probe_length_max, stats.probe_length_mean) == (4, 2.0)
    assert (stats.chain_length_max, stats.chain_length_mean) == (None, None)
    m = RobinHoodMap[int, None].fromkeys(range(10), capacity=16, deletion="tombstone")
    del m[3], m[4]
    assert (m.stats().tombstones, m.stats().tombstone_ratio) == (2, 2 / 16)


def test_compact_stats_report_deleted_holes_as_tombstones() -> None:
    m: CompactMap[int, None] = CompactMap.fromkeys(range(10), capacity=32)
    del m[3], m[4]
    stats = m.stats()
    assert (stats.tombstones, stats.size) == (2, 8)
    m.compact()
    assert m.stats().tombstones == 0


def test_length_histogram_counts_entries_for_probe_kinds(make_map: MapFactory) -> None:
    m = filled(make_map, ((i, i) for i in range(300)))
    m.update((CollidingKey(i), i) for i in range(12))
    histogram = m.length_histogram()
    assert isinstance(histogram, LengthHistogram)
    if histogram.kind == "probe":
        assert histogram.total == len(m)
        stats = m.stats()
        assert histogram.max_length == stats.probe_length_max
        mean = sum(n * count for n, count in enumerate(histogram.counts)) / len(m)
        assert mean == pytest.approx(stats.probe_length_mean)
    else:
        assert histogram.total == m.stats().capacity
        assert sum(n * count for n, count in enumerate(histogram.counts)) == len(m)
        assert histogram.max_length == m.stats().chain_length_max


def test_chaining_length_histogram_counts_every_chain() -> None:
    colliding = (CollidingKey(i) for i in range(3))
    m: ChainingMap[Any, None] = ChainingMap.fromkeys(colliding, buckets=2, groups_per_bucket=2)
    assert m.length_histogram() == LengthHistogram("chain", (3, 0, 0, 1))


def test_length_histogram_of_an_empty_map_is_empty(make_map: MapFactory) -> None:
    histogram = make_map().length_histogram()
    assert histogram.max_length == 0
    assert sum(n * count for n, count in enumerate(histogram.counts)) == 0


def test_occupancy_heatmap_sums_to_the_size_when_every_slot_is_read(
    make_map: MapFactory,
) -> None:
    m = filled(make_map, ((i, i) for i in range(700)))
    heatmap = m.occupancy_heatmap()
    assert heatmap.capacity == m.stats().capacity
    assert heatmap.sampled_slots == heatmap.capacity
    assert sum(heatmap.cells) * heatmap.slot_span == pytest.approx(len(m))


def test_occupancy_heatmap_is_a_grid_of_at_most_the_requested_cells(
    make_map: MapFactory,
) -> None:
    m = filled(make_map, ((i, i) for i in range(100)))
    heatmap = m.occupancy_heatmap(cells=16, cols=4)
    assert (heatmap.rows, heatmap.cols, len(heatmap.cells)) == (4, 4, 16)
    assert heatmap.slot_span * 16 == heatmap.capacity


@pytest.mark.parametrize(
    "factory",
    [
        lambda: RobinHoodMap(capacity=2**17),
        lambda: CompactMap(capacity=2**17),
        lambda: ChainingMap(buckets=2**14, groups_per_bucket=8),
    ],
    ids=["robinhood", "compact", "chaining"],
)
@pytest.mark.parametrize("cells", [1, 512, 4096])
def test_occupancy_heatmap_of_a_huge_table_reads_at_most_4096_slots(
    factory: MapFactory, cells: int
) -> None:
    m = factory()
    m.update((i, i) for i in range(1000))
    heatmap = m.occupancy_heatmap(cells=cells)
    assert heatmap.capacity == 2**17
    assert 0 < heatmap.sampled_slots <= 4096
    assert len(heatmap.cells) == heatmap.rows * heatmap.cols
    assert all(cell >= 0.0 for cell in heatmap.cells)


def test_occupancy_heatmap_with_more_cells_than_samples_reads_at_most_4096_slots() -> None:
    heatmap = RobinHoodMap(capacity=2**17).occupancy_heatmap(cells=8192)
    assert heatmap.sampled_slots <= 4096


def test_occupancy_heatmap_of_open_addressing_holds_fractions(make_map: MapFactory) -> None:
    m = filled(make_map, ((i, i) for i in range(100)))
    if m.length_histogram().kind == "probe":
        assert all(0.0 <= cell <= 1.0 for cell in m.occupancy_heatmap().cells)


def test_occupancy_heatmap_rejects_an_empty_grid(make_map: MapFactory) -> None:
    with pytest.raises(BadInputError):
        make_map().occupancy_heatmap(cells=0)


def test_reserve_avoids_a_resize_for_the_reserved_entries(make_map: MapFactory) -> None:
    m = make_map()
    m.reserve(1000)
    capacity = m.stats().capacity
    m.update((i, i) for i in range(1000))
    assert m.stats().capacity == capacity


# -- invalid tuning parameters -------------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda: RobinHoodMap(capacity=3),
        lambda: RobinHoodMap(capacity=1),
        lambda: RobinHoodMap(capacity=True),
        lambda: RobinHoodMap(max_load_factor=2),
        lambda: RobinHoodMap(max_load_factor=0),
        lambda: RobinHoodMap(deletion="x"),  # type: ignore[arg-type]
        lambda: RobinHoodMap(tombstone_purge_ratio=1.5),
        lambda: RobinHoodMap(hash_seed="x"),  # type: ignore[arg-type]
        lambda: ChainingMap(buckets=3),
        lambda: ChainingMap(groups_per_bucket=0),
        lambda: ChainingMap(max_load_factor=-1),
        lambda: ChainingMap(max_load_factor=65),
        lambda: CompactMap(capacity=3),
        lambda: CompactMap(capacity=4),
        lambda: AdaptiveMap(policy="fast"),  # type: ignore[arg-type]
    ],
    ids=[
        "robinhood-capacity-3",
        "robinhood-capacity-1",
        "robinhood-capacity-bool",
        "robinhood-max-load-2",
        "robinhood-max-load-0",
        "robinhood-deletion-x",
        "robinhood-purge-ratio-1.5",
        "robinhood-hash-seed-str",
        "chaining-buckets-3",
        "chaining-groups-0",
        "chaining-max-load-negative",
        "chaining-max-load-65",
        "compact-capacity-3",
        "compact-capacity-4",
        "adaptive-policy-str",
    ],
)
def test_invalid_tuning_parameter_raises_bad_input_error(build: Callable[[], object]) -> None:
    with pytest.raises(BadInputError) as raised:
        build()
    assert (raised.value.kind, raised.value.exit_code) == ("BadInput", 2)
    assert isinstance(raised.value, ValueError)


def test_dict_or_map_merges_with_the_map_winning(make_map: MapFactory) -> None:
    merged = {"a": 1, "b": 1} | filled(make_map, [("b", 2), ("c", 3)])
    assert type(merged) is type(make_map())
    assert dict(merged.items()) == {"a": 1, "b": 2, "c": 3}


def test_constructing_from_none_raises_type_error_like_dict(make_map: MapFactory) -> None:
    factory = type(make_map())
    with pytest.raises(TypeError):
        factory(None)
