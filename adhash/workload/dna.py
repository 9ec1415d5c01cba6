"""Workload DNA: what a workload file asks of a map, read in one streaming pass.

:func:`workload_dna` reports the op mix, the key population (distinct keys, skew, entropy, hot
keys, coverage), key and value sizes, ordering patterns, and how the keys collide under the
maps' real hashing (by building a :class:`~adhash.ChainingMap` and a
:class:`~adhash.RobinHoodMap` from them). Memory stays bounded by ``max_tracked_keys`` whatever
the file size. ``docs/workload-dna.md`` defines every field.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import os
import re
from collections import Counter
from collections.abc import Iterable
from itertools import pairwise
from operator import eq
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from adhash.errors import BadInputError
from adhash.maps.chaining import ChainingMap
from adhash.maps.robinhood import RobinHoodMap
from adhash.maps.stats import MapStats
from adhash.workload.format import KeyType, Limits, WorkloadReader

__all__ = [
    "ANALYSIS_HASH_SEED",
    "CollisionReport",
    "Coverage",
    "DNAReport",
    "HotKey",
    "MapShape",
    "SizeStats",
    "render_dna_text",
    "workload_dna",
]

ANALYSIS_HASH_SEED = 0
"""The ``hash_seed`` of the maps the collision analysis builds, so their layout is repeatable."""

# Inserting g keys with one hash() value into a Robin Hood table walks about g²/2 slots in
# interpreted code. Members of each collision group beyond the cap that keeps the sum under this
# budget are left out of the maps (the floors below still use the full group sizes).
_PROBE_WORK_BUDGET = 2_000_000
# Distinct keys are estimated from the K smallest 64-bit key digests once exact tracking stops
# (relative standard error about 1 / sqrt(K): 1.6 %).
_KMV_SIZE = 4_096
_TRAILING_DIGITS = re.compile(r"(\d+)$")
_COVERAGE_TARGETS = (("p50", 0.50), ("p80", 0.80), ("p95", 0.95))
_OP_NAMES = ("put", "get", "del")


class SizeStats(BaseModel):
    """Count, min, max, mean and population standard deviation of a length; ``None`` if empty."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    count: int
    min: int | None
    max: int | None
    mean: float | None
    stdev: float | None


class HotKey(BaseModel):
    """One of the most frequent keys: its row count and share of all rows."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str | int
    count: int
    share: float


class Coverage(BaseModel):
    """How many of the hottest keys cover 50/80/95 % of the rows (``None``: not known)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    p50: int | None
    p80: int | None
    p95: int | None


class MapShape(BaseModel):
    """A map's shape after every analysed key was inserted; fields not for its layout are None."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: str
    size: int
    capacity: int
    load_factor: float
    chain_length_mean: float | None = None
    chain_length_max: int | None = None
    probe_length_mean: float | None = None
    probe_length_max: int | None = None

    @classmethod
    def from_stats(cls, stats: MapStats) -> MapShape:
        """The shape fields of a map's :class:`~adhash.maps.MapStats`.

        >>> from adhash import ChainingMap
        >>> MapShape.from_stats(ChainingMap(a=1).stats()).chain_length_max
        1
        """
        return cls(
            backend=stats.backend,
            size=stats.size,
            capacity=stats.capacity,
            load_factor=stats.load_factor,
            chain_length_mean=stats.chain_length_mean,
            chain_length_max=stats.chain_length_max,
            probe_length_mean=stats.probe_length_mean,
            probe_length_max=stats.probe_length_max,
        )


class CollisionReport(BaseModel):
    """How the tracked distinct keys collide under ``hash()`` and in the maps built from them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hash_reproducible: bool = Field(
        description="the hashes are the same in every process (int keys, or a fixed "
        "PYTHONHASHSEED); text keys are hashed with a per-process random seed otherwise"
    )
    keys_analysed: int
    groups: int = Field(description="sets of two or more distinct keys with identical hash()")
    largest_group: int
    keys_in_groups: int
    chain_length_floor: int = Field(
        description="the longest chain any chaining table must have: the largest group"
    )
    probe_length_floor: int = Field(
        description="the longest displacement any linear-probing table must have: largest group - 1"
    )
    map_keys: int = Field(description="distinct keys inserted into the two maps")
    group_cap: int | None = Field(
        description="members of each group inserted into the maps, when groups were capped"
    )
    hash_seed: int
    chaining: MapShape
    robinhood: MapShape


