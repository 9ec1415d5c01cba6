"""AdaptiveMap: a map that changes its own structure, live and incrementally.

An AdaptiveMap holds one backend and, while migrating, a second one being drained. Every key
lives in exactly one of the two at any moment: each operation first moves a bounded batch of
entries from the draining backend into the current one, a write to a key still in the draining
backend updates it there (so the write wins over the copy, which moves the new value later), and
a delete removes the key from whichever backend holds it (so nothing is resurrected).

The :class:`AdaptivePolicy` is checked every ``check_interval`` writes, and always just before
the chaining backend would double itself, from the backends' incrementally kept statistics (O(1)
per check, never a scan). Each decision is reported to subscribers as a :class:`MapEvent`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields, replace
from typing import Any, Literal

from adhash.errors import BadInputError, InvariantError
from adhash.maps._base import MISSING, HashMapBase, K, V, check_power_of_two
from adhash.maps.chaining import ChainingMap
from adhash.maps.compact import CompactMap
from adhash.maps.robinhood import Deletion, RobinHoodMap
from adhash.maps.salted import SaltedMap
from adhash.maps.stats import Hashing, LengthHistogram, MapStats, OccupancyHeatmap

__all__ = ["AdaptiveMap", "AdaptivePolicy", "BackendName", "MapEvent"]

BackendName = Literal["chaining", "robinhood", "compact"]
EventKind = Literal[
    "migration_started", "migration_completed", "compaction_started", "compaction_completed"
]

_BACKENDS: tuple[BackendName, ...] = ("chaining", "robinhood", "compact")
_RECENT_EVENTS = 256
_MAX_BACKOFF_DOUBLINGS = 16
_PATHOLOGIES = ("chain_length", "probe_length")
_HASHINGS: tuple[Hashing, ...] = ("plain", "salted")


def _check_hashing(hashing: object) -> Hashing:
    """``hashing`` if it names a hashing mode, else the BadInputError every entry point raises."""
    if hashing not in _HASHINGS:
        raise BadInputError(f"hashing must be 'plain' or 'salted', got {hashing!r}")
    return hashing


@dataclass(frozen=True, slots=True)
class AdaptivePolicy:
    """When an AdaptiveMap migrates, and how.

    Defaults and what they do:

    * ``start_backend="chaining"``: the backend a new map starts on.
    * ``chaining_max_load_factor=0.9``: on chaining, migrate to Robin Hood when entries per
      chain exceed it. The chaining backend itself doubles at 1.0 and the policy is always
      checked just before that, so this fires as a map grows: instead of an O(n) rehash in one
      operation, the map moves to Robin Hood a batch at a time.
    * ``chaining_max_chain_length=12``: on chaining, migrate to Robin Hood when a chain reaches
      this length. Chain lengths of random keys are Poisson: at load 1 and 2²⁰ chains the chance
      that any chain reaches 12 is about 0.1 %, so only colliding keys get there.
    * ``robinhood_max_probe_mean=4.0``: on Robin Hood, migrate to chaining when the mean
      displacement exceeds it (random keys average about 1.2 at Robin Hood's 0.7 maximum
      load, and 2.7 even at 0.85).
    * ``flood_min_keys=16``: migrate to salted hashing (a keyed hash of each key's value,
      see :mod:`adhash.maps.salted`) when this many keys with one identical ``hash()`` are
      found in the backend's worst chain or probe run (``MapStats.flood_keys``). Random keys
      give 1; only colliding full hashes, which no backend can separate, get here. The check
      runs before any other, also during a cooldown, and a flood found mid-migration finishes
      that migration first. A map never leaves salted hashing on its own. ``None`` turns the
      defence off.
    * ``max_tombstone_ratio=0.25``: compact (migrate to a fresh backend of the same kind) when
      tombstones (Robin Hood with tombstone deletion) or deleted holes (compact) reach this share.
      It sits below Robin Hood's own purge ratio (0.3) so the policy acts first.
    * ``cooldown_ops=4096``: writes after a migration caused by long chains or long probes before
      the next decision; it doubles with every further such migration, so colliding keys cannot
      make the map ping-pong. Growth (load factor) and compactions start no cooldown.
    * ``migration_batch=64``: entries moved per operation while migrating.
    * ``check_interval=256``: writes between policy checks.
    * ``robinhood_deletion``, ``chaining_buckets``, ``groups_per_bucket``,
      ``robinhood_capacity``, ``compact_capacity``: how the backends are built.

    >>> AdaptivePolicy(migration_batch=0)
    Traceback (most recent call last):
    ...
    adhash.errors.BadInputError: AdaptivePolicy.migration_batch must be an int >= 1, got 0
    """

    start_backend: BackendName = "chaining"
    chaining_max_load_factor: float = 0.9
    chaining_max_chain_length: int = 12
    robinhood_max_probe_mean: float = 4.0
    flood_min_keys: int | None = 16
    max_tombstone_ratio: float = 0.25
    cooldown_ops: int = 4096
    migration_batch: int = 64
    check_interval: int = 256
    robinhood_deletion: Deletion = "backward_shift"
    chaining_buckets: int = 8
    groups_per_bucket: int = 8
    robinhood_capacity: int = 8
    compact_capacity: int = 8

    def __post_init__(self) -> None:
        if self.start_backend not in _BACKENDS:
            raise BadInputError(
                f"AdaptivePolicy.start_backend must be one of {', '.join(_BACKENDS)}, "
                f"got {self.start_backend!r}"
            )
        if self.robinhood_deletion not in ("backward_shift", "tombstone"):
            raise BadInputError(
                "AdaptivePolicy.robinhood_deletion must be 'backward_shift' or 'tombstone', "
                f"got {self.robinhood_deletion!r}"
            )
        for name, low, high in (
            ("chaining_max_load_factor", 0.0, 64.0),
            ("robinhood_max_probe_mean", 0.0, 1e9),
            ("max_tombstone_ratio", 0.0, 1.0),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise BadInputError(f"AdaptivePolicy.{name} must be a number, got {value!r}")
            if not low < value <= high:
                raise BadInputError(
                    f"AdaptivePolicy.{name} must be in ({low}, {high}], got {value!r}"
                )
        if self.flood_min_keys is not None and (
            isinstance(self.flood_min_keys, bool)
            or not isinstance(self.flood_min_keys, int)
            or self.flood_min_keys < 2
        ):
            raise BadInputError(
                "AdaptivePolicy.flood_min_keys must be an int >= 2, or None (no flooding "
                f"defence), got {self.flood_min_keys!r}"
            )
        for name in (
            "chaining_max_chain_length",
            "cooldown_ops",
            "migration_batch",
            "check_interval",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise BadInputError(f"AdaptivePolicy.{name} must be an int >= 1, got {value!r}")
        for name in ("chaining_buckets", "groups_per_bucket", "robinhood_capacity"):
            check_power_of_two(f"AdaptivePolicy.{name}", getattr(self, name))
        check_power_of_two("AdaptivePolicy.compact_capacity", self.compact_capacity, 8)

    def as_dict(self) -> dict[str, Any]:
        """The policy as a plain dict (for reports and configuration files).

        >>> AdaptivePolicy().as_dict()["migration_batch"]
        64
        """
        return {field.name: getattr(self, field.name) for field in fields(self)}

    def build_backend(
        self, name: BackendName, hash_seed: int | None = None, hashing: Hashing = "plain"
    ) -> HashMapBase[Any, Any]:
        """A new empty backend ``name`` with this policy's sizes and deletion strategy,
        wrapped in a :class:`~adhash.maps.salted.SaltedMap` for ``hashing="salted"``.

        >>> AdaptivePolicy(robinhood_capacity=64).build_backend("robinhood").stats().capacity
        64
        >>> AdaptivePolicy().build_backend("compact", hashing="salted").stats().hashing
        'salted'
        """
        plain = self._build_plain(name, hash_seed)
        if _check_hashing(hashing) == "salted":
            return SaltedMap(inner=plain, seed=hash_seed)
        return plain

    def _build_plain(self, name: BackendName, hash_seed: int | None) -> HashMapBase[Any, Any]:
        if name == "chaining":
            return ChainingMap(
                buckets=self.chaining_buckets,
                groups_per_bucket=self.groups_per_bucket,
                hash_seed=hash_seed,
            )
        if name == "robinhood":
            return RobinHoodMap(
                capacity=self.robinhood_capacity,
                deletion=self.robinhood_deletion,
                hash_seed=hash_seed,
            )
        if name == "compact":
            return CompactMap(capacity=self.compact_capacity, hash_seed=hash_seed)
        raise BadInputError(f"unknown backend {name!r}; choose one of {', '.join(_BACKENDS)}")


@dataclass(frozen=True, slots=True)
class MapEvent:
    """A migration or compaction decision, with the reason and the numbers behind it.

    ``metric``/``value``/``threshold`` name the statistic that crossed its threshold (``None``
    for a forced migration); ``size`` is the map's size and ``writes`` the writes seen so far.
    ``hashing`` is the target's hashing (``"salted"`` after a flood: reason ``"flooding"``);
    a completed migration to salted hashing counts in ``unsalted_keys`` the keys of types that
    cannot be hashed by value (``unsalted_type`` names the first one's type): they stay on plain
    hashing, so they could still collide.
    """

    kind: EventKind
    source: str
    target: str
    reason: str
    size: int
    writes: int
    metric: str | None = None
    value: float | None = None
    threshold: float | None = None
    moved: int = 0
    hashing: Hashing = "plain"
    unsalted_keys: int = 0
    unsalted_type: str | None = None

    @property
    def message(self) -> str:
        """A one-line description.

        >>> MapEvent("migration_started", "chaining", "robinhood", "load_factor", 10, 99,
        ...          "load_factor", 0.95, 0.9).message  # doctest: +NORMALIZE_WHITESPACE
        'migration_started chaining -> robinhood (load_factor: load_factor 0.95,
         threshold 0.9, size 10)'
        """
        numbers = ""
        if self.metric is not None:
            numbers = f": {self.metric} {self.value:.3g}, threshold {self.threshold:.3g}"
        route = f"{self.source} -> {self.target}"
        if self.hashing == "salted":
            route += " (salted hashing)"
        unsalted = ""
        if self.unsalted_keys:
            unsalted = (
                f"; {self.unsalted_keys} keys (type {self.unsalted_type}) cannot be hashed by "
                "value and stay on plain hashing"
            )
        return f"{self.kind} {route} ({self.reason}{numbers}, size {self.size}{unsalted})"


Subscriber = Callable[[MapEvent], None]


def _items_of(backend: HashMapBase[Any, Any]) -> Iterator[tuple[Any, Any]]:
    return backend._iter_items()


def _unsalted(backend: HashMapBase[Any, Any]) -> dict[str, Any]:
    """A salted backend's keys that stay on plain hashing, for the completion event."""
    if isinstance(backend, SaltedMap) and backend.unsalted_keys:
        return {"unsalted_keys": backend.unsalted_keys, "unsalted_type": backend.unsalted_type}
    return {}


