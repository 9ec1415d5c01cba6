"""Snapshots round trip: every backend, every supported type, any number of chunks.

A loaded map has the saved map's type, configuration (and, for AdaptiveMap, policy and current
backend), exactly its entries (floats compared bit for bit, so ``nan`` and ``-0.0`` count) and
passes ``check_invariants()``. Anything a snapshot cannot hold is refused with BadInputError
before a file appears.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import struct
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adhash import AdaptiveMap, AdaptivePolicy, ChainingMap, CompactMap, RobinHoodMap
from adhash.errors import BadInputError
from adhash.snapshot import inspect, load, save
from adhash.snapshot.container import CODEC_RAW
from tests.core.map_cases import ALL_FACTORIES, SEED, TINY_POLICY_ON_TOMBSTONE_ROBINHOOD
from tests.core.snapshot_cases import assemble, meta_bytes, raw_chunk

# Every factory of the shared cases, plus the plain dict a snapshot also holds.
FACTORIES: dict[str, Callable[[], Any]] = {"dict": dict, **ALL_FACTORIES}

NAN = float("nan")
INF = float("inf")

# One of each supported type and its edge cases, as keys no two of which are equal.
EVERY_TYPE_KEYS: list[Any] = [
    "",
    "héllo wörld ✓ 𝄞",
    "\ud800",
    "\udfff\ud800 lone surrogates",
    b"",
    b"\x00\xff bytes",
    2,
    -1,
    2**63 - 1,
    -(2**63),
    2**63,
    2**64,
    -(2**100),
    True,
    None,
    1.5,
    INF,
    NAN,
    -0.0,
    (),
    (1, ("a", (b"x", None))),
    (False, 2.5, -INF),
]
EVERY_TYPE_VALUES: list[Any] = [*EVERY_TYPE_KEYS[1:], EVERY_TYPE_KEYS[0]]

# Contents that take each column layout: all str, all 64-bit int, and tagged records.
CONTENTS: dict[str, dict[Any, Any]] = {
    "str-column": {"": "é", "ascii": "", "ключ": "\udc80", "\ud83d": "𝄞" * 3},
    "int-column": {0: -(2**63), 2**63 - 1: 1, -5: 0, 7: 2**62},
    "every-type": dict(zip(EVERY_TYPE_KEYS, EVERY_TYPE_VALUES, strict=True)),
}

SCALARS: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(-(2**200), 2**200),
    st.floats(),
    st.text(st.characters(exclude_categories=()), max_size=8),
    st.binary(max_size=8),
)
SUPPORTED: st.SearchStrategy[Any] = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3).map(tuple), max_leaves=8
)


def canonical(item: Any) -> Any:
    """``item`` with its exact type kept and floats as their bits (``nan`` equals itself)."""
    if type(item) is float:
        return ("float", struct.pack("<d", item))
    if type(item) is tuple:
        return ("tuple", tuple(canonical(part) for part in item))
    return (type(item).__name__, item)


def entries_of(m: Any) -> list[Any]:
    """A map's entries, canonical and sorted: equal lists mean bit-for-bit equal contents."""
    return sorted((canonical(key), canonical(value)) for key, value in m.items())


def fill(m: Any, contents: dict[Any, Any]) -> Any:
    # One write at a time, so that tiny maps resize and adaptive ones migrate on the way.
    for key, value in contents.items():
        m[key] = value
    return m


def assert_same_map(loaded: Any, original: Any) -> None:
    assert type(loaded) is type(original)
    assert len(loaded) == len(original)
    assert entries_of(loaded) == entries_of(original)
    if type(original) is dict:
        return
    assert loaded._config() == original._config()
    if isinstance(original, AdaptiveMap):
        assert loaded.policy == original.policy
        assert loaded.backend == original.backend
        assert not loaded.is_migrating
    loaded.check_invariants()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("roundtrip")


