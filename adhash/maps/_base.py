"""What every backend shares: the dict-like surface built on a handful of primitives.

A backend implements the primitives (``__getitem__``, ``__setitem__``, ``__delitem__``,
``__len__``, ``get``, ``__contains__``, ``_pop``, ``_iter_items``, ``reserve``, ``clear``,
``stats`` ...); this base turns them into the whole mapping protocol with ``dict``'s behaviour.
"""

from __future__ import annotations

import reprlib
from abc import abstractmethod
from collections.abc import (
    Callable,
    ItemsView,
    Iterable,
    Iterator,
    Mapping,
    MutableMapping,
    ValuesView,
)
from typing import Any, ClassVar, Generic, Self, TypeVar

from adhash.errors import BadInputError
from adhash.maps.stats import LengthHistogram, MapStats, OccupancyHeatmap

__all__ = ["MISSING", "HashMapBase", "K", "V", "check_power_of_two", "sampled_heatmap"]

K = TypeVar("K")
V = TypeVar("V")

MISSING: Any = object()
"""Marks an absent default (``pop(key)`` without a default)."""

_HEATMAP_MAX_SAMPLES = 4096


def check_power_of_two(name: str, value: int, minimum: int = 1) -> int:
    """Validate a size parameter, raising :class:`BadInputError` with the parameter's name.

    >>> check_power_of_two("capacity", 64)
    64
    >>> check_power_of_two("capacity", 48)
    Traceback (most recent call last):
    ...
    adhash.errors.BadInputError: capacity must be a power of two >= 1, got 48
    """
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or value < minimum
        or value & (value - 1)
    ):
        raise BadInputError(f"{name} must be a power of two >= {minimum}, got {value!r}")
    return value


def check_fraction(name: str, value: float, low: float, high: float) -> float:
    """Validate a ratio parameter lying in the open-closed interval ``(low, high]``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not low < value <= high:
        raise BadInputError(f"{name} must be a number in ({low}, {high}], got {value!r}")
    return float(value)


def sampled_heatmap(
    capacity: int, occupancy_at: Callable[[int], float], cells: int, cols: int
) -> OccupancyHeatmap:
    """Fold ``capacity`` slots into at most ``cells`` cells, reading at most 4096 slots.

    More than 4096 cells are not asked of the budget: the grid is capped at 4096 cells.

    Each cell spans ``capacity // cells`` consecutive slots; within a cell, slots are read at an
    even stride so that the total read stays under the sample budget whatever the capacity.
    """
    if cells < 1 or cols < 1:
        raise BadInputError(f"heatmap needs cells >= 1 and cols >= 1, got {cells} and {cols}")
    n_cells = min(cells, capacity, _HEATMAP_MAX_SAMPLES)
    span = capacity // n_cells
    per_cell = max(1, min(span, _HEATMAP_MAX_SAMPLES // n_cells))
    stride = span // per_cell
    values: list[float] = []
    for cell in range(n_cells):
        start = cell * span
        total = 0.0
        for sample in range(per_cell):
            total += occupancy_at(start + sample * stride)
        values.append(total / per_cell)
    n_cols = min(cols, n_cells)
    rows = -(-n_cells // n_cols)
    values.extend([0.0] * (rows * n_cols - n_cells))
    return OccupancyHeatmap(
        rows=rows,
        cols=n_cols,
        cells=tuple(values),
        slot_span=span,
        capacity=capacity,
        sampled_slots=n_cells * per_cell,
    )


class _ValuesView(ValuesView[V]):
    """A live values view that walks the backend's storage instead of looking each key up."""

    _mapping: HashMapBase[Any, V]

    def __iter__(self) -> Iterator[V]:
        for _key, value in self._mapping._iter_items():
            yield value

    def __contains__(self, value: object) -> bool:
        return any(v is value or v == value for _k, v in self._mapping._iter_items())


class _ItemsView(ItemsView[K, V]):
    """A live, set-like items view that walks the backend's storage directly."""

    _mapping: HashMapBase[K, V]

    def __iter__(self) -> Iterator[tuple[K, V]]:
        return self._mapping._iter_items()


