"""Synthetic workloads: a validated specification, YCSB presets, and a deterministic generator.

:class:`GeneratorSpec` holds every parameter with its default and range; :func:`generate`
writes the workload CSV atomically with a :class:`Manifest` beside it that records the spec, the
seed, the generator version and the file's SHA-256. The same spec always produces a
byte-identical file. ``docs/generator.md`` describes the parameters and the distributions.
"""

from __future__ import annotations

import datetime
import hashlib
import itertools
import math
import os
import platform
import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson
from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from adhash._version import __version__
from adhash.atomic import atomic_write_bytes
from adhash.errors import BadInputError
from adhash.workload.adversarial import (
    MAX_HASH_SEED,
    MAX_TEXT_BITS,
    CollidingText,
    HashSeedProbe,
    check_text_search,
    colliding_int_at,
    find_colliding_text,
    lowbit_int_at,
)
from adhash.workload.format import KeyType, Op, WorkloadWriter
from adhash.workload.zipf import ZipfSampler

__all__ = [
    "GENERATOR_VERSION",
    "PRESETS",
    "AdversarialKind",
    "AffinePermutation",
    "Distribution",
    "GeneratorSpec",
    "Manifest",
    "Preset",
    "generate",
    "generate_rows",
]

GENERATOR_VERSION = 1
"""Bumped whenever the same spec would produce different bytes."""

Distribution = Literal["uniform", "zipf", "scrambled-zipf", "latest", "hotspot", "sequential"]
AdversarialKind = Literal["full-hash", "low-bits", "text"]
_ZIPF_FAMILY = ("zipf", "scrambled-zipf", "latest")
_BATCH_ROWS = 65_536
_HINT = "see docs/generator.md"


@dataclass(frozen=True, slots=True)
class Preset:
    """A named set of parameter overrides; ``unsupported`` explains a preset that cannot run."""

    name: str
    description: str
    overrides: Mapping[str, Any] = field(default_factory=dict)
    unsupported: str | None = None


_YCSB_BASE: dict[str, Any] = {
    "preload": True,
    "del_ratio": 0.0,
    "insert_ratio": 0.0,
    "rmw_ratio": 0.0,
    "distribution": "scrambled-zipf",
    "key_skew": 0.99,
}

PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            "ycsb-a",
            "YCSB A, update heavy: read 0.5 / update 0.5, zipfian (session store)",
            {**_YCSB_BASE, "read_ratio": 0.5},
        ),
        Preset(
            "ycsb-b",
            "YCSB B, read mostly: read 0.95 / update 0.05, zipfian (photo tagging)",
            {**_YCSB_BASE, "read_ratio": 0.95},
        ),
        Preset(
            "ycsb-c",
            "YCSB C, read only: read 1.0, zipfian (user-profile cache)",
            {**_YCSB_BASE, "read_ratio": 1.0},
        ),
        Preset(
            "ycsb-d",
            "YCSB D, read latest: read 0.95 / insert 0.05, latest (user status updates)",
            {**_YCSB_BASE, "read_ratio": 0.95, "insert_ratio": 1.0, "distribution": "latest"},
        ),
        Preset(
            "ycsb-e",
            "YCSB E, short ranges: scan 0.95 / insert 0.05 (not available)",
            unsupported=(
                "preset ycsb-e needs short range scans (read up to 100 consecutive keys in key "
                "order); a hash map keeps no key order, and the workload format has no scan op "
                "(only put, get and del)"
            ),
        ),
        Preset(
            "ycsb-f",
            "YCSB F, read-modify-write: read 0.5 / read-modify-write 0.5, zipfian (user database)",
            {**_YCSB_BASE, "read_ratio": 1.0, "rmw_ratio": 0.5},
        ),
    )
}


