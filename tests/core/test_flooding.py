"""Hash flooding: the keyed hash, the salted backend, the flood statistic, its guardrail, and the
AdaptiveMap that detects a flood and migrates to salted hashing live."""

from __future__ import annotations

import enum
import pickle
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adhash import (
    AdaptiveMap,
    AdaptivePolicy,
    BadInputError,
    ChainingMap,
    CompactMap,
    Guardrails,
    GuardrailThresholds,
    RobinHoodMap,
    SaltedMap,
)
from adhash.maps import KeyedHasher
from adhash.snapshot import load, save
from tests.core.map_cases import MODULUS, SEED, CollidingKey, events_of


def colliding(n: int, home: int = 5) -> list[int]:
    return [home + j * MODULUS for j in range(1, n + 1)]


class Colour(enum.IntEnum):
    RED = 1
    GREEN = 2


# -- the keyed hash --------------------------------------------------------------------------

NUMBERS = st.one_of(
    st.integers(-(2**100), 2**100),
    st.floats(allow_nan=False),
    st.booleans(),
    st.fractions(max_denominator=50),
    st.decimals(allow_nan=False, places=3),
)


@given(a=NUMBERS, b=NUMBERS)
def test_numbers_that_dict_treats_as_one_key_hash_alike(a: Any, b: Any) -> None:
    h = KeyedHasher(seed=SEED)
    if a == b and hash(a) == hash(b):
        assert h(a) == h(b)
        assert {a: 1}[b] == 1
        assert SaltedMap({a: 1}, seed=SEED)[b] == 1


@given(key=st.recursive(st.integers() | st.text() | st.binary() | st.none(), st.tuples))
def test_every_supported_key_has_a_61_bit_keyed_hash(key: Any) -> None:
    value = KeyedHasher(seed=1)(key)
    assert value is not None
    assert 0 <= value < 2**61


def test_keys_dict_treats_as_one_stay_one_key() -> None:
    h = KeyedHasher(seed=SEED)
    assert h(1) == h(1.0) == h(True) == h(Fraction(1)) == h(Decimal(1)) == h(complex(1, 0))
    assert h(Colour.RED) == h(1)
    assert h(0.5) == h(Fraction(1, 2)) == h(Decimal("0.5"))
    assert h((1, "a")) == h((1.0, "a"))
    assert h(float("inf")) == h(Decimal("Infinity"))
    assert h("a") != h(b"a")
    m: SaltedMap[Any, str] = SaltedMap({1: "int"}, seed=SEED)
    m[Colour.RED] = "enum"
    m[1.0] = "float"
    model: dict[Any, str] = {1: "int"}
    model[Colour.RED] = "enum"
    model[1.0] = "float"
    assert dict(m) == model == {1: "float"}


def test_colliding_ints_get_distinct_keyed_hashes_under_every_secret() -> None:
    keys = colliding(2_000)
    assert len({hash(k) for k in keys}) == 1
    for seed in (None, 1, 2):
        h = KeyedHasher(seed)
        assert len({h(k) for k in keys}) == len(keys)


def test_the_secret_is_per_map_unless_seeded() -> None:
    assert KeyedHasher(seed=3)(12345) == KeyedHasher(seed=3)(12345)
    assert KeyedHasher(seed=3)(12345) != KeyedHasher(seed=4)(12345)
    assert KeyedHasher()("x") != KeyedHasher()("x")


def test_keys_that_cannot_be_hashed_by_value_take_the_plain_path() -> None:
    h = KeyedHasher(seed=1)
    assert h(CollidingKey(1)) is None
    assert h((1, CollidingKey(1))) is None
    assert h(complex(1, 2)) is None
    assert h(frozenset({1})) is None

    class LoudStr(str):
        def __eq__(self, other: object) -> bool:
            return isinstance(other, str) and self.lower() == other.lower()

        def __hash__(self) -> int:
            return hash(self.lower())

    assert h(LoudStr("a")) == h("a")  # hashes like its value: by value
    assert h(LoudStr("A")) is None  # hashes unlike its value: plain


def test_keyed_hasher_seed_must_be_an_int() -> None:
    with pytest.raises(BadInputError, match="seed must be an int"):
        KeyedHasher(seed="x")  # type: ignore[arg-type]


# -- SaltedMap ------------------------------------------------------------------------------


@pytest.mark.parametrize("inner", ["chaining", "robinhood", "compact"])
def test_salted_maps_spread_keys_that_share_a_full_hash(inner: str) -> None:
    keys = colliding(3_000)
    plain = {"chaining": ChainingMap, "robinhood": RobinHoodMap, "compact": CompactMap}[inner]()
    salted: SaltedMap[int, int] = SaltedMap(inner=inner, seed=SEED)
    for i, key in enumerate(keys):
        salted[key] = i
        if i < 600:
            plain[key] = i
    assert plain.stats().flood_keys == 256
    stats = salted.stats()
    assert (stats.hashing, stats.flood_keys, stats.unsalted_keys) == ("salted", 1, 0)
    if inner == "chaining":
        assert stats.chain_length_max is not None
        assert stats.chain_length_max <= 8
    else:
        assert stats.probe_length_max is not None
        assert stats.probe_length_max <= 16
    assert all(salted[key] == i for i, key in enumerate(keys))
    salted.check_invariants()