@pytest.mark.parametrize("contents_name", sorted(CONTENTS))
@pytest.mark.parametrize("factory_name", sorted(FACTORIES))
def test_every_backend_round_trips_every_supported_type(
    tmp_path: Path, factory_name: str, contents_name: str
) -> None:
    original = fill(FACTORIES[factory_name](), CONTENTS[contents_name])
    path = tmp_path / "m.adh"
    size = save(original, path, key=None)
    assert size == path.stat().st_size
    assert_same_map(load(path, key=None), original)


@given(
    factory_name=st.sampled_from(sorted(FACTORIES)),
    contents=st.dictionaries(SUPPORTED, SUPPORTED, max_size=16),
    chunk_entries=st.integers(1, 6),
)
def test_any_map_of_supported_items_round_trips(
    folder: Path, factory_name: str, contents: dict[Any, Any], chunk_entries: int
) -> None:
    original = fill(FACTORIES[factory_name](), contents)
    path = folder / "property.adh"
    save(original, path, key=None, chunk_entries=chunk_entries)
    assert_same_map(load(path, key=None), original)


def test_floats_keep_nan_infinities_and_the_sign_of_zero(tmp_path: Path) -> None:
    path = tmp_path / "floats.adh"
    save(RobinHoodMap({NAN: -0.0, -0.0: NAN, "inf": (INF, -INF)}, hash_seed=SEED), path, key=None)
    loaded = load(path, key=None)
    nan_key = next(key for key in loaded if isinstance(key, float) and math.isnan(key))
    zero_key = next(key for key in loaded if key == 0)
    assert math.copysign(1.0, loaded[nan_key]) == -1.0
    assert math.copysign(1.0, zero_key) == -1.0
    assert math.isnan(loaded[zero_key])
    assert loaded["inf"] == (INF, -INF)


def test_bools_stay_bools_and_ints_stay_ints(tmp_path: Path) -> None:
    path = tmp_path / "bools.adh"
    save({True: 1, 0: False, "k": (True, 1, 1.0)}, path, key=None)
    loaded = load(path, key=None)
    assert [type(key) for key in loaded] == [bool, int, str]
    assert [type(part) for part in loaded["k"]] == [bool, int, float]
    assert type(loaded[True]) is int
    assert type(loaded[0]) is bool


@pytest.mark.parametrize(
    "number", [2**64, -(2**64) - 1, 2**1000, -(2**4000) + 1, 10**3000], ids=repr
)
def test_ints_beyond_64_bits_round_trip_as_keys_and_values(tmp_path: Path, number: int) -> None:
    path = tmp_path / "ints.adh"
    save(CompactMap({number: -number, (number,): number}, hash_seed=SEED), path, key=None)
    assert load(path, key=None) == {number: -number, (number,): number}


def test_an_int_save_accepts_is_one_load_returns(tmp_path: Path) -> None:
    # save() must refuse what load() would refuse, or the file it writes can never be read.
    number = 1 << (8 * 70_000)
    path = tmp_path / "huge-int.adh"
    try:
        save({"big": number}, path, key=None)
    except BadInputError:
        assert not path.exists()
        return
    assert load(path, key=None) == {"big": number}


@pytest.mark.parametrize(("count", "chunks"), [(0, 0), (1, 1), (9, 3), (10, 4)])
def test_entries_are_split_into_chunks_of_chunk_entries(
    tmp_path: Path, count: int, chunks: int
) -> None:
    original: ChainingMap[str, int] = ChainingMap(
        {f"k{i}": i for i in range(count)}, hash_seed=SEED
    )
    path = tmp_path / "chunks.adh"
    save(original, path, key=None, chunk_entries=3)
    info = inspect(path, key=None, limit=0)
    assert (info.chunk_count, info.entry_count) == (chunks, count)
    assert_same_map(load(path, key=None), original)


