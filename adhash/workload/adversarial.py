"""Adversarial keys: sets that collide under ``hash()``, for hash-flooding experiments.

Integers that share one full ``hash()`` value (no index mixing can separate them), integers that
share only the low bits of ``hash()`` (mixing defeats them), ``str`` keys found by search to share
low bits of ``hash()`` under one stated ``PYTHONHASHSEED``, and objects with a constant
``__hash__``. ``docs/generator.md`` explains which maps each set hurts and why.
"""

from __future__ import annotations

import os
import subprocess
import sys
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from adhash.errors import BadInputError, IOFailureError

if TYPE_CHECKING:
    from adhash.workload.generate import Manifest

__all__ = [
    "ADVERSARIAL_MODULUS",
    "HASH_SEED_PROBE",
    "MAX_HASH_SEED",
    "TEXT_SEARCH_WORK_LIMIT",
    "CollidingText",
    "ConstantHashKey",
    "HashSeedProbe",
    "check_text_search",
    "colliding_int_at",
    "colliding_ints",
    "colliding_text",
    "constant_hash_keys",
    "current_hash_seed_matches",
    "find_colliding_text",
    "lowbit_int_at",
    "lowbit_ints",
    "seed_warning",
    "text_hash_check",
]

ADVERSARIAL_MODULUS = 2**61 - 1
"""CPython hashes an int to its value modulo this prime, so ``c + j * ADVERSARIAL_MODULUS``
hashes to ``c`` for every ``j``: keys that no mixing of ``hash(key)`` can separate."""

MAX_HASH_SEED = 2**32 - 1
"""The largest ``PYTHONHASHSEED`` CPython accepts (0 turns str hash randomisation off)."""

HASH_SEED_PROBE = "adhash.hash_seed_probe"
"""The string whose ``hash()`` tells whether a process hashes str like the targeted seed."""

TEXT_SEARCH_WORK_LIMIT = 2**26
"""Most candidates (``n * 2**bits``, the expected count) a text-collision search may need.

A search tries about 5 million candidates a second, so the limit keeps one under about 15 s."""

MAX_TEXT_BITS = 24
_MAX_PREFIX = 64
_BLOCK = 10_000
_DEFAULT_TIMEOUT = 120.0

# Runs in a fresh interpreter started with the targeted PYTHONHASHSEED (a process cannot change
# its own str hash seed). Candidate i is prefix + str(i). The 10,000 candidates of a block share
# their leading digits, so each name costs one C-level concatenation, and the target residue is
# found with list.index: no Python-level loop runs per candidate. It writes hash(probe) and then
# the indices found, as native signed 64-bit integers.
_SEARCH_PROGRAM = """\
import sys
from array import array

prefix, probe = sys.argv[1], sys.argv[2]
bits, count, max_blocks = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
mask = (1 << bits) - 1
target = hash(prefix + "0") & mask
found = array("q", [hash(probe)])
need = count + 1
low_digits = [str(low).zfill(4) for low in range(10000)]
block = 0
while len(found) < need and block < max_blocks:
    if block == 0:
        names = map(prefix.__add__, map(str, range(10000)))
    else:
        names = map((prefix + str(block)).__add__, low_digits)
    residues = list(map(mask.__and__, map(hash, names)))
    at = -1
    while len(found) < need:
        try:
            at = residues.index(target, at + 1)
        except ValueError:
            break
        found.append(block * 10000 + at)
    block += 1
sys.stdout.buffer.write(found.tobytes())
"""