class HashMapBase(MutableMapping[K, V], Generic[K, V]):
    """The shared surface of every adhash map: a ``MutableMapping`` that behaves like ``dict``."""

    backend_name: ClassVar[str] = "abstract"

    # -- primitives every backend provides --------------------------------------------------

    @abstractmethod
    def _iter_items(self) -> Iterator[tuple[K, V]]:
        """Yield ``(key, value)`` pairs; raise RuntimeError if the size changes meanwhile."""

    @abstractmethod
    def _pop(self, key: K, default: Any) -> Any:
        """Remove ``key`` and return its value, or return ``default`` (``MISSING`` raises)."""

    @abstractmethod
    def _config(self) -> dict[str, Any]:
        """The keyword arguments that rebuild an empty map with this map's configuration."""

    @abstractmethod
    def reserve(self, n: int) -> None:
        """Grow the table so ``n`` entries fit without another resize.

        >>> from adhash import CompactMap
        >>> m = CompactMap(); m.reserve(100); m.stats().capacity
        256
        """

    @abstractmethod
    def stats(self) -> MapStats:
        """The map's shape now, as a typed record.

        >>> from adhash import ChainingMap
        >>> ChainingMap(a=1).stats().size
        1
        """

    @abstractmethod
    def length_histogram(self) -> LengthHistogram:
        """The probe-length or chain-length histogram.

        >>> from adhash import RobinHoodMap
        >>> RobinHoodMap(a=1).length_histogram().total
        1
        """

    @abstractmethod
    def occupancy_heatmap(self, cells: int = 512, cols: int = 32) -> OccupancyHeatmap:
        """Slot occupancy folded into a grid of at most ``cells`` cells.

        >>> from adhash import CompactMap
        >>> CompactMap().occupancy_heatmap(cells=8, cols=4).rows
        2
        """

    @abstractmethod
    def check_invariants(self) -> None:
        """Verify the whole structure; raise :class:`InvariantError` on the first violation.

        >>> from adhash import ChainingMap
        >>> ChainingMap(a=1).check_invariants()
        """

    def _rebuild(self, size: int) -> None:
        """Reallocate for ``size`` (slots or buckets) and re-insert every entry."""
        raise NotImplementedError

    def _resize(self, size: int) -> None:
        """:meth:`_rebuild`, all or nothing: if a stored key's ``__hash__`` raises part-way,
        the old table is put back untouched (the rebuild only reads the old arrays)."""
        saved = dict(self.__dict__)
        try:
            self._rebuild(size)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    def _export(self) -> tuple[list[K], list[V]]:
        """Every key and value as two parallel lists (in iteration order), built in bulk."""
        keys: list[K] = []
        values: list[V] = []
        for key, value in self._iter_items():
            keys.append(key)
            values.append(value)
        return keys, values

    def _load_absent(self, new_keys: list[Any], new_values: list[Any]) -> None:
        """Insert keys known to be absent and distinct; backends skip the key comparisons."""
        for key, value in zip(new_keys, new_values, strict=True):
            self[key] = value

    # -- construction ----------------------------------------------------------------------

    def _fill(self, other: Any, items: Mapping[str, Any]) -> None:
        if not (type(other) is tuple and not other):
            self.update(other)
        if items:
            self.update(items)

    @classmethod
    def fromkeys(cls, iterable: Iterable[Any], value: Any = None, /, **config: Any) -> Self:
        """A new map with the keys of ``iterable``, each mapped to ``value``.

        Complexity: O(n).

        >>> from adhash import CompactMap
        >>> CompactMap.fromkeys("ab", 0)
        CompactMap({'a': 0, 'b': 0})
        """
        new = cls(**config)
        for key in iterable:
            new[key] = value
        return new

    def copy(self) -> Self:
        """A shallow copy with the same configuration, sized for the current contents.

        Complexity: O(n).

        >>> from adhash import ChainingMap
        >>> m = ChainingMap(a=1)
        >>> c = m.copy(); c["b"] = 2
        >>> (len(m), len(c))
        (1, 2)
        """
        new = type(self)(**self._config())
        new.reserve(len(self))
        for key, value in self._iter_items():
            new[key] = value
        return new

    def __copy__(self) -> Self:
        return self.copy()

    # -- the dict surface ------------------------------------------------------------------

    def update(self, other: Any = (), /, **items: V) -> None:
        """Insert every pair of ``other`` (a mapping or an iterable of pairs) and ``items``.

        Complexity: O(len(other)), with one resize at most when ``other`` is sized.

        >>> from adhash import CompactMap
        >>> m = CompactMap()
        >>> m.update({"a": 1}, b=2); m.update([("c", 3)])
        >>> m
        CompactMap({'a': 1, 'b': 2, 'c': 3})
        """
        if isinstance(other, Mapping):
            if not self and (type(other) is dict or isinstance(other, HashMapBase)):
                # Keys of a dict or an adhash map are distinct: no lookups are needed.
                self._load_absent(list(other.keys()), list(other.values()))
            else:
                self.reserve(len(self) + len(other))
                for key, value in other.items():
                    self[key] = value
        elif hasattr(other, "keys"):
            for key in other.keys():  # noqa: SIM118 - the keys() protocol, as dict.update
                self[key] = other[key]
        else:
            for pair in other:
                key, value = pair
                self[key] = value
        for key, value in items.items():
            self[key] = value  # type: ignore[index]

    def pop(self, key: K, default: Any = MISSING) -> Any:
        """Remove ``key`` and return its value; ``default`` if absent, else KeyError.

        Complexity: O(1) expected.

        >>> from adhash import RobinHoodMap
        >>> m = RobinHoodMap(a=1)
        >>> (m.pop("a"), m.pop("a", None), len(m))
        (1, None, 0)
        """
        return self._pop(key, default)

    def setdefault(self, key: K, default: Any = None) -> Any:
        """Return ``self[key]``, first inserting ``default`` when the key is absent.

        Complexity: O(1) expected.

        >>> from adhash import ChainingMap
        >>> m = ChainingMap()
        >>> (m.setdefault("a", []), m.setdefault("a", [1]))
        ([], [])
        """
        value = self.get(key, MISSING)
        if value is MISSING:
            self[key] = default
            return default
        return value

    def popitem(self) -> tuple[K, V]:
        """Remove and return some ``(key, value)`` pair; KeyError when empty.

        Complexity: O(1) amortised.

        >>> from adhash import CompactMap
        >>> CompactMap(a=1, b=2).popitem()
        ('b', 2)
        """
        first = next(self._iter_items(), None)
        if first is None:
            raise KeyError(f"popitem(): {type(self).__name__} is empty")
        return first[0], self._pop(first[0], MISSING)

    def values(self) -> ValuesView[V]:
        """A live view of the values.

        >>> from adhash import RobinHoodMap
        >>> m = RobinHoodMap(a=1); v = m.values(); m["b"] = 2
        >>> sorted(v)
        [1, 2]
        """
        return _ValuesView(self)

    def items(self) -> ItemsView[K, V]:
        """A live, set-like view of the ``(key, value)`` pairs.

        >>> from adhash import ChainingMap
        >>> sorted(ChainingMap(a=1, b=2).items())
        [('a', 1), ('b', 2)]
        """
        return _ItemsView(self)

    @reprlib.recursive_repr("{...}")
    def __repr__(self) -> str:
        body = ", ".join(f"{key!r}: {value!r}" for key, value in self._iter_items())
        return f"{type(self).__name__}({{{body}}})"

    def __or__(self, other: Any) -> Self:
        if not isinstance(other, Mapping):
            return NotImplemented
        new = self.copy()
        new.update(other)
        return new

    def __ror__(self, other: Any) -> Any:
        if not isinstance(other, Mapping):
            return NotImplemented
        new = self.copy()
        new.clear()
        new.update(other)
        new.update(self)
        return new

    def __ior__(self, other: Any) -> Self:
        self.update(other)
        return self

    def __reduce__(self) -> Any:
        return (_rebuild, (type(self), self._config(), list(self._iter_items())))


def _rebuild(cls: type[HashMapBase[Any, Any]], config: dict[str, Any], pairs: list[Any]) -> Any:
    new = cls(**config)
    new.update(pairs)
    return new
