"""Probe tracing: the exact path a ``get`` or ``put`` takes through an adhash map, read-only.

A trace recomputes, from the map's own arrays and with the map's own hashing, every slot (Robin
Hood), index slot (compact) or chain position (chaining) the operation reads or writes, the Robin
Hood displacements it makes and how it ends, without changing the map. A salted table (a
:class:`~adhash.maps.salted.SaltedMap`, or an AdaptiveMap backend after a flood) is walked with
the ``(keyed hash, key)`` pair it stores, and the trace shows both hashes. ``adhash
probe-visualize`` prints it and the GUI draws it; ``docs/trace.md`` describes what it shows and
its JSON format.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from adhash.errors import BadInputError
from adhash.maps._base import MISSING, HashMapBase
from adhash.maps.adaptive import AdaptiveMap
from adhash.maps.chaining import ChainingMap
from adhash.maps.compact import _DUMMY_SLOT, _EMPTY_SLOT, _PERTURB_SHIFT, _UNSIGNED, CompactMap
from adhash.maps.robinhood import _BYTE_LIMIT, _TOMBSTONE, RobinHoodMap
from adhash.maps.salted import SaltedMap
from adhash.maps.stats import Hashing

__all__ = [
    "SCHEMA",
    "Operation",
    "Outcome",
    "ProbeStep",
    "ProbeTrace",
    "Swap",
    "TableView",
    "TraceCheck",
    "apply_and_check",
    "trace_get",
    "trace_put",
]

SCHEMA = "adhash.probe_trace.v1"
"""The ``schema`` field of :meth:`ProbeTrace.as_dict`."""

Operation = Literal["get", "put"]
Outcome = Literal["found", "missing", "inserted", "updated"]
StepKind = Literal["slot", "chain", "index"]
SlotState = Literal["empty", "occupied", "tombstone", "deleted"]
Phase = Literal["lookup", "insert"]
TableRole = Literal["current", "draining", "resized"]

_Backend = ChainingMap[Any, Any] | RobinHoodMap[Any, Any] | CompactMap[Any, Any]
_Table = _Backend | SaltedMap[Any, Any]
_B = TypeVar("_B", bound=HashMapBase[Any, Any])

_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
_WHERE = {"slot": "slot", "index": "index", "chain": "pos"}


def _json_value(item: object) -> object:
    """``item`` as JSON can hold it: text, numbers, booleans and null as they are, else repr."""
    if item is None or isinstance(item, str | bool | float):
        return item
    if isinstance(item, int) and _INT64_MIN <= item <= _INT64_MAX:
        return item
    return repr(item)


@dataclass(frozen=True, slots=True)
class TableView:
    """One table the operation consults, and where the key's home is in it.

    ``role`` is ``current`` (the map's table; for an AdaptiveMap the backend receiving writes),
    ``draining`` (an AdaptiveMap's backend being migrated away from) or ``resized`` (the table a
    put grows into before inserting). ``backend`` is the table's structure and ``capacity``
    counts its slots, index slots or chains; ``bucket`` and ``group`` locate a chaining home in
    the two-level layout. ``hashing`` is ``salted`` for a table holding ``(keyed hash, key)``
    pairs, whose home is that pair's; ``salted_hash`` is then the key's keyed hash under this
    table's secret (``None`` for a key type salted hashing leaves on plain hashing).
    """

    role: TableRole
    backend: str
    capacity: int
    home: int
    bucket: int | None = None
    group: int | None = None
    hashing: Hashing = "plain"
    salted_hash: int | None = None

    def as_dict(self) -> dict[str, object]:
        """The view as JSON-ready data.

        Complexity: O(1).

        >>> TableView("current", "robinhood", 8, 3).as_dict()["home"]
        3
        """
        return {
            "role": self.role,
            "backend": self.backend,
            "capacity": self.capacity,
            "home": self.home,
            "bucket": self.bucket,
            "group": self.group,
            "hashing": self.hashing,
            "salted_hash": self.salted_hash,
        }


@dataclass(frozen=True, slots=True)
class ProbeStep:
    """One slot, index slot or chain position the operation reads or writes.

    ``occupant_key`` is what the slot held before the step (``None`` unless ``state`` is
    ``occupied``); ``occupant_distance`` is that occupant's distance from its own home (Robin
    Hood: stored displacement, tombstones included; compact: probes its own lookup needs;
    chaining: position in the chain). ``probe_distance`` is how far along its probe sequence the
    entry being looked up or carried is at this step (after a Robin Hood swap, the evicted entry
    is the one carried). ``compared`` says whether the key was compared with the occupant. In a
    salted table the occupant is the user's key, taken out of the pair the table stores.
    """

    table: TableRole
    phase: Phase
    index: int
    kind: StepKind
    state: SlotState
    occupant_key: Any
    occupant_distance: int | None
    probe_distance: int
    compared: bool
    matched: bool
    action: str

    def as_dict(self) -> dict[str, object]:
        """The step as JSON-ready data (keys as JSON holds them, anything else as ``repr``).

        Complexity: O(1).

        >>> ProbeStep("current", "lookup", 5, "slot", "empty", None, None, 0, False, False,
        ...           "stop-empty").as_dict()["action"]
        'stop-empty'
        """
        return {
            "table": self.table,
            "phase": self.phase,
            "index": self.index,
            "kind": self.kind,
            "state": self.state,
            "occupant_key": _json_value(self.occupant_key),
            "occupant_distance": self.occupant_distance,
            "probe_distance": self.probe_distance,
            "compared": self.compared,
            "matched": self.matched,
            "action": self.action,
        }


@dataclass(frozen=True, slots=True)
class Swap:
    """A Robin Hood displacement: the entry carried so far takes ``slot`` from a richer resident.

    ``carried_key`` lands in ``slot`` at distance ``carried_distance``; ``evicted_key`` (stored at
    distance ``evicted_distance``, closer to its home) is carried on from the next slot. Both are
    the user's keys, also in a salted table (which stores and moves their pairs).
    """

    slot: int
    carried_key: Any
    carried_distance: int
    evicted_key: Any
    evicted_distance: int

    def as_dict(self) -> dict[str, object]:
        """The swap as JSON-ready data.

        Complexity: O(1).

        >>> Swap(4, "a", 2, "b", 0).as_dict()["evicted_key"]
        'b'
        """
        return {
            "slot": self.slot,
            "carried_key": _json_value(self.carried_key),
            "carried_distance": self.carried_distance,
            "evicted_key": _json_value(self.evicted_key),
            "evicted_distance": self.evicted_distance,
        }


@dataclass(frozen=True, slots=True)
class ProbeTrace:
    """The path of one ``get`` or ``put``, as the map would take it, and how it ends.

    ``home`` and ``capacity`` belong to the table where the outcome is decided (the last one in
    ``tables``). ``slot`` is where the key was found or lands: a slot (Robin Hood), an index slot
    (compact) or a position in the home chain (chaining); ``None`` when it is missing.
    ``found_value`` is the value a get returns, or the value a put replaces. ``plain_hash`` is
    ``hash(key)``; ``hashing`` and ``salted_hash`` are those of the deciding table (see
    :class:`TableView`): keys with one ``hash()`` get distinct keyed hashes, so distinct homes.
    """

    operation: Operation
    backend: str
    key: Any
    value: Any
    hashing: Hashing
    plain_hash: int
    salted_hash: int | None
    home: int
    capacity: int
    tables: tuple[TableView, ...]
    steps: tuple[ProbeStep, ...]
    swaps: tuple[Swap, ...]
    outcome: Outcome
    found_value: Any
    slot: int | None
    notes: tuple[str, ...] = ()

    @property
    def resized(self) -> bool:
        """Whether the put grows the table before inserting.

        Complexity: O(tables).

        >>> from adhash import RobinHoodMap
        >>> m = RobinHoodMap({0: "z"}, capacity=2, hash_seed=1)
        >>> (trace_put(m, 1, "a").resized, trace_put(m, 0, "y").resized)
        (True, False)
        """
        return any(table.role == "resized" for table in self.tables)

    def as_dict(self) -> dict[str, object]:
        """The trace as JSON-ready data, schema ``adhash.probe_trace.v1``.

        Complexity: O(steps).

        >>> from adhash import ChainingMap
        >>> data = trace_get(ChainingMap({1: "a"}, hash_seed=3), 1).as_dict()
        >>> (data["schema"], data["outcome"], data["found_value"])
        ('adhash.probe_trace.v1', 'found', 'a')
        """
        return {
            "schema": SCHEMA,
            "operation": self.operation,
            "backend": self.backend,
            "key": _json_value(self.key),
            "value": _json_value(self.value),
            "hashing": self.hashing,
            "plain_hash": self.plain_hash,
            "salted_hash": self.salted_hash,
            "home": self.home,
            "capacity": self.capacity,
            "resized": self.resized,
            "tables": [table.as_dict() for table in self.tables],
            "steps": [step.as_dict() for step in self.steps],
            "swaps": [swap.as_dict() for swap in self.swaps],
            "outcome": self.outcome,
            "found_value": _json_value(self.found_value),
            "slot": self.slot,
            "notes": list(self.notes),
        }

    def render_text(self) -> str:
        """The trace as a readable table: one line per step, then the swaps and the outcome.

        Complexity: O(steps).

        >>> from adhash import RobinHoodMap
        >>> print(trace_get(RobinHoodMap(hash_seed=1), 7).render_text())
        Probe trace: GET 7 on robinhood
        Tables: current robinhood, capacity 8, home 5
           #  table    phase   where    state     occupant      dist  probe  action
           1  current  lookup  slot 5   empty     -                -      0  stop-empty
        Outcome: missing
        """
        head = f"Probe trace: {self.operation.upper()} {self.key!r}"
        if self.operation == "put":
            head += f" = {self.value!r}"
        salted = any(table.hashing == "salted" for table in self.tables)
        lines = [head + f" on {self.backend}"]
        if salted:
            lines.append(
                f"Hashing: hash(key) = {self.plain_hash}; a salted table stores the pair "
                "(keyed hash, key) and places it by both"
            )
        shown = [_show_table(table, hashing=salted) for table in self.tables]
        lines.append("Tables: " + "; ".join(shown))
        lines.append(
            f"  {'#':>2}  {'table':<8} {'phase':<7} {'where':<8} {'state':<9} {'occupant':<12}"
            f"  {'dist':>4}  {'probe':>5}  action"
        )
        for number, step in enumerate(self.steps, 1):
            occupant = repr(step.occupant_key) if step.state == "occupied" else "-"
            distance = "-" if step.occupant_distance is None else str(step.occupant_distance)
            where = f"{_WHERE[step.kind]} {step.index}"
            lines.append(
                f"  {number:>2}  {step.table:<8} {step.phase:<7} {where:<8} {step.state:<9} "
                f"{_clip(occupant):<12}  {distance:>4}  {step.probe_distance:>5}  {step.action}"
            )
        if self.swaps:
            lines.append("Swaps:")
            lines += [
                f"  slot {swap.slot}: {swap.carried_key!r} (distance {swap.carried_distance}) "
                f"takes the place of {swap.evicted_key!r} (distance {swap.evicted_distance}), "
                "which moves on"
                for swap in self.swaps
            ]
        lines.append(f"Outcome: {self._describe_outcome()}")
        if self.notes:
            lines.append("Notes:")
            lines += [f"  - {note}" for note in self.notes]
        return "\n".join(lines)

    def _describe_outcome(self) -> str:
        if self.outcome == "missing":
            return "missing"
        final = self.tables[-1]
        if final.backend == "chaining":
            where = f"chain {final.home} position {self.slot}"
        else:
            where = f"{'index slot' if final.backend == 'compact' else 'slot'} {self.slot}"
        where += f" of the {final.role} table" if len(self.tables) > 1 else ""
        if self.outcome == "found":
            return f"found at {where}, value {self.found_value!r}"
        if self.outcome == "updated":
            return f"updated at {where} (replacing {self.found_value!r})"
        return f"inserted at {where}"


def _show_table(table: TableView, *, hashing: bool) -> str:
    text = f"{table.role} {table.backend}"
    if hashing and table.salted_hash is None:
        text += f", {table.hashing}" + (", no keyed hash" if table.hashing == "salted" else "")
    elif hashing:
        text += f", salted, keyed hash {table.salted_hash}"
    text += f", capacity {table.capacity}, home {table.home}"
    if table.bucket is not None:
        text += f" (bucket {table.bucket}, group {table.group})"
    return text


def _entries(n: int) -> str:
    return f"{n} entry" if n == 1 else f"{n} entries"


def _clip(text: str, width: int = 12) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


@dataclass(frozen=True, slots=True)
class TraceCheck:
    """What the real operation did, beside its trace; ``mismatches`` lists every difference."""

    outcome: Outcome
    value: Any
    slot: int | None
    mismatches: tuple[str, ...]

    @property
    def matched(self) -> bool:
        """Whether the operation did exactly what the trace says.

        Complexity: O(1).

        >>> TraceCheck("found", 1, 0, ()).matched
        True
        """
        return not self.mismatches

    def as_dict(self) -> dict[str, object]:
        """The check as JSON-ready data.

        Complexity: O(mismatches).

        >>> TraceCheck("missing", None, None, ()).as_dict()["matched"]
        True
        """
        return {
            "outcome": self.outcome,
            "value": _json_value(self.value),
            "slot": self.slot,
            "matched": self.matched,
            "mismatches": list(self.mismatches),
        }


# -- building a trace ------------------------------------------------------------------------


@dataclass
class _Builder:
    """The parts of a trace as the walks produce them."""

    operation: Operation
    backend: str
    key: Any
    value: Any
    plain_hash: int
    tables: list[TableView] = field(default_factory=list)
    steps: list[ProbeStep] = field(default_factory=list)
    swaps: list[Swap] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    salted_roles: set[TableRole] = field(default_factory=set)

    def consult(self, role: TableRole, table: _Backend, probe: _Probe) -> None:
        """Record that the operation reads ``table`` (once per role)."""
        if any(view.role == role for view in self.tables):
            return
        if probe.hashing == "salted":
            self.salted_roles.add(role)
        self.tables.append(_view(role, table, probe))

    def shown(self, role: TableRole, stored: Any) -> Any:
        """A stored key as the user knows it: out of its pair in a salted table."""
        return stored[1] if role in self.salted_roles else stored

    def note(self, text: str) -> None:
        """Add a note once."""
        if text not in self.notes:
            self.notes.append(text)

    def step(
        self,
        role: TableRole,
        phase: Phase,
        index: int,
        kind: StepKind,
        state: SlotState,
        occupant: tuple[Any, int] | None,
        probe_distance: int,
        action: str,
        *,
        compared: bool = False,
        matched: bool = False,
    ) -> None:
        key, distance = occupant if occupant is not None else (None, None)
        self.steps.append(
            ProbeStep(
                role,
                phase,
                index,
                kind,
                state,
                self.shown(role, key) if state == "occupied" else None,
                distance,
                probe_distance,
                compared,
                matched,
                action,
            )
        )

    def swap(
        self,
        role: TableRole,
        slot: int,
        carried: Any,
        carried_distance: int,
        evicted: Any,
        evicted_distance: int,
    ) -> None:
        """Record a Robin Hood displacement (stored keys, shown as the user's keys)."""
        self.swaps.append(
            Swap(
                slot,
                self.shown(role, carried),
                carried_distance,
                self.shown(role, evicted),
                evicted_distance,
            )
        )

    def finish(self, outcome: Outcome, found_value: Any, slot: int | None) -> ProbeTrace:
        final = self.tables[-1]
        return ProbeTrace(
            operation=self.operation,
            backend=self.backend,
            key=self.key,
            value=self.value,
            hashing=final.hashing,
            plain_hash=self.plain_hash,
            salted_hash=final.salted_hash,
            home=final.home,
            capacity=final.capacity,
            tables=tuple(self.tables),
            steps=tuple(self.steps),
            swaps=tuple(self.swaps),
            outcome=outcome,
            found_value=found_value,
            slot=slot,
            notes=tuple(self.notes),
        )


@dataclass(frozen=True, slots=True)
class _Probe:
    """What a table is searched for: the key itself, or in a salted table the pair it stores,
    ``(salted_hash, key)``."""

    key: Any
    hashing: Hashing = "plain"
    salted_hash: int | None = None


@dataclass(frozen=True, slots=True)
class _Lookup:
    """How a lookup walk ended: the slot (or chain position) where it matched or stopped.

    ``distance`` is the walk's own counter there (Robin Hood: displacement + 1, as the map
    stores it; compact: probes; chaining: position); ``free`` is a compact put's free slot.
    """

    found: bool
    slot: int
    value: Any = None
    distance: int = 0
    free: int = -1
    free_distance: int = 0


def _view(role: TableRole, table: _Backend, probe: _Probe) -> TableView:
    key = probe.key
    bucket = group = None
    if isinstance(table, RobinHoodMap):
        home = table._home(key)
    else:
        home = hash((key, table._salt)) & table._mask
        if isinstance(table, ChainingMap):
            bucket, group = divmod(home, table._groups_per_bucket)
    return TableView(
        role,
        table.backend_name,
        table._mask + 1,
        home,
        bucket,
        group,
        hashing=probe.hashing,
        salted_hash=probe.salted_hash,
    )


def _scratch_copy(table: _B) -> _B:
    """A private copy of ``table`` that the map's own code may change: the same salt, layout and
    counters, its own arrays (a salted map: its own copy of the inner backend, the same secret).
    Running the map's code on it (a resize, a migration step) gives exactly the layout the real
    operation would build, and leaves the real map alone."""
    clone = object.__new__(type(table))
    state = {
        name: value[:] if isinstance(value, list | bytearray | array) else value
        for name, value in vars(table).items()
    }
    if isinstance(table, ChainingMap):
        state["_chain_values"] = [None if vs is None else vs[:] for vs in table._chain_values]
    if isinstance(table, SaltedMap):
        state["_inner"] = _scratch_copy(table._inner)
    vars(clone).update(state)
    return clone


def _backend_of(table: HashMapBase[Any, Any]) -> _Backend:
    if isinstance(table, ChainingMap | RobinHoodMap | CompactMap):
        return table
    raise BadInputError(f"cannot trace a {type(table).__name__} backend")


def _table_of_map(table: HashMapBase[Any, Any]) -> _Table:
    """``table`` checked to be traceable: a plain backend, or a SaltedMap over one."""
    if isinstance(table, SaltedMap):
        _backend_of(table.inner)
        return table
    return _backend_of(table)


def _enter(b: _Builder, table: _Table, key: Any) -> tuple[_Backend, _Probe]:
    """The plain backend to walk for ``key`` in ``table``, and what to look for in it."""
    if not isinstance(table, SaltedMap):
        return table, _Probe(key)
    pair = table.wrap(key)
    if pair[0] is None:
        b.note(
            f"salted hashing cannot hash a key of type {type(key).__name__} by value: it is "
            "stored as (None, key), placed by its hash() alone as on a plain table"
        )
    return _backend_of(table.inner), _Probe(pair, "salted", pair[0])


def _name(table: _Table) -> str:
    """A table's structure, with its hashing when salted: ``chaining``, ``salted chaining``."""
    if isinstance(table, SaltedMap):
        return f"salted {table.inner.backend_name}"
    return table.backend_name


# -- Robin Hood --------------------------------------------------------------------------------


def _robinhood_state(table: RobinHoodMap[Any, Any], i: int) -> tuple[SlotState, Any, int | None]:
    di = table._dist[i]
    if not di:
        return "empty", None, None
    key = table._keys[i]
    if key is _TOMBSTONE:
        return "tombstone", None, di - 1
    return "occupied", key, di - 1


def _robinhood_lookup(
    b: _Builder, role: TableRole, table: RobinHoodMap[Any, Any], probe: _Probe
) -> _Lookup:
    """The lookup loop of ``get``, ``_find`` and ``__setitem__``: compare only residents at the
    probe's own displacement, stop at an empty slot or a richer resident."""
    b.consult(role, table, probe)
    key = probe.key
    keys, dist, mask = table._keys, table._dist, table._mask
    i = table._home(key)
    d = 1
    while True:
        di = dist[i]
        state, occupant, distance = _robinhood_state(table, i)
        where = (occupant, distance) if distance is not None else None
        if di == d:
            k = keys[i]
            compared = k is not _TOMBSTONE
            matched = k is key or (compared and bool(k == key))
            action = "match" if matched else "mismatch" if compared else "skip"
            b.step(
                role,
                "lookup",
                i,
                "slot",
                state,
                where,
                d - 1,
                action,
                compared=compared,
                matched=matched,
            )
            if matched:
                return _Lookup(True, i, table._values[i], d)
        elif di < d:
            action = "stop-empty" if di == 0 else "stop-richer"
            b.step(role, "lookup", i, "slot", state, where, d - 1, action)
            return _Lookup(False, i, distance=d)
        else:
            b.step(role, "lookup", i, "slot", state, where, d - 1, "skip")
        i = (i + 1) & mask
        d += 1


def _robinhood_place(
    b: _Builder, role: TableRole, table: RobinHoodMap[Any, Any], probe: _Probe, i: int, d: int
) -> int:
    """The insert loop (``__setitem__``'s inlined one and ``_insert_new``): carry the entry on,
    rob every richer resident, stop at an empty slot (or, with tombstone deletion, a tombstone no
    farther from its home). Returns the slot where the key itself lands."""
    b.consult(role, table, probe)
    keys, dist, mask = table._keys, table._dist, table._mask
    tombstone_mode = table._tombstone_mode
    carried = probe.key
    landed = -1
    while True:
        di = dist[i]
        state, occupant, distance = _robinhood_state(table, i)
        where = (occupant, distance) if distance is not None else None
        if di == 0:
            b.step(role, "insert", i, "slot", state, None, d - 1, "place")
            return i if landed < 0 else landed
        if di < d or (di == d and tombstone_mode and keys[i] is _TOMBSTONE):
            if tombstone_mode and keys[i] is _TOMBSTONE:
                b.step(role, "insert", i, "slot", state, where, d - 1, "reuse-tombstone")
                return i if landed < 0 else landed
            b.step(role, "insert", i, "slot", state, where, d - 1, "swap")
            b.swap(role, i, carried, d - 1, keys[i], di - 1)
            if landed < 0:
                landed = i
            carried = keys[i]
            d = di
        else:
            b.step(role, "insert", i, "slot", state, where, d - 1, "pass")
        i = (i + 1) & mask
        d += 1


def _robinhood_put(
    b: _Builder, role: TableRole, table: RobinHoodMap[Any, Any], probe: _Probe
) -> ProbeTrace:
    found = _robinhood_lookup(b, role, table, probe)
    if found.found:
        return b.finish("updated", found.value, found.slot)
    if table._size + table._tombstones >= table._grow_at:
        grown = _scratch_copy(table)
        grown._resize(grown._capacity_for(grown._size + 1))
        tombstones = f" and {table._tombstones} tombstones" if table._tombstones else ""
        b.notes.append(
            f"the key is absent and the table is at its load limit ({_entries(table._size)}"
            f"{tombstones}, limit {table._grow_at}): the put first rebuilds it with "
            f"{grown._mask + 1} slots (computed here on a scratch copy), then inserts from the "
            "key's home slot in the new table"
        )
        slot = _robinhood_place(b, "resized", grown, probe, grown._home(probe.key), 1)
    elif table._tombstone_mode:
        b.notes.append(
            "tombstone deletion: the put looks the key up first, then walks again from the home "
            "slot to insert it, reusing the first tombstone no farther from its home"
        )
        slot = _robinhood_place(b, role, table, probe, table._home(probe.key), 1)
    else:
        if found.distance >= _BYTE_LIMIT:
            b.notes.append(
                f"the probe reached displacement {_BYTE_LIMIT - 1}: the insert restarts from the "
                "home slot with the widening insert loop (the same slots, listed once)"
            )
        slot = _robinhood_place(b, role, table, probe, found.slot, found.distance)
    return b.finish("inserted", None, slot)


# -- compact ---------------------------------------------------------------------------------


def _compact_probes_to(table: CompactMap[Any, Any], key: Any, slot: int) -> int:
    """How many probes ``key``'s own sequence takes to reach ``slot`` (where it is stored)."""
    h = hash((key, table._salt))
    mask = table._mask
    i = h & mask
    perturb = h & _UNSIGNED
    probes = 0
    while i != slot:
        perturb >>= _PERTURB_SHIFT
        i = (i * 5 + perturb + 1) & mask
        probes += 1
    return probes


def _compact_lookup(
    b: _Builder, role: TableRole, phase: Phase, table: CompactMap[Any, Any], probe: _Probe
) -> _Lookup:
    """``get``'s and ``_lookup``'s walk: CPython's perturbed probe sequence over the index,
    comparing every live entry, passing deleted slots (the first one is the free slot a put
    would reuse), stopping at an empty slot."""
    b.consult(role, table, probe)
    key = probe.key
    h = hash((key, table._salt))
    mask = table._mask
    index, keys = table._index, table._keys
    i = h & mask
    perturb = h & _UNSIGNED
    probes = 0
    free = -1
    free_probes = 0
    while True:
        ix = index[i]
        if ix >= 0:
            k = keys[ix]
            matched = k is key or bool(k == key)
            occupant = (k, _compact_probes_to(table, k, i))
            action = "match" if matched else "mismatch"
            b.step(
                role,
                phase,
                i,
                "index",
                "occupied",
                occupant,
                probes,
                action,
                compared=True,
                matched=matched,
            )
            if matched:
                return _Lookup(True, i, table._values[ix], probes)
        elif ix == _EMPTY_SLOT:
            b.step(role, phase, i, "index", "empty", None, probes, "stop-empty")
            if free < 0:
                return _Lookup(False, i, distance=probes, free=i, free_distance=probes)
            return _Lookup(False, i, distance=probes, free=free, free_distance=free_probes)
        else:
            b.step(role, phase, i, "index", "deleted", None, probes, "skip")
            if free < 0:
                free, free_probes = i, probes
        perturb >>= _PERTURB_SHIFT
        i = (i * 5 + perturb + 1) & mask
        probes += 1


def _compact_put(
    b: _Builder, role: TableRole, table: CompactMap[Any, Any], probe: _Probe
) -> ProbeTrace:
    found = _compact_lookup(b, role, "lookup", table, probe)
    home = next(step for step in b.steps if step.table == role)
    if home.state == "occupied" and not home.matched:
        b.notes.append(
            "the put compares the home slot's entry on its fast path, then looks the key up "
            "from the home slot again: the same slots, listed once"
        )
    if found.found:
        return b.finish("updated", found.value, found.slot)
    if table._filled >= table._usable or len(table._keys) >= table._usable:
        grown = _scratch_copy(table)
        grown._resize(grown._capacity_for(2 * grown._size))
        b.notes.append(
            f"the index has no usable slot left ({table._filled} of {table._usable} filled, "
            f"{len(table._keys)} dense entries): the put first rebuilds it with "
            f"{grown._mask + 1} slots (computed here on a scratch copy), then looks for a free "
            f"slot in the new index; the key becomes entry {len(grown._keys)}"
        )
        spot = _compact_lookup(b, "resized", "insert", grown, probe)
        b.step("resized", "insert", spot.free, "index", "empty", None, spot.free_distance, "place")
        return b.finish("inserted", None, spot.free)
    state: SlotState = "deleted" if table._index[found.free] == _DUMMY_SLOT else "empty"
    if state == "deleted":
        b.notes.append(f"the key reuses slot {found.free}, the first deleted slot on its path")
    b.notes.append(f"the key becomes entry {len(table._keys)} of the dense lists")
    b.step(role, "insert", found.free, "index", state, None, found.free_distance, "place")
    return b.finish("inserted", None, found.free)


# -- chaining --------------------------------------------------------------------------------


def _chaining_lookup(
    b: _Builder, role: TableRole, table: ChainingMap[Any, Any], probe: _Probe
) -> _Lookup:
    """``in`` over the home chain: compare each entry in order until one matches."""
    b.consult(role, table, probe)
    key = probe.key
    chain_index = hash((key, table._salt)) & table._mask
    chain = table._chain_keys[chain_index]
    for position, k in enumerate(chain):
        matched = k is key or bool(k == key)
        action = "match" if matched else "mismatch"
        b.step(
            role,
            "lookup",
            position,
            "chain",
            "occupied",
            (k, position),
            position,
            action,
            compared=True,
            matched=matched,
        )
        if matched:
            values = table._chain_values[chain_index]
            assert values is not None
            return _Lookup(True, position, values[position], position)
    b.step(role, "lookup", len(chain), "chain", "empty", None, len(chain), "end-of-chain")
    return _Lookup(False, len(chain), distance=len(chain))


def _chaining_put(
    b: _Builder, role: TableRole, table: ChainingMap[Any, Any], probe: _Probe
) -> ProbeTrace:
    found = _chaining_lookup(b, role, table, probe)
    if found.found:
        _double_scan_note(b)
        return b.finish("updated", found.value, found.slot)
    target: TableRole = role
    if table._size >= table._grow_at:
        chains = table._mask + 1
        table = _scratch_copy(table)
        table._resize(table._buckets * 2)
        target = "resized"
        b.consult(target, table, probe)
        b.notes.append(
            f"the key is absent and the {chains} chains hold {table._size} entries, their "
            "limit: the put first doubles the buckets (computed here on a scratch copy), then "
            "appends the key to its chain in the new table"
        )
    end = len(table._chain_keys[hash((probe.key, table._salt)) & table._mask])
    b.step(target, "insert", end, "chain", "empty", None, end, "append")
    return b.finish("inserted", None, end)


# -- per backend -----------------------------------------------------------------------------


def _lookup(b: _Builder, role: TableRole, table: _Table, key: Any) -> _Lookup:
    backend, probe = _enter(b, table, key)
    if isinstance(backend, RobinHoodMap):
        return _robinhood_lookup(b, role, backend, probe)
    if isinstance(backend, CompactMap):
        return _compact_lookup(b, role, "lookup", backend, probe)
    return _chaining_lookup(b, role, backend, probe)


def _put(b: _Builder, role: TableRole, table: _Table, key: Any) -> ProbeTrace:
    backend, probe = _enter(b, table, key)
    if isinstance(backend, RobinHoodMap):
        return _robinhood_put(b, role, backend, probe)
    if isinstance(backend, CompactMap):
        return _compact_put(b, role, backend, probe)
    return _chaining_put(b, role, backend, probe)


def _double_scan_note(b: _Builder) -> None:
    if any(step.kind == "chain" and step.matched for step in b.steps):
        b.notes.append(
            "a chain is searched by `in`, then `tuple.index` finds the position: the entries up "
            "to the match are compared twice (in C), listed once"
        )


def _adaptive_tables(b: _Builder, m: AdaptiveMap[Any, Any]) -> tuple[_Table, _Table | None]:
    """The tables the operation consults after its migration step (simulated on copies)."""
    current = _table_of_map(m._current)
    if m._draining is None:
        return current, None
    draining = _table_of_map(m._draining)
    migration = f"migration {_name(draining)} -> {_name(current)} in progress"
    if m._iterators:
        b.notes.append(f"{migration}; an iterator is open, so the operation moves no entries")
        return current, draining
    left = len(draining)
    batch = m._policy.migration_batch
    current, draining = _scratch_copy(current), _scratch_copy(draining)
    moved = 0
    while moved < batch and draining:
        moving, value = draining._peek_last()
        current[moving] = value
        draining._drop_last()
        moved += 1
    note = (
        f"{migration} ({left} entries left): the operation first moves {moved} of them "
        "(computed here on scratch copies); the tables shown are as they are after that step"
    )
    if not draining:
        b.notes.append(note + ", which completes the migration")
        return current, None
    b.notes.append(note)
    return current, draining


def _require_map(m: object) -> None:
    if isinstance(m, AdaptiveMap | SaltedMap | ChainingMap | RobinHoodMap | CompactMap):
        return
    if isinstance(m, dict):
        raise BadInputError(
            "cannot trace a dict: its probe path runs in C and cannot be read from Python",
            hint="trace a ChainingMap, RobinHoodMap, CompactMap, SaltedMap or AdaptiveMap",
        )
    raise BadInputError(
        f"cannot trace a {type(m).__name__}: probe tracing reads the layout of ChainingMap, "
        "RobinHoodMap, CompactMap, SaltedMap and AdaptiveMap"
    )


def trace_get(m: HashMapBase[Any, Any], key: Any) -> ProbeTrace:
    """The path ``m.get(key)`` takes: every slot it reads, and whether it finds the key.

    Read-only: the map is not changed. An AdaptiveMap in the middle of a migration first moves a
    batch of entries on every operation; the trace shows the tables as that step leaves them
    (computed on scratch copies), then the current table, then the draining one if needed.
    Complexity: O(path); O(n) for an AdaptiveMap mid-migration (the scratch copies).

    >>> from adhash import RobinHoodMap
    >>> m = RobinHoodMap({1: "a", 2: "b"}, hash_seed=7)
    >>> t = trace_get(m, 2)
    >>> (t.outcome, t.found_value, t.steps[-1].action, t.slot == m._find(2))
    ('found', 'b', 'match', True)
    >>> trace_get(m, 3).outcome
    'missing'

    A salted map is walked with the pair it stores: keys with one ``hash()`` get two homes.

    >>> from adhash import SaltedMap
    >>> P = 2**61 - 1
    >>> s = SaltedMap({5: "a", 5 + P: "b"}, inner=RobinHoodMap(capacity=64, hash_seed=1), seed=1)
    >>> a, b = trace_get(s, 5), trace_get(s, 5 + P)
    >>> (a.hashing, a.plain_hash == b.plain_hash, a.salted_hash != b.salted_hash, a.home != b.home)
    ('salted', True, True, True)
    """
    _require_map(m)
    b = _Builder("get", m.backend_name, key, None, hash(key))
    if isinstance(m, AdaptiveMap):
        current, draining = _adaptive_tables(b, m)
        found = _lookup(b, "current", current, key)
        if not found.found and draining is not None:
            found = _lookup(b, "draining", draining, key)
    else:
        found = _lookup(b, "current", _table_of_map(m), key)
    _double_scan_note(b)
    if found.found:
        return b.finish("found", found.value, found.slot)
    return b.finish("missing", None, None)


def trace_put(m: HashMapBase[Any, Any], key: Any, value: Any) -> ProbeTrace:
    """The path ``m[key] = value`` takes: its lookup, then (for a new key) where it lands.

    Read-only: the map is not changed. A Robin Hood insert lists every displacement (rich get
    poor) in ``swaps``; a put that grows the table first shows its insert in the ``resized``
    table (built on a scratch copy by the map's own rebuild). An AdaptiveMap mid-migration
    updates a key still in the draining table there, and inserts anything else in the current
    one. Complexity: O(path); O(n) when the put resizes or an AdaptiveMap is mid-migration.

    >>> from adhash import CompactMap
    >>> m = CompactMap({"a": 1}, hash_seed=7)
    >>> (trace_put(m, "a", 2).outcome, trace_put(m, "b", 2).outcome, len(m))
    ('updated', 'inserted', 1)
    """
    _require_map(m)
    b = _Builder("put", m.backend_name, key, value, hash(key))
    if not isinstance(m, AdaptiveMap):
        return _put(b, "current", _table_of_map(m), key)
    current, draining = _adaptive_tables(b, m)
    if draining is not None:
        held = _lookup(b, "draining", draining, key)
        if held.found:
            b.notes.append(
                "the key is still in the draining table, so the put updates it there (it looks "
                "the key up twice: `key in draining`, then the write; listed once)"
            )
            _double_scan_note(b)
            return b.finish("updated", held.value, held.slot)
    if m._countdown <= 1:
        b.notes.append(
            "this write makes the adaptive policy check due: it runs after the write and may "
            "start a migration (the key stays where the trace shows)"
        )
    return _put(b, "current", current, key)


# -- checking a trace against the real operation -----------------------------------------------


def _locate(table: _Table, key: Any) -> int | None:
    """Where ``key`` sits in ``table`` now: slot, index slot or chain position (read-only)."""
    if isinstance(table, SaltedMap):
        return _locate(_backend_of(table.inner), table.wrap(key))
    if isinstance(table, RobinHoodMap):
        slot = table._find(key)
        return slot if slot >= 0 else None
    if isinstance(table, CompactMap):
        slot, entry, _probes = table._lookup(key)
        return slot if entry >= 0 else None
    chain = table._chain_keys[hash((key, table._salt)) & table._mask]
    return chain.index(key) if key in chain else None


def _table_of(m: HashMapBase[Any, Any], role: TableRole) -> _Table | None:
    """The live table object a trace's ``role`` names (a resize happens in place)."""
    if not isinstance(m, AdaptiveMap):
        return _table_of_map(m)
    if role == "draining":
        return None if m._draining is None else _table_of_map(m._draining)
    return _table_of_map(m._current)


def _swap_mismatches(
    table: RobinHoodMap[Any, Any], trace: ProbeTrace, *, salted: bool
) -> list[str]:
    """Every swap's slot holds the key carried there; the last place holds the last evicted."""

    def held(slot: int) -> Any:
        stored = table._keys[slot]
        return stored[1] if salted else stored

    problems = []
    for swap in trace.swaps:
        if held(swap.slot) is not swap.carried_key:
            problems.append(
                f"slot {swap.slot} holds {held(swap.slot)!r}, not the carried {swap.carried_key!r}"
            )
        elif table._dist[swap.slot] - 1 != swap.carried_distance:
            problems.append(
                f"slot {swap.slot} stores distance {table._dist[swap.slot] - 1}, "
                f"not {swap.carried_distance}"
            )
    places = [step for step in trace.steps if step.action == "place"]
    if trace.swaps and places:
        last = trace.swaps[-1].evicted_key
        if held(places[-1].index) is not last:
            problems.append(f"slot {places[-1].index} does not hold the last evicted key {last!r}")
    return problems


def apply_and_check(m: HashMapBase[Any, Any], trace: ProbeTrace) -> TraceCheck:
    """Perform the traced operation on ``m`` for real and compare what it did with ``trace``.

    ``trace`` must come from ``m`` as it is now. Checked: the outcome, the value a get returns,
    the table and slot (or chain position) where the key ends up, and for Robin Hood every
    swap. Complexity: that of the operation, plus one read-only lookup.

    >>> from adhash import RobinHoodMap
    >>> m = RobinHoodMap({1: "a"}, hash_seed=7)
    >>> check = apply_and_check(m, trace_put(m, 2, "b"))
    >>> (check.outcome, check.matched, m[2])
    ('inserted', True, 'b')
    """
    _require_map(m)
    key = trace.key
    # The table the trace ends in, taken before the operation (which may start a migration).
    expected = _table_of(m, trace.tables[-1].role)
    problems: list[str] = []
    outcome: Outcome
    value: Any = None
    if trace.operation == "get":
        got = m.get(key, MISSING)
        outcome = "missing" if got is MISSING else "found"
        if outcome == "found":
            value = got
            if trace.outcome == "found" and not (
                got is trace.found_value or got == trace.found_value
            ):
                problems.append(f"get returned {got!r}, the trace says {trace.found_value!r}")
    else:
        before = len(m)
        m[key] = trace.value
        outcome = "inserted" if len(m) > before else "updated"
    if outcome != trace.outcome:
        problems.append(f"the {trace.operation} was {outcome}, the trace says {trace.outcome}")
    slot = None
    if outcome != "missing" and not problems:
        assert expected is not None
        slot = _locate(expected, key)
        if slot != trace.slot:
            where = "elsewhere" if slot is None else f"at {slot}"
            problems.append(
                f"the key sits {where} in the {trace.tables[-1].role} table, "
                f"the trace says {trace.slot}"
            )
        else:
            salted = isinstance(expected, SaltedMap)
            walked = expected.inner if isinstance(expected, SaltedMap) else expected
            if isinstance(walked, RobinHoodMap):
                problems += _swap_mismatches(walked, trace, salted=salted)
    return TraceCheck(outcome, value, slot, tuple(problems))