def _check_int(name: str, value: object, low: int, high: int | None = None) -> int:
    """``value`` if it is an int in ``[low, high]``, else a :class:`BadInputError` naming it."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadInputError(f"{name} must be an integer, got {type(value).__name__}")
    if value < low or (high is not None and value > high):
        allowed = f"[{low}, {high}]" if high is not None else f"at least {low}"
        raise BadInputError(f"{name}={value} is out of range: allowed {allowed}")
    return value


def _check_classes(n: int, classes: int) -> int:
    _check_int("classes", classes, 1)
    if classes > max(n, 1):
        raise BadInputError(
            f"classes ({classes}) exceeds n ({n}): every class needs at least one key"
        )
    return classes


# -- integers sharing one full hash -----------------------------------------------------------


def colliding_int_at(*, classes: int = 1, start: int = 1) -> Callable[[int], int]:
    """The function from ``index`` to key ``index`` of :func:`colliding_ints`.

    Key ``index`` is ``c + j * (2**61 - 1)`` with class ``c = index % classes`` and multiple
    ``j = index // classes + start``; its hash is ``c``. The function is unchecked: the generator
    calls it once per adversarial operation.

    Complexity: O(1) to make, O(1) per call.

    >>> key = colliding_int_at(classes=3)(5)
    >>> (key, hash(key))
    (4611686018427387904, 2)
    """
    modulus = ADVERSARIAL_MODULUS

    def key(index: int) -> int:
        return index % classes + (index // classes + start) * modulus

    return key


def colliding_ints(n: int, *, classes: int = 1, start: int = 1) -> list[int]:
    """``n`` distinct ints falling into ``classes`` distinct full ``hash()`` values.

    Key ``k`` is ``c + j * (2**61 - 1)`` with class ``c = k % classes`` and ``j = k // classes +
    start``; CPython hashes it to ``c`` in every process. ``start=0`` includes the small ints
    ``0 … classes-1`` themselves. The classes are as even as ``n`` allows.

    Complexity: O(n).

    >>> keys = colliding_ints(6, classes=2)
    >>> (len(set(keys)), sorted({hash(key) for key in keys}))
    (6, [0, 1])
    >>> colliding_ints(2, classes=3)
    Traceback (most recent call last):
    ...
    adhash.errors.BadInputError: classes (3) exceeds n (2): every class needs at least one key
    """
    _check_int("n", n, 0)
    _check_classes(n, classes)
    _check_int("start", start, 0)
    return list(map(colliding_int_at(classes=classes, start=start), range(n)))


# -- integers sharing only low bits -----------------------------------------------------------


def lowbit_int_at(*, bits: int, classes: int = 1) -> Callable[[int], int]:
    """The function from ``index`` to key ``index`` of :func:`lowbit_ints`.

    Key ``index`` is ``c + (j << bits)`` with ``c = index % classes`` and ``j = index // classes
    + 1``; the low ``bits`` bits of its hash are ``c``. Unchecked, like :func:`colliding_int_at`.

    Complexity: O(1) to make, O(1) per call.

    >>> list(map(lowbit_int_at(bits=4), range(3)))
    [16, 32, 48]
    """

    def key(index: int) -> int:
        return index % classes + ((index // classes + 1) << bits)

    return key


def lowbit_ints(n: int, *, bits: int = 20, classes: int = 1) -> list[int]:
    """``n`` distinct ints whose ``hash()`` agree in the low ``bits`` bits, split in ``classes``.

    Key ``k`` is ``c + (j << bits)`` with ``c = k % classes`` and ``j = k // classes + 1``: the
    low ``bits`` bits of its hash are ``c``, the bits above differ. A table indexed by
    ``hash(key) & mask`` with at most ``2**bits`` slots puts each class in one slot; adhash's
    maps mix every bit of the hash into the index first, so the keys spread out there. Every key
    stays below ``2**61 - 1``, so its hash is the key itself and the full hashes are distinct.

    Complexity: O(n).

    >>> keys = lowbit_ints(100, bits=12)
    >>> ({hash(key) & 0xFFF for key in keys}, len({hash(key) for key in keys}))
    ({0}, 100)
    >>> lowbit_ints(4, bits=2, classes=5)
    Traceback (most recent call last):
    ...
    adhash.errors.BadInputError: classes (5) exceeds n (4): every class needs at least one key
    """
    _check_int("n", n, 0)
    _check_int("bits", bits, 1, 60)
    _check_classes(n, classes)
    if classes > 1 << bits:
        raise BadInputError(f"classes ({classes}) exceeds 2**bits ({1 << bits}) residues")
    key = lowbit_int_at(bits=bits, classes=classes)
    if n and key(n - 1) >= ADVERSARIAL_MODULUS:
        raise BadInputError(
            f"{n} keys shifted by {bits} bits pass 2**61 - 1, where int hashes wrap around and "
            "would no longer share their low bits",
            hint="use fewer keys or fewer bits",
        )
    return list(map(key, range(n)))


# -- text keys colliding under one PYTHONHASHSEED ---------------------------------------------


class HashSeedProbe(BaseModel):
    """How a process hashed :data:`HASH_SEED_PROBE` under the ``PYTHONHASHSEED`` a workload targets.

    Another process hashing the probe to the same value hashes every str the same way (same seed,
    same Python hash algorithm), so text keys found to collide under ``seed`` collide there too.

    >>> here = HashSeedProbe(seed=7, probe=HASH_SEED_PROBE, hash=hash(HASH_SEED_PROBE))
    >>> (here.matches_current_process(), here.warning())
    (True, None)
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int = Field(ge=0, le=MAX_HASH_SEED, description="the PYTHONHASHSEED the keys target")
    probe: str = Field(description="the probe string")
    hash: int = Field(description="hash(probe) in a process run with PYTHONHASHSEED=seed")

    def matches_current_process(self) -> bool:
        """Whether this process hashes the probe (so every str) as the targeted seed does.

        Complexity: O(len(probe)).
        """
        return hash(self.probe) == self.hash

    def warning(self) -> str | None:
        """Why the keys will not collide in this process, or ``None`` when they will.

        Complexity: O(len(probe)).

        >>> wrong = HashSeedProbe(seed=7, probe=HASH_SEED_PROBE, hash=hash(HASH_SEED_PROBE) + 1)
        >>> wrong.warning().startswith("this workload's text keys collide under PYTHONHASHSEED=7")
        True
        """
        if self.matches_current_process():
            return None
        seed = self.seed
        if os.environ.get("PYTHONHASHSEED") == str(seed):
            return (
                f"this workload's text keys collide under PYTHONHASHSEED={seed}, and that seed is "
                f"set, but this Python hashes str differently (another build or version; str hash "
                f"{sys.hash_info.algorithm}): they will not collide here (regenerate the workload "
                "with this Python)"
            )
        return (
            f"this workload's text keys collide under PYTHONHASHSEED={seed}, but this process "
            "hashes str with another seed: they will not collide here (rerun with "
            f"PYTHONHASHSEED={seed})"
        )