@pytest.mark.parametrize("factory_name", sorted(FACTORIES))
def test_an_empty_map_round_trips_with_its_configuration(tmp_path: Path, factory_name: str) -> None:
    original = FACTORIES[factory_name]()
    path = tmp_path / "empty.adh"
    save(original, path, key=None)
    assert inspect(path, key=None).chunk_count == 0
    assert_same_map(load(path, key=None), original)


def test_a_tombstone_robinhood_map_round_trips_after_deletions(tmp_path: Path) -> None:
    original: RobinHoodMap[int, str] = RobinHoodMap(deletion="tombstone", hash_seed=SEED)
    fill(original, {i: str(i) for i in range(60)})
    for i in range(0, 60, 3):
        del original[i]
    assert (original.stats().tombstones or 0) > 0
    path = tmp_path / "tombstones.adh"
    save(original, path, key=None, chunk_entries=7)
    loaded = load(path, key=None)
    assert_same_map(loaded, original)
    assert loaded._config()["deletion"] == "tombstone"


@pytest.mark.parametrize("target", ["robinhood", "compact", "chaining"])
def test_an_adaptive_map_mid_migration_is_saved_with_every_entry_once(
    tmp_path: Path, target: str
) -> None:
    original: AdaptiveMap[Any, Any] = AdaptiveMap(hash_seed=SEED)
    fill(original, {f"key-{i}": i for i in range(500)})
    original.migrate_to(target)  # type: ignore[arg-type]
    original.migrate_step(120)
    assert original.is_migrating
    before = entries_of(original)
    path = tmp_path / "migrating.adh"
    save(original, path, key=None, chunk_entries=64)
    assert inspect(path, key=None, limit=0).entry_count == 500
    loaded = load(path, key=None)
    assert_same_map(loaded, original)
    assert loaded.backend == target
    # Saving reads the map; it neither advances nor disturbs the migration.
    assert original.is_migrating
    assert entries_of(original) == before
    original.check_invariants()


def test_a_tiny_adaptive_map_round_trips_while_its_policy_migrates_it(tmp_path: Path) -> None:
    # Any displacement at all sends this policy to chaining, whatever the hash layout.
    policy = dataclasses.replace(TINY_POLICY_ON_TOMBSTONE_ROBINHOOD, robinhood_max_probe_mean=0.01)
    original: AdaptiveMap[Any, Any] = AdaptiveMap(policy=policy, hash_seed=SEED)
    path = tmp_path / "tiny.adh"
    saw_migration = False
    for i in range(40):
        original[i] = -i
        if i % 4 == 3:
            del original[i - 2]
        saw_migration |= original.is_migrating
        save(original, path, key=None, chunk_entries=3)
        assert_same_map(load(path, key=None), original)
    assert saw_migration


def test_a_policy_other_than_the_default_round_trips(tmp_path: Path) -> None:
    policy = AdaptivePolicy(start_backend="compact", migration_batch=5, compact_capacity=16)
    original: AdaptiveMap[Any, Any] = AdaptiveMap({"a": 1}, policy=policy, hash_seed=None)
    path = tmp_path / "policy.adh"
    save(original, path, key=None)
    loaded = load(path, key=None)
    assert_same_map(loaded, original)
    assert loaded.policy == policy


def test_a_map_whose_hash_seed_exceeds_64_bits_saves_or_is_refused_cleanly(tmp_path: Path) -> None:
    original: ChainingMap[str, int] = ChainingMap({"a": 1}, hash_seed=2**70)
    path = tmp_path / "seed.adh"
    try:
        save(original, path, key=None)
    except BadInputError:
        assert list(tmp_path.iterdir()) == []
        return
    assert_same_map(load(path, key=None), original)


