"""Index mixing: where a key's home slot comes from.

Every map instance owns a *salt*. The home slot of ``key`` is ``hash((key, salt)) & mask``:
CPython hashes a 2-tuple with an xxHash-style combine (multiply by a 64-bit prime, rotate,
multiply) of ``hash(key)`` and ``hash(salt)``, a bijection of ``hash(key)`` that spreads every
bit of it into the low bits. Two consequences the lab depends on:

* integers equal modulo a power of two (``i << 20``) no longer share low bits, and
* two maps with different salts order the same keys differently, so copying one map into
  another in iteration order cannot pile keys into one cluster (Rust issue #36481).

Keys with *identical* ``hash()`` values still collide: no mix of ``hash(key)`` can separate them.
A ``hash_seed`` makes the salt, and so the layout, reproducible (for ``str`` keys only together
with a fixed ``PYTHONHASHSEED``).

The salt enters the tuple hash additively, so two salts give two layouts that are *shifts* of one
another. For chaining that is harmless (a chain's length does not depend on insertion order) and
CompactMap iterates in insertion order, not slot order; but a Robin Hood table copied in slot
order into a growing table with a shifted layout builds long clusters on the way (measured: a
displacement of 340 where a shuffled copy reaches 10). So Robin Hood takes its home slot by
*multiply-shift* (Dietzfelbinger et al.): the low 30 bits of the mixed hash, xor-folded with its
high half first (the tuple hash is close to affine in ``hash(key)``, so structured keys such as
``i << 32`` would otherwise reach multiply-shift as an arithmetic progression, which some
multipliers pile up), times a per-map odd multiplier, keeping the top bits of the 30-bit
product. Different multipliers give unrelated slot orders, and the product of two 30-bit ints is
a single machine multiplication.
"""

from __future__ import annotations

import hashlib
import secrets

__all__ = ["WORD_BITS", "multiplier_for", "salt_for"]

_SALT_BITS = 61
WORD_BITS = 30
"""Multiply-shift works on the low 30 bits of the mixed hash: one machine-word product."""


def salt_for(hash_seed: int | None) -> int:
    """The salt for a map: random without a seed, derived from the seed otherwise.

    Complexity: O(1).

    >>> salt_for(7) == salt_for(7)
    True
    >>> salt_for(7) != salt_for(8)
    True
    >>> 0 <= salt_for(None) < 2**61
    True
    """
    if hash_seed is None:
        return secrets.randbits(_SALT_BITS)
    if not isinstance(hash_seed, int) or isinstance(hash_seed, bool):
        from adhash.errors import BadInputError

        raise BadInputError(f"hash_seed must be an int, got {type(hash_seed).__name__}")
    digest = hashlib.blake2b(str(hash_seed).encode(), digest_size=8, person=b"adhash-salt").digest()
    return int.from_bytes(digest, "little") >> (64 - _SALT_BITS)


def multiplier_for(salt: int) -> int:
    """The odd 30-bit multiplier a map derives from its salt for multiply-shift indexing.

    Complexity: O(1).

    >>> m = multiplier_for(salt_for(3))
    >>> (m % 2, 0 < m < 2**30, m == multiplier_for(salt_for(3)))
    (1, True, True)
    """
    digest = hashlib.blake2b(str(salt).encode(), digest_size=8, person=b"adhash-mult").digest()
    return (int.from_bytes(digest, "little") & ((1 << WORD_BITS) - 1)) | 1
