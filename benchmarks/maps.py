"""Map workloads, the contenders that run them, and the timing and memory runner.

Every contender runs each workload through the public mapping API with the same loop function,
so the only difference between two timings is the map. Contenders are interleaved within each
repeat (dict, chaining, robinhood, ... then again) so that machine noise falls on all of them.
"""

from __future__ import annotations

import gc
import random
import statistics
import string
import time
import tracemalloc
from collections.abc import Callable, Iterable, MutableMapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from adhash import AdaptiveMap, AdaptivePolicy, ChainingMap, CompactMap, RobinHoodMap

__all__ = [
    "CONTENDERS",
    "WORKLOADS",
    "Contender",
    "KeySet",
    "KeyType",
    "Measurement",
    "MemoryMeasurement",
    "Workload",
    "make_keyset",
    "measure_memory",
    "run_workload",
    "timed_ns",
]

KeyType = Literal["str", "int"]
AnyMap = MutableMapping[Any, Any]
AdhashMap = (
    ChainingMap[Any, Any] | RobinHoodMap[Any, Any] | CompactMap[Any, Any] | AdaptiveMap[Any, Any]
)

BASELINE = "dict"
_WRITE_SHARE = 0.2


# -- contenders ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Contender:
    """A named map under test: ``make(capacity_hint)`` returns a new, empty map.

    A capacity hint of 0 means none; ``dict`` has no way to take one, so it ignores it.
    """

    name: str
    make: Callable[[int], AnyMap]


def _make_dict(capacity_hint: int) -> AnyMap:
    return {}


def _adhash(name: str, factory: Callable[[], AdhashMap]) -> Contender:
    def make(capacity_hint: int) -> AnyMap:
        new = factory()
        if capacity_hint:
            new.reserve(capacity_hint)
        return new

    return Contender(name, make)


def _adaptive_on_robinhood() -> AdaptiveMap[Any, Any]:
    return AdaptiveMap(policy=AdaptivePolicy(start_backend="robinhood"))


CONTENDERS: tuple[Contender, ...] = (
    Contender(BASELINE, _make_dict),
    _adhash("chaining", ChainingMap),
    _adhash("robinhood", RobinHoodMap),
    _adhash("compact", CompactMap),
    _adhash("adaptive", AdaptiveMap),
    _adhash("adaptive(robinhood)", _adaptive_on_robinhood),
)
"""Every contender, baseline first. ``adaptive`` starts on chaining and migrates to Robin Hood
while it grows; ``adaptive(robinhood)`` starts there and so measures AdaptiveMap's own overhead."""


# -- keys ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeySet:
    """Pre-generated keys and values for one key type and size ``n``.

    ``keys`` are inserted in order with ``values``; ``shuffled`` holds the same keys in another
    order (lookups, deletes); ``absent`` holds ``n`` keys of the same shape that are never
    inserted. ``mix_keys``/``mix_values`` are the 80/20 operation list: a ``None`` value is a
    read of a present key, anything else a write (half updates, half inserts of new keys).
    """

    key_type: KeyType
    keys: list[Any]
    values: list[int]
    shuffled: list[Any]
    absent: list[Any]
    mix_keys: list[Any]
    mix_values: list[int | None]

    @property
    def n(self) -> int:
        """The number of entries a filled map holds."""
        return len(self.keys)


def _unique_keys(key_type: KeyType, count: int, rng: random.Random) -> list[Any]:
    """``count`` distinct keys: 12-16 random ASCII letters, or random 62-bit ints."""
    seen: set[Any] = set()
    keys: list[Any] = []
    letters = string.ascii_letters
    while len(keys) < count:
        key: Any
        if key_type == "str":
            key = "".join(rng.choices(letters, k=rng.randint(12, 16)))
        else:
            key = rng.getrandbits(62)
        if key not in seen:
            seen.add(key)
            keys.append(key)
    return keys