class DNAReport(BaseModel):
    """A workload's statistics, schema ``adhash.workload_dna.v1``."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    schema_: Literal["adhash.workload_dna.v1"] = Field(
        default="adhash.workload_dna.v1", alias="schema"
    )
    path: str
    file_size_bytes: int
    total_rows: int
    key_type: KeyType
    op_counts: dict[str, int]
    op_mix: dict[str, float]
    mutation_fraction: float
    unique_keys: int
    unique_keys_exact: bool
    key_space_depth: float
    key_length: SizeStats
    value_size: SizeStats
    key_entropy_bits: float
    key_entropy_normalised: float
    hot_keys: list[HotKey]
    coverage: Coverage
    numeric_key_fraction: float
    sequential_step_fraction: float
    adjacent_duplicate_fraction: float
    max_tracked_keys: int
    tracked_keys: int
    sampled: bool = Field(
        description="keys beyond max_tracked_keys were left out: counts, entropy, coverage "
        "and the collision analysis cover the tracked keys only"
    )
    count_error_bound: int = Field(
        description="each tracked count is at most this much below the true count"
    )
    collisions: CollisionReport

    def to_json_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data, ``"schema"`` first.

        Complexity: O(size of the report).
        """
        return self.model_dump(mode="json", by_alias=True)


class _LengthSums:
    """Exact integer sums of lengths: min, max, mean and population stdev without rounding."""

    __slots__ = ("count", "maximum", "minimum", "squares", "total")

    def __init__(self) -> None:
        self.count = 0
        self.total = 0
        self.squares = 0
        self.minimum: int | None = None
        self.maximum: int | None = None

    def add(self, lengths: list[int]) -> None:
        if not lengths:
            return
        self.count += len(lengths)
        self.total += sum(lengths)
        self.squares += sum(length * length for length in lengths)
        low, high = min(lengths), max(lengths)
        self.minimum = low if self.minimum is None else min(self.minimum, low)
        self.maximum = high if self.maximum is None else max(self.maximum, high)

    def stats(self) -> SizeStats:
        n = self.count
        if not n:
            return SizeStats(count=0, min=None, max=None, mean=None, stdev=None)
        # n² · variance = n·Σx² - (Σx)², an exact integer: no cancellation to guard against.
        spread = n * self.squares - self.total * self.total
        return SizeStats(
            count=n,
            min=self.minimum,
            max=self.maximum,
            mean=self.total / n,
            stdev=math.sqrt(spread) / n,
        )


def _digest(key: str | int) -> int:
    return int.from_bytes(
        hashlib.blake2b(str(key).encode(), digest_size=8, person=b"adhash-dna").digest(), "big"
    )


class _DistinctEstimate:
    """K-minimum-values estimate of a distinct count from 64-bit digests."""

    __slots__ = ("_heap", "_members")

    def __init__(self, keys: Iterable[str | int]) -> None:
        self._heap: list[int] = []  # negated digests: a max-heap of the K smallest
        self._members: set[int] = set()
        for key in keys:
            self.offer(key)

    def offer(self, key: str | int) -> None:
        digest = _digest(key)
        heap = self._heap
        if digest in self._members:
            return
        if len(heap) < _KMV_SIZE:
            heapq.heappush(heap, -digest)
            self._members.add(digest)
        elif digest < -heap[0]:
            self._members.discard(-heapq.heapreplace(heap, -digest))
            self._members.add(digest)

    def estimate(self) -> int:
        heap = self._heap
        if len(heap) < _KMV_SIZE:
            return len(heap)
        return round((_KMV_SIZE - 1) * 2**64 / -heap[0])