@dataclass(frozen=True, slots=True)
class CollidingText:
    """The result of one text-collision search: key ``k`` is ``f"{prefix}{indices[k]}"``.

    The indices take 8 bytes a key, so a generator can hold a large colliding set cheaply.
    """

    hash_seed: int
    bits: int
    prefix: str
    indices: array[int]
    probe_hash: int

    def __len__(self) -> int:
        return len(self.indices)

    def key(self, index: int) -> str:
        """Key number ``index`` of the set.

        Complexity: O(1).
        """
        return f"{self.prefix}{self.indices[index]}"

    def keys(self) -> list[str]:
        """Every key, in the order found (ascending candidate index).

        Complexity: O(n).
        """
        prefix = self.prefix
        return [f"{prefix}{index}" for index in self.indices]

    @property
    def probe(self) -> HashSeedProbe:
        """The probe to record beside the keys (see :class:`HashSeedProbe`)."""
        return HashSeedProbe(seed=self.hash_seed, probe=HASH_SEED_PROBE, hash=self.probe_hash)


def check_text_search(n: int, bits: int) -> None:
    """Refuse a search for ``n`` keys sharing ``bits`` low bits that would take too long.

    Each candidate string matches with probability ``2**-bits``, so the search tries about
    ``n * 2**bits`` of them; more than :data:`TEXT_SEARCH_WORK_LIMIT` is refused.

    Complexity: O(1).

    >>> check_text_search(1024, 12)
    >>> check_text_search(10_000, 20)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    adhash.errors.BadInputError: finding 10000 text keys ... above the limit of 67108864 (2**26)
    """
    _check_int("n", n, 0)
    _check_int("bits", bits, 1, MAX_TEXT_BITS)
    work = n << bits
    if work > TEXT_SEARCH_WORK_LIMIT:
        raise BadInputError(
            f"finding {n} text keys sharing {bits} low hash bits means trying about "
            f"{n} * 2**{bits} = {work} candidate strings, above the limit of "
            f"{TEXT_SEARCH_WORK_LIMIT} (2**{TEXT_SEARCH_WORK_LIMIT.bit_length() - 1})",
            hint="ask for fewer keys or fewer bits: every extra bit doubles the search",
        )


