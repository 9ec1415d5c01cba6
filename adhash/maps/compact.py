"""CompactMap: CPython's compact-dict design, in Python.

Entries live in two dense lists, ``_keys`` and ``_values``, in insertion order. A sparse index,
an ``array.array`` of the narrowest signed integer type that can hold an entry number, maps
slots to entries (-1 empty, -2 deleted). The index is the only part that scales with the table
size and costs 1-8 bytes a slot, so a CompactMap uses fewer bytes per entry than ``dict`` (which
also stores a hash per entry) and iterates in insertion order like it.

Probing follows CPython: slot ``i = h & mask``, then ``i = (5*i + 1 + perturb) & mask`` with
``perturb`` shifted right by 5 each step, so every bit of the mixed hash takes part. A deleted
entry leaves a hole in the dense lists until the next resize compacts them.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from typing import Any

from adhash.errors import InvariantError
from adhash.maps._base import MISSING, HashMapBase, K, V, check_power_of_two, sampled_heatmap
from adhash.maps._hashing import salt_for
from adhash.maps.stats import (
    FLOOD_SAMPLE,
    LengthHistogram,
    MapStats,
    OccupancyHeatmap,
    largest_hash_group,
)

__all__ = ["CompactMap"]

_DELETED: Any = object()
_EMPTY_SLOT = -1
_DUMMY_SLOT = -2
_PERTURB_SHIFT = 5
_UNSIGNED = (1 << 64) - 1


def _index_typecode(capacity: int) -> str:
    for typecode in ("b", "h", "i", "l", "q"):
        if capacity <= 1 << (8 * array(typecode).itemsize - 1):
            return typecode
    raise OverflowError(f"no array type can index {capacity} slots")


class CompactMap(HashMapBase[K, V]):
    """Insertion-ordered map: a narrow ``array`` index over dense key and value lists.

    Tuning parameters (keyword-only): ``capacity`` (initial index slots, a power of two ≥ 8)
    and ``hash_seed``. The index holds at most two thirds of its slots, as in CPython.

    >>> m = CompactMap({"b": 1}, a=2)
    >>> m["c"] = None
    >>> (list(m), m.get("z"), len(m))
    (['b', 'a', 'c'], None, 3)
    """

    backend_name = "compact"

    def __init__(
        self,
        other: Any = (),
        /,
        *,
        capacity: int = 8,
        hash_seed: int | None = None,
        **items: V,
    ) -> None:
        self._min_capacity = check_power_of_two("capacity", capacity, 8)
        self._hash_seed = hash_seed
        self._salt = salt_for(hash_seed)
        self._allocate(capacity)
        self._fill(other, items)

    def _allocate(self, capacity: int) -> None:
        self._mask = capacity - 1
        self._index = array(_index_typecode(capacity), [_EMPTY_SLOT]) * capacity
        self._keys: list[Any] = []
        self._values: list[Any] = []
        self._size = 0
        self._usable = capacity * 2 // 3
        # Index slots that are not empty (live or deleted): probing ends only at an empty one.
        self._filled = 0
        # _probe_counts[p] = live entries found after p extra probes.
        self._probe_counts = [0]

    def _config(self) -> dict[str, Any]:
        return {"capacity": self._min_capacity, "hash_seed": self._hash_seed}

    # -- lookups ---------------------------------------------------------------------------

    def __getitem__(self, key: K) -> V:
        """``self[key]``; KeyError when absent.

        Complexity: O(1) expected.

        >>> CompactMap(a=1)["a"]
        1
        """
        h = hash((key, self._salt))
        mask = self._mask
        i = h & mask
        index = self._index
        ix = index[i]
        if ix >= 0:
            k = self._keys[ix]
            if k is key or k == key:
                return self._values[ix]  # type: ignore[no-any-return]
        elif ix == _EMPTY_SLOT:
            raise KeyError(key)
        perturb = h & _UNSIGNED
        while True:
            perturb >>= _PERTURB_SHIFT
            i = (i * 5 + perturb + 1) & mask
            ix = index[i]
            if ix >= 0:
                k = self._keys[ix]
                if k is key or k == key:
                    return self._values[ix]  # type: ignore[no-any-return]
            elif ix == _EMPTY_SLOT:
                raise KeyError(key)

    def get(self, key: K, default: Any = None) -> Any:
        """``self[key]`` if present, else ``default``.

        Complexity: O(1) expected.

        >>> CompactMap(a=1).get("b", 0)
        0
        """
        h = hash((key, self._salt))
        mask = self._mask
        i = h & mask
        index = self._index
        ix = index[i]
        if ix >= 0:
            k = self._keys[ix]
            if k is key or k == key:
                return self._values[ix]
        elif ix == _EMPTY_SLOT:
            return default
        perturb = h & _UNSIGNED
        while True:
            perturb >>= _PERTURB_SHIFT
            i = (i * 5 + perturb + 1) & mask
            ix = index[i]
            if ix >= 0:
                k = self._keys[ix]
                if k is key or k == key:
                    return self._values[ix]
            elif ix == _EMPTY_SLOT:
                return default

    def _lookup(self, key: object) -> tuple[int, int, int]:
        """``(slot, entry, probes)`` for ``key``; ``entry`` is -1 and ``slot`` the first free
        slot (empty or deleted) on the probe path when the key is absent."""
        h = hash((key, self._salt))
        mask = self._mask
        i = h & mask
        index = self._index
        keys = self._keys
        perturb = h & _UNSIGNED
        free = free_probes = -1
        probes = 0
        while True:
            ix = index[i]
            if ix >= 0:
                k = keys[ix]
                if k is key or k == key:
                    return i, ix, probes
            elif ix == _EMPTY_SLOT:
                if free < 0:
                    return i, -1, probes
                return free, -1, free_probes
            elif free < 0:
                free = i
                free_probes = probes
            perturb >>= _PERTURB_SHIFT
            i = (i * 5 + perturb + 1) & mask
            probes += 1

    def __contains__(self, key: object) -> bool:
        """``key in self``.

        Complexity: O(1) expected.

        >>> "a" in CompactMap(a=1)
        True
        """
        return self._lookup(key)[1] >= 0

    def __len__(self) -> int:
        return self._size

    # -- insertion and deletion ------------------------------------------------------------

    def __setitem__(self, key: K, value: V) -> None:
        """``self[key] = value``; a new key goes to the end of the insertion order.

        Complexity: O(1) amortised; a resize rebuilds the index in O(n).

        >>> m = CompactMap(a=1); m["b"] = 2; m["a"] = 3
        >>> m
        CompactMap({'a': 3, 'b': 2})
        """
        h = hash((key, self._salt))
        slot = h & self._mask
        index = self._index
        ix = index[slot]
        if ix == _EMPTY_SLOT and self._filled < self._usable:
            # The common case: the home slot is free, so the key is new and goes there.
            keys = self._keys
            if len(keys) < self._usable:
                index[slot] = len(keys)
                keys.append(key)
                self._values.append(value)
                self._filled += 1
                self._size += 1
                self._probe_counts[0] += 1
                return
        if ix >= 0:
            k = self._keys[ix]
            if k is key or k == key:
                self._values[ix] = value
                return
        slot, ix, probes = self._lookup(key)
        if ix >= 0:
            self._values[ix] = value
            return
        if self._filled >= self._usable or len(self._keys) >= self._usable:
            self._resize(self._capacity_for(2 * self._size))
            slot, ix, probes = self._lookup(key)
        index = self._index
        if index[slot] == _EMPTY_SLOT:
            self._filled += 1
        index[slot] = len(self._keys)
        self._keys.append(key)
        self._values.append(value)
        self._size += 1
        counts = self._probe_counts
        if probes >= len(counts):
            counts.extend([0] * (probes + 1 - len(counts)))
        counts[probes] += 1

    def __delitem__(self, key: K) -> None:
        """``del self[key]``; KeyError when absent.

        Complexity: O(1) expected.

        >>> m = CompactMap(a=1, b=2); del m["a"]
        >>> m
        CompactMap({'b': 2})
        """
        self._pop(key, MISSING)

    def _pop(self, key: Any, default: Any) -> Any:
        slot, ix, probes = self._lookup(key)
        if ix < 0:
            if default is MISSING:
                raise KeyError(key)
            return default
        return self._remove(slot, ix, probes)

    def _detach(self, key: Any) -> Any:
        """Remove ``key`` (a backend being drained); MISSING if absent."""
        slot, ix, probes = self._lookup(key)
        if ix < 0:
            return MISSING
        return self._remove(slot, ix, probes)

    def _remove(self, slot: int, ix: int, probes: int) -> Any:
        value = self._values[ix]
        self._index[slot] = _DUMMY_SLOT
        self._keys[ix] = _DELETED
        self._values[ix] = None
        self._size -= 1
        self._probe_counts[probes] -= 1
        keys = self._keys
        while keys and keys[-1] is _DELETED:
            keys.pop()
            self._values.pop()
        return value

    def popitem(self) -> tuple[K, V]:
        """Remove and return the most recently inserted pair (LIFO, like ``dict``).

        Complexity: O(1) amortised.

        >>> CompactMap(a=1, b=2).popitem()
        ('b', 2)
        """
        if not self._size:
            raise KeyError("popitem(): CompactMap is empty")
        key = self._keys[-1]
        slot, ix, probes = self._lookup(key)
        return key, self._remove(slot, ix, probes)

    def _peek_last(self) -> tuple[Any, Any]:
        """The pair :meth:`_drop_last` would remove: the newest (the dense lists end live)."""
        return self._keys[-1], self._values[-1]

    def _drop_last(self) -> None:
        """Remove the pair :meth:`_peek_last` returned."""
        slot, ix, probes = self._lookup(self._keys[-1])
        self._remove(slot, ix, probes)

    def _capacity_for(self, n: int) -> int:
        """The smallest capacity whose usable two thirds hold ``n`` entries."""
        capacity = self._min_capacity
        while capacity * 2 // 3 < n:
            capacity *= 2
        return capacity

    def _rebuild(self, capacity: int) -> None:
        """Rebuild the index for ``capacity`` slots and squeeze the holes out of the lists."""
        live_keys, live_values = self._export()
        self._allocate(capacity)
        self._place_absent(live_keys, live_values)

    def _place_absent(self, new_keys: list[Any], new_values: list[Any]) -> None:
        """Append keys known to be absent and distinct, probing only for a free index slot.

        For rebuilds and bulk loads; the caller has made room (usable slots) for every key.
        """
        keys = self._keys
        values = self._values
        index = self._index
        counts = self._probe_counts
        salt = self._salt
        mask = self._mask
        placed = 0
        try:
            for key, value in zip(new_keys, new_values, strict=True):
                h = hash((key, salt))
                i = h & mask
                perturb = h & _UNSIGNED
                probes = 0
                while index[i] != _EMPTY_SLOT:
                    perturb >>= _PERTURB_SHIFT
                    i = (i * 5 + perturb + 1) & mask
                    probes += 1
                index[i] = len(keys)
                keys.append(key)
                values.append(value)
                placed += 1
                if probes >= len(counts):
                    counts.extend([0] * (probes + 1 - len(counts)))
                counts[probes] += 1
        finally:
            # A key's __hash__ may raise part-way: count what was placed.
            self._filled += placed
            self._size += placed

    def _export(self) -> tuple[list[K], list[V]]:
        if len(self._keys) == self._size:
            return list(self._keys), list(self._values)
        pairs = zip(self._keys, self._values, strict=True)
        live = [(key, value) for key, value in pairs if key is not _DELETED]
        return [key for key, _ in live], [value for _, value in live]

    def _load_absent(self, new_keys: list[Any], new_values: list[Any]) -> None:
        """Bulk insert of keys known to be absent from the map and distinct from each other."""
        self.reserve(self._size + len(new_keys))
        self._place_absent(new_keys, new_values)

    def reserve(self, n: int) -> None:
        """Grow so that ``n`` entries fit without another resize.

        Complexity: O(n) when it resizes, O(1) otherwise.

        >>> m = CompactMap(); m.reserve(1000); m.stats().capacity
        2048
        """
        if n - self._size > self._usable - max(self._filled, len(self._keys)):
            self._resize(self._capacity_for(max(n, self._size)))

    def compact(self) -> None:
        """Squeeze deleted entries out of the dense lists and right-size the index.

        Complexity: O(n).

        >>> m = CompactMap(a=1, b=2); del m["a"]; m.compact(); m.stats().tombstones
        0
        """
        self._resize(self._capacity_for(self._size))

    def clear(self) -> None:
        """Remove everything and return to the initial capacity.

        Complexity: O(initial capacity).

        >>> m = CompactMap(a=1); m.clear(); len(m)
        0
        """
        self._allocate(self._min_capacity)

    # -- iteration -------------------------------------------------------------------------

    def __iter__(self) -> Iterator[K]:
        # Capture the state now, as dict does when an iterator is made, not at the first next().
        return self._generate_keys(self._size, self._keys)

    def _generate_keys(self, size: int, keys: list[Any]) -> Iterator[K]:
        for key in keys:
            if key is _DELETED:
                continue
            if self._size != size or self._keys is not keys:
                raise RuntimeError("CompactMap changed size during iteration")
            yield key
        if self._size != size:
            raise RuntimeError("CompactMap changed size during iteration")

    def _iter_items(self) -> Iterator[tuple[K, V]]:
        # Capture the state now, as dict does when an iterator is made, not at the first next().
        return self._generate_items(self._size, self._keys)

    def _generate_items(self, size: int, keys: list[Any]) -> Iterator[tuple[K, V]]:
        for pair in zip(keys, self._values, strict=False):
            if pair[0] is _DELETED:
                continue
            if self._size != size or self._keys is not keys:
                raise RuntimeError("CompactMap changed size during iteration")
            yield pair
        if self._size != size:
            raise RuntimeError("CompactMap changed size during iteration")

    def __reversed__(self) -> Iterator[K]:
        """Keys in reverse insertion order, like ``reversed(dict)``.

        >>> list(reversed(CompactMap(a=1, b=2)))
        ['b', 'a']
        """
        return self._generate_reversed(self._size, self._keys)

    def _generate_reversed(self, size: int, keys: list[Any]) -> Iterator[K]:
        for position in range(len(keys) - 1, -1, -1):
            if self._size != size or self._keys is not keys:
                raise RuntimeError("CompactMap changed size during iteration")
            key = keys[position]
            if key is not _DELETED:
                yield key
        if self._size != size:
            raise RuntimeError("CompactMap changed size during iteration")

    # -- introspection ---------------------------------------------------------------------

    def stats(self) -> MapStats:
        """Size, index slots, load factor, extra-probe mean and max, deleted holes.

        ``tombstones`` counts deleted entries still occupying the dense lists; ``flood_keys``
        is read from the newest entries.
        Complexity: O(longest probe).

        >>> s = CompactMap(a=1).stats()
        >>> (s.backend, s.size, s.capacity, s.probe_length_max, s.tombstones)
        ('compact', 1, 8, 0, 0)
        """
        capacity = self._mask + 1
        histogram = self.length_histogram()
        size = self._size
        total = sum(length * count for length, count in enumerate(histogram.counts))
        holes = len(self._keys) - size
        return MapStats(
            backend=self.backend_name,
            size=size,
            capacity=capacity,
            load_factor=size / capacity,
            probe_length_mean=total / size if size else 0.0,
            probe_length_max=histogram.max_length,
            tombstones=holes,
            tombstone_ratio=holes / len(self._keys) if self._keys else 0.0,
            flood_keys=self._flood_keys(histogram.max_length) if size else 0,
        )

    def _flood_keys(self, longest_probe: int) -> int:
        """The most keys sharing one ``hash()`` among the newest entries.

        Keys with one identical ``hash()`` follow one probe sequence, so ``g`` of them need a
        probe of ``g - 1`` at least; the newest ``2 × (longest probe + 1)`` entries (at most
        256) are read, which holds an ongoing flood."""
        if longest_probe == 0:
            return 1
        window = min(FLOOD_SAMPLE, 2 * (longest_probe + 1))
        return largest_hash_group(k for k in self._keys[-window:] if k is not _DELETED)

    def length_histogram(self) -> LengthHistogram:
        """Entries by the number of extra probes needed to find them (exact).

        Complexity: O(longest probe).

        >>> CompactMap(a=1).length_histogram().counts
        (1,)
        """
        counts = self._probe_counts
        top = len(counts) - 1
        while top > 0 and not counts[top]:
            top -= 1
        return LengthHistogram("probe", tuple(counts[: top + 1]))

    def occupancy_heatmap(self, cells: int = 512, cols: int = 32) -> OccupancyHeatmap:
        """Fraction of index slots holding an entry, from at most 4096 evenly spaced slots.

        Complexity: O(min(capacity, 4096)).

        >>> CompactMap().occupancy_heatmap(cells=4, cols=4).cells
        (0.0, 0.0, 0.0, 0.0)
        """
        index = self._index
        return sampled_heatmap(self._mask + 1, lambda i: 1.0 if index[i] >= 0 else 0.0, cells, cols)

    def check_invariants(self) -> None:
        """Verify the index against the dense lists, probe counters and order.

        Complexity: O(capacity); for tests, never the operation path.

        >>> CompactMap(a=1, b=2).check_invariants()
        """
        keys, values, index = self._keys, self._values, self._index
        capacity = self._mask + 1
        if len(index) != capacity or len(keys) != len(values):
            raise InvariantError("index or dense lists have inconsistent lengths")
        if len(keys) > self._usable:
            raise InvariantError("dense lists outgrew the usable part of the index")
        if keys and keys[-1] is _DELETED:
            raise InvariantError("a deleted hole sits at the end of the dense lists")
        referenced: set[int] = set()
        for slot in range(capacity):
            ix = index[slot]
            if ix >= 0:
                if ix >= len(keys) or keys[ix] is _DELETED or ix in referenced:
                    raise InvariantError(f"index slot {slot} points at a bad entry {ix}")
                referenced.add(ix)
            elif ix not in (_EMPTY_SLOT, _DUMMY_SLOT):
                raise InvariantError(f"index slot {slot} holds {ix}")
        live = [ix for ix, key in enumerate(keys) if key is not _DELETED]
        if set(live) != referenced or len(live) != self._size:
            raise InvariantError(
                f"{len(live)} live entries, {len(referenced)} indexed, size {self._size}"
            )
        counts = [0] * len(self._probe_counts)
        for ix in live:
            slot, found, probes = self._lookup(keys[ix])
            if found != ix or index[slot] != ix:
                raise InvariantError(f"entry {ix} ({keys[ix]!r}) is not found by a lookup")
            if probes >= len(counts):
                raise InvariantError(f"entry {ix} needs {probes} probes, beyond the histogram")
            counts[probes] += 1
        if counts != self._probe_counts:
            raise InvariantError("the probe histogram disagrees with the index")
        filled = sum(1 for slot in range(capacity) if index[slot] != _EMPTY_SLOT)
        if filled != self._filled or filled > self._usable:
            raise InvariantError(f"{filled} non-empty index slots, counter says {self._filled}")