class _KeyCounter:
    """Row counts per key: exact up to ``capacity`` distinct keys, then Misra-Gries.

    When a new key arrives with the table full, every count drops by one and the zeros leave
    (the new key's single count among them). Each such round removes ``capacity + 1`` counted
    rows, so there are at most ``rows / (capacity + 1)`` rounds: O(1) amortised per row, and
    every count is at most ``rounds`` below the truth.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.counts: Counter[str | int] = Counter()
        self.rounds = 0
        self.distinct: _DistinctEstimate | None = None

    def add(self, keys: list[Any]) -> None:
        counts = self.counts
        if self.distinct is None and len(counts) + len(keys) <= self.capacity:
            counts.update(keys)
            return
        capacity = self.capacity
        for key in keys:
            if key in counts:
                counts[key] += 1
                continue
            if len(counts) < capacity:
                if self.distinct is not None:
                    self.distinct.offer(key)
                counts[key] = 1
                continue
            if self.distinct is None:
                # Nothing was dropped yet, so the table holds every key seen so far.
                self.distinct = _DistinctEstimate(counts)
            self.distinct.offer(key)
            self.rounds += 1
            self.counts = counts = Counter({k: c - 1 for k, c in counts.items() if c > 1})

    @property
    def exact(self) -> bool:
        return self.distinct is None

    def unique(self) -> int:
        return len(self.counts) if self.distinct is None else self.distinct.estimate()


class _Ordering:
    """Adjacent-row patterns: repeated keys and numeric keys that step by one."""

    __slots__ = ("duplicates", "int_keys", "numeric", "previous", "previous_number", "steps")

    def __init__(self, int_keys: bool) -> None:
        self.int_keys = int_keys
        self.numeric = 0
        self.duplicates = 0
        self.steps = 0
        self.previous: Any = None
        self.previous_number: tuple[str, int] | None = None

    def add(self, keys: list[Any]) -> None:
        if not keys:
            return
        previous = self.previous
        self.duplicates += sum(map(eq, keys[1:], keys)) + (keys[0] == previous)
        self.previous = keys[-1]
        if self.int_keys:
            self.numeric += len(keys)
            steps = sum(1 for a, b in pairwise(keys) if b == a + 1)
            self.steps += steps + (isinstance(previous, int) and keys[0] == previous + 1)
            return
        search = _TRAILING_DIGITS.search
        last = self.previous_number
        numeric = steps = 0
        for key in keys:
            match = search(key)
            if match is None:
                last = None
                continue
            numeric += 1
            current = (key[: match.start()], int(match.group()))
            if last is not None and current[0] == last[0] and current[1] == last[1] + 1:
                steps += 1
            last = current
        self.numeric += numeric
        self.steps += steps
        self.previous_number = last


def _coverage(counts: list[int], rows: int) -> Coverage:
    """Hottest keys needed per target share, from counts sorted in descending order."""
    found: dict[str, int | None] = {}
    running = 0
    index = 0
    for label, share in _COVERAGE_TARGETS:
        goal = share * rows
        while running < goal and index < len(counts):
            running += counts[index]
            index += 1
        found[label] = index if running >= goal else None
    return Coverage(**found)


def _entropy_bits(counts: list[int]) -> float:
    """Shannon entropy (bits) of the distribution the counts describe."""
    total = sum(counts)
    if total <= 0:
        return 0.0
    weighted = math.fsum(count * math.log2(count) for count in counts if count > 0)
    return max(0.0, math.log2(total) - weighted / total)


def _group_cap(group_sizes: list[int]) -> int | None:
    """The largest per-group member count that keeps Robin Hood's insertion work in budget."""

    def work(cap: int) -> int:
        return sum(min(size, cap) ** 2 // 2 for size in group_sizes)

    largest = max(group_sizes, default=0)
    if work(largest) <= _PROBE_WORK_BUDGET:
        return None
    low, high = 1, largest
    while low < high:
        middle = (low + high + 1) // 2
        if work(middle) <= _PROBE_WORK_BUDGET:
            low = middle
        else:
            high = middle - 1
    return low


def _collisions(keys: list[Any], key_type: KeyType) -> CollisionReport:
    by_hash = Counter(map(hash, keys))
    group_sizes = [size for size in by_hash.values() if size > 1]
    largest = max(group_sizes, default=1 if keys else 0)
    cap = _group_cap(group_sizes)
    if cap is None:
        map_keys = keys
    else:
        taken: Counter[int] = Counter()
        map_keys = []
        for key in keys:
            key_hash = hash(key)
            if taken[key_hash] < cap:
                taken[key_hash] += 1
                map_keys.append(key)
    chaining: ChainingMap[Any, None] = ChainingMap(hash_seed=ANALYSIS_HASH_SEED)
    robinhood: RobinHoodMap[Any, None] = RobinHoodMap(hash_seed=ANALYSIS_HASH_SEED)
    # Reserving lands on the capacity growth would reach, without re-inserting the groups at
    # every doubling.
    chaining.reserve(len(map_keys))
    robinhood.reserve(len(map_keys))
    for key in map_keys:
        chaining[key] = None
        robinhood[key] = None
    seed = os.environ.get("PYTHONHASHSEED", "random")
    return CollisionReport(
        hash_reproducible=key_type == "int" or seed.isdigit(),
        keys_analysed=len(keys),
        groups=len(group_sizes),
        largest_group=largest,
        keys_in_groups=sum(group_sizes),
        chain_length_floor=largest,
        probe_length_floor=max(0, largest - 1),
        map_keys=len(map_keys),
        group_cap=cap,
        hash_seed=ANALYSIS_HASH_SEED,
        chaining=MapShape.from_stats(chaining.stats()),
        robinhood=MapShape.from_stats(robinhood.stats()),
    )


def workload_dna(
    path: str | os.PathLike[str],
    *,
    top_keys: int = 10,
    max_tracked_keys: int = 200_000,
    limits: Limits | None = None,
) -> DNAReport:
    """Read a workload once and describe it; memory is bounded by ``max_tracked_keys``.

    Up to ``max_tracked_keys`` distinct keys every statistic is exact. Past it, key counts
    become Misra-Gries counts (``count_error_bound`` says how far below the truth they may be),
    ``unique_keys`` becomes an estimate and ``sampled`` is true.

    Complexity: O(rows) time; O(max_tracked_keys + batch) memory; the collision analysis adds
    O(tracked keys) plus the capped quadratic cost of colliding groups.

    >>> import tempfile, os
    >>> from pathlib import Path
    >>> path = os.path.join(tempfile.mkdtemp(), "w.csv")
    >>> _ = Path(path).write_text("op,key,value\\nput,K1,ab\\nget,K1,\\nget,K2,\\n")
    >>> report = workload_dna(path)
    >>> (report.total_rows, report.unique_keys, report.op_counts, report.hot_keys[0].key)
    (3, 2, {'put': 1, 'get': 2, 'del': 0}, 'K1')
    """
    if isinstance(top_keys, bool) or not isinstance(top_keys, int) or top_keys < 0:
        raise BadInputError(f"top_keys must be an int >= 0, got {top_keys!r}")
    if (
        isinstance(max_tracked_keys, bool)
        or not isinstance(max_tracked_keys, int)
        or max_tracked_keys < 1
    ):
        raise BadInputError(f"max_tracked_keys must be an int >= 1, got {max_tracked_keys!r}")
    op_totals = [0, 0, 0]
    key_lengths = _LengthSums()
    value_sizes = _LengthSums()
    counter = _KeyCounter(max_tracked_keys)
    with WorkloadReader(path, limits=limits) as reader:
        int_keys = reader.key_type == "int"
        ordering = _Ordering(int_keys)
        for batch in reader.batches():
            ops, keys = batch.ops, batch.keys
            op_totals[0] += ops.count(0)
            op_totals[1] += ops.count(1)
            op_totals[2] += ops.count(2)
            # Int keys are counted by their text: str hashes are seeded, int hashes are not, and
            # a dict of colliding ints is exactly the quadratic case this report looks for.
            texts = [*map(str, keys)] if int_keys else keys
            key_lengths.add([*map(len, texts)])
            value_sizes.add([len(value) for value in batch.values if value is not None])
            counter.add(texts)
            ordering.add(keys)
        rows = reader.rows_read
        key_type = reader.key_type
        size_bytes = reader.size_bytes
        source = str(reader.path)
    if rows == 0:
        raise BadInputError(
            "workload contains no data rows", hint="add rows after the op,key,value header"
        )
    op_counts = dict(zip(_OP_NAMES, op_totals, strict=True))
    counts = counter.counts
    ranked = sorted(counts.values(), reverse=True)
    unique = counter.unique()
    bits = _entropy_bits(ranked)
    pairs = rows - 1
    return DNAReport(
        path=source,
        file_size_bytes=size_bytes,
        total_rows=rows,
        key_type=key_type,
        op_counts=op_counts,
        op_mix={name: count / rows for name, count in op_counts.items()},
        mutation_fraction=(op_counts["put"] + op_counts["del"]) / rows,
        unique_keys=unique,
        unique_keys_exact=counter.exact,
        key_space_depth=rows / unique if unique else 0.0,
        key_length=key_lengths.stats(),
        value_size=value_sizes.stats(),
        key_entropy_bits=bits,
        key_entropy_normalised=bits / math.log2(unique) if unique > 1 else 0.0,
        hot_keys=[
            HotKey(key=int(key) if int_keys else key, count=count, share=count / rows)
            for key, count in counts.most_common(top_keys)
        ],
        coverage=_coverage(ranked, rows),
        numeric_key_fraction=ordering.numeric / rows,
        sequential_step_fraction=ordering.steps / pairs if pairs else 0.0,
        adjacent_duplicate_fraction=ordering.duplicates / pairs if pairs else 0.0,
        max_tracked_keys=max_tracked_keys,
        tracked_keys=len(counts),
        sampled=not counter.exact,
        count_error_bound=counter.rounds,
        collisions=_collisions([*map(int, counts)] if int_keys else list(counts), key_type),
    )


def _percent(share: float) -> str:
    """A share as a percentage, or in basis points below 0.1 %."""
    if 0 < share < 0.001:
        return f"{share * 10_000:.1f} bp"
    return f"{share * 100:.1f}%"


def render_dna_text(report: DNAReport) -> str:
    """A readable multi-line summary of a :class:`DNAReport`.

    Complexity: O(top keys).

    >>> import tempfile, os
    >>> from pathlib import Path
    >>> path = os.path.join(tempfile.mkdtemp(), "w.csv")
    >>> _ = Path(path).write_text("op,key,value\\nput,K1,ab\\nget,K1,\\nget,K2,\\n")
    >>> print(render_dna_text(workload_dna(path)).splitlines()[1])
    Mix: put 33.3%, get 66.7%, del 0.0%
    """
    mix = ", ".join(f"{name} {_percent(share)}" for name, share in report.op_mix.items())
    approx = "=" if report.unique_keys_exact else "≈"
    keys, values = report.key_length, report.value_size
    cover = report.coverage
    collisions = report.collisions
    lines = [
        f"Workload DNA for {report.path} — {report.total_rows:,} rows "
        f"({report.file_size_bytes:,} bytes, {report.key_type} keys)",
        f"Mix: {mix}",
        f"Unique keys {approx} {report.unique_keys:,} (avg touches {report.key_space_depth:.2f})",
        f"Mutating ops: {_percent(report.mutation_fraction)}; "
        f"adjacent duplicates: {_percent(report.adjacent_duplicate_fraction)}; "
        f"sequential steps: {_percent(report.sequential_step_fraction)}",
        f"Key length: {_size_line(keys)}",
        f"Value size: {_size_line(values)}",
        f"Numeric keys: {_percent(report.numeric_key_fraction)}",
        f"Entropy: {report.key_entropy_bits:.2f} bits "
        f"({report.key_entropy_normalised:.3f} normalised)",
        "Coverage: "
        + ", ".join(
            f"{label}→{'?' if value is None else f'{value:,}'}"
            for label, value in (("p50", cover.p50), ("p80", cover.p80), ("p95", cover.p95))
        )
        + " keys",
    ]
    if report.sampled:
        lines.append(
            f"Sampled: {report.tracked_keys:,} of ≈{report.unique_keys:,} keys tracked "
            f"(counts may be up to {report.count_error_bound:,} low)"
        )
    if report.hot_keys:
        lines.append("Hot keys:")
        lines.extend(
            f"  - {hot.key}: {hot.count:,} ({_percent(hot.share)})" for hot in report.hot_keys
        )
    lines.append(
        f"Hash collisions: {collisions.groups:,} group{'' if collisions.groups == 1 else 's'} "
        f"of keys with identical hash() (largest {collisions.largest_group:,}, "
        f"{collisions.keys_in_groups:,} keys)"
        + ("" if collisions.hash_reproducible else "; text hashes vary per process")
    )
    lines.extend(_shape_line(shape) for shape in (collisions.chaining, collisions.robinhood))
    if collisions.group_cap is not None:
        lines.append(
            f"  (groups capped at {collisions.group_cap:,} keys in the maps; the longest chain "
            f"is at least {collisions.chain_length_floor:,}, the longest probe at least "
            f"{collisions.probe_length_floor:,})"
        )
    return "\n".join(lines)


def _size_line(stats: SizeStats) -> str:
    if not stats.count:
        return "none"
    return (
        f"mean {stats.mean:.2f}, stdev {stats.stdev:.2f}, min {stats.min}, max {stats.max} "
        f"(n={stats.count:,})"
    )


def _shape_line(shape: MapShape) -> str:
    if shape.chain_length_max is not None:
        detail = f"chain mean {shape.chain_length_mean:.2f}, max {shape.chain_length_max:,}"
    else:
        detail = f"probe mean {shape.probe_length_mean:.2f}, max {shape.probe_length_max:,}"
    return (
        f"  {shape.backend}: {shape.size:,} keys in {shape.capacity:,} slots "
        f"(load {shape.load_factor:.2f}), {detail}"
    )
