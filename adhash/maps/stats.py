"""Typed records a map reports about itself: statistics, length histograms, occupancy heatmaps.

They are plain frozen dataclasses so the metrics layer, the guardrails and the front-ends can read
them without reaching into a map's internals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["LengthHistogram", "MapStats", "OccupancyHeatmap"]


@dataclass(frozen=True, slots=True)
class MapStats:
    """A map's shape at one moment.

    ``probe_length_*`` is the displacement of an entry from its home slot (0 = at home) for the
    open-addressing backends; ``chain_length_*`` counts entries per non-empty chain for
    chaining. Fields that do not apply to a backend are ``None``.
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