class GeneratorSpec(BaseModel):
    """Every parameter of a generated workload, validated.

    Construct it with :meth:`from_params` to get a :class:`~adhash.errors.BadInputError` that
    names the field and its allowed range instead of a pydantic ``ValidationError``. A
    ``preset`` fills in its overrides first; parameters given explicitly win. A ``key_skew``
    above 0 given without a ``distribution`` selects ``"zipf"`` (the original's
    ``--key-skew`` behaviour).

    >>> spec = GeneratorSpec.from_params(ops=10, key_skew=1.2)
    >>> (spec.ops, spec.distribution, spec.key_skew)
    (10, 'zipf', 1.2)
    >>> GeneratorSpec.from_params(read_ratio=1.5)
    Traceback (most recent call last):
    ...
    adhash.errors.BadInputError: read_ratio=1.5 is out of range: allowed [0, 1]
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    preset: str | None = Field(
        default=None,
        description="a name from PRESETS whose overrides are applied before the other parameters",
    )
    ops: int = Field(
        default=100_000,
        gt=0,
        le=10**9,
        description="operations to generate (a read-modify-write writes two rows)",
    )
    read_ratio: float = Field(
        default=0.8, ge=0, le=1, description="share of operations that are gets"
    )
    del_ratio: float = Field(
        default=0.2, ge=0, lt=1, description="share of the writes (non-gets) that are deletes"
    )
    insert_ratio: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="share of the puts that insert a new key (ranks key_space, key_space+1, …)",
    )
    rmw_ratio: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="share of operations that are read-modify-write: a get then a put of one key",
    )
    preload: bool = Field(
        default=False, description="write every key of the key space once (YCSB's load phase) first"
    )
    key_space: int = Field(
        default=10_000, gt=0, le=10**12, description="number of distinct key ranks"
    )
    distribution: Distribution = Field(
        default="uniform", description="how the key rank of each operation is drawn"
    )
    key_skew: float = Field(
        default=0.99,
        ge=0,
        le=100,
        description="Zipf exponent θ for zipf, scrambled-zipf and latest",
    )
    hotspot_fraction: float = Field(
        default=0.2, gt=0, le=1, description="hotspot: share of the key space that is hot"
    )
    hotspot_op_fraction: float = Field(
        default=0.8, ge=0, le=1, description="hotspot: share of operations aimed at the hot keys"
    )
    miss_ratio: float = Field(
        default=0.0, ge=0, le=1, description="share of gets aimed at keys no operation ever writes"
    )
    key_type: KeyType = Field(
        default="text", description="'text' keys are key_prefix + rank, 'int' keys are the rank"
    )
    key_prefix: str = Field(
        default="K",
        max_length=32,
        pattern=r"^[A-Za-z_]*$",
        description="prefix of text keys: letters and underscores, at most 32",
    )
    value_size: int = Field(
        default=8, ge=1, le=65_536, description="characters in each put's value"
    )
    seed: int = Field(default=1337, ge=0, le=2**63 - 1, description="seed of the random generator")
    adversarial_ratio: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="share of operations whose key comes from the colliding set",
    )
    adversarial_classes: int = Field(
        default=1,
        ge=1,
        le=65_536,
        description="distinct hash() values (low-bits: low-bit residues) the colliding keys share",
    )
    adversarial_keys: int = Field(
        default=1_024, ge=1, le=10**7, description="distinct keys in the colliding set"
    )
    adversarial_kind: AdversarialKind = Field(
        default="full-hash",
        description="how the keys collide: 'full-hash' and 'low-bits' int keys, or 'text' keys "
        "found for one PYTHONHASHSEED",
    )
    adversarial_bits: int = Field(
        default=12,
        ge=1,
        le=32,
        description="low-bits and text: the low bits of hash() the colliding keys share (text: "
        "at most 24)",
    )
    adversarial_hash_seed: int | None = Field(
        default=None,
        ge=0,
        le=MAX_HASH_SEED,
        description="text: the PYTHONHASHSEED under which the keys collide (required for text)",
    )

    @model_validator(mode="before")
    @classmethod
    def _apply_preset_and_skew(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        name = data.get("preset")
        if name is not None:
            preset = PRESETS.get(name) if isinstance(name, str) else None
            if preset is None:
                raise ValueError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}")
            if preset.unsupported:
                raise ValueError(preset.unsupported)
            data = {**preset.overrides, **data}
        if "distribution" not in data and "key_skew" in data:
            try:
                skew = float(data["key_skew"])
            except (TypeError, ValueError):
                return data
            if skew > 0:
                data = {**data, "distribution": "zipf"}
        return data

    @model_validator(mode="after")
    def _check_combinations(self) -> GeneratorSpec:
        if self.distribution in _ZIPF_FAMILY and self.key_skew <= 0:
            raise ValueError(f"distribution {self.distribution!r} needs key_skew > 0")
        self._check_adversarial()
        return self

    def _check_adversarial(self) -> None:
        kind, classes = self.adversarial_kind, self.adversarial_classes
        if kind == "text" and self.adversarial_hash_seed is None:
            raise ValueError(
                "adversarial_kind 'text' needs adversarial_hash_seed: str hashes depend on "
                "PYTHONHASHSEED, so the keys can only be found for one stated seed"
            )
        if kind != "text" and self.adversarial_hash_seed is not None:
            raise ValueError(
                f"adversarial_hash_seed applies to adversarial_kind 'text' only: {kind!r} keys "
                "are ints, which collide under every PYTHONHASHSEED"
            )
        if self.adversarial_ratio > 0:
            if kind == "full-hash" and self.key_type != "int":
                raise ValueError(
                    "adversarial_ratio > 0 needs key_type 'int': CPython randomises str hashes "
                    "per process (PYTHONHASHSEED), so only int keys collide in every run "
                    "(adversarial_kind 'text' targets one stated seed instead)"
                )
            if kind == "low-bits" and self.key_type != "int":
                raise ValueError(
                    "adversarial_kind 'low-bits' needs key_type 'int': its keys are ints "
                    "shifted left by adversarial_bits"
                )
            if kind == "text" and self.key_type != "text":
                raise ValueError("adversarial_kind 'text' needs key_type 'text'")
        if classes > self.adversarial_keys:
            raise ValueError(
                f"adversarial_classes ({classes}) exceeds adversarial_keys "
                f"({self.adversarial_keys}): every class needs at least one key"
            )
        if kind == "low-bits" and classes > 1 << self.adversarial_bits:
            raise ValueError(
                f"adversarial_classes ({classes}) exceeds the {1 << self.adversarial_bits} "
                f"residues of adversarial_bits={self.adversarial_bits}"
            )
        if kind == "text":
            if classes > 1:
                raise ValueError(
                    "adversarial_kind 'text' makes one class (every key shares the low bits of "
                    f"the first one's hash): adversarial_classes must be 1, not {classes}"
                )
            if self.adversarial_bits > MAX_TEXT_BITS:
                raise ValueError(
                    f"adversarial_kind 'text' allows adversarial_bits up to {MAX_TEXT_BITS}, not "
                    f"{self.adversarial_bits}: each bit doubles the search"
                )
            # Refuse a search that would take too long now, not after the file is opened.
            check_text_search(self.adversarial_keys, self.adversarial_bits)

    @classmethod
    def from_params(cls, **params: Any) -> GeneratorSpec:
        """Validate ``params`` into a spec; a :class:`BadInputError` names each bad field.

        Complexity: O(number of parameters).

        >>> GeneratorSpec.from_params(preset="ycsb-b").read_ratio
        0.95
        >>> GeneratorSpec.from_params(ops=0)
        Traceback (most recent call last):
        ...
        adhash.errors.BadInputError: ops=0 is out of range: allowed an integer in (0, 1000000000]
        """
        try:
            return cls.model_validate(params)
        except ValidationError as exc:
            raise _bad_input(exc) from None

    @property
    def rows(self) -> int | None:
        """The number of data rows, when it does not depend on the draws (no read-modify-write).

        >>> GeneratorSpec(ops=5, preload=True, key_space=3).rows
        8
        """
        if self.rmw_ratio > 0:
            return None
        return self.ops + (self.key_space if self.preload else 0)


def _bad_input(exc: ValidationError) -> BadInputError:
    """One message for all of a spec's validation errors, each naming its field."""
    problems: list[str] = []
    hints: list[str] = []
    fields = GeneratorSpec.model_fields
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else ""
        if error["type"] == "extra_forbidden":
            problems.append(f"unknown parameter {name!r}")
            hints.append(f"known parameters: {', '.join(fields)}")
        elif name in fields:
            problems.append(f"{name}={error['input']!r} is out of range: allowed {_allowed(name)}")
            description = fields[name].description
            if description:
                hints.append(f"{name}: {description}")
        else:
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(message)
    return BadInputError("; ".join(problems), hint="; ".join([*hints, _HINT]))


