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
"""

from __future__ import annotations

import hashlib
import secrets

__all__ = ["salt_for"]

_SALT_BITS = 61


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
