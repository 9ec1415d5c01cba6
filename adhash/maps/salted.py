"""Salted hashing: a keyed hash of a key's *value*, the defence against hash flooding.

Every plain backend places a key by ``hash((key, salt))``. That mixes the bits of ``hash(key)``
well, but keys whose ``hash()`` values are *identical* (ints equal modulo 2⁶¹-1, ``str`` keys
chosen for a known ``PYTHONHASHSEED``, objects with a constant ``__hash__``) still land together:
no function of ``hash(key)`` can tell them apart. A :class:`SaltedMap` stores each key as the
pair ``(keyed_hash(key), key)`` in a plain backend, where ``keyed_hash`` reads the key's value,
not its ``hash()``, under a secret per-map salt:

* machine-size ints (|k| < 2⁸⁸): ``(a·k + b) mod (2⁸⁹-1)``, kept to 61 bits, with secret ``a``
  and ``b`` (a universal family: two distinct ints collide with probability about 2⁻⁶¹);
* ``str``, ``bytes`` and larger ints: keyed BLAKE2b of their bytes (8-byte digest);
* ``bool``, integral floats and other integral numbers hash as the int they equal; other finite
  numbers as their exact ratio ``n/d``, so ``0.5`` and ``Fraction(1, 2)`` stay one key, as in
  ``dict``; ``None`` and infinities by a tag; NaN by its identity (as ``hash()`` does);
* tuples of these: keyed BLAKE2b of their items' keyed hashes.

The pair's ``hash()`` combines the keyed hash with ``hash(key)`` bijectively, so colliding keys
get distinct pair hashes and spread out. Keys of any other type cannot be hashed by value
safely (their ``__eq__`` is theirs to define), so they stay on *plain* hashing, stored as
``(None, key)``; :attr:`MapStats.unsalted_keys` counts them and the flooding guardrail's alert
says why they may still collide.

Subclasses of the supported types are hashed by value only when they equal their base value
and hash like it (an ``IntEnum`` member does); otherwise they take the plain path. A key of an
unsupported type that equals a supported key but hashes differently from it (which ``dict``
would also mishandle) is kept apart from it here.
"""

from __future__ import annotations

import hashlib
import math
import numbers
import secrets
from collections.abc import Iterator
from dataclasses import replace
from fractions import Fraction
from typing import Any

from adhash.errors import BadInputError, InvariantError
from adhash.maps._base import MISSING, HashMapBase, K, V
from adhash.maps.chaining import ChainingMap
from adhash.maps.compact import CompactMap
from adhash.maps.robinhood import RobinHoodMap
from adhash.maps.stats import LengthHistogram, MapStats, OccupancyHeatmap

__all__ = ["KeyedHasher", "SaltedMap", "salted_key_types"]

_P89 = (1 << 89) - 1
_M61 = (1 << 61) - 1
_INT_LIMIT = 1 << 88
_ABSENT: Any = object()
_PLAIN_BACKENDS: dict[
    str, type[ChainingMap[Any, Any]] | type[RobinHoodMap[Any, Any]] | type[CompactMap[Any, Any]]
] = {
    "chaining": ChainingMap,
    "robinhood": RobinHoodMap,
    "compact": CompactMap,
}


def salted_key_types() -> str:
    """The key types salted hashing hashes by value, for messages.

    >>> salted_key_types()
    'str, bytes, int, float, bool, None, other numbers, and tuples of these'
    """
    return "str, bytes, int, float, bool, None, other numbers, and tuples of these"


