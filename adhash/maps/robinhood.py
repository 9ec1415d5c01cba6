"""RobinHoodMap: open addressing with Robin Hood displacement over parallel preallocated lists.

Layout: three parallel arrays indexed by slot: ``_keys`` and ``_values`` (lists) and ``_dist``
(a ``bytearray``; 0 marks an empty slot, otherwise the entry's displacement from its home slot
plus one). There are no per-entry objects and no stored hashes: ``str`` caches its own hash, and
the displacement alone is enough for the two Robin Hood tricks that make lookups cheap here:

* only a resident whose stored displacement equals the probe's own can hold the key (it has the
  same home slot), so ``__eq__`` runs on almost nothing else;
* a miss stops at the first resident that sits closer to its home than the probe would.

Deletion is by backward shift (the default: the table is left as if the key had never been
inserted) or by tombstones (``deletion="tombstone"``) so the two can be compared. Tombstones count
toward the resize threshold and are purged automatically past ``tombstone_purge_ratio``, so an
insert always finds an empty slot and never loops. The table shrinks after mass deletion.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from itertools import compress
from typing import Any, Literal

from adhash.errors import BadInputError, InvariantError
from adhash.maps._base import (
    MISSING,
    HashMapBase,
    K,
    V,
    check_fraction,
    check_power_of_two,
    sampled_heatmap,
)
from adhash.maps._hashing import WORD_BITS as _WORD_BITS
from adhash.maps._hashing import multiplier_for, salt_for
from adhash.maps.stats import (
    FLOOD_SAMPLE,
    LengthHistogram,
    MapStats,
    OccupancyHeatmap,
    largest_hash_group,
)

__all__ = ["RobinHoodMap"]

_EMPTY: Any = object()
_TOMBSTONE: Any = object()
_SHRINK_LOAD = 0.15
_BYTE_LIMIT = 255
_WORD = (1 << _WORD_BITS) - 1
_MAX_CAPACITY = 1 << _WORD_BITS

Deletion = Literal["backward_shift", "tombstone"]


def _find(dist: bytearray | array[int], value: int, start: int, stop: int) -> int:
    """The first slot in ``[start, stop)`` whose displacement cell holds ``value``, or -1."""
    if isinstance(dist, bytearray):
        return dist.find(value, start, stop) if value <= _BYTE_LIMIT else -1
    try:
        return dist.index(value, start, stop)
    except ValueError:
        return -1


class RobinHoodMap(HashMapBase[K, V]):
    """Open addressing with Robin Hood displacement; backward-shift or tombstone deletion.

    Tuning parameters (keyword-only): ``capacity`` (initial slots, a power of two),
    ``max_load_factor`` (grow when live entries plus tombstones exceed it, default 0.7:
    each probe step is a round of interpreted bytecode here, so slots are cheaper than probes),
    ``deletion`` (``"backward_shift"`` or ``"tombstone"``), ``tombstone_purge_ratio`` (rebuild
    in place when tombstones exceed this share of the slots, default 0.3) and ``hash_seed``.

    >>> m = RobinHoodMap({"a": 1}, b=2)
    >>> m["c"] = None
    >>> (m["a"], m.get("z"), "c" in m, len(m))
    (1, None, True, 3)
    """

    backend_name = "robinhood"

    def __init__(
        self,
        other: Any = (),
        /,
        *,
        capacity: int = 8,
        max_load_factor: float = 0.7,
        deletion: Deletion = "backward_shift",
        tombstone_purge_ratio: float = 0.3,
        hash_seed: int | None = None,
        **items: V,
    ) -> None:
        self._min_capacity = check_power_of_two("capacity", capacity, 2)
        self._max_load = check_fraction("max_load_factor", max_load_factor, 0.0, 0.95)
        if deletion not in ("backward_shift", "tombstone"):
            raise BadInputError(
                f"deletion must be 'backward_shift' or 'tombstone', got {deletion!r}"
            )
        self._deletion: Deletion = deletion
        self._tombstone_mode = deletion == "tombstone"
        self._purge_ratio = check_fraction("tombstone_purge_ratio", tombstone_purge_ratio, 0.0, 0.9)
        self._hash_seed = hash_seed
        self._salt = salt_for(hash_seed)
        self._multiplier = multiplier_for(self._salt)
        self._allocate(capacity)
        self._fill(other, items)

    def _allocate(self, capacity: int) -> None:
        if capacity > _MAX_CAPACITY:
            raise BadInputError(f"RobinHoodMap cannot grow past {_MAX_CAPACITY} slots")
        self._mask = capacity - 1
        self._shift = _WORD_BITS - (capacity.bit_length() - 1)
        self._keys: list[Any] = [_EMPTY] * capacity
        self._values: list[Any] = [None] * capacity
        self._dist: bytearray | array[int] = bytearray(capacity)
        # _probe_counts[d] = live entries stored with displacement d - 1 (index 0 unused).
        self._probe_counts = [0] * (_BYTE_LIMIT + 1)
        self._size = 0
        self._tombstones = 0
        self._grow_at = max(1, int(capacity * self._max_load))
        self._shrink_at = int(capacity * _SHRINK_LOAD) if capacity > self._min_capacity else -1
        self._purge_at = max(1, int(capacity * self._purge_ratio))
        self._pop_cursor = capacity - 1
        self._deep_hint = 0

    def _config(self) -> dict[str, Any]:
        return {
            "capacity": self._min_capacity,
            "max_load_factor": self._max_load,
            "deletion": self._deletion,
            "tombstone_purge_ratio": self._purge_ratio,
            "hash_seed": self._hash_seed,
        }

    # -- lookups ---------------------------------------------------------------------------

    def __getitem__(self, key: K) -> V:
        """``self[key]``; KeyError when absent.

        Complexity: O(1) expected; a miss stops at the first richer resident.

        >>> RobinHoodMap(a=1)["a"]
        1
        """
        h = hash((key, self._salt))
        i = (((h ^ (h >> 32)) & _WORD) * self._multiplier >> self._shift) & self._mask
        keys = self._keys
        if keys[i] is key:
            return self._values[i]  # type: ignore[no-any-return]
        dist = self._dist
        mask = self._mask
        d = 1
        while True:
            di = dist[i]
            if di == d:
                k = keys[i]
                if k is key or (k is not _TOMBSTONE and k == key):
                    return self._values[i]  # type: ignore[no-any-return]
            elif di < d:
                raise KeyError(key)
            i = (i + 1) & mask
            d += 1

    def get(self, key: K, default: Any = None) -> Any:
        """``self[key]`` if present, else ``default``.

        Complexity: O(1) expected.

        >>> RobinHoodMap(a=1).get("b", 0)
        0
        """
        h = hash((key, self._salt))
        i = (((h ^ (h >> 32)) & _WORD) * self._multiplier >> self._shift) & self._mask
        keys = self._keys
        if keys[i] is key:
            return self._values[i]
        dist = self._dist
        mask = self._mask
        d = 1
        while True:
            di = dist[i]
            if di == d:
                k = keys[i]
                if k is key or (k is not _TOMBSTONE and k == key):
                    return self._values[i]
            elif di < d:
                return default
            i = (i + 1) & mask
            d += 1

    def __contains__(self, key: object) -> bool:
        """``key in self``.

        Complexity: O(1) expected.

        >>> "a" in RobinHoodMap(a=1)
        True
        """
        return self._find(key) >= 0

    def _home(self, key: object) -> int:
        """The home slot of ``key``: see :mod:`adhash.maps._hashing`."""
        h = hash((key, self._salt))
        return (((h ^ (h >> 32)) & _WORD) * self._multiplier >> self._shift) & self._mask

    def _find(self, key: object) -> int:
        """The slot holding ``key``, or -1."""
        h = hash((key, self._salt))
        i = (((h ^ (h >> 32)) & _WORD) * self._multiplier >> self._shift) & self._mask
        keys = self._keys
        dist = self._dist
        mask = self._mask
        d = 1
        while True:
            di = dist[i]
            if di == d:
                k = keys[i]
                if k is key or (k is not _TOMBSTONE and k == key):
                    return i
            elif di < d:
                return -1
            i = (i + 1) & mask
            d += 1

    def __len__(self) -> int:
        return self._size

    # -- insertion -------------------------------------------------------------------------

    def __setitem__(self, key: K, value: V) -> None:
        """``self[key] = value``.

        Complexity: O(1) amortised; a resize rebuilds the table in O(n).

        >>> m = RobinHoodMap(); m["a"] = 1; m["a"] = 2
        >>> m
        RobinHoodMap({'a': 2})
        """
        if self._tombstone_mode:
            self._set_tombstone_mode(key, value)
            return
        mask = self._mask
        h = hash((key, self._salt))
        i = (((h ^ (h >> 32)) & _WORD) * self._multiplier >> self._shift) & self._mask
        keys = self._keys
        dist = self._dist
        d = 1
        while True:
            di = dist[i]
            if di == d:
                k = keys[i]
                if k is key or k == key:
                    self._values[i] = value
                    return
            elif di < d:
                break
            i = (i + 1) & mask
            d += 1
        if self._size >= self._grow_at or d >= _BYTE_LIMIT:
            if self._size >= self._grow_at:
                self._resize(self._capacity_for(self._size + 1))
            self._insert_new(key, value, self._home(key), 1)
            return
        # The key is new and belongs at slot i: rob each richer resident on the way and carry
        # it on until an empty slot takes the last one (inlined: this is the insert hot path).
        self._size += 1
        counts = self._probe_counts
        values = self._values
        while di:
            keys[i], key = key, keys[i]
            values[i], value = value, values[i]
            dist[i] = d
            counts[d] += 1
            counts[di] -= 1
            d = di
            while True:
                i = (i + 1) & mask
                d += 1
                di = dist[i]
                if di < d:
                    break
            if d >= _BYTE_LIMIT:
                self._size -= 1
                self._insert_new(key, value, i, d)
                return
        keys[i] = key
        values[i] = value
        dist[i] = d
        counts[d] += 1

    def _set_tombstone_mode(self, key: K, value: V) -> None:
        slot = self._find(key)
        if slot >= 0:
            self._values[slot] = value
            return
        if self._size + self._tombstones >= self._grow_at:
            self._resize(self._capacity_for(self._size + 1))
        self._insert_new(key, value, self._home(key), 1)

    def _insert_new(self, key: Any, value: Any, i: int, d: int) -> None:
        """Place a key known to be absent, starting at slot ``i`` with displacement ``d``."""
        keys = self._keys
        values = self._values
        dist = self._dist
        counts = self._probe_counts
        mask = self._mask
        tombstone_mode = self._tombstone_mode
        self._size += 1
        while True:
            di = dist[i]
            if di == 0:
                break
            if di < d or (di == d and tombstone_mode and keys[i] is _TOMBSTONE):
                if tombstone_mode and keys[i] is _TOMBSTONE:
                    self._tombstones -= 1
                    break
                keys[i], key = key, keys[i]
                values[i], value = value, values[i]
                try:
                    dist[i] = d
                except (ValueError, OverflowError):
                    dist = self._widen()
                    dist[i] = d
                counts[d] += 1
                counts[di] -= 1
                d = di
            i = (i + 1) & mask
            d += 1
        keys[i] = key
        values[i] = value
        try:
            dist[i] = d
            counts[d] += 1
        except (ValueError, OverflowError, IndexError):
            dist = self._widen()
            dist[i] = d
            counts = self._probe_counts
            counts[d] += 1

    def _widen(self) -> array[int]:
        """Switch the displacement array to 32-bit cells once a probe outgrows a byte.

        Only keys whose ``hash()`` values collide outright push a displacement past 254.
        """
        widened = array("I", iter(self._dist))
        self._dist = widened
        self._probe_counts.extend([0] * (len(widened) + 1 - len(self._probe_counts)))
        return widened

    def _capacity_for(self, n: int) -> int:
        capacity = self._min_capacity
        while capacity * self._max_load < n + 1:
            capacity *= 2
        return capacity

    def _rebuild(self, capacity: int) -> None:
        """Rebuild into ``capacity`` slots: drops tombstones, re-derives every displacement.

        Old slots are walked in order, so (when doubling) each half of the new table receives
        its keys in ascending home order and almost every entry lands without a swap. The loop
        is the insert loop inlined, without key comparisons: every key is known to be distinct.
        """
        live_keys, live_values = self._export()
        self._allocate(capacity)
        self._place_absent(live_keys, live_values)

    def _place_absent(self, new_keys: list[Any], new_values: list[Any]) -> None:
        """Insert keys known to be absent and distinct, with no key comparisons at all.

        The insert loop inlined for rebuilds and bulk loads. Slots walked in order (a rebuild)
        reach each half of a doubled table in ascending home order, so almost every entry lands
        without a swap. The caller has made room (capacity) for every key.
        """
        salt = self._salt
        mask = self._mask
        multiplier = self._multiplier
        shift = self._shift
        keys = self._keys
        values = self._values
        dist = self._dist
        counts = self._probe_counts
        size = self._size
        try:
            for key, value in zip(new_keys, new_values, strict=True):
                h = hash((key, salt))
                i = (((h ^ (h >> 32)) & _WORD) * multiplier >> shift) & mask
                d = 1
                while True:
                    di = dist[i]
                    if not di:
                        break
                    if di < d:
                        keys[i], key = key, keys[i]
                        values[i], value = value, values[i]
                        dist[i] = d
                        counts[d] += 1
                        counts[di] -= 1
                        d = di
                    i = (i + 1) & mask
                    d += 1
                    if d >= _BYTE_LIMIT:
                        break
                if d >= _BYTE_LIMIT:
                    self._size = size
                    self._insert_new(key, value, i, d)
                    size += 1
                    dist = self._dist
                    counts = self._probe_counts
                    continue
                keys[i] = key
                values[i] = value
                dist[i] = d
                counts[d] += 1
                size += 1
        finally:
            # A key's __hash__ may raise part-way: the entries placed so far stay counted.
            self._size = size

    def _export(self) -> tuple[list[K], list[V]]:
        keys = list(compress(self._keys, self._dist))
        values = list(compress(self._values, self._dist))
        if self._tombstones:
            live = [i for i, key in enumerate(keys) if key is not _TOMBSTONE]
            return [keys[i] for i in live], [values[i] for i in live]
        return keys, values

    def _load_absent(self, new_keys: list[Any], new_values: list[Any]) -> None:
        """Bulk insert of keys known to be absent from the map and distinct from each other."""
        self.reserve(self._size + len(new_keys))
        if self._tombstone_mode and self._tombstones:
            self._resize(self._mask + 1)
        self._place_absent(new_keys, new_values)

    def reserve(self, n: int) -> None:
        """Grow so that ``n`` entries fit without another resize.

        Complexity: O(n) when it resizes, O(1) otherwise.

        >>> m = RobinHoodMap(); m.reserve(1000); m.stats().capacity
        2048
        """
        if n + self._tombstones > self._grow_at:
            self._resize(self._capacity_for(max(n, self._size)))

    # -- deletion --------------------------------------------------------------------------

    def __delitem__(self, key: K) -> None:
        """``del self[key]``; KeyError when absent.

        Complexity: O(1) expected (backward shift moves the rest of the cluster one slot back).

        >>> m = RobinHoodMap(a=1, b=2); del m["a"]
        >>> m
        RobinHoodMap({'b': 2})
        """
        h = hash((key, self._salt))
        i = (((h ^ (h >> 32)) & _WORD) * self._multiplier >> self._shift) & self._mask
        keys = self._keys
        if keys[i] is not key:
            i = self._find(key)
            if i < 0:
                raise KeyError(key)
        self._remove_slot(i)
        if self._size < self._shrink_at or self._tombstones > self._purge_at:
            self._after_delete()

    def _pop(self, key: Any, default: Any) -> Any:
        slot = self._find(key)
        if slot < 0:
            if default is MISSING:
                raise KeyError(key)
            return default
        value = self._values[slot]
        self._remove_slot(slot)
        self._after_delete()
        return value

    def _detach(self, key: Any) -> Any:
        """Remove ``key`` without shrinking (a backend being drained); MISSING if absent."""
        slot = self._find(key)
        if slot < 0:
            return MISSING
        value = self._values[slot]
        self._remove_slot(slot)
        return value

    def _remove_slot(self, i: int) -> None:
        keys = self._keys
        values = self._values
        dist = self._dist
        counts = self._probe_counts
        counts[dist[i]] -= 1
        self._size -= 1
        if self._tombstone_mode:
            keys[i] = _TOMBSTONE
            values[i] = None
            self._tombstones += 1
            return
        mask = self._mask
        j = (i + 1) & mask
        dj = dist[j]
        while dj > 1:
            keys[i] = keys[j]
            values[i] = values[j]
            dist[i] = dj - 1
            counts[dj] -= 1
            counts[dj - 1] += 1
            i = j
            j = (j + 1) & mask
            dj = dist[j]
        keys[i] = _EMPTY
        values[i] = None
        dist[i] = 0

    def _after_delete(self) -> None:
        if self._size < self._shrink_at:
            self._resize(self._capacity_for(self._size))
        elif self._tombstones > self._purge_at:
            self._resize(self._mask + 1)

    def popitem(self) -> tuple[K, V]:
        """Remove and return the pair in the highest occupied slot; KeyError when empty.

        Complexity: O(1) amortised while popping repeatedly.

        >>> RobinHoodMap(a=1).popitem()
        ('a', 1)
        """
        if not self._size:
            raise KeyError("popitem(): RobinHoodMap is empty")
        i = self._last_live_slot()
        pair = (self._keys[i], self._values[i])
        self._remove_slot(i)
        self._after_delete()
        return pair

    def _last_live_slot(self) -> int:
        """The highest live slot at or below the pop cursor, wrapping once (map not empty).

        The cursor makes a run of pops cost O(capacity) in all; an entry inserted above the
        cursor since is found by the wrap-around.
        """
        keys = self._keys
        dist = self._dist
        i = self._pop_cursor
        while not dist[i] or keys[i] is _TOMBSTONE:
            i -= 1
            if i < 0:
                i = self._mask
        self._pop_cursor = i
        return i

    def _peek_last(self) -> tuple[Any, Any]:
        """The pair :meth:`_drop_last` would remove (the migration drain reads it first)."""
        i = self._last_live_slot()
        return self._keys[i], self._values[i]

    def _drop_last(self) -> None:
        """Remove the pair :meth:`_peek_last` returned, without shrinking."""
        self._remove_slot(self._last_live_slot())

    def clear(self) -> None:
        """Remove everything and return to the initial capacity.

        Complexity: O(initial capacity).

        >>> m = RobinHoodMap(a=1); m.clear(); len(m)
        0
        """
        self._allocate(self._min_capacity)

    # -- iteration -------------------------------------------------------------------------

    def __iter__(self) -> Iterator[K]:
        # Capture the state now, as dict does when an iterator is made, not at the first next().
        return self._generate_keys(self._size, self._keys)

    def _generate_keys(self, size: int, keys: list[Any]) -> Iterator[K]:
        for key in compress(keys, self._dist):
            if key is _TOMBSTONE:
                continue
            if self._size != size or self._keys is not keys:
                raise RuntimeError("RobinHoodMap changed size during iteration")
            yield key
        if self._size != size:
            raise RuntimeError("RobinHoodMap changed size during iteration")

    def _iter_items(self) -> Iterator[tuple[K, V]]:
        # Capture the state now, as dict does when an iterator is made, not at the first next().
        return self._generate_items(self._size, self._keys, self._values)

    def _generate_items(
        self, size: int, keys: list[Any], values: list[Any]
    ) -> Iterator[tuple[K, V]]:
        for i in compress(range(len(keys)), self._dist):
            key = keys[i]
            if key is _TOMBSTONE:
                continue
            if self._size != size or self._keys is not keys:
                raise RuntimeError("RobinHoodMap changed size during iteration")
            yield key, values[i]
        if self._size != size:
            raise RuntimeError("RobinHoodMap changed size during iteration")

    # -- introspection ---------------------------------------------------------------------

    def stats(self) -> MapStats:
        """Size, capacity, load factor, displacement mean and max, tombstones.

        ``flood_keys`` is read from the cluster around the deepest entry.

        Complexity: O(longest displacement): the histogram is kept up to date on every write
        and the deepest entry is found near where it was last seen (a ``memchr`` of the
        displacement array when it has moved far).

        >>> s = RobinHoodMap(a=1).stats()
        >>> (s.backend, s.size, s.capacity, s.probe_length_max, s.tombstones)
        ('robinhood', 1, 8, 0, 0)
        """
        capacity = self._mask + 1
        histogram = self.length_histogram()
        size = self._size
        total = sum(length * count for length, count in enumerate(histogram.counts))
        return MapStats(
            backend=self.backend_name,
            size=size,
            capacity=capacity,
            load_factor=size / capacity,
            probe_length_mean=total / size if size else 0.0,
            probe_length_max=histogram.max_length,
            tombstones=self._tombstones,
            tombstone_ratio=self._tombstones / capacity,
            flood_keys=self._flood_keys(histogram.max_length) if size else 0,
        )

    def _flood_keys(self, deepest: int) -> int:
        """The most keys sharing one ``hash()`` in the cluster around the deepest entry.

        Keys with one identical ``hash()`` share a home slot, so they sit in one cluster (a run
        of occupied slots: none is empty between an entry's home and its slot), and a flood of
        ``g`` keys displaces some entry of that cluster by ``g - 1`` or more. The cluster is
        read outward from the deepest entry, at most 256 slots."""
        if deepest == 0:
            return 1
        dist = self._dist
        mask = self._mask
        target = deepest + 1
        hint = self._deep_hint
        slot = _find(dist, target, max(0, hint - 64), min(mask + 1, hint + 65))
        if slot < 0:
            slot = _find(dist, target, 0, mask + 1)
            if slot < 0:
                return 0
        self._deep_hint = slot
        keys = self._keys
        sample = []
        budget = min(FLOOD_SAMPLE, mask + 1)
        i = slot
        while budget and dist[i]:
            if keys[i] is not _TOMBSTONE:
                sample.append(keys[i])
            budget -= 1
            i = (i - 1) & mask
        i = (slot + 1) & mask
        while budget and dist[i]:
            if keys[i] is not _TOMBSTONE:
                sample.append(keys[i])
            budget -= 1
            i = (i + 1) & mask
        return largest_hash_group(sample)

    def length_histogram(self) -> LengthHistogram:
        """Entries by displacement from their home slot (exact, maintained incrementally).

        Complexity: O(longest displacement).

        >>> RobinHoodMap(a=1).length_histogram().counts
        (1,)
        """
        counts = self._probe_counts
        top = len(counts) - 1
        while top > 0 and not counts[top]:
            top -= 1
        return LengthHistogram("probe", tuple(counts[1 : top + 1]))

    def occupancy_heatmap(self, cells: int = 512, cols: int = 32) -> OccupancyHeatmap:
        """Fraction of occupied slots per cell, read from at most 4096 evenly spaced slots.

        Complexity: O(min(capacity, 4096)).

        >>> RobinHoodMap(capacity=8).occupancy_heatmap(cells=4, cols=2).rows
        2
        """
        dist = self._dist
        keys = self._keys
        return sampled_heatmap(
            self._mask + 1,
            lambda i: 1.0 if dist[i] and keys[i] is not _TOMBSTONE else 0.0,
            cells,
            cols,
        )

    def check_invariants(self) -> None:
        """Verify displacements, the Robin Hood ordering, counters and reachability.

        Complexity: O(capacity); for tests, never the operation path.

        >>> RobinHoodMap(a=1, b=2).check_invariants()
        """
        capacity = self._mask + 1
        keys, values, dist = self._keys, self._values, self._dist
        if not (len(keys) == len(values) == len(dist) == capacity):
            raise InvariantError("parallel arrays differ in length from the capacity")
        live = tombstones = 0
        counts = [0] * len(self._probe_counts)
        for i in range(capacity):
            d = dist[i]
            if d == 0:
                if keys[i] is not _EMPTY or values[i] is not None:
                    raise InvariantError(f"empty slot {i} still holds a key or value")
                continue
            home = (i - d + 1) & self._mask
            prev = dist[(i - 1) & self._mask]
            if d > 1 and prev < d - 1:
                raise InvariantError(f"slot {i}: displacement {d - 1} breaks the Robin Hood order")
            if keys[i] is _TOMBSTONE:
                tombstones += 1
                continue
            live += 1
            counts[d] += 1
            if self._home(keys[i]) != home:
                raise InvariantError(f"slot {i}: key {keys[i]!r} is not {d - 1} from its home")
            if self._find(keys[i]) != i:
                raise InvariantError(f"slot {i}: key {keys[i]!r} cannot be found by a lookup")
        if tombstones and not self._tombstone_mode:
            raise InvariantError("tombstones present under backward-shift deletion")
        if live != self._size:
            raise InvariantError(f"{live} live slots but size says {self._size}")
        if tombstones != self._tombstones:
            raise InvariantError(f"{tombstones} tombstones but the counter says {self._tombstones}")
        if counts != self._probe_counts:
            raise InvariantError("the displacement histogram disagrees with the table")
        if live + tombstones > max(self._grow_at, 1) and live + tombstones >= capacity:
            raise InvariantError("no empty slot left: an insert could not terminate")