def _allowed(name: str) -> str:
    """The allowed values of a spec field in words: an interval, a choice, or a shape."""
    info = GeneratorSpec.model_fields[name]
    if name == "preset":
        return "one of " + ", ".join(PRESETS)
    if name == "key_prefix":
        return "letters and underscores, at most 32"
    choices = getattr(info.annotation, "__args__", ())
    if choices and all(isinstance(choice, str) for choice in choices):
        return "one of " + ", ".join(choices)
    if info.annotation is bool:
        return "true or false"
    low, high = "(-inf", "inf)"
    for bound in info.metadata:
        if isinstance(bound, Ge):
            low = f"[{_number(bound.ge)}"
        elif isinstance(bound, Gt):
            low = f"({_number(bound.gt)}"
        elif isinstance(bound, Le):
            high = f"{_number(bound.le)}]"
        elif isinstance(bound, Lt):
            high = f"{_number(bound.lt)})"
    kind = "an integer in " if info.annotation in (int, int | None) else ""
    return f"{kind}{low}, {high}"


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class AffinePermutation:
    """An exact bijection of ``0..n-1``: ``r -> (a*r + b) mod n`` with ``gcd(a, n) = 1``.

    ``scrambled-zipf`` passes Zipf ranks through it so the hot keys are spread over the key
    space while every key keeps exactly the frequency of the rank mapped onto it.

    Complexity: O(log n) setup (a gcd per candidate ``a``), O(1) per rank.

    >>> import random
    >>> perm = AffinePermutation.from_rng(10, random.Random(3))
    >>> sorted(perm(r) for r in range(10)) == list(range(10))
    True
    """

    __slots__ = ("multiplier", "n", "offset")

    def __init__(self, n: int, multiplier: int, offset: int) -> None:
        if n < 1 or math.gcd(multiplier, n) != 1:
            raise BadInputError(f"multiplier {multiplier} is not coprime with n={n}")
        self.n = n
        self.multiplier = multiplier % n
        self.offset = offset % n

    @classmethod
    def from_rng(cls, n: int, rng: random.Random) -> AffinePermutation:
        """A permutation with ``a`` and ``b`` drawn from ``rng`` (``a`` coprime with ``n``).

        Complexity: O(log n) expected.

        >>> import random
        >>> AffinePermutation.from_rng(1, random.Random(0))(0)
        0
        """
        if n == 1:
            return cls(1, 1, 0)
        while True:
            multiplier = rng.randrange(1, n)
            if math.gcd(multiplier, n) == 1:
                return cls(n, multiplier, rng.randrange(n))

    def __call__(self, rank: int) -> int:
        return (self.multiplier * rank + self.offset) % self.n

    def __repr__(self) -> str:
        return f"AffinePermutation(n={self.n}, multiplier={self.multiplier}, offset={self.offset})"