class KeyedHasher:
    """A secret keyed hash of a key's value; equal keys (as ``dict`` sees them) hash alike.

    ``seed`` makes the secret reproducible (for tests and replays); without it the secret comes
    from :mod:`secrets`. :meth:`__call__` returns a non-negative 61-bit int, or ``None`` for a
    key whose type cannot be hashed by value.

    >>> h = KeyedHasher(seed=1)
    >>> h(1) == h(1.0) == h(True)
    True
    >>> from fractions import Fraction
    >>> h(0.5) == h(Fraction(1, 2)), h("a") == h(b"a"), h(object()) is None
    (True, False, True)
    >>> P = 2**61 - 1
    >>> hash(3 + P) == hash(3 + 2 * P), h(3 + P) == h(3 + 2 * P)
    (True, False)
    """

    __slots__ = ("_a", "_b", "_key")

    def __init__(self, seed: int | None = None) -> None:
        if seed is None:
            material = secrets.token_bytes(64)
        else:
            if not isinstance(seed, int) or isinstance(seed, bool):
                raise BadInputError(f"seed must be an int, got {type(seed).__name__}")
            material = hashlib.blake2b(
                str(seed).encode(), digest_size=64, person=b"adhash-keyed"
            ).digest()
        self._a = int.from_bytes(material[:16], "little") % (_P89 - 1) + 1
        self._b = int.from_bytes(material[16:32], "little") % _P89
        self._key = material[32:64]

    def __call__(self, key: object) -> int | None:
        """The keyed hash of ``key``, or ``None`` for a type that takes the plain path.

        Complexity: O(size of the key).
        """
        kind = type(key)
        if kind is int and -_INT_LIMIT < key < _INT_LIMIT:  # type: ignore[operator]
            return (self._a * key + self._b) % _P89 & _M61  # type: ignore[operator]
        if kind is str:
            return self._digest(b"s", key.encode("utf-8", "surrogatepass"))  # type: ignore[attr-defined]
        return self._other(key, 0)

    def _digest(self, tag: bytes, payload: bytes) -> int:
        digest = hashlib.blake2b(payload, digest_size=8, key=self._key, person=tag).digest()
        return int.from_bytes(digest, "little") >> 3

    def _int(self, value: int) -> int:
        if -_INT_LIMIT < value < _INT_LIMIT:
            return (self._a * value + self._b) % _P89 & _M61
        size = (value.bit_length() + 8) // 8
        return self._digest(b"i", value.to_bytes(size, "little", signed=True))

    def _other(self, key: object, depth: int) -> int | None:
        kind = type(key)
        if kind is int:
            return self._int(key)  # type: ignore[arg-type]
        if kind is str:
            return self._digest(b"s", key.encode("utf-8", "surrogatepass"))  # type: ignore[attr-defined]
        if kind is bytes:
            return self._digest(b"b", key)  # type: ignore[arg-type]
        if key is None:
            return self._digest(b"n", b"")
        if kind is float or kind is bool:
            return self._number(key)
        if kind is tuple:
            return self._tuple(key, depth)  # type: ignore[arg-type]
        return self._subclass(key, depth)

    def _number(self, key: Any) -> int | None:
        """Numbers by value: integral ones as the int they equal, other finite ones as their
        exact ratio ``n/d``, infinities by sign, NaN by identity; None when that is unsafe.

        A number of a type other than int, float and bool is hashed by value only if its
        ``hash()`` agrees with that of the value (``dict``'s contract for equal keys)."""
        try:
            if isinstance(key, numbers.Complex) and not isinstance(key, numbers.Real):
                return self._number(key.real) if key.imag == 0 else None
            if isinstance(key, numbers.Integral):
                canonical: object = int(key)
            else:
                ratio = getattr(key, "as_integer_ratio", None)
                if ratio is None:
                    return None
                try:
                    numerator, denominator = ratio()
                except (ValueError, OverflowError):
                    value = float(key)
                    if math.isnan(value):
                        # NaN equals only itself; its hash() is identity-based, and so is this.
                        return self._digest(b"N", hash(key).to_bytes(8, "little", signed=True))
                    canonical = value
                else:
                    canonical = numerator if denominator == 1 else Fraction(numerator, denominator)
            if type(key) not in (int, float, bool) and hash(key) != hash(canonical):
                return None
        except (TypeError, ValueError, OverflowError, ArithmeticError):
            return None
        if type(canonical) is int:
            return self._int(canonical)
        if type(canonical) is float:
            return self._digest(b"f", b"+" if canonical > 0 else b"-")
        assert isinstance(canonical, Fraction)
        return self._digest(b"q", f"{canonical.numerator}/{canonical.denominator}".encode())

    def _tuple(self, key: tuple[Any, ...], depth: int) -> int | None:
        if depth >= 32:
            return None
        parts = bytearray(len(key).to_bytes(8, "little"))
        for item in key:
            value = self._other(item, depth + 1)
            if value is None:
                return None
            parts += value.to_bytes(8, "little")
        return self._digest(b"t", bytes(parts))

    def _subclass(self, key: object, depth: int) -> int | None:
        """A subclass of a supported type, or another number: by value when that is safe."""
        base: object
        if isinstance(key, str):
            base = key[:]
            if type(base) is not str:
                base = "".join([key])
        elif isinstance(key, bytes):
            base = bytes(key)
        elif isinstance(key, tuple):
            base = tuple(key)
        elif isinstance(key, numbers.Number):
            return self._number(key)
        else:
            return None
        try:
            if hash(base) != hash(key) or base != key:
                return None
        except Exception:
            return None
        return self._other(base, depth)


