"""One property for every backend: any sequence of operations gives the same results as ``dict``.

The map and a ``dict`` model receive the same operations; every result (value returned or
``KeyError`` raised) must agree, the structure must pass ``check_invariants()`` after every step,
and the final contents must be equal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.core.map_cases import ALL_FACTORIES, INSERTION_ORDERED, CollidingKey, MapUnderTest

KEYS: st.SearchStrategy[Any] = st.one_of(
    st.integers(-3, 12),
    st.text(alphabet="ab", max_size=2),
    st.none(),
    st.tuples(st.integers(0, 2), st.sampled_from(["", "a"])),
    st.builds(CollidingKey, st.integers(0, 6)),
    # Equal modulo 2**40: indistinguishable by their low bits before index mixing.
    st.integers(1, 6).map(lambda i: i << 40),
)
VALUES: st.SearchStrategy[Any] = st.none() | st.integers(-2, 2) | st.text(max_size=2)
PAIRS = st.lists(st.tuples(KEYS, VALUES), max_size=6)

Operation = tuple[Any, ...]

# name -> (strategies for the arguments, what the operation does to a mapping)
OPERATIONS: dict[str, tuple[tuple[st.SearchStrategy[Any], ...], Callable[..., Any]]] = {
    "set": ((KEYS, VALUES), lambda m, key, value: m.__setitem__(key, value)),
    "get": ((KEYS,), lambda m, key: m.get(key, "absent")),
    "getitem": ((KEYS,), lambda m, key: m[key]),
    "contains": ((KEYS,), lambda m, key: key in m),
    "delete": ((KEYS,), lambda m, key: m.__delitem__(key)),
    "pop": ((KEYS,), lambda m, key: m.pop(key)),
    "pop_default": ((KEYS, VALUES), lambda m, key, default: m.pop(key, default)),
    "setdefault": ((KEYS, VALUES), lambda m, key, value: m.setdefault(key, value)),
    "update_pairs": ((PAIRS,), lambda m, pairs: m.update(pairs)),
    "update_mapping": ((PAIRS,), lambda m, pairs: m.update(dict(pairs))),
    "clear": ((), lambda m: m.clear()),
    "len": ((), len),
    "popitem": ((), lambda m: m.popitem()),
}
# Writes are listed several times so that maps grow past their resize points.
WEIGHTED_NAMES = [*OPERATIONS, "set", "set", "set", "update_pairs", "delete"]


@st.composite
def operations(draw: st.DrawFn) -> Operation:
    name = draw(st.sampled_from(WEIGHTED_NAMES))
    argument_strategies, _apply = OPERATIONS[name]
    return (name, *(draw(strategy) for strategy in argument_strategies))


def outcome(target: MutableMapping[Any, Any], operation: Operation) -> tuple[str, Any]:
    """What ``operation`` did: ``("returned", result)`` or ``("raised", KeyError)``."""
    name, *arguments = operation
    try:
        return ("returned", OPERATIONS[name][1](target, *arguments))
    except KeyError:
        return ("raised", KeyError)


def check_popitem(m: MapUnderTest, model: dict[Any, Any], ordered: bool) -> None:
    """``popitem`` may pick any pair (the last one for insertion-ordered maps, as dict does)."""
    if not model:
        assert outcome(m, ("popitem",)) == ("raised", KeyError)
        return
    key, value = m.popitem()
    if ordered:
        assert (key, value) == model.popitem()
    else:
        assert key in model
        assert model.pop(key) == value


@pytest.mark.parametrize("factory_name", sorted(ALL_FACTORIES))
@given(steps=st.lists(operations(), max_size=50))
@example(
    steps=[
        ("set", CollidingKey(0), 0),
        ("set", CollidingKey(1), 1),
        ("set", CollidingKey(2), 2),
        ("delete", CollidingKey(1)),
        ("get", CollidingKey(2)),
        ("set", CollidingKey(1), None),
        ("popitem",),
        ("getitem", CollidingKey(0)),
    ]
)
@example(
    steps=[
        ("set", 0, None),
        ("set", 1 << 40, 1),
        ("set", 2 << 40, 2),
        ("set", None, None),
        ("pop", 1 << 40),
        ("pop_default", 1 << 40, None),
        ("clear",),
        ("setdefault", 3 << 40, None),
        ("contains", 0),
    ]
)
@example(
    steps=[
        ("update_pairs", [(i, i) for i in range(6)]),
        ("update_mapping", [(i, -i) for i in range(6, 12)]),
        *[("delete", i) for i in range(11)],
        ("popitem",),
        ("popitem",),
        ("len",),
    ]
)
def test_any_operation_sequence_matches_dict(factory_name: str, steps: list[Operation]) -> None:
    m = ALL_FACTORIES[factory_name]()
    model: dict[Any, Any] = {}
    ordered = factory_name in INSERTION_ORDERED
    for step in steps:
        if step[0] == "popitem":
            check_popitem(m, model, ordered)
        else:
            assert outcome(m, step) == outcome(model, step), step
        m.check_invariants()
        assert len(m) == len(model)
    expected: Mapping[Any, Any] = model
    assert m == expected
    assert dict(m.items()) == model
    if ordered:
        assert list(m.items()) == list(model.items())