class _RankSource:
    """Draws key ranks for one workload; tracks the inserted keys for ``latest``."""

    def __init__(self, spec: GeneratorSpec, rng: random.Random) -> None:
        self.count = spec.key_space
        self._rng = rng
        self._theta = spec.key_skew
        self._latest_sampler: ZipfSampler | None = None
        n = spec.key_space
        self.draw: Callable[[], int]
        if spec.distribution == "uniform":
            randrange = rng.randrange
            self.draw = lambda: randrange(n)
        elif spec.distribution == "zipf":
            sample = ZipfSampler(n, spec.key_skew).sample
            self.draw = lambda: sample(rng)
        elif spec.distribution == "scrambled-zipf":
            sample = ZipfSampler(n, spec.key_skew).sample
            permutation = AffinePermutation.from_rng(n, rng)
            multiplier, offset = permutation.multiplier, permutation.offset
            self.draw = lambda: (multiplier * sample(rng) + offset) % n
        elif spec.distribution == "latest":
            self.draw = self._draw_latest
        elif spec.distribution == "hotspot":
            self.draw = _hotspot(n, spec.hotspot_fraction, spec.hotspot_op_fraction, rng)
        else:
            position = itertools.count()
            self.draw = lambda: next(position) % n

    def _draw_latest(self) -> int:
        sampler = self._latest_sampler
        if sampler is None or sampler.n != self.count:
            sampler = self._latest_sampler = ZipfSampler(self.count, self._theta)
        return self.count - 1 - sampler.sample(self._rng)

    def insert(self) -> int:
        """The rank of a brand-new key."""
        rank = self.count
        self.count += 1
        return rank


def _hotspot(n: int, fraction: float, op_fraction: float, rng: random.Random) -> Callable[[], int]:
    hot = max(1, min(n, int(n * fraction)))
    cold = n - hot
    uniform = rng.random
    randrange = rng.randrange
    if cold == 0:
        return lambda: randrange(hot)

    def draw() -> int:
        if uniform() < op_fraction:
            return randrange(hot)
        return hot + randrange(cold)

    return draw