def make_keyset(key_type: KeyType, n: int, seed: int) -> KeySet:
    """Keys and operation lists for ``n`` entries, reproducible from ``seed``."""
    rng = random.Random(f"{seed}:{key_type}:{n}")
    kinds = [rng.random() for _ in range(n)]
    inserts = sum(1 for r in kinds if r >= 1 - _WRITE_SHARE / 2)
    pool = _unique_keys(key_type, 2 * n + inserts, rng)
    keys, absent, fresh = pool[:n], pool[n : 2 * n], iter(pool[2 * n :])
    shuffled = keys[:]
    rng.shuffle(shuffled)
    mix_keys: list[Any] = []
    mix_values: list[int | None] = []
    for r in kinds:
        if r < 1 - _WRITE_SHARE:
            mix_keys.append(rng.choice(keys))
            mix_values.append(None)
        elif r < 1 - _WRITE_SHARE / 2:
            mix_keys.append(rng.choice(keys))
            mix_values.append(rng.getrandbits(30))
        else:
            mix_keys.append(next(fresh))
            mix_values.append(rng.getrandbits(30))
    return KeySet(
        key_type=key_type,
        keys=keys,
        values=list(range(n)),
        shuffled=shuffled,
        absent=absent,
        mix_keys=mix_keys,
        mix_values=mix_values,
    )


# -- the timed loops: one function object per workload, shared by every contender -------------


def _insert_loop(m: AnyMap, keys: list[Any], values: list[int]) -> None:
    for key, value in zip(keys, values, strict=True):
        m[key] = value


def _lookup_loop(m: AnyMap, keys: list[Any]) -> None:
    for key in keys:
        m[key]


def _get_loop(m: AnyMap, keys: list[Any]) -> None:
    for key in keys:
        m.get(key)


def _delete_loop(m: AnyMap, keys: list[Any]) -> None:
    for key in keys:
        del m[key]


def _mix_loop(m: AnyMap, keys: list[Any], values: list[int | None]) -> None:
    for key, value in zip(keys, values, strict=True):
        if value is None:
            m[key]
        else:
            m[key] = value


def _iterate_loop(m: AnyMap) -> None:
    for _key in m:
        pass
    for _key, _value in m.items():
        pass


# -- workloads -----------------------------------------------------------------------------

Trial = tuple[Callable[[], None], int]
"""A ready-to-time loop and the number of operations it performs."""


def _filled(contender: Contender, keyset: KeySet) -> AnyMap:
    """A map holding every key, built by plain inserts; a migration it started is finished.

    Only ``insert`` workloads time growth, and so AdaptiveMap's migrations; the others start
    from a settled map.
    """
    m = contender.make(0)
    _insert_loop(m, keyset.keys, keyset.values)
    if isinstance(m, AdaptiveMap):
        m.finish_migration()
    return m


def _insert(contender: Contender, keyset: KeySet) -> Trial:
    return partial(_insert_loop, contender.make(0), keyset.keys, keyset.values), keyset.n


def _insert_reserved(contender: Contender, keyset: KeySet) -> Trial:
    m = contender.make(keyset.n)
    return partial(_insert_loop, m, keyset.keys, keyset.values), keyset.n


def _lookup_hit(contender: Contender, keyset: KeySet) -> Trial:
    return partial(_lookup_loop, _filled(contender, keyset), keyset.shuffled), keyset.n


def _lookup_miss(contender: Contender, keyset: KeySet) -> Trial:
    return partial(_get_loop, _filled(contender, keyset), keyset.absent), keyset.n


def _delete(contender: Contender, keyset: KeySet) -> Trial:
    return partial(_delete_loop, _filled(contender, keyset), keyset.shuffled), keyset.n


def _mix(contender: Contender, keyset: KeySet) -> Trial:
    m = _filled(contender, keyset)
    return partial(_mix_loop, m, keyset.mix_keys, keyset.mix_values), len(keyset.mix_keys)


def _iterate(contender: Contender, keyset: KeySet) -> Trial:
    return partial(_iterate_loop, _filled(contender, keyset)), 2 * keyset.n