def test_a_file_of_uncompressed_chunks_loads(tmp_path: Path) -> None:
    meta = {"backend": "compact", "config": {"capacity": 8, "hash_seed": SEED}}
    path = tmp_path / "raw.adh"
    path.write_bytes(
        assemble(
            [raw_chunk(["a", "b"], [1, 2]), raw_chunk([3], [None])],
            meta=meta_bytes(meta),
            codec=CODEC_RAW,
        )
    )
    loaded = load(path, key=None)
    assert_same_map(loaded, CompactMap({"a": 1, "b": 2, 3: None}, hash_seed=SEED))
    assert inspect(path, key=None).codec == "raw"


# -- what a snapshot refuses to hold ------------------------------------------------------------


class Colour(enum.IntEnum):
    RED = 1


class Label(str):
    __slots__ = ()


UNSUPPORTED: dict[str, tuple[dict[Any, Any], str, str]] = {
    # name: (contents, the type the message names, the key the message names)
    "list-value": ({"k": [1]}, "list", "'k'"),
    "set-value": ({"k": {1}}, "set", "'k'"),
    "bytearray-value": ({"k": bytearray(b"x")}, "bytearray", "'k'"),
    "intenum-key": ({Colour.RED: "red"}, "Colour", "Colour.RED"),
    "str-subclass-key": ({Label("lbl"): 1}, "Label", "'lbl'"),
    "intenum-value": ({"k": Colour.RED}, "Colour", "'k'"),
    "frozenset-in-tuple-key": ({(1, frozenset({2})): 0}, "frozenset", "(1, frozenset({2}))"),
}


@pytest.mark.parametrize("case", sorted(UNSUPPORTED))
def test_saving_an_unsupported_item_names_its_type_and_key_and_writes_nothing(
    tmp_path: Path, case: str
) -> None:
    contents, type_name, key_text = UNSUPPORTED[case]
    path = tmp_path / "m.adh"
    with pytest.raises(BadInputError) as raised:
        save(contents, path, key=None)
    assert type_name in raised.value.detail
    assert key_text in raised.value.detail
    assert list(tmp_path.iterdir()) == []


def test_an_unsupported_item_inside_a_tuple_is_named_by_its_own_type(tmp_path: Path) -> None:
    # The tuple is supported; what the message must name is the frozenset inside it.
    with pytest.raises(BadInputError) as raised:
        save({(1, frozenset({2})): 0}, tmp_path / "m.adh", key=None)
    assert "type frozenset" in raised.value.detail
    assert "type tuple" not in raised.value.detail


@pytest.mark.parametrize("factory_name", sorted(FACTORIES))
def test_a_refused_save_leaves_the_previous_file_intact(tmp_path: Path, factory_name: str) -> None:
    path = tmp_path / "m.adh"
    save({"previous": 1}, path, key=None)
    previous = path.read_bytes()
    # The offending value sits in the last of several chunks: written chunks are discarded.
    refused = fill(FACTORIES[factory_name](), {i: i for i in range(7)})
    refused["bad"] = [1]
    with pytest.raises(BadInputError, match="list"):
        save(refused, path, key=None, chunk_entries=2)
    assert path.read_bytes() == previous
    assert [entry.name for entry in tmp_path.iterdir()] == ["m.adh"]
    assert load(path, key=None) == {"previous": 1}


@pytest.mark.parametrize(
    "not_a_map",
    [OrderedDict(a=1), [("a", 1)], {"a": 1}.items()],
    ids=["OrderedDict", "list", "dict_items"],
)
def test_saving_something_that_is_not_a_supported_map_is_refused(
    tmp_path: Path, not_a_map: object
) -> None:
    with pytest.raises(BadInputError, match=type(not_a_map).__name__):
        save(not_a_map, tmp_path / "m.adh", key=None)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("chunk_entries", [0, -1, True, 2.0, "3"])
def test_chunk_entries_must_be_a_positive_int(tmp_path: Path, chunk_entries: Any) -> None:
    with pytest.raises(BadInputError, match="chunk_entries"):
        save({"a": 1}, tmp_path / "m.adh", key=None, chunk_entries=chunk_entries)
    assert list(tmp_path.iterdir()) == []