def colliding_text_for(spec: GeneratorSpec) -> CollidingText | None:
    """The text keys a ``text``-kind spec draws its adversarial keys from, or ``None``.

    They are ``adversarial_keys`` keys ``<key_prefix>_<i>`` (never an ordinary key, which has a
    digit or ``-`` after the prefix) sharing the low ``adversarial_bits`` bits of their hash
    under ``adversarial_hash_seed``, found by
    :func:`~adhash.workload.adversarial.find_colliding_text`.

    Complexity: O(adversarial_keys · 2**adversarial_bits) for a text-kind spec, else O(1).

    >>> colliding_text_for(GeneratorSpec()) is None
    True
    """
    seed = spec.adversarial_hash_seed
    if spec.adversarial_kind != "text" or not spec.adversarial_ratio or seed is None:
        return None
    return find_colliding_text(
        spec.adversarial_keys,
        hash_seed=seed,
        bits=spec.adversarial_bits,
        prefix=f"{spec.key_prefix}_",
    )


def _adversarial_key(
    spec: GeneratorSpec, colliding: CollidingText | None
) -> Callable[[int], str | int]:
    """The colliding set's key for an index in ``0 … adversarial_keys-1``."""
    if spec.adversarial_kind == "low-bits":
        return lowbit_int_at(bits=spec.adversarial_bits, classes=spec.adversarial_classes)
    if spec.adversarial_kind == "text":
        if colliding is None:
            colliding = colliding_text_for(spec)
        if colliding is None or len(colliding) < spec.adversarial_keys:
            raise BadInputError("the text keys given do not cover adversarial_keys")
        return colliding.key
    return colliding_int_at(classes=spec.adversarial_classes)


def generate_rows(
    spec: GeneratorSpec, *, colliding: CollidingText | None = None
) -> Iterator[tuple[Op, str | int, str | None]]:
    """The rows of the workload ``spec`` describes, in order, as ``(op, key, value)``.

    Per operation, one uniform picks read-modify-write (``rmw_ratio``), then one picks get
    (``read_ratio``) or a write; a write is a delete with probability ``del_ratio``, else a
    put that inserts a new key with probability ``insert_ratio``. Misses and adversarial keys
    take one more uniform each when their ratio is above 0. A ``text``-kind spec searches its
    colliding keys first unless ``colliding`` (from :func:`colliding_text_for`) is given.

    Complexity: O(1) expected per row, O(1) memory (plus the text search and its keys).

    >>> spec = GeneratorSpec(ops=3, read_ratio=0.5, del_ratio=0.0, value_size=4, seed=1)
    >>> [(op.label, key, value) for op, key, value in generate_rows(spec)]
    [('get', 'K1033', None), ('get', 'K8117', None), ('put', 'K7737', 'a6ce')]
    """
    rng = random.Random(spec.seed)
    uniform = rng.random
    getrandbits = rng.getrandbits
    ranks = _RankSource(spec, rng)
    draw = ranks.draw
    value_bits = 4 * spec.value_size
    value_format = f"0{spec.value_size}x"
    prefix = spec.key_prefix
    int_keys = spec.key_type == "int"

    def key_of(rank: int) -> str | int:
        return rank if int_keys else f"{prefix}{rank}"

    for rank in range(spec.key_space if spec.preload else 0):
        yield Op.PUT, key_of(rank), format(getrandbits(value_bits), value_format)

    read_ratio, del_ratio, insert_ratio = spec.read_ratio, spec.del_ratio, spec.insert_ratio
    rmw_ratio, miss_ratio = spec.rmw_ratio, spec.miss_ratio
    adversarial_ratio = spec.adversarial_ratio
    adversarial_keys = spec.adversarial_keys
    if adversarial_ratio:
        adversarial_key = _adversarial_key(spec, colliding)
    for _ in range(spec.ops):
        # An adversarial operation takes its key from the colliding set whatever its op is.
        key: str | int | None = None
        if adversarial_ratio and uniform() < adversarial_ratio:
            key = adversarial_key(draw() % adversarial_keys)
        if rmw_ratio and uniform() < rmw_ratio:
            if key is None:
                key = key_of(draw())
            yield Op.GET, key, None
            yield Op.PUT, key, format(getrandbits(value_bits), value_format)
        elif uniform() < read_ratio:
            if key is None:
                miss = miss_ratio and uniform() < miss_ratio
                key = key_of(-1 - draw() if miss else draw())
            yield Op.GET, key, None
        elif del_ratio and uniform() < del_ratio:
            yield Op.DEL, key_of(draw()) if key is None else key, None
        else:
            if key is None:
                new_key = insert_ratio and uniform() < insert_ratio
                key = key_of(ranks.insert() if new_key else draw())
            yield Op.PUT, key, format(getrandbits(value_bits), value_format)