class SaltedMap(HashMapBase[K, V]):
    """A plain backend holding ``(keyed_hash(key), key)`` pairs: flooding-proof placement.

    Tuning parameters (keyword-only): ``inner``, the plain backend that stores the pairs (a
    name, ``"chaining"``, ``"robinhood"`` or ``"compact"``, or an empty instance of one), and
    ``seed``, which makes the secret reproducible (without it the secret is random) and, for a
    backend given by name, its layout too. The map
    behaves like ``dict``; iteration follows the inner backend's order.
    Every key costs one more 2-tuple and one keyed hash per operation (a lookup takes about
    twice as long as on the plain backend).

    >>> from adhash import ChainingMap
    >>> P = 2**61 - 1
    >>> m = SaltedMap(seed=5)
    >>> m.update((7 + j * P, j) for j in range(100))
    >>> plain = ChainingMap.fromkeys(7 + j * P for j in range(100))
    >>> (m[7 + 3 * P], plain.stats().chain_length_max, m.stats().chain_length_max < 10)
    (3, 100, True)
    """

    backend_name = "salted"

    def __init__(
        self,
        other: Any = (),
        /,
        *,
        inner: str | HashMapBase[Any, Any] = "chaining",
        seed: int | None = None,
        **items: V,
    ) -> None:
        if isinstance(inner, str):
            factory = _PLAIN_BACKENDS.get(inner)
            if factory is None:
                raise BadInputError(
                    f"unknown backend {inner!r}; choose one of {', '.join(_PLAIN_BACKENDS)}"
                )
            inner = factory(hash_seed=seed)
        if not isinstance(inner, ChainingMap | RobinHoodMap | CompactMap):
            raise BadInputError(
                "SaltedMap wraps an empty ChainingMap, RobinHoodMap or CompactMap, "
                f"got {type(inner).__name__}"
            )
        if len(inner):
            raise BadInputError("SaltedMap needs an empty inner backend")
        self._inner: HashMapBase[Any, Any] = inner
        self._seed = seed
        self._hasher = KeyedHasher(seed)
        self._plain = 0
        self._plain_type: str | None = None
        self._fill(other, items)

    def _config(self) -> dict[str, Any]:
        inner = self._inner
        return {"inner": type(inner)(**inner._config()), "seed": self._seed}

    # -- the public face ---------------------------------------------------------------------

    @property
    def inner(self) -> HashMapBase[Any, Any]:
        """The plain backend holding the ``(keyed_hash, key)`` pairs (read it, do not write).

        >>> SaltedMap(inner="robinhood").inner.backend_name
        'robinhood'
        """
        return self._inner

    @property
    def unsalted_keys(self) -> int:
        """Keys of types that cannot be hashed by value, stored on plain hashing.

        >>> m = SaltedMap(); m[1] = m[object()] = None; m.unsalted_keys
        1
        """
        return self._plain

    @property
    def unsalted_type(self) -> str | None:
        """The type name of the first key that took the plain path, for messages (or None).

        >>> m = SaltedMap(); m[frozenset()] = 1; m.unsalted_type
        'frozenset'
        """
        return self._plain_type if self._plain else None

    def wrap(self, key: object) -> tuple[int | None, object]:
        """The pair ``key`` is stored as: ``(keyed_hash(key), key)``, ``(None, key)`` if plain.

        Complexity: O(size of the key).

        >>> m = SaltedMap(seed=1); m.wrap(object())[0] is None, isinstance(m.wrap(2)[0], int)
        (True, True)
        """
        return (self._hasher(key), key)

    @property
    def _grow_at(self) -> int:
        return self._inner._grow_at  # type: ignore[attr-defined,no-any-return]

    # -- mapping primitives ------------------------------------------------------------------

    def __getitem__(self, key: K) -> V:
        """``self[key]``; KeyError when absent. Complexity: O(1) expected.

        >>> SaltedMap({1: "a"})[1]
        'a'
        """
        try:
            return self._inner[(self._hasher(key), key)]  # type: ignore[no-any-return]
        except KeyError:
            raise KeyError(key) from None

    def get(self, key: K, default: Any = None) -> Any:
        """``self[key]`` if present, else ``default``. Complexity: O(1) expected."""
        return self._inner.get((self._hasher(key), key), default)

    def __contains__(self, key: object) -> bool:
        """``key in self``. Complexity: O(1) expected."""
        return (self._hasher(key), key) in self._inner

    def __len__(self) -> int:
        return len(self._inner)

    def __setitem__(self, key: K, value: V) -> None:
        """``self[key] = value``. Complexity: O(1) amortised."""
        salted = self._hasher(key)
        if salted is not None:
            self._inner[(salted, key)] = value
            return
        inner = self._inner
        before = len(inner)
        inner[(None, key)] = value
        if len(inner) > before:
            self._plain += 1
            if self._plain_type is None:
                self._plain_type = type(key).__name__

    def __delitem__(self, key: K) -> None:
        """``del self[key]``; KeyError when absent. Complexity: O(1) expected."""
        salted = self._hasher(key)
        try:
            del self._inner[(salted, key)]
        except KeyError:
            raise KeyError(key) from None
        if salted is None:
            self._plain -= 1

    def _pop(self, key: Any, default: Any) -> Any:
        salted = self._hasher(key)
        value = self._inner._pop((salted, key), _ABSENT)
        if value is _ABSENT:
            if default is MISSING:
                raise KeyError(key)
            return default
        if salted is None:
            self._plain -= 1
        return value

    def _detach(self, key: Any) -> Any:
        """Remove ``key`` without shrinking (a backend being drained); MISSING if absent."""
        salted = self._hasher(key)
        value = self._inner._detach((salted, key))  # type: ignore[attr-defined]
        if value is not MISSING and salted is None:
            self._plain -= 1
        return value

    def popitem(self) -> tuple[K, V]:
        """Remove and return some pair; KeyError when empty. Complexity: O(1) amortised."""
        if not self._inner:
            raise KeyError("popitem(): SaltedMap is empty")
        (salted, key), value = self._inner.popitem()
        if salted is None:
            self._plain -= 1
        return key, value

    def _peek_last(self) -> tuple[Any, Any]:
        (_salted, key), value = self._inner._peek_last()  # type: ignore[attr-defined]
        return key, value

    def _drop_last(self) -> None:
        (salted, _key), _value = self._inner._peek_last()  # type: ignore[attr-defined]
        self._inner._drop_last()  # type: ignore[attr-defined]
        if salted is None:
            self._plain -= 1

    def _export(self) -> tuple[list[K], list[V]]:
        wrapped, values = self._inner._export()
        return [key for _salted, key in wrapped], values

    def _load_absent(self, new_keys: list[Any], new_values: list[Any]) -> None:
        hasher = self._hasher
        wrapped = [(hasher(key), key) for key in new_keys]
        self._inner._load_absent(wrapped, new_values)
        plain = [key for salted, key in wrapped if salted is None]
        self._plain += len(plain)
        if plain and self._plain_type is None:
            self._plain_type = type(plain[0]).__name__

    def reserve(self, n: int) -> None:
        """Grow the inner backend so ``n`` entries fit without another resize."""
        self._inner.reserve(n)

    def clear(self) -> None:
        """Remove everything.

        >>> m = SaltedMap(); m[1] = 2; m.clear(); len(m)
        0
        """
        self._inner.clear()
        self._plain = 0

    # -- iteration ---------------------------------------------------------------------------

    def __iter__(self) -> Iterator[K]:
        return _unwrap_keys(iter(self._inner))

    def _iter_items(self) -> Iterator[tuple[K, V]]:
        return _unwrap_items(self._inner._iter_items())

    # -- introspection -----------------------------------------------------------------------

    def stats(self) -> MapStats:
        """The inner backend's statistics, marked salted, with the unsalted-key count.

        >>> s = SaltedMap(seed=1).stats(); (s.backend, s.hashing, s.unsalted_keys)
        ('chaining', 'salted', 0)
        """
        return replace(self._inner.stats(), hashing="salted", unsalted_keys=self._plain)

    def length_histogram(self) -> LengthHistogram:
        """The inner backend's probe or chain histogram."""
        return self._inner.length_histogram()

    def occupancy_heatmap(self, cells: int = 512, cols: int = 32) -> OccupancyHeatmap:
        """The inner backend's occupancy heatmap."""
        return self._inner.occupancy_heatmap(cells, cols)

    def check_invariants(self) -> None:
        """Verify the inner backend, every stored pair's keyed hash, and the plain count.

        Complexity: O(n); for tests.

        >>> m = SaltedMap(seed=3); m.update({1: 2, "a": 3}); m.check_invariants()
        """
        self._inner.check_invariants()
        plain = 0
        for wrapped in self._inner:
            if not isinstance(wrapped, tuple) or len(wrapped) != 2:
                raise InvariantError(f"stored key {wrapped!r} is not a (keyed hash, key) pair")
            salted, key = wrapped
            if salted != self._hasher(key):
                raise InvariantError(f"key {key!r} is stored under a stale keyed hash")
            plain += salted is None
        if plain != self._plain:
            raise InvariantError(f"{plain} keys are on plain hashing, counter says {self._plain}")


def _unwrap_keys(wrapped: Iterator[tuple[Any, Any]]) -> Iterator[Any]:
    for _salted, key in wrapped:
        yield key


def _unwrap_items(pairs: Iterator[tuple[tuple[Any, Any], Any]]) -> Iterator[tuple[Any, Any]]:
    for (_salted, key), value in pairs:
        yield key, value