@dataclass(frozen=True, slots=True)
class Workload:
    """A named workload: ``setup`` builds the map (untimed) and returns the loop to time.

    A destructive workload changes its map, so it gets a fresh one for every run.
    """

    name: str
    summary: str
    destructive: bool
    setup: Callable[[Contender, KeySet], Trial]


WORKLOADS: tuple[Workload, ...] = (
    Workload("insert", "N inserts into a fresh map that grows", True, _insert),
    Workload("insert_reserved", "N inserts after reserve(N)", True, _insert_reserved),
    Workload("lookup_hit", "m[k] for every key, shuffled", False, _lookup_hit),
    Workload("lookup_miss", "m.get(k) for N absent keys", False, _lookup_miss),
    Workload("delete", "del m[k] for every key, shuffled", True, _delete),
    Workload("mix_80_20", "80% m[k] hits, 20% m[k] = v (updates and inserts)", True, _mix),
    Workload("iterate", "for k in m, then for k, v in m.items() (2N entries)", False, _iterate),
)


# -- the runner ----------------------------------------------------------------------------


def timed_ns(loop: Callable[[], None]) -> int:
    """Run ``loop`` once with the collector off; return the elapsed nanoseconds."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter_ns()
        loop()
        return time.perf_counter_ns() - start
    finally:
        gc.enable()


@dataclass(frozen=True, slots=True)
class Measurement:
    """One workload's timings for one contender: nanoseconds per operation over the repeats."""

    workload: str
    key_type: KeyType
    n: int
    contender: str
    repeats: int
    median_ns: float
    min_ns: float
    max_ns: float
    ops_per_s: float
    ratio_to_dict: float | None


def run_workload(
    workload: Workload, contenders: Sequence[Contender], keyset: KeySet, repeats: int
) -> list[Measurement]:
    """Time ``workload`` for every contender: one warm-up round, then ``repeats`` rounds.

    Within a round the contenders run one after the other, in order.
    """
    kept = {} if workload.destructive else {c.name: workload.setup(c, keyset) for c in contenders}
    samples: dict[str, list[float]] = {c.name: [] for c in contenders}
    for round_number in range(repeats + 1):
        for contender in contenders:
            if workload.destructive:
                loop, ops = workload.setup(contender, keyset)
            else:
                loop, ops = kept[contender.name]
            elapsed = timed_ns(loop)
            if round_number:
                samples[contender.name].append(elapsed / ops)
    medians = {name: statistics.median(times) for name, times in samples.items()}
    baseline = medians.get(BASELINE)
    return [
        Measurement(
            workload=workload.name,
            key_type=keyset.key_type,
            n=keyset.n,
            contender=name,
            repeats=repeats,
            median_ns=medians[name],
            min_ns=min(times),
            max_ns=max(times),
            ops_per_s=1e9 / medians[name],
            ratio_to_dict=None if baseline is None else medians[name] / baseline,
        )
        for name, times in samples.items()
    ]


@dataclass(frozen=True, slots=True)
class MemoryMeasurement:
    """Bytes the map itself allocates per entry (keys and values excluded), by tracemalloc."""

    key_type: KeyType
    n: int
    contender: str
    bytes_per_entry: float
    ratio_to_dict: float | None


def _traced_build_bytes(contender: Contender, keyset: KeySet) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        m = _filled(contender, keyset)
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del m
    return after - before


def measure_memory(contenders: Iterable[Contender], keyset: KeySet) -> list[MemoryMeasurement]:
    """Bytes per entry of a map grown to ``keyset.n`` entries by inserts, for each contender.

    The keys and values exist before tracing starts, so only the map's own structure counts.
    """
    sizes = {c.name: _traced_build_bytes(c, keyset) / keyset.n for c in contenders}
    baseline = sizes.get(BASELINE)
    return [
        MemoryMeasurement(
            key_type=keyset.key_type,
            n=keyset.n,
            contender=name,
            bytes_per_entry=size,
            ratio_to_dict=None if baseline is None else size / baseline,
        )
        for name, size in sizes.items()
    ]
