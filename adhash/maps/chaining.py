"""ChainingMap: two-level separate chaining searched with C-level tuple operations.

The table is ``buckets × groups_per_bucket`` chains. A key's chain comes from its mixed hash:
the high bits of the index pick the bucket, the low ``log2(groups_per_bucket)`` bits the group
inside it, so the two levels of the original design stay visible in the statistics and the
heatmap while a lookup costs one index computation. Each chain is a ``tuple`` of keys (the
shared empty tuple when empty) beside a ``list`` of values, so membership and position are
found by ``in`` and ``tuple.index`` in C, which compare by identity first.

The table doubles its buckets when entries per chain exceed ``max_load_factor`` and halves them
after mass deletion. A histogram of chain lengths is kept on every write, so the longest chain
and the mean are known in O(1) without scanning.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from adhash.errors import InvariantError
from adhash.maps._base import (
    MISSING,
    HashMapBase,
    K,
    V,
    check_fraction,
    check_power_of_two,
    sampled_heatmap,
)
from adhash.maps._hashing import salt_for
from adhash.maps.stats import (
    FLOOD_SAMPLE,
    LengthHistogram,
    MapStats,
    OccupancyHeatmap,
    largest_hash_group,
)

__all__ = ["ChainingMap"]

_SHRINK_LOAD = 0.15


class ChainingMap(HashMapBase[K, V]):
    """Two-level separate chaining: buckets × groups, each group a chain of entries.

    Tuning parameters (keyword-only): ``buckets`` (initial buckets, a power of two),
    ``groups_per_bucket`` (a power of two, fixed for the map's life), ``max_load_factor``
    (entries per chain before the buckets double, default 1.0) and ``hash_seed``.

    >>> m = ChainingMap([("a", 1)], b=2)
    >>> m["c"] = None
    >>> (m["a"], m.get("z"), "c" in m, len(m))
    (1, None, True, 3)
    """

    backend_name = "chaining"

    def __init__(
        self,
        other: Any = (),
        /,
        *,
        buckets: int = 8,
        groups_per_bucket: int = 8,
        max_load_factor: float = 1.0,
        hash_seed: int | None = None,
        **items: V,
    ) -> None:
        self._min_buckets = check_power_of_two("buckets", buckets)
        self._groups_per_bucket = check_power_of_two("groups_per_bucket", groups_per_bucket)
        self._max_load = check_fraction("max_load_factor", max_load_factor, 0.0, 64.0)
        self._hash_seed = hash_seed
        self._salt = salt_for(hash_seed)
        self._allocate(buckets)
        self._fill(other, items)

    def _allocate(self, buckets: int) -> None:
        chains = buckets * self._groups_per_bucket
        self._buckets = buckets
        self._mask = chains - 1
        self._chain_keys: list[tuple[Any, ...]] = [()] * chains
        self._chain_values: list[list[Any] | None] = [None] * chains
        # _chain_counts[n] = chains holding n entries; _longest = highest n with a chain.
        self._chain_counts = [chains, 0]
        self._longest = 0
        self._longest_at = 0
        self._size = 0
        self._grow_at = max(1, int(chains * self._max_load))
        self._shrink_at = int(chains * _SHRINK_LOAD) if buckets > self._min_buckets else -1
        self._pop_cursor = chains - 1

    def _config(self) -> dict[str, Any]:
        return {
            "buckets": self._min_buckets,
            "groups_per_bucket": self._groups_per_bucket,
            "max_load_factor": self._max_load,
            "hash_seed": self._hash_seed,
        }

    # -- lookups ---------------------------------------------------------------------------

    def __getitem__(self, key: K) -> V:
        """``self[key]``; KeyError when absent.

        Complexity: O(1) expected: one chain, searched in C.

        >>> ChainingMap(a=1)["a"]
        1
        """
        i = hash((key, self._salt)) & self._mask
        chain = self._chain_keys[i]
        # Not try/except around tuple.index: a key's __eq__ may raise ValueError itself.
        if key in chain:
            return self._chain_values[i][chain.index(key)]  # type: ignore[index,no-any-return]
        raise KeyError(key)

    def get(self, key: K, default: Any = None) -> Any:
        """``self[key]`` if present, else ``default``.

        Complexity: O(1) expected.

        >>> ChainingMap(a=1).get("b", 0)
        0
        """
        i = hash((key, self._salt)) & self._mask
        chain = self._chain_keys[i]
        if key in chain:
            return self._chain_values[i][chain.index(key)]  # type: ignore[index]
        return default

    def __contains__(self, key: object) -> bool:
        """``key in self``.

        Complexity: O(1) expected.

        >>> "a" in ChainingMap(a=1)
        True
        """
        return key in self._chain_keys[hash((key, self._salt)) & self._mask]

    def __len__(self) -> int:
        return self._size

    # -- insertion and deletion ------------------------------------------------------------

    def __setitem__(self, key: K, value: V) -> None:
        """``self[key] = value``.

        Complexity: O(1) amortised; doubling the buckets rehashes in O(n).

        >>> m = ChainingMap(); m["a"] = 1; m["a"] = 2
        >>> m
        ChainingMap({'a': 2})
        """
        i = hash((key, self._salt)) & self._mask
        chain = self._chain_keys[i]
        if key in chain:
            self._chain_values[i][chain.index(key)] = value  # type: ignore[index]
            return
        if self._size >= self._grow_at:
            self._resize(self._buckets * 2)
            i = hash((key, self._salt)) & self._mask
            chain = self._chain_keys[i]
        n = len(chain)
        counts = self._chain_counts
        if n:
            # Concatenation is twice as fast as (*chain, key) here.
            self._chain_keys[i] = chain + (key,)  # noqa: RUF005
            self._chain_values[i].append(value)  # type: ignore[union-attr]
            counts[n] -= 1
            if n + 1 == len(counts):
                counts.append(0)
            if n == self._longest:
                self._longest = n + 1
                self._longest_at = i
        else:
            self._chain_keys[i] = (key,)
            self._chain_values[i] = [value]
            counts[0] -= 1
            if not self._longest:
                self._longest = 1
                self._longest_at = i
        counts[n + 1] += 1
        self._size += 1

    def __delitem__(self, key: K) -> None:
        """``del self[key]``; KeyError when absent.

        Complexity: O(1) expected.

        >>> m = ChainingMap(a=1, b=2); del m["a"]
        >>> m
        ChainingMap({'b': 2})
        """
        i = hash((key, self._salt)) & self._mask
        chain = self._chain_keys[i]
        if len(chain) == 1 and (chain[0] is key or chain[0] == key):
            # The common case: the key is alone in its chain.
            self._chain_keys[i] = ()
            self._chain_values[i] = None
            counts = self._chain_counts
            counts[1] -= 1
            counts[0] += 1
            if self._longest == 1 and not counts[1]:
                self._longest = 0
            self._size -= 1
        elif key in chain:
            self._remove(i, chain, chain.index(key))
        else:
            raise KeyError(key)
        if self._size < self._shrink_at:
            self._resize(self._buckets // 2)

    def _pop(self, key: Any, default: Any) -> Any:
        i = hash((key, self._salt)) & self._mask
        chain = self._chain_keys[i]
        if key not in chain:
            if default is MISSING:
                raise KeyError(key)
            return default
        value = self._remove(i, chain, chain.index(key))
        if self._size < self._shrink_at:
            self._resize(self._buckets // 2)
        return value

    def _detach(self, key: Any) -> Any:
        """Remove ``key`` without shrinking (a backend being drained); MISSING if absent."""
        i = hash((key, self._salt)) & self._mask
        chain = self._chain_keys[i]
        if key not in chain:
            return MISSING
        return self._remove(i, chain, chain.index(key))

    def _remove(self, i: int, chain: tuple[Any, ...], j: int) -> Any:
        n = len(chain)
        values = self._chain_values[i]
        assert values is not None
        value = values.pop(j)
        if n == 1:
            self._chain_keys[i] = ()
            self._chain_values[i] = None
        else:
            self._chain_keys[i] = chain[:j] + chain[j + 1 :]
        counts = self._chain_counts
        counts[n] -= 1
        counts[n - 1] += 1
        if n == self._longest and not counts[n]:
            self._longest = n - 1
        self._size -= 1
        return value

    def popitem(self) -> tuple[K, V]:
        """Remove and return the last pair of the highest non-empty chain; KeyError when empty.

        Complexity: O(1) amortised while popping repeatedly.

        >>> ChainingMap(a=1).popitem()
        ('a', 1)
        """
        if not self._size:
            raise KeyError("popitem(): ChainingMap is empty")
        i = self._last_chain()
        chain = self._chain_keys[i]
        key = chain[-1]
        value = self._remove(i, chain, len(chain) - 1)
        if self._size < self._shrink_at:
            self._resize(self._buckets // 2)
        return key, value

    def _last_chain(self) -> int:
        """The highest non-empty chain at or below the pop cursor, wrapping once."""
        chain_keys = self._chain_keys
        i = self._pop_cursor
        while not chain_keys[i]:
            i -= 1
            if i < 0:
                i = self._mask
        self._pop_cursor = i
        return i

    def _peek_last(self) -> tuple[Any, Any]:
        """The pair :meth:`_drop_last` would remove (the migration drain reads it first)."""
        i = self._last_chain()
        values = self._chain_values[i]
        assert values is not None
        return self._chain_keys[i][-1], values[-1]

    def _drop_last(self) -> None:
        """Remove the pair :meth:`_peek_last` returned, without shrinking."""
        i = self._last_chain()
        chain = self._chain_keys[i]
        self._remove(i, chain, len(chain) - 1)

    def _buckets_for(self, n: int) -> int:
        buckets = self._min_buckets
        while buckets * self._groups_per_bucket * self._max_load < n + 1:
            buckets *= 2
        return buckets

    def _rebuild(self, buckets: int) -> None:
        """Rehash into ``buckets`` buckets.

        When the table doubles, chain ``i`` can only split into chains ``i`` and ``i + n``
        (the index gains one bit), so a chain of one entry moves as it is, tuple and value
        list included, and only longer chains are split; when it halves, chains ``i`` and
        ``i + n`` simply concatenate. Any other resize re-inserts every key.
        """
        old_keys = self._chain_keys
        old_values = self._chain_values
        old_chains = len(old_keys)
        self._allocate(buckets)
        salt = self._salt
        mask = self._mask
        chain_keys = self._chain_keys
        chain_values = self._chain_values
        if len(chain_keys) == 2 * old_chains:
            for i, chain in enumerate(old_keys):
                if not chain:
                    continue
                if len(chain) == 1:
                    j = hash((chain[0], salt)) & mask
                    chain_keys[j] = chain
                    chain_values[j] = old_values[i]
                    continue
                low: list[Any] = []
                high: list[Any] = []
                low_values: list[Any] = []
                high_values: list[Any] = []
                for key, value in zip(chain, old_values[i], strict=True):  # type: ignore[arg-type]
                    if hash((key, salt)) & old_chains:
                        high.append(key)
                        high_values.append(value)
                    else:
                        low.append(key)
                        low_values.append(value)
                if low:
                    chain_keys[i] = tuple(low)
                    chain_values[i] = low_values
                if high:
                    chain_keys[i + old_chains] = tuple(high)
                    chain_values[i + old_chains] = high_values
        elif 2 * len(chain_keys) == old_chains:
            # Halving: chains i and i + n merge into chain i, no hashing needed.
            half = len(chain_keys)
            for i in range(half):
                low_chain = old_keys[i]
                high_chain = old_keys[i + half]
                if low_chain and high_chain:
                    chain_keys[i] = low_chain + high_chain
                    chain_values[i] = old_values[i] + old_values[i + half]  # type: ignore[operator]
                elif low_chain:
                    chain_keys[i] = low_chain
                    chain_values[i] = old_values[i]
                elif high_chain:
                    chain_keys[i] = high_chain
                    chain_values[i] = old_values[i + half]
        else:
            all_keys = [key for chain in old_keys for key in chain]
            all_values = [value for values in old_values if values for value in values]
            self._place_absent(all_keys, all_values)
            return
        self._recount()

    def _place_absent(self, new_keys: list[Any], new_values: list[Any]) -> None:
        """Append keys known to be absent and distinct to their chains, no comparisons.

        For rebuilds and bulk loads; recounts the chain histogram once at the end.
        """
        salt = self._salt
        mask = self._mask
        chain_keys = self._chain_keys
        chain_values = self._chain_values
        try:
            for key, value in zip(new_keys, new_values, strict=True):
                j = hash((key, salt)) & mask
                existing = chain_keys[j]
                if existing:
                    chain_keys[j] = existing + (key,)  # noqa: RUF005
                    chain_values[j].append(value)  # type: ignore[union-attr]
                else:
                    chain_keys[j] = (key,)
                    chain_values[j] = [value]
        finally:
            # A key's __hash__ may raise part-way: count what was placed.
            self._recount()

    def _recount(self) -> None:
        """Rebuild the chain-length histogram and the size from the chains: O(chains)."""
        chain_keys = self._chain_keys
        lengths = list(map(len, chain_keys))
        longest = max(lengths)
        counts = [0] * (longest + 2)
        for length in lengths:
            counts[length] += 1
        self._chain_counts = counts
        self._longest = longest
        self._longest_at = lengths.index(longest)
        self._size = sum(length * count for length, count in enumerate(counts))

    def _export(self) -> tuple[list[K], list[V]]:
        keys = [key for chain in self._chain_keys for key in chain]
        values = [value for values in self._chain_values if values for value in values]
        return keys, values

    def _load_absent(self, new_keys: list[Any], new_values: list[Any]) -> None:
        """Bulk insert of keys known to be absent from the map and distinct from each other."""
        self.reserve(self._size + len(new_keys))
        self._place_absent(new_keys, new_values)

    def reserve(self, n: int) -> None:
        """Grow so that ``n`` entries fit without another resize.

        Complexity: O(n) when it resizes, O(1) otherwise.

        >>> m = ChainingMap(); m.reserve(1000); m.stats().capacity
        1024
        """
        if n > self._grow_at:
            self._resize(self._buckets_for(max(n, self._size) - 1))

    def clear(self) -> None:
        """Remove everything and return to the initial number of buckets.

        Complexity: O(initial chains).

        >>> m = ChainingMap(a=1); m.clear(); len(m)
        0
        """
        self._allocate(self._min_buckets)

    # -- iteration -------------------------------------------------------------------------

    def __iter__(self) -> Iterator[K]:
        # Capture the state now, as dict does when an iterator is made, not at the first next().
        return self._generate_keys(self._size, self._chain_keys)

    def _generate_keys(self, size: int, chain_keys: list[tuple[Any, ...]]) -> Iterator[K]:
        for chain in chain_keys:
            if chain:
                for key in chain:
                    if self._size != size or self._chain_keys is not chain_keys:
                        raise RuntimeError("ChainingMap changed size during iteration")
                    yield key
        if self._size != size:
            raise RuntimeError("ChainingMap changed size during iteration")

    def _iter_items(self) -> Iterator[tuple[K, V]]:
        # Capture the state now, as dict does when an iterator is made, not at the first next().
        return self._generate_items(self._size, self._chain_keys, self._chain_values)

    def _generate_items(
        self, size: int, chain_keys: list[tuple[Any, ...]], chain_values: list[list[Any] | None]
    ) -> Iterator[tuple[K, V]]:
        for i, chain in enumerate(chain_keys):
            if chain:
                for pair in zip(chain, chain_values[i], strict=False):  # type: ignore[arg-type]
                    if self._size != size or self._chain_keys is not chain_keys:
                        raise RuntimeError("ChainingMap changed size during iteration")
                    yield pair
        if self._size != size:
            raise RuntimeError("ChainingMap changed size during iteration")

    # -- introspection ---------------------------------------------------------------------

    @property
    def buckets(self) -> int:
        """The number of buckets now (each holds ``groups_per_bucket`` chains).

        >>> ChainingMap(buckets=16).buckets
        16
        """
        return self._buckets

    @property
    def groups_per_bucket(self) -> int:
        """Groups (chains) per bucket, fixed at construction.

        >>> ChainingMap().groups_per_bucket
        8
        """
        return self._groups_per_bucket

    def stats(self) -> MapStats:
        """Size, chains, entries per chain, chain length mean (non-empty chains) and max, and
        ``flood_keys`` read from the longest chain (the last chain to reach the longest length).

        Complexity: O(1): the chain-length histogram is kept up to date on every write, and
        at most 256 keys of one chain are hashed.

        >>> s = ChainingMap(a=1).stats()
        >>> (s.backend, s.size, s.capacity, s.chain_length_max)
        ('chaining', 1, 64, 1)
        """
        chains = self._mask + 1
        occupied = chains - self._chain_counts[0]
        return MapStats(
            backend=self.backend_name,
            size=self._size,
            capacity=chains,
            load_factor=self._size / chains,
            chain_length_mean=self._size / occupied if occupied else 0.0,
            chain_length_max=self._longest,
            flood_keys=self._flood_keys(),
        )

    def _flood_keys(self) -> int:
        """The most keys sharing one ``hash()`` in (a sample of) the longest chain."""
        if self._longest < 2:
            return self._longest
        return largest_hash_group(self._chain_keys[self._longest_at][:FLOOD_SAMPLE])

    def length_histogram(self) -> LengthHistogram:
        """Chains by number of entries, ``counts[0]`` being the empty chains (exact).

        Complexity: O(longest chain).

        >>> ChainingMap(a=1).length_histogram().counts
        (63, 1)
        """
        return LengthHistogram("chain", tuple(self._chain_counts[: self._longest + 1]))

    def occupancy_heatmap(self, cells: int = 512, cols: int = 32) -> OccupancyHeatmap:
        """Mean entries per chain per cell, read from at most 4096 evenly spaced chains.

        Complexity: O(min(chains, 4096)).

        >>> ChainingMap().occupancy_heatmap(cells=8, cols=4).cols
        4
        """
        chain_keys = self._chain_keys
        return sampled_heatmap(self._mask + 1, lambda i: float(len(chain_keys[i])), cells, cols)

    def check_invariants(self) -> None:
        """Verify every chain: parallel lengths, placement, no duplicates, counters.

        Complexity: O(n + chains); for tests, never the operation path.

        >>> ChainingMap(a=1, b=2).check_invariants()
        """
        chains = self._mask + 1
        if len(self._chain_keys) != chains or len(self._chain_values) != chains:
            raise InvariantError("chain arrays differ in length from the table size")
        if chains != self._buckets * self._groups_per_bucket:
            raise InvariantError("chains != buckets × groups_per_bucket")
        counts: dict[int, int] = {}
        total = 0
        for i, chain in enumerate(self._chain_keys):
            values = self._chain_values[i]
            if not isinstance(chain, tuple):
                raise InvariantError(f"chain {i} is not a tuple")
            mismatched = values is not None and len(values) != len(chain)
            if (values is None) != (not chain) or mismatched:
                raise InvariantError(f"chain {i}: keys and values differ in length")
            for key in chain:
                if hash((key, self._salt)) & self._mask != i:
                    raise InvariantError(f"chain {i}: key {key!r} belongs to another chain")
                if chain.count(key) != 1:
                    raise InvariantError(f"chain {i}: key {key!r} is stored twice")
            counts[len(chain)] = counts.get(len(chain), 0) + 1
            total += len(chain)
        if total != self._size:
            raise InvariantError(f"chains hold {total} entries but size says {self._size}")
        kept = {n: c for n, c in enumerate(self._chain_counts) if c}
        if kept != counts:
            raise InvariantError("the chain-length histogram disagrees with the chains")
        if self._longest != max(counts):
            raise InvariantError(f"longest chain is {max(counts)}, counter says {self._longest}")
