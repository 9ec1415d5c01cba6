"""The migration pause: how long single operations take while an AdaptiveMap migrates.

An AdaptiveMap moves ``policy.migration_batch`` entries on every operation while it migrates, so
no operation should pay for the whole O(n) move. This times each operation of an 80/20 read and
update sequence on its own, before, during and after a forced chaining -> Robin Hood migration.
"""

from __future__ import annotations

import gc
import statistics
import time
from dataclasses import dataclass
from typing import Any

from adhash import AdaptiveMap, AdaptivePolicy
from benchmarks.maps import KeySet

__all__ = ["MigrationPause", "OpTimes", "measure_migration_pause"]

_STEADY_OPS = 5000

# Never migrate by policy: the benchmark starts the migration itself, on a map that has grown
# to its full size on chaining.
_STAY_ON_CHAINING = AdaptivePolicy(
    start_backend="chaining", chaining_max_load_factor=64.0, chaining_max_chain_length=1 << 30
)


@dataclass(frozen=True, slots=True)
class OpTimes:
    """Single-operation times in nanoseconds (each includes one ``perf_counter_ns`` call)."""

    ops: int
    median_ns: int
    p99_ns: int
    max_ns: int

    @classmethod
    def of(cls, samples: list[int]) -> OpTimes:
        """Summarise ``samples`` (not empty)."""
        ordered = sorted(samples)
        count = len(ordered)
        return cls(
            ops=count,
            median_ns=ordered[count // 2],
            p99_ns=ordered[max(0, -(-99 * count // 100) - 1)],
            max_ns=ordered[-1],
        )


@dataclass(frozen=True, slots=True)
class MigrationPause:
    """Per-operation times around a migration of ``n`` entries, pooled over ``trials``.

    ``start_ns`` is the ``migrate_to`` call and ``migration_ns`` the sum of the operations that
    ran during the migration (medians over the trials): what one operation would pay if the
    whole migration happened at once.
    """

    n: int
    trials: int
    migration_batch: int
    moved_per_op: float
    ops_to_finish: int
    start_ns: int
    migration_ns: int
    before: OpTimes
    during: OpTimes
    after: OpTimes


def _timed_ops(m: AdaptiveMap[Any, Any], keys: list[Any], values: list[int | None]) -> list[int]:
    clock = time.perf_counter_ns
    samples: list[int] = []
    for key, value in zip(keys, values, strict=True):
        start = clock()
        if value is None:
            m[key]
        else:
            m[key] = value
        samples.append(clock() - start)
    return samples


def _migrating_ops(
    m: AdaptiveMap[Any, Any], keys: list[Any], values: list[int | None]
) -> list[int]:
    """Time single operations, cycling through the sequence, until the migration completes."""
    clock = time.perf_counter_ns
    samples: list[int] = []
    count = len(keys)
    while m.is_migrating:
        i = len(samples) % count
        key = keys[i]
        value = values[i]
        start = clock()
        if value is None:
            m[key]
        else:
            m[key] = value
        samples.append(clock() - start)
    return samples


def measure_migration_pause(keyset: KeySet, trials: int) -> MigrationPause:
    """Migrate a chaining AdaptiveMap of ``keyset.n`` entries to Robin Hood, ``trials`` times.

    The operations are 80% reads (``m[k]``) and 20% updates (``m[k] = v``) of present keys, so
    the size stays ``n`` throughout.
    """
    keys = keyset.shuffled
    values = [i if i % 5 == 4 else None for i in range(len(keys))]
    before: list[int] = []
    during: list[int] = []
    after: list[int] = []
    starts: list[int] = []
    totals: list[int] = []
    moved = 0
    for _trial in range(trials):
        m: AdaptiveMap[Any, Any] = AdaptiveMap(policy=_STAY_ON_CHAINING)
        for key, value in zip(keyset.keys, keyset.values, strict=True):
            m[key] = value
        if m.backend != "chaining" or m.is_migrating:
            raise RuntimeError(f"the map left chaining by itself (now on {m.backend})")
        gc.collect()
        gc.disable()
        try:
            before += _timed_ops(m, keys[:_STEADY_OPS], values[:_STEADY_OPS])
            start = time.perf_counter_ns()
            m.migrate_to("robinhood")
            starts.append(time.perf_counter_ns() - start)
            migrating = _migrating_ops(m, keys, values)
            after += _timed_ops(m, keys[:_STEADY_OPS], values[:_STEADY_OPS])
        finally:
            gc.enable()
        during += migrating
        totals.append(sum(migrating))
        moved += m.events[-1].moved
    return MigrationPause(
        n=keyset.n,
        trials=trials,
        migration_batch=_STAY_ON_CHAINING.migration_batch,
        moved_per_op=moved / len(during),
        ops_to_finish=len(during) // trials,
        start_ns=statistics.median_low(starts),
        migration_ns=statistics.median_low(totals),
        before=OpTimes.of(before),
        during=OpTimes.of(during),
        after=OpTimes.of(after),
    )