def find_colliding_text(
    n: int,
    *,
    hash_seed: int,
    bits: int = 12,
    prefix: str = "F",
    timeout: float = _DEFAULT_TIMEOUT,
) -> CollidingText:
    """Search ``n`` str keys whose ``hash()`` under ``PYTHONHASHSEED=hash_seed`` share low bits.

    The candidates ``f"{prefix}0"``, ``f"{prefix}1"``, … are tried in order in a fresh Python
    process started with that seed (this process cannot change its own); the target is the low
    ``bits`` bits of the first candidate's hash, so the first key is always ``f"{prefix}0"`` and
    the same arguments always find the same keys (for one Python hash algorithm). The same
    process hashes :data:`HASH_SEED_PROBE`, returned as :attr:`CollidingText.probe`.

    Complexity: O(n · 2**bits) time in the child process (about 5 million candidates a second),
    O(n) memory.

    >>> found = find_colliding_text(3, hash_seed=42, bits=4)
    >>> (found.keys()[0], len(found), found.probe.seed)
    ('F0', 3, 42)
    """
    _check_int("n", n, 0)
    _check_int("hash_seed", hash_seed, 0, MAX_HASH_SEED)
    check_text_search(n, bits)
    if not isinstance(prefix, str) or len(prefix) > _MAX_PREFIX or not prefix.isprintable():
        raise BadInputError(
            f"prefix {prefix!r} must be printable text of at most {_MAX_PREFIX} characters"
        )
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise BadInputError(f"timeout={timeout!r} must be a positive number of seconds")
    if not sys.executable:
        raise IOFailureError("no Python interpreter to run the text-collision search in")
    # The cap makes a search end even if it is unlucky; it allows 4x the expected candidates
    # plus 32 keys' worth, which a search of n keys exceeds with negligible probability.
    max_blocks = -(-((4 * n + 32) << bits) // _BLOCK)
    command = [sys.executable, "-S", "-c", _SEARCH_PROGRAM, prefix, HASH_SEED_PROBE]
    command += [str(bits), str(n), str(max_blocks)]
    what = f"the search for {n} text keys under PYTHONHASHSEED={hash_seed}"
    try:
        completed = subprocess.run(
            command,
            env={**os.environ, "PYTHONHASHSEED": str(hash_seed)},
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise BadInputError(
            f"{what} did not finish within {timeout:g} s",
            hint="ask for fewer keys or fewer bits, or allow a longer timeout",
        ) from None
    except OSError as exc:
        raise IOFailureError(f"could not start {sys.executable} for {what}: {exc}") from None
    if completed.returncode != 0:
        lines = completed.stderr.decode(errors="replace").strip().splitlines()
        reason = lines[-1] if lines else "no message"
        raise IOFailureError(f"{what} failed (exit code {completed.returncode}): {reason}")
    found = array("q")
    if len(completed.stdout) % found.itemsize or not completed.stdout:
        raise IOFailureError(f"{what} returned {len(completed.stdout)} bytes, not whole results")
    found.frombytes(completed.stdout)
    if len(found) != n + 1:
        raise BadInputError(
            f"{what} found only {len(found) - 1} keys within {max_blocks * _BLOCK} candidates",
            hint="ask for fewer keys or fewer bits",
        )
    return CollidingText(hash_seed, bits, prefix, found[1:], found[0])


def colliding_text(
    n: int,
    *,
    hash_seed: int,
    bits: int = 12,
    prefix: str = "F",
    timeout: float = _DEFAULT_TIMEOUT,
) -> list[str]:
    """``n`` distinct str keys whose ``hash()`` share the low ``bits`` bits under ``hash_seed``.

    They collide only in a process run with ``PYTHONHASHSEED=hash_seed`` (and the same Python
    hash algorithm); see :func:`find_colliding_text` for the search and :func:`text_hash_check`
    to tell such a process from another.

    Complexity: O(n · 2**bits) (a search in a child process).

    >>> colliding_text(2, hash_seed=1, bits=3, prefix="X")[0]
    'X0'
    >>> colliding_text(2, hash_seed=2**32, bits=3)
    Traceback (most recent call last):
    ...
    adhash.errors.BadInputError: hash_seed=4294967296 is out of range: allowed [0, 4294967295]
    """
    return find_colliding_text(
        n, hash_seed=hash_seed, bits=bits, prefix=prefix, timeout=timeout
    ).keys()


def text_hash_check(hash_seed: int, *, timeout: float = _DEFAULT_TIMEOUT) -> int:
    """``hash(HASH_SEED_PROBE)`` in a process run with ``PYTHONHASHSEED=hash_seed``.

    Record it beside keys made for that seed; :func:`current_hash_seed_matches` later tells
    whether a process hashes str the same way.

    Complexity: O(1) (one short child process).

    >>> text_hash_check(3) == text_hash_check(3) != text_hash_check(4)
    True
    """
    return find_colliding_text(0, hash_seed=hash_seed, bits=1, timeout=timeout).probe_hash


def current_hash_seed_matches(expected_probe_hash: int) -> bool:
    """Whether this process hashes :data:`HASH_SEED_PROBE` to ``expected_probe_hash``.

    Complexity: O(1).

    >>> current_hash_seed_matches(hash(HASH_SEED_PROBE))
    True
    """
    return hash(HASH_SEED_PROBE) == expected_probe_hash


def seed_warning(manifest: Manifest | None) -> str | None:
    """The warning to show before replaying text keys made for another str hash seed, if any.

    ``None`` when there is no manifest, when its workload targets no seed, or when this process
    hashes str as the targeted seed does.

    Complexity: O(1).

    >>> seed_warning(None) is None
    True
    """
    if manifest is None or manifest.hash_seed_probe is None:
        return None
    return manifest.hash_seed_probe.warning()


# -- objects with a constant hash -------------------------------------------------------------

T = TypeVar("T")


@dataclass(frozen=True, slots=True, eq=False)
class ConstantHashKey(Generic[T]):
    """A key wrapping ``value`` whose ``__hash__`` is the constant ``hash_value``.

    The one flooding attack no salting can fix: a map can re-hash the keys it can hash by value
    (str, bytes, int, float, bool, None and tuples of them) with a secret of its own, but for any
    other object it has only the object's ``__hash__``, and every key here returns the same
    number. Two keys are equal when they are of the same type with equal values and hash values.

    >>> a, b = ConstantHashKey("a"), ConstantHashKey("b")
    >>> (hash(a) == hash(b), a == b, a == ConstantHashKey("a"))
    (True, False, True)
    >>> ConstantHashKey(3, hash_value=7)
    ConstantHashKey(value=3, hash_value=7)
    """

    value: T
    hash_value: int = 0

    def __hash__(self) -> int:
        return self.hash_value

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ConstantHashKey) or type(other) is not type(self):
            return NotImplemented
        return self.hash_value == other.hash_value and bool(self.value == other.value)


def constant_hash_keys(n: int, hash_value: int = 0) -> list[ConstantHashKey[int]]:
    """``n`` distinct keys ``ConstantHashKey(0 … n-1)`` that all hash to ``hash_value``.

    Complexity: O(n).

    >>> keys = constant_hash_keys(4, hash_value=5)
    >>> ({hash(key) for key in keys}, len(set(keys)))
    ({5}, 4)
    """
    _check_int("n", n, 0)
    _check_int("hash_value", hash_value, -(2**63), 2**63 - 1)
    return [ConstantHashKey(index, hash_value) for index in range(n)]