class Manifest(BaseModel):
    """What produced a generated workload, written beside it as ``<file>.manifest.json``.

    ``created_at`` is the only field that differs between two runs of the same spec.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    schema_: Literal["adhash.workload_manifest.v1"] = Field(
        default="adhash.workload_manifest.v1", alias="schema"
    )
    file: str = Field(description="the workload's file name (the manifest sits beside it)")
    spec: GeneratorSpec
    preset: str | None
    seed: int
    rows: int = Field(description="data rows in the file (the header excluded)")
    size_bytes: int
    sha256: str = Field(description="hex SHA-256 of the file's bytes")
    key_type: KeyType
    adhash_version: str
    generator_version: int
    python: str = Field(description="the Python version that ran the generator")
    created_at: str = Field(description="UTC time the file was written, ISO 8601")
    hash_seed_probe: HashSeedProbe | None = Field(
        default=None,
        description="text-kind adversarial keys: the PYTHONHASHSEED they collide under and how "
        "that seed hashes a probe string, to tell a replaying process's seed",
    )

    @staticmethod
    def path_for(workload: str | os.PathLike[str]) -> Path:
        """Where the manifest of ``workload`` lives.

        >>> Manifest.path_for("runs/w.csv").as_posix()
        'runs/w.csv.manifest.json'
        """
        path = Path(workload)
        return path.with_name(path.name + ".manifest.json")

    @classmethod
    def read_for(cls, workload: str | os.PathLike[str]) -> Manifest | None:
        """The manifest beside ``workload``, or ``None`` when it is missing or does not parse.

        A manifest only describes a file, so a replay never fails for want of one.

        Complexity: O(size of the manifest).

        >>> Manifest.read_for("no/such/w.csv") is None
        True
        """
        try:
            data = cls.path_for(workload).read_bytes()
        except OSError:
            return None
        try:
            return cls.model_validate_json(data)
        except ValidationError:
            return None

    def to_json(self) -> bytes:
        """The manifest as pretty-printed JSON (2-space indent, trailing newline).

        Complexity: O(size of the spec).
        """
        payload = self.model_dump(mode="json", by_alias=True)
        return orjson.dumps(payload, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


def generate(spec: GeneratorSpec, path: str | os.PathLike[str]) -> Manifest:
    """Write the workload ``spec`` describes to ``path`` and its manifest beside it.

    Both files are written atomically. The same spec gives a byte-identical workload file. A
    ``text``-kind adversarial spec first searches its colliding keys (see
    :func:`colliding_text_for`) and records the seed they target in the manifest.

    Complexity: O(rows) time, O(1) memory (rows are written in batches of 65,536).

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "w.csv")
    >>> manifest = generate(GeneratorSpec(ops=1000, seed=7), path)
    >>> (manifest.rows, manifest.key_type, Manifest.path_for(path).exists())
    (1000, 'text', True)
    """
    target = Path(path)
    colliding = colliding_text_for(spec)
    with WorkloadWriter(target, key_type=spec.key_type) as writer:
        batch: list[tuple[Op, str | int, str | None]] = []
        for row in generate_rows(spec, colliding=colliding):
            batch.append(row)
            if len(batch) >= _BATCH_ROWS:
                writer.write_many(batch)
                batch.clear()
        writer.write_many(batch)
    digest = hashlib.sha256()
    with open(target, "rb") as handle:
        size_bytes = 0
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size_bytes += len(chunk)
    manifest = Manifest(
        file=target.name,
        spec=spec,
        preset=spec.preset,
        seed=spec.seed,
        rows=writer.rows_written,
        size_bytes=size_bytes,
        sha256=digest.hexdigest(),
        key_type=spec.key_type,
        adhash_version=__version__,
        generator_version=GENERATOR_VERSION,
        python=platform.python_version(),
        created_at=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        hash_seed_probe=colliding.probe if colliding is not None else None,
    )
    atomic_write_bytes(Manifest.path_for(target), manifest.to_json())
    return manifest