def test_unsupported_keys_are_counted_and_their_flood_alert_says_why() -> None:
    m: SaltedMap[Any, int] = SaltedMap(seed=SEED)
    m.update((CollidingKey(i), i) for i in range(40))
    m.update((key, 0) for key in colliding(40))
    stats = m.stats()
    assert stats.unsalted_keys == 40
    assert stats.flood_keys is not None
    assert stats.flood_keys >= 8
    (alert,) = [a for a in Guardrails().evaluate(stats).active if a.metric == "flood_keys"]
    assert "40 keys are of types salted hashing cannot hash by value" in alert.message
    del m[CollidingKey(3)]
    m.pop(CollidingKey(4))
    assert m.pop(CollidingKey(4), "gone") == "gone"
    assert m.unsalted_keys == 38
    m.check_invariants()
    m.clear()
    assert m.unsalted_keys == 0


def test_salted_map_copies_pickles_and_keeps_its_configuration() -> None:
    m: SaltedMap[Any, int] = SaltedMap(inner=RobinHoodMap(capacity=64), seed=9)
    m.update((key, i) for i, key in enumerate(colliding(100)))
    twin = m.copy()
    assert twin == m
    assert twin.inner.backend_name == "robinhood"
    restored = pickle.loads(pickle.dumps(m))
    assert restored == m
    restored.check_invariants()


@pytest.mark.parametrize(
    ("inner", "message"),
    [
        ("hopscotch", "unknown backend 'hopscotch'"),
        (AdaptiveMap(), "SaltedMap wraps an empty ChainingMap, RobinHoodMap or CompactMap"),
        (ChainingMap(a=1), "needs an empty inner backend"),
    ],
)
def test_salted_map_refuses_a_bad_inner_backend(inner: Any, message: str) -> None:
    with pytest.raises(BadInputError, match=message):
        SaltedMap(inner=inner)


# -- the flood statistic and its guardrail ---------------------------------------------------


@pytest.mark.parametrize("factory", [ChainingMap, RobinHoodMap, CompactMap])
def test_flood_keys_counts_keys_sharing_one_full_hash(factory: Any) -> None:
    m = factory()
    m.update((key, 0) for key in range(1_000))
    assert m.stats().flood_keys == 1
    m.update((key, 0) for key in colliding(30, home=10**6))
    assert m.stats().flood_keys == 30
    m[10**6] = 0  # an int equal to the colliding ones modulo 2**61 - 1 joins them
    assert m.stats().flood_keys == 31


def test_the_flood_alert_tells_a_flood_from_high_load_and_a_poor_index() -> None:
    thresholds = GuardrailThresholds(load_factor=0.5, chain_length_max=10)
    # High load: many random keys in few chains.
    crowded: ChainingMap[int, int] = ChainingMap(max_load_factor=8.0)
    crowded.update((key * 7919, 0) for key in range(4_000))
    # A poor index: one chain holds every key, yet their hashes all differ.
    one_chain: ChainingMap[int, int] = ChainingMap(
        buckets=1, groups_per_bucket=1, max_load_factor=64.0
    )
    one_chain.update((key << 20, 0) for key in range(50))
    for m in (crowded, one_chain):
        metrics = {a.metric for a in Guardrails(thresholds).evaluate(m.stats()).active}
        assert "flood_keys" not in metrics
        assert {"load_factor", "chain_length_max"} <= metrics
    flooded: ChainingMap[int, int] = ChainingMap()
    flooded.update((key, 0) for key in colliding(20))
    report = Guardrails(thresholds).evaluate(flooded.stats())
    (alert,) = [a for a in report.active if a.metric == "flood_keys"]
    assert (alert.value, alert.threshold) == (20, 8)
    assert "20 keys share one hash() value: no index can separate them" in alert.message


# -- AdaptiveMap defends itself ---------------------------------------------------------------


@pytest.mark.parametrize("start", ["chaining", "robinhood", "compact"])
def test_adaptive_map_migrates_to_salted_hashing_when_flooded(start: Any) -> None:
    m: AdaptiveMap[int, int] = AdaptiveMap(policy=AdaptivePolicy(start_backend=start))
    keys = colliding(5_000)
    for i, key in enumerate(keys):
        m[key] = i
    assert m.hashing == "salted"
    (started,) = [e for e in events_of(m, "migration_started") if e.reason == "flooding"]
    assert (started.source, started.target, started.hashing) == (start, start, "salted")
    assert started.metric == "flood_keys"
    assert started.threshold == 16
    assert started.value is not None
    assert started.value >= 16
    assert started.writes <= 512
    assert "(salted hashing) (flooding: flood_keys" in started.message
    assert all(m[key] == i for i, key in enumerate(keys))
    assert m.stats().flood_keys == 1
    m.check_invariants()


