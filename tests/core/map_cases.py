"""The maps under test and the awkward keys they must handle, shared by the core test modules.

Every factory builds an empty map; the tiny configurations (one chain, two slots, an adaptive
policy that checks and migrates after a handful of writes) push the resize, migration and
compaction paths into even the shortest operation sequence.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adhash import (
    AdaptiveMap,
    AdaptivePolicy,
    ChainingMap,
    CompactMap,
    MapEvent,
    RobinHoodMap,
    SaltedMap,
)

MapUnderTest = (
    ChainingMap[Any, Any]
    | RobinHoodMap[Any, Any]
    | CompactMap[Any, Any]
    | AdaptiveMap[Any, Any]
    | SaltedMap[Any, Any]
)
MapFactory = Callable[[], MapUnderTest]

TINY_POLICY_ON_CHAINING = AdaptivePolicy(
    start_backend="chaining",
    migration_batch=1,
    check_interval=1,
    cooldown_ops=2,
    chaining_max_chain_length=3,
    chaining_buckets=1,
    groups_per_bucket=1,
    robinhood_capacity=2,
)
TINY_POLICY_ON_TOMBSTONE_ROBINHOOD = AdaptivePolicy(
    start_backend="robinhood",
    robinhood_deletion="tombstone",
    robinhood_max_probe_mean=1.0,
    migration_batch=2,
    check_interval=3,
    cooldown_ops=5,
    chaining_buckets=1,
    groups_per_bucket=1,
    robinhood_capacity=2,
)
TINY_POLICY_ON_COMPACT = AdaptivePolicy(
    start_backend="compact",
    max_tombstone_ratio=0.2,
    migration_batch=3,
    check_interval=8,
    cooldown_ops=3,
    chaining_buckets=1,
    groups_per_bucket=1,
    robinhood_capacity=2,
)

# Detects a flood of two keys with one hash() and moves to salted hashing at once.
TINY_POLICY_FLOODED = AdaptivePolicy(
    start_backend="chaining",
    flood_min_keys=2,
    migration_batch=1,
    check_interval=2,
    cooldown_ops=2,
    chaining_max_chain_length=4,
    chaining_buckets=1,
    groups_per_bucket=2,
    robinhood_capacity=2,
)

MODULUS = 2**61 - 1
"""``c + j * MODULUS`` all have ``hash() == c``: ints no function of ``hash()`` separates."""

# A fixed hash_seed makes every layout, and so every failure Hypothesis finds, replayable.
SEED = 20240229

# The backends with their default configuration: what a user gets first.
DEFAULT_FACTORIES: dict[str, MapFactory] = {
    "chaining": lambda: ChainingMap(hash_seed=SEED),
    "robinhood": lambda: RobinHoodMap(hash_seed=SEED),
    "robinhood-tombstone": lambda: RobinHoodMap(deletion="tombstone", hash_seed=SEED),
    "compact": lambda: CompactMap(hash_seed=SEED),
    "adaptive": lambda: AdaptiveMap(hash_seed=SEED),
    "salted": lambda: SaltedMap(seed=SEED),
    "adaptive-salted": lambda: AdaptiveMap(hashing="salted", hash_seed=SEED),
}

# Configurations small enough that a few operations resize, collide, migrate and compact.
TINY_FACTORIES: dict[str, MapFactory] = {
    "chaining-one-chain": lambda: ChainingMap(buckets=1, groups_per_bucket=1, hash_seed=SEED),
    "robinhood-capacity-2": lambda: RobinHoodMap(capacity=2, hash_seed=SEED),
    "robinhood-tombstone-capacity-2": lambda: RobinHoodMap(
        capacity=2, deletion="tombstone", hash_seed=SEED
    ),
    "robinhood-crowded": lambda: RobinHoodMap(capacity=2, max_load_factor=0.95, hash_seed=SEED),
    "adaptive-tiny-chaining": lambda: AdaptiveMap(policy=TINY_POLICY_ON_CHAINING, hash_seed=SEED),
    "adaptive-tiny-tombstone-robinhood": lambda: AdaptiveMap(
        policy=TINY_POLICY_ON_TOMBSTONE_ROBINHOOD, hash_seed=SEED
    ),
    "adaptive-tiny-compact": lambda: AdaptiveMap(policy=TINY_POLICY_ON_COMPACT, hash_seed=SEED),
    "adaptive-tiny-flooded": lambda: AdaptiveMap(policy=TINY_POLICY_FLOODED, hash_seed=SEED),
    "salted-chaining-one-chain": lambda: SaltedMap(
        inner=ChainingMap(buckets=1, groups_per_bucket=1, hash_seed=SEED), seed=SEED
    ),
    "salted-robinhood-capacity-2": lambda: SaltedMap(
        inner=RobinHoodMap(capacity=2, hash_seed=SEED), seed=SEED
    ),
    "salted-robinhood-tombstone": lambda: SaltedMap(
        inner=RobinHoodMap(capacity=2, deletion="tombstone", hash_seed=SEED), seed=SEED
    ),
    "salted-compact": lambda: SaltedMap(inner=CompactMap(hash_seed=SEED), seed=SEED),
}

ALL_FACTORIES: dict[str, MapFactory] = {**DEFAULT_FACTORIES, **TINY_FACTORIES}

# Factories whose maps promise dict's iteration order (insertion order).
INSERTION_ORDERED = frozenset({"compact", "salted-compact"})


class CollidingKey:
    """A key equal by value whose ``hash()`` is always 0, so every instance collides."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value

    def __hash__(self) -> int:
        return 0

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CollidingKey):
            return NotImplemented
        return bool(self.value == other.value)

    def __repr__(self) -> str:
        return f"CollidingKey({self.value!r})"


class CollidingInt(int):
    """An ``int`` whose ``hash()`` is 0: colliding keys that still compare at C speed."""

    def __hash__(self) -> int:
        return 0


class KeyEqualityError(Exception):
    """What a :class:`TrippingKey` raises once its tripwire is armed."""


class Tripwire:
    """A switch shared by :class:`TrippingKey` instances: armed, their ``__eq__`` raises."""

    def __init__(self) -> None:
        self.armed = False


class TrippingKey:
    """A colliding key whose ``__eq__`` raises :class:`KeyEqualityError` while armed."""

    __slots__ = ("tripwire", "value")

    def __init__(self, value: int, tripwire: Tripwire) -> None:
        self.value = value
        self.tripwire = tripwire

    def __hash__(self) -> int:
        return 0

    def __eq__(self, other: object) -> bool:
        if self.tripwire.armed:
            raise KeyEqualityError(f"__eq__ of {self!r}")
        if not isinstance(other, TrippingKey):
            return NotImplemented
        return self.value == other.value

    def __repr__(self) -> str:
        return f"TrippingKey({self.value})"


def events_of(m: AdaptiveMap[Any, Any], kind: str) -> list[MapEvent]:
    """The map's recorded events of one kind, oldest first."""
    return [event for event in m.events if event.kind == kind]