def _kind(backend: HashMapBase[Any, Any]) -> str:
    """The structure of a backend: a salted backend is named after the one it wraps."""
    if isinstance(backend, SaltedMap):
        return backend.inner.backend_name
    return backend.backend_name


class AdaptiveMap(HashMapBase[K, V]):
    """A map that migrates between backends live, a bounded batch per operation.

    Tuning parameters (keyword-only): ``policy`` (an :class:`AdaptivePolicy`), ``hash_seed``
    (each backend the map builds gets its own salt derived from it) and ``hashing``
    (``"plain"``, the default, or ``"salted"`` to start with the flooding defence on).

    >>> m = AdaptiveMap(a=1)
    >>> seen = []
    >>> unsubscribe = m.subscribe(seen.append)
    >>> m.migrate_to("robinhood")
    >>> (m.backend, m["a"], [e.kind for e in seen])
    ('robinhood', 1, ['migration_started', 'migration_completed'])
    """

    backend_name = "adaptive"

    def __init__(
        self,
        other: Any = (),
        /,
        *,
        policy: AdaptivePolicy | None = None,
        hash_seed: int | None = None,
        hashing: Hashing = "plain",
        **items: V,
    ) -> None:
        self._policy = policy if policy is not None else AdaptivePolicy()
        if not isinstance(self._policy, AdaptivePolicy):
            raise BadInputError(f"policy must be an AdaptivePolicy, got {type(policy).__name__}")
        self._hashing: Hashing = _check_hashing(hashing)
        self._hash_seed = hash_seed
        self._generation = 0
        self._current: HashMapBase[Any, Any] = self._build(self._policy.start_backend)
        self._draining: HashMapBase[Any, Any] | None = None
        self._migration_total = 0
        self._migration_kind: Literal["migration", "compaction"] = "migration"
        self._migration_reason: tuple[str, str | None, float | None, float | None] = (
            "forced",
            None,
            None,
            None,
        )
        self._iterators = 0
        self._writes = 0
        self._countdown = self._countdown_start = 1
        self._cooldown_until = 0
        self._policy_migrations = 0
        self._subscribers: list[Subscriber] = []
        self._events: deque[MapEvent] = deque(maxlen=_RECENT_EVENTS)
        self._fill(other, items)

    def _build(self, name: BackendName) -> HashMapBase[Any, Any]:
        seed = None if self._hash_seed is None else self._hash_seed + self._generation
        self._generation += 1
        return self._policy.build_backend(name, seed, self._hashing)

    def _config(self) -> dict[str, Any]:
        return {"policy": self._policy, "hash_seed": self._hash_seed, "hashing": self._hashing}

    # -- the public face of adaptation -----------------------------------------------------

    @property
    def policy(self) -> AdaptivePolicy:
        """The policy in force.

        >>> AdaptiveMap().policy.start_backend
        'chaining'
        """
        return self._policy

    @property
    def backend(self) -> str:
        """The backend receiving writes (the migration target while migrating).

        >>> AdaptiveMap(policy=AdaptivePolicy(start_backend="compact")).backend
        'compact'
        """
        return _kind(self._current)

    @property
    def hashing(self) -> Hashing:
        """``"salted"`` once the map places keys by a keyed hash of their value, else
        ``"plain"`` (the hashing of the backend receiving writes).

        >>> AdaptiveMap(hashing="salted").hashing
        'salted'
        """
        return self._hashing

    @property
    def is_migrating(self) -> bool:
        """Whether a migration or compaction is in progress.

        >>> AdaptiveMap().is_migrating
        False
        """
        return self._draining is not None

    @property
    def events(self) -> tuple[MapEvent, ...]:
        """The most recent events (at most 256), oldest first.

        >>> m = AdaptiveMap(); m.migrate_to("compact"); len(m.events)
        2
        """
        return tuple(self._events)

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(event)`` for every migration and compaction; returns an unsubscriber.

        A subscriber runs after the map's state is consistent; its exceptions propagate.

        >>> m = AdaptiveMap(); off = m.subscribe(print); off(); m.migrate_to("compact")
        """
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def migrate_to(
        self, name: BackendName, *, reason: str = "forced", hashing: Hashing | None = None
    ) -> None:
        """Start migrating to backend ``name`` (a compaction when it is the current backend
        and the hashing stays); ``hashing`` switches to ``"salted"`` or back to ``"plain"``.

        A migration already in progress is finished first. Entries then move a batch per
        operation; :meth:`migrate_step` and :meth:`finish_migration` move them on demand.
        Complexity: O(1) to start, plus finishing any migration in progress.

        >>> m = AdaptiveMap.fromkeys(range(5)); m.migrate_to("robinhood")
        >>> (m.backend, sorted(m))
        ('robinhood', [0, 1, 2, 3, 4])
        """
        if name not in _BACKENDS:
            raise BadInputError(f"unknown backend {name!r}; choose one of {', '.join(_BACKENDS)}")
        if hashing is not None:
            _check_hashing(hashing)
        self.finish_migration()
        self._start(name, reason, None, None, None, hashing)

    def migrate_step(self, batch: int | None = None) -> int:
        """Move up to ``batch`` entries (default: the policy's batch); return how many moved.

        Complexity: O(batch).

        >>> AdaptiveMap(a=1).migrate_step()
        0
        """
        if self._draining is None:
            return 0
        return self._step(self._policy.migration_batch if batch is None else batch)

    def finish_migration(self) -> None:
        """Move everything that is left, completing the migration in progress.

        Complexity: O(entries left to move).

        >>> m = AdaptiveMap(a=1); m.finish_migration(); m.is_migrating
        False
        """
        while self._draining is not None:
            self._step(max(1, len(self._draining)))

    def _start(
        self,
        name: BackendName,
        reason: str,
        metric: str | None,
        value: float | None,
        threshold: float | None,
        hashing: Hashing | None = None,
    ) -> None:
        source = self._current
        compaction = name == _kind(source) and hashing in (None, self._hashing)
        if hashing is not None:
            self._hashing = hashing
        target = self._build(name)
        target.reserve(len(source) + len(source) // 4)
        self._draining = source
        self._current = target
        self._migration_total = len(source)
        self._migration_kind = "compaction" if compaction else "migration"
        self._migration_reason = (reason, metric, value, threshold)
        self._emit(f"{self._migration_kind}_started", _kind(source), name, moved=0)  # type: ignore[arg-type]
        if not source:
            self._complete()

    def _step(self, batch: int) -> int:
        """Move up to ``batch`` entries. Each is read, inserted into the target, and only then
        removed from the source, so an exception from a key's ``__hash__`` loses nothing."""
        source = self._draining
        assert source is not None
        target = self._current
        peek = source._peek_last  # type: ignore[attr-defined]
        drop = source._drop_last  # type: ignore[attr-defined]
        moved = 0
        while moved < batch and source:
            key, value = peek()
            target[key] = value
            drop()
            moved += 1
        if not source:
            self._complete()
        return moved

    def _complete(self) -> None:
        source = self._draining
        assert source is not None
        self._draining = None
        self._emit(
            f"{self._migration_kind}_completed",  # type: ignore[arg-type]
            _kind(source),
            _kind(self._current),
            moved=self._migration_total,
        )

    def _emit(self, kind: EventKind, source: str, target: str, *, moved: int) -> None:
        reason, metric, value, threshold = self._migration_reason
        event = MapEvent(
            kind=kind,
            source=source,
            target=target,
            reason=reason,
            size=len(self),
            writes=self._writes,
            metric=metric,
            value=value,
            threshold=threshold,
            moved=moved,
            hashing=self._hashing,
            **_unsalted(self._current) if kind.endswith("_completed") else {},
        )
        self._events.append(event)
        for subscriber in list(self._subscribers):
            subscriber(event)

    def _maintain(self) -> None:
        """Check the policy (every ``check_interval`` writes and before chaining would grow)."""
        policy = self._policy
        interval = policy.check_interval
        self._writes += self._countdown_start - self._countdown
        current = self._current
        self._countdown = interval
        self._countdown_start = interval
        flood_min = policy.flood_min_keys if self._hashing == "plain" else None
        waiting = self._draining is not None or self._writes < self._cooldown_until
        if waiting and flood_min is None:
            return
        stats = current.stats()
        # The flood check alone also runs during a migration or a cooldown.
        if flood_min is not None and (stats.flood_keys or 0) >= flood_min:
            self._defend(stats.flood_keys or 0, flood_min)
            return
        if waiting:
            return
        name = stats.backend
        decision: tuple[BackendName, str, str, float, float] | None = None
        if name == "chaining":
            chain_max = stats.chain_length_max or 0
            if stats.load_factor > policy.chaining_max_load_factor:
                decision = (
                    "robinhood",
                    "load_factor",
                    "load_factor",
                    stats.load_factor,
                    policy.chaining_max_load_factor,
                )
            elif chain_max >= policy.chaining_max_chain_length:
                decision = (
                    "robinhood",
                    "chain_length",
                    "chain_length_max",
                    chain_max,
                    policy.chaining_max_chain_length,
                )
            else:
                headroom = current._grow_at - len(current)  # type: ignore[attr-defined]
                self._countdown = max(1, min(interval, headroom))
        elif name == "robinhood":
            probe_mean = stats.probe_length_mean or 0.0
            if probe_mean > policy.robinhood_max_probe_mean:
                decision = (
                    "chaining",
                    "probe_length",
                    "probe_length_mean",
                    probe_mean,
                    policy.robinhood_max_probe_mean,
                )
        if decision is None and (stats.tombstone_ratio or 0.0) >= policy.max_tombstone_ratio:
            decision = (
                name,  # type: ignore[assignment]
                "tombstones",
                "tombstone_ratio",
                stats.tombstone_ratio or 0.0,
                policy.max_tombstone_ratio,
            )
        self._countdown_start = self._countdown
        if decision is None:
            return
        target, reason, metric, value, threshold = decision
        if reason in _PATHOLOGIES:
            # Long chains and long probes can both come from keys no backend separates; the
            # backoff keeps such keys from bouncing the map between the two.
            doublings = min(self._policy_migrations, _MAX_BACKOFF_DOUBLINGS)
            self._cooldown_until = self._writes + (policy.cooldown_ops << doublings)
            self._policy_migrations += 1
        self._start(target, reason, metric, value, threshold)

    def _defend(self, flood: int, threshold: int) -> None:
        """Start the migration to salted hashing (the backend's structure stays).

        A flood found mid-migration finishes that migration first (once, O(entries left)):
        the alternative is every colliding key piling into the new backend meanwhile."""
        self.finish_migration()
        name: BackendName = _kind(self._current)  # type: ignore[assignment]
        self._start(name, "flooding", "flood_keys", flood, threshold, "salted")

    # -- mapping primitives ----------------------------------------------------------------

    def __getitem__(self, key: K) -> V:
        """``self[key]``; KeyError when absent.

        Complexity: O(1) expected, plus one migration batch while migrating.

        >>> AdaptiveMap(a=1)["a"]
        1
        """
        if self._draining is None:
            return self._current[key]  # type: ignore[no-any-return]
        draining = self._advance()
        value = self._current.get(key, MISSING)
        if value is MISSING:
            if draining is None:
                raise KeyError(key)
            return draining[key]  # type: ignore[no-any-return]
        return value  # type: ignore[no-any-return]

    def get(self, key: K, default: Any = None) -> Any:
        """``self[key]`` if present, else ``default``.

        Complexity: O(1) expected, plus one migration batch while migrating.

        >>> AdaptiveMap(a=1).get("b", 0)
        0
        """
        if self._draining is None:
            return self._current.get(key, default)
        draining = self._advance()
        value = self._current.get(key, MISSING)
        if value is MISSING:
            if draining is None:
                return default
            return draining.get(key, default)
        return value

    def __contains__(self, key: object) -> bool:
        """``key in self``.

        Complexity: O(1) expected, plus one migration batch while migrating.

        >>> 1 in AdaptiveMap.fromkeys([1])
        True
        """
        if self._draining is None:
            return key in self._current
        draining = self._advance()
        return key in self._current or (draining is not None and key in draining)

    def __len__(self) -> int:
        if self._draining is None:
            return len(self._current)
        return len(self._current) + len(self._draining)

    def __setitem__(self, key: K, value: V) -> None:
        """``self[key] = value``; while migrating, a key not yet moved is updated in place.

        Complexity: O(1) amortised, plus one migration batch while migrating.

        >>> m = AdaptiveMap(); m["a"] = 1; m["a"] = 2; m["a"]
        2
        """
        if self._draining is None:
            self._current[key] = value
        else:
            draining = self._advance()
            if draining is not None and key in draining:
                draining[key] = value
            else:
                self._current[key] = value
        self._countdown -= 1
        if self._countdown <= 0:
            self._maintain()

    def __delitem__(self, key: K) -> None:
        """``del self[key]``; KeyError when absent.

        Complexity: O(1) expected, plus one migration batch while migrating.

        >>> m = AdaptiveMap(a=1); del m["a"]; len(m)
        0
        """
        if self._draining is None:
            del self._current[key]
        elif self._detach(key) is MISSING:
            raise KeyError(key)
        self._countdown -= 1
        if self._countdown <= 0:
            self._maintain()

    def _pop(self, key: Any, default: Any) -> Any:
        if self._draining is None:
            value = self._current._pop(key, default)
        else:
            value = self._detach(key)
            if value is MISSING:
                if default is MISSING:
                    raise KeyError(key)
                return default
        self._countdown -= 1
        if self._countdown <= 0:
            self._maintain()
        return value

    def _detach(self, key: Any) -> Any:
        """Remove ``key`` from whichever backend holds it, mid-migration; MISSING if absent."""
        draining = self._advance()
        value = self._current._pop(key, MISSING) if key in self._current else MISSING
        if value is MISSING and draining is not None:
            value = draining._detach(key)  # type: ignore[attr-defined]
            if not draining:
                self._complete()
        return value

    def _advance(self) -> HashMapBase[Any, Any] | None:
        """Move one batch unless an iterator is open; return the backend still draining."""
        if self._iterators == 0 and self._draining is not None:
            self._step(self._policy.migration_batch)
        return self._draining

    def popitem(self) -> tuple[K, V]:
        """Remove and return some pair; KeyError when empty.

        Complexity: O(1) amortised.

        >>> AdaptiveMap(a=1).popitem()
        ('a', 1)
        """
        draining = self._advance() if self._draining is not None else None
        if self._current:
            pair = self._current.popitem()
        elif draining is not None and draining:
            pair = draining.popitem()
            if not draining:
                self._complete()
        else:
            raise KeyError("popitem(): AdaptiveMap is empty")
        return pair

    def _export(self) -> tuple[list[K], list[V]]:
        keys, values = self._current._export()
        if self._draining is not None:
            more_keys, more_values = self._draining._export()
            keys += more_keys
            values += more_values
        return keys, values

    def _load_absent(self, new_keys: list[Any], new_values: list[Any]) -> None:
        """Bulk insert of keys known to be absent and distinct (into the current backend)."""
        if self._draining is None:
            self._current._load_absent(new_keys, new_values)
            return
        for key, value in zip(new_keys, new_values, strict=True):
            self[key] = value

    def reserve(self, n: int) -> None:
        """Grow the current backend so ``n`` entries fit without another resize.

        >>> m = AdaptiveMap(); m.reserve(100); len(m)
        0
        """
        self._current.reserve(n)

    def clear(self) -> None:
        """Remove everything; a migration in progress is abandoned (nothing is left to move).

        >>> m = AdaptiveMap(a=1); m.clear(); (len(m), m.is_migrating)
        (0, False)
        """
        self._draining = None
        self._current.clear()

    # -- iteration -------------------------------------------------------------------------

    def __iter__(self) -> Iterator[K]:
        # Capture the size now, as dict does when an iterator is made, not at the first next().
        return self._generate(len(self), iter)

    def _iter_items(self) -> Iterator[tuple[K, V]]:
        return self._generate(len(self), _items_of)

    def _generate(
        self, size: int, walk: Callable[[HashMapBase[Any, Any]], Iterator[Any]]
    ) -> Iterator[Any]:
        # No migration step runs while an iterator is open, so each key is seen exactly once:
        # first the current backend's, then the draining backend's (both fixed at the start).
        self._iterators += 1
        try:
            if len(self) != size:
                raise RuntimeError("AdaptiveMap changed size during iteration")
            current, draining = self._current, self._draining
            if draining is None:
                # Every size change lands in the one backend, whose iterator checks it (unless
                # a value update starts a migration meanwhile: hence the check at the end).
                yield from walk(current)
                if len(self) != size:
                    raise RuntimeError("AdaptiveMap changed size during iteration")
                return
            for backend in (current, draining):
                for item in walk(backend):
                    if len(self) != size:
                        raise RuntimeError("AdaptiveMap changed size during iteration")
                    yield item
            if len(self) != size:
                raise RuntimeError("AdaptiveMap changed size during iteration")
        finally:
            self._iterators -= 1

    # -- introspection ---------------------------------------------------------------------

    def stats(self) -> MapStats:
        """The current backend's statistics, with the whole map's size and migration progress.

        Complexity: that of the backend's ``stats()``.

        >>> AdaptiveMap(a=1).stats().backend
        'chaining'
        """
        base = self._current.stats()
        if self._draining is None:
            return base
        remaining = len(self._draining)
        total = max(self._migration_total, 1)
        return replace(
            base,
            size=base.size + remaining,
            migrating_from=_kind(self._draining),
            migration_progress=min(1.0, 1.0 - remaining / total),
        )

    def length_histogram(self) -> LengthHistogram:
        """The current backend's probe or chain histogram.

        >>> AdaptiveMap(a=1).length_histogram().kind
        'chain'
        """
        return self._current.length_histogram()

    def occupancy_heatmap(self, cells: int = 512, cols: int = 32) -> OccupancyHeatmap:
        """The current backend's occupancy heatmap (sampled, at most 4096 slots read).

        >>> AdaptiveMap().occupancy_heatmap(cells=4, cols=2).rows
        2
        """
        return self._current.occupancy_heatmap(cells, cols)

    def check_invariants(self) -> None:
        """Verify both backends and that no key lives in both.

        Complexity: O(n); for tests.

        >>> AdaptiveMap(a=1).check_invariants()
        """
        self._current.check_invariants()
        draining = self._draining
        if draining is None:
            return
        draining.check_invariants()
        if not draining:
            raise InvariantError("an empty draining backend was not retired")
        for key in draining:
            if key in self._current:
                raise InvariantError(f"key {key!r} lives in both backends during a migration")