def test_the_defence_can_be_turned_off() -> None:
    m: AdaptiveMap[int, int] = AdaptiveMap(policy=AdaptivePolicy(flood_min_keys=None))
    m.update((key, 0) for key in colliding(600))
    assert m.hashing == "plain"
    assert not [e for e in m.events if e.reason == "flooding"]


def test_a_flood_during_a_migration_finishes_it_then_salts() -> None:
    policy = AdaptivePolicy(start_backend="compact", migration_batch=1, check_interval=16)
    m: AdaptiveMap[int, int] = AdaptiveMap(((i, i) for i in range(2_000)), policy=policy)
    m.migrate_to("chaining")
    assert m.is_migrating
    for key in colliding(64):
        m[key] = -1
    assert m.hashing == "salted"
    kinds = [(e.kind, e.reason) for e in m.events]
    assert kinds.index(("migration_completed", "forced")) < kinds.index(
        ("migration_started", "flooding")
    )
    assert len(m) == 2_064
    m.check_invariants()


def test_a_salted_map_stays_salted_through_later_migrations_and_compactions() -> None:
    m: AdaptiveMap[int, int] = AdaptiveMap(hash_seed=SEED)
    m.update((key, 0) for key in colliding(100))
    m.update((key, 0) for key in range(20_000))
    assert m.backend == "robinhood"
    assert m.hashing == "salted"
    m.migrate_to("robinhood")
    assert m.hashing == "salted"
    m.migrate_to("compact", hashing="plain")
    assert (m.backend, m.hashing) == ("compact", "plain")
    m.check_invariants()


def test_flooding_with_keys_salting_cannot_help_is_reported_not_hidden() -> None:
    m: AdaptiveMap[Any, int] = AdaptiveMap(policy=AdaptivePolicy(start_backend="robinhood"))
    m.update((CollidingKey(i), i) for i in range(300))
    assert m.hashing == "salted"
    (completed,) = [e for e in events_of(m, "migration_completed") if e.reason == "flooding"]
    assert (completed.unsalted_keys, completed.unsalted_type) == (completed.size, "CollidingKey")
    assert "(type CollidingKey) cannot be hashed by value" in completed.message
    stats = m.stats()
    assert stats.unsalted_keys == 300
    (alert,) = [a for a in Guardrails().evaluate(stats).active if a.metric == "flood_keys"]
    assert "stay on plain hashing" in alert.message
    assert dict(m.items()) == {CollidingKey(i): i for i in range(300)}


@pytest.mark.parametrize("hashing", ["plain", "salted", None])
def test_bad_hashing_values_are_refused(hashing: Any) -> None:
    if hashing is None:
        with pytest.raises(BadInputError, match="flood_min_keys must be an int >= 2"):
            AdaptivePolicy(flood_min_keys=1)
        return
    with pytest.raises(BadInputError, match="hashing must be 'plain' or 'salted'"):
        AdaptiveMap(hashing="pepper")  # type: ignore[arg-type]
    with pytest.raises(BadInputError, match="hashing must be 'plain' or 'salted'"):
        AdaptiveMap().migrate_to("chaining", hashing="pepper")  # type: ignore[arg-type]


# -- snapshots ------------------------------------------------------------------------------


def test_a_salted_adaptive_map_round_trips_with_a_new_secret(tmp_path: Path) -> None:
    m: AdaptiveMap[int, int] = AdaptiveMap()
    m.update((key, i) for i, key in enumerate(colliding(500)))
    assert m.hashing == "salted"
    save(m, tmp_path / "m.adh", key=None)
    loaded = load(tmp_path / "m.adh", key=None)
    assert isinstance(loaded, AdaptiveMap)
    assert (loaded.hashing, loaded.backend) == ("salted", m.backend)
    assert loaded == m
    assert loaded.stats().flood_keys == 1
    old = m._current.wrap(colliding(1)[0])  # type: ignore[attr-defined]
    new = loaded._current.wrap(colliding(1)[0])  # type: ignore[attr-defined]
    assert old[0] != new[0]
    loaded.check_invariants()


def test_a_seeded_salted_map_round_trips_with_the_same_layout(tmp_path: Path) -> None:
    m: SaltedMap[int, int] = SaltedMap(inner=RobinHoodMap(hash_seed=SEED), seed=SEED)
    m.update((key, i) for i, key in enumerate(colliding(300)))
    save(m, tmp_path / "s.adh", key=None)
    loaded = load(tmp_path / "s.adh", key=None)
    assert isinstance(loaded, SaltedMap)
    assert list(loaded) == list(m)
    assert loaded.inner.backend_name == "robinhood"
