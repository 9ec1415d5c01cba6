"""Typed records a map reports about itself: statistics, length histograms, occupancy heatmaps.

They are plain frozen dataclasses so the metrics layer, the guardrails and the front-ends can read
them without reaching into a map's internals.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "FLOOD_SAMPLE",
    "Hashing",
    "LengthHistogram",
    "MapStats",
    "OccupancyHeatmap",
    "largest_hash_group",
]

Hashing = Literal["plain", "salted"]

FLOOD_SAMPLE = 256
"""At most this many keys are read to measure :attr:`MapStats.flood_keys`."""


def largest_hash_group(keys: Iterable[object]) -> int:
    """The most keys in ``keys`` that share one identical ``hash()`` value.

    Complexity: O(len(keys)).

    >>> P = 2**61 - 1
    >>> largest_hash_group([1, 2, 5 + P, 5 + 2 * P, 5 + 3 * P]), largest_hash_group([])
    (3, 0)
    """
    counts: dict[int, int] = {}
    for key in keys:
        try:
            h = hash(key)
        except Exception:  # a stored key whose __hash__ now fails is not a flood
            continue
        counts[h] = counts.get(h, 0) + 1
    return max(counts.values(), default=0)


@dataclass(frozen=True, slots=True)
class MapStats:
    """A map's shape at one moment.

    ``probe_length_*`` is the displacement of an entry from its home slot (0 = at home) for the
    open-addressing backends; ``chain_length_*`` counts entries per non-empty chain for
    chaining. Fields that do not apply to a backend are ``None``.

    ``flood_keys`` is the most keys sharing one identical ``hash()`` value found in a sample of
    at most 256 keys from the map's worst spot (its longest chain, the cluster of occupied
    slots around its deepest entry, or its newest entries): random keys give 1, and only keys
    whose full hashes collide (a flooding attack) give more than a few. ``hashing`` is
    ``"salted"`` once the map places keys by a keyed hash of their value; ``unsalted_keys`` then
    counts the keys of types that cannot be hashed by value and stay on plain hashing.
    """

    backend: str
    size: int
    capacity: int
    load_factor: float
    probe_length_mean: float | None = None
    probe_length_max: int | None = None
    chain_length_mean: float | None = None
    chain_length_max: int | None = None
    tombstones: int | None = None
    tombstone_ratio: float | None = None
    migrating_from: str | None = None
    migration_progress: float | None = None
    flood_keys: int | None = None
    hashing: Hashing = "plain"
    unsalted_keys: int | None = None


@dataclass(frozen=True, slots=True)
class LengthHistogram:
    """How long probes or chains are: ``counts[n]`` entries (or chains) have length ``n``.

    For ``kind="probe"`` the length is an entry's displacement from its home slot and the
    counts are of entries; for ``kind="chain"`` it is the number of entries in a chain and the
    counts are of chains (``counts[0]`` is the number of empty chains).
    """

    kind: Literal["probe", "chain"]
    counts: tuple[int, ...]

    @property
    def total(self) -> int:
        """The number of entries (probe) or chains (chain) counted.

        >>> LengthHistogram("probe", (3, 1, 0, 1)).total
        5
        """
        return sum(self.counts)

    @property
    def max_length(self) -> int:
        """The longest length with a non-zero count (0 for an empty histogram).

        >>> LengthHistogram("chain", (0, 4, 2, 0)).max_length
        2
        """
        for length in range(len(self.counts) - 1, -1, -1):
            if self.counts[length]:
                return length
        return 0


@dataclass(frozen=True, slots=True)
class OccupancyHeatmap:
    """Slot occupancy folded into a ``rows × cols`` grid, row-major.

    Each cell covers ``slot_span`` consecutive slots (or chains) and holds the mean occupancy of
    the slots sampled in it: a fraction in [0, 1] for open addressing, mean entries per chain for
    chaining. ``sampled_slots`` says how many slots were actually read.
    """

    rows: int
    cols: int
    cells: tuple[float, ...]
    slot_span: int
    capacity: int
    sampled_slots: int
