"""Hash flooding (issue 8): insert N colliding integer keys, then look each one up, per contender.

Three workloads of ``int`` keys: ``full-hash`` (every key has the same ``hash()``, as an attacker
would send), ``low-bits`` (hashes agree in their low 20 bits only, which index mixing already
separates) and ``random`` (the control: what linear growth looks like on this machine, where
larger maps also miss the CPU caches more). Every contender (``dict``, the three backends,
AdaptiveMap with its default policy) inserts the N keys into a fresh map, then looks every one
up in shuffled order; the two phases are timed apart with ``perf_counter_ns``, the collector
collected before and off during. Colliding keys make a plain map quadratic, so each phase is
capped: the clock is read every 64 operations and a phase past ``--cap-seconds`` stops there
and is recorded as cut, its time then a lower bound (a cut insert phase is followed by lookups
of the keys it did insert, only). Every looked-up value is checked against the inserted one, and
``len`` after the inserts, so a fast but wrong map cannot win. Measurements shorter than a
second are repeated (up to ``--repeats`` runs, a second in all) and the median run is kept.

Everything runs in one process, one measurement after another, as the issue asks ("in one
run"): each map is dropped and collected before the next measurement and a map's collisions
live in that map only, so nothing carries over, and the keys and maps are small (the run's peak
RSS, recorded, is about 60 MB); a fresh process per measurement would only add start-up noise
to the short ones. Run with ``python -m benchmarks.flooding``; ``--chart-only RESULTS.json``
redraws the chart (``docs/images/flooding.svg``) from a results file.
"""

from __future__ import annotations

import argparse
import gc
import html
import itertools
import json
import math
import random
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable, MutableMapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from adhash import AdaptiveMap, ChainingMap, CompactMap, RobinHoodMap
from adhash.analysis.charts import PALETTE
from adhash.atomic import atomic_write_text
from adhash.workload.adversarial import colliding_ints, lowbit_ints
from benchmarks.cli import choose, parse_sizes
from benchmarks.report import machine_metadata

RESULTS = Path(__file__).resolve().parent / "results"
DOCS_CHART = Path(__file__).resolve().parent.parent / "docs" / "images" / "flooding.svg"

COLLIDING_HASH = 1234
"""The ``hash()`` of every ``full-hash`` key."""
LOW_BITS_SHIFT = 20

BASELINE = "dict"
ADAPTIVE = "adaptive"
TARGET_WORKLOAD = "full-hash"
LOW_BITS = "low-bits"
CONTROL = "random"
CONTENDERS: dict[str, Callable[[], MutableMapping[Any, Any]]] = {
    BASELINE: dict,
    "chaining": ChainingMap,
    "robinhood": RobinHoodMap,
    "compact": CompactMap,
    ADAPTIVE: AdaptiveMap,
}

DEFAULT_SIZES = (20_000, 50_000, 100_000)
DEFAULT_CAP_SECONDS = 30.0
DEFAULT_REPEATS = 3
QUICK_SIZES = (500, 2_500)
QUICK_CAP_SECONDS = 0.25
CHECK_EVERY = 64
"""Operations between two reads of the clock: a cut phase overruns its cap by at most this many."""
REPEAT_BUDGET_NS = 1_000_000_000
LINEAR_SLACK = 1.4
"""Growth counts as linear when total(N_max) / total(N_min) ≤ 1.4 × N_max / N_min (7 for 5×)."""
QUADRATIC_EXPONENT = 1.8
CONTROL_SLACK = 1.25
"""Growth above 1.4 × the N ratio is still that of random keys within 1.25 × their ratio."""
CONTROL_LIMIT = 1.5
"""Keys cost what random keys cost when they take at most 1.5× as long on the same map."""


# -- keys ----------------------------------------------------------------------------------


def full_hash_keys(n: int, seed: int) -> list[int]:
    """``n`` distinct ints whose ``hash()`` is the same: ``COLLIDING_HASH + j·(2⁶¹ - 1)``.

    >>> keys = full_hash_keys(3, seed=1)
    >>> len(set(keys)), {hash(key) for key in keys} == {COLLIDING_HASH}
    (3, True)
    """
    return [COLLIDING_HASH + key for key in colliding_ints(n)]


def low_bits_keys(n: int, seed: int) -> list[int]:
    """``n`` ints ``j << 20``: their hashes agree in the low 20 bits and differ above.

    >>> {hash(key) % (1 << LOW_BITS_SHIFT) for key in low_bits_keys(4, seed=1)}
    {0}
    """
    return lowbit_ints(n, bits=LOW_BITS_SHIFT)


def random_keys(n: int, seed: int) -> list[int]:
    """``n`` distinct random 62-bit ints: no collisions beyond chance, the control.

    >>> keys = random_keys(1000, seed=1)
    >>> len(set(keys)), keys == random_keys(1000, seed=1)
    (1000, True)
    """
    rng = random.Random(f"{seed}:{CONTROL}:{n}")
    keys: dict[int, None] = {}
    while len(keys) < n:
        keys[rng.getrandbits(62)] = None
    return list(keys)


@dataclass(frozen=True, slots=True)
class FloodWorkload:
    """A named key set: ``keys(n, seed)`` returns ``n`` distinct keys."""

    name: str
    summary: str
    keys: Callable[[int, int], list[int]]


WORKLOADS: tuple[FloodWorkload, ...] = (
    FloodWorkload("full-hash", "all keys share one hash(): 1234 + j·(2⁶¹ - 1)", full_hash_keys),
    FloodWorkload("low-bits", "hashes alike in the low 20 bits: j << 20", low_bits_keys),
    FloodWorkload("random", "random 62-bit ints: the control", random_keys),
)


# -- measuring -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Phase:
    """One timed phase: ``done`` of ``planned`` operations took ``elapsed_ns``.

    ``cut`` when the cap stopped it early; ``elapsed_ns`` is then a lower bound of the whole
    phase, and so is the time per operation (under flooding each operation costs more than the
    one before).
    """

    planned: int
    done: int
    elapsed_ns: int
    cut: bool

    @property
    def ns_per_op(self) -> float:
        """Mean nanoseconds per completed operation."""
        return self.elapsed_ns / self.done if self.done else 0.0


@dataclass(frozen=True, slots=True)
class AdaptiveOutcome:
    """What an AdaptiveMap did during a measurement, read after the timing.

    Read defensively (``getattr``), so the benchmark runs on AdaptiveMaps with and without the
    flooding defence.
    """

    hashing: str
    backend: str
    migrations: int
    events_by_kind: dict[str, int]
    reasons: list[str]
    flooding_events: list[dict[str, Any]]
    flood_keys: int | None


@dataclass(frozen=True, slots=True)
class FloodMeasurement:
    """One (workload, N, contender): the reported run's phases, and how many runs there were.

    ``lookup_scope`` is ``"all"`` or, after a cut insert phase, ``"inserted"``: the lookups then
    cover the keys that were inserted, only.
    """

    workload: str
    n: int
    contender: str
    insert: Phase
    lookup: Phase
    lookup_scope: Literal["all", "inserted"]
    runs: int
    total_min_ns: int
    total_max_ns: int
    adaptive: AdaptiveOutcome | None

    @property
    def total_ns(self) -> int:
        """Insert and lookup time of the reported run."""
        return self.insert.elapsed_ns + self.lookup.elapsed_ns

    @property
    def cut(self) -> bool:
        """Whether the cap stopped a phase, making the total a lower bound."""
        return self.insert.cut or self.lookup.cut


def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def _insert_phase(
    m: MutableMapping[Any, Any],
    key_chunks: list[list[int]],
    value_chunks: list[list[int]],
    planned: int,
    cap_ns: int,
) -> Phase:
    clock = time.perf_counter_ns
    done = 0
    start = now = clock()
    deadline = start + cap_ns
    for keys, values in zip(key_chunks, value_chunks, strict=True):
        for key, value in zip(keys, values, strict=True):
            m[key] = value
        done += len(keys)
        now = clock()
        if now >= deadline:
            break
    return Phase(planned=planned, done=done, elapsed_ns=now - start, cut=done < planned)


def _lookup_phase(
    m: MutableMapping[Any, Any], key_chunks: list[list[int]], planned: int, cap_ns: int
) -> tuple[Phase, list[int]]:
    """The phase and the values found, in lookup order."""
    clock = time.perf_counter_ns
    found: list[int] = []
    start = now = clock()
    deadline = start + cap_ns
    for keys in key_chunks:
        found += [m[key] for key in keys]
        now = clock()
        if now >= deadline:
            break
    done = len(found)
    return Phase(planned=planned, done=done, elapsed_ns=now - start, cut=done < planned), found


def _event_record(event: Any) -> dict[str, Any]:
    fields = (
        "kind",
        "source",
        "target",
        "reason",
        "size",
        "writes",
        "metric",
        "value",
        "threshold",
        "hashing",
    )
    return {name: getattr(event, name, None) for name in fields}


def _adaptive_outcome(m: MutableMapping[Any, Any]) -> AdaptiveOutcome | None:
    if not isinstance(m, AdaptiveMap):
        return None
    events = list(m.events)
    kinds = Counter(str(getattr(event, "kind", "unknown")) for event in events)
    return AdaptiveOutcome(
        hashing=str(getattr(m, "hashing", "plain")),
        backend=m.backend,
        migrations=kinds.get("migration_started", 0),
        events_by_kind=dict(kinds),
        reasons=[str(getattr(event, "reason", "")) for event in events],
        flooding_events=[
            _event_record(event) for event in events if getattr(event, "reason", "") == "flooding"
        ],
        flood_keys=getattr(m.stats(), "flood_keys", None),
    )


@dataclass(frozen=True, slots=True)
class _Run:
    insert: Phase
    lookup: Phase
    lookup_scope: Literal["all", "inserted"]
    adaptive: AdaptiveOutcome | None

    @property
    def total_ns(self) -> int:
        return self.insert.elapsed_ns + self.lookup.elapsed_ns


def _one_run(
    contender: str, keys: list[int], lookup_order: list[int], cap_ns: int, label: str
) -> _Run:
    """Insert ``keys`` (values 0..N-1) into a new map, then look them up; check the answers."""
    n = len(keys)
    values = list(range(n))
    key_chunks = _chunks(keys, CHECK_EVERY)
    value_chunks = _chunks(values, CHECK_EVERY)
    m = CONTENDERS[contender]()
    gc.collect()
    gc.disable()
    try:
        insert = _insert_phase(m, key_chunks, value_chunks, n, cap_ns)
        order = [i for i in lookup_order if i < insert.done] if insert.cut else lookup_order
        lookup_chunks = _chunks([keys[i] for i in order], CHECK_EVERY)
        lookup, found = _lookup_phase(m, lookup_chunks, len(order), cap_ns)
    finally:
        gc.enable()
    if len(m) != insert.done:
        raise AssertionError(f"{label}: len {len(m)} after {insert.done} distinct inserts")
    if found != order[: len(found)]:
        wrong = next(
            i for i, (got, want) in enumerate(zip(found, order, strict=False)) if got != want
        )
        raise AssertionError(
            f"{label}: looking up key #{order[wrong]} gave {found[wrong]!r}, not {order[wrong]}"
        )
    outcome = _adaptive_outcome(m)
    del m
    gc.collect()
    return _Run(insert, lookup, "inserted" if insert.cut else "all", outcome)


def measure(
    workload: FloodWorkload, n: int, contender: str, cap_ns: int, repeats: int, seed: int
) -> FloodMeasurement:
    """Run one (workload, N, contender): repeat while runs stay short, keep the median run."""
    keys = workload.keys(n, seed)
    lookup_order = list(range(n))
    random.Random(f"{seed}:{workload.name}:{n}").shuffle(lookup_order)
    label = f"{workload.name} N={n:,} {contender}"
    runs = [_one_run(contender, keys, lookup_order, cap_ns, label)]
    while (
        len(runs) < repeats
        and not runs[-1].insert.cut
        and not runs[-1].lookup.cut
        and sum(run.total_ns for run in runs) < REPEAT_BUDGET_NS
    ):
        runs.append(_one_run(contender, keys, lookup_order, cap_ns, label))
    ordered = sorted(runs, key=lambda run: run.total_ns)
    kept = ordered[(len(ordered) - 1) // 2]
    return FloodMeasurement(
        workload=workload.name,
        n=n,
        contender=contender,
        insert=kept.insert,
        lookup=kept.lookup,
        lookup_scope=kept.lookup_scope,
        runs=len(runs),
        total_min_ns=ordered[0].total_ns,
        total_max_ns=ordered[-1].total_ns,
        adaptive=kept.adaptive,
    )


def _measurement_record(m: FloodMeasurement) -> dict[str, Any]:
    record = asdict(m)
    record["insert"]["ns_per_op"] = m.insert.ns_per_op
    record["lookup"]["ns_per_op"] = m.lookup.ns_per_op
    record["total_ns"] = m.total_ns
    record["total_is_lower_bound"] = m.cut
    return record


# -- growth and targets ----------------------------------------------------------------------


def _totals(
    measurements: list[dict[str, Any]], workload: str, contender: str
) -> list[dict[str, Any]]:
    return sorted(
        (m for m in measurements if m["workload"] == workload and m["contender"] == contender),
        key=lambda m: m["n"],
    )


def growth(measurements: list[dict[str, Any]], workload: str, contender: str) -> dict[str, Any]:
    """total(N_max) / total(N_min) for one contender, with a verdict.

    ``bound`` is ``"exact"``, ``"at_least"`` (the larger N was cut) or ``"unknown"`` (the
    smaller N was cut, or fewer than two sizes). ``control_ratio`` is the same contender's ratio
    on random keys. The verdict is ``"quadratic"`` (growth exponent ≥ 1.8), ``"linear"`` (ratio
    ≤ 1.4 × the N ratio), ``"as random keys"`` (above that, but the ratio is at most 1.25 × the
    control's, or the total at every N at most 1.5 × the control's: larger maps miss the CPU
    caches more, with or without collisions), ``"control"`` (the random keys themselves, above
    1.4 × the N ratio), ``"superlinear"``, or ``"unknown"``. With ``at_least`` a verdict is what
    the growth is at least.

    >>> rows = [{"workload": w, "contender": "c", "n": n, "total_ns": t,
    ...          "total_is_lower_bound": False}
    ...         for w, n, t in (("w", 10, 100), ("w", 50, 2400), ("x", 10, 100), ("x", 50, 780),
    ...                         ("random", 10, 100), ("random", 50, 700))]
    >>> g = growth(rows, "w", "c"); (g["ratio"], g["verdict"], round(g["exponent"], 2))
    (24.0, 'quadratic', 1.97)
    >>> growth(rows, "x", "c")["verdict"], growth(rows, "random", "c")["verdict"]
    ('as random keys', 'linear')
    """
    rows = _totals(measurements, workload, contender)
    record: dict[str, Any] = {
        "workload": workload,
        "contender": contender,
        "n_min": rows[0]["n"] if rows else None,
        "n_max": rows[-1]["n"] if rows else None,
        "linear_ratio": None,
        "quadratic_ratio": None,
        "ratio": None,
        "exponent": None,
        "control_ratio": None,
        "bound": "unknown",
        "verdict": "unknown",
        "uncut_n_max": None,
        "uncut_exponent": None,
    }
    if len(rows) < 2:
        return record
    small, large = rows[0], rows[-1]
    if large["total_is_lower_bound"] and not small["total_is_lower_bound"]:
        # The growth up to the largest N that ran to the end is exact: report it beside.
        uncut = [m for m in rows[1:] if not m["total_is_lower_bound"]]
        if uncut:
            record["uncut_n_max"] = uncut[-1]["n"]
            record["uncut_exponent"] = math.log(
                uncut[-1]["total_ns"] / small["total_ns"]
            ) / math.log(uncut[-1]["n"] / small["n"])
    n_ratio = large["n"] / small["n"]
    ratio = large["total_ns"] / small["total_ns"]
    exponent = math.log(ratio) / math.log(n_ratio)
    record.update(linear_ratio=n_ratio, quadratic_ratio=n_ratio**2, ratio=ratio, exponent=exponent)
    control = _totals(measurements, CONTROL, contender)
    comparable = [m["n"] for m in control] == [m["n"] for m in rows]
    near_control = False
    if workload != CONTROL and comparable and not any(m["total_is_lower_bound"] for m in control):
        record["control_ratio"] = control[-1]["total_ns"] / control[0]["total_ns"]
        near_control = ratio <= CONTROL_SLACK * record["control_ratio"] or all(
            m["total_ns"] <= CONTROL_LIMIT * c["total_ns"]
            for m, c in zip(rows, control, strict=True)
        )
    if small["total_is_lower_bound"]:
        return record
    exact = not large["total_is_lower_bound"]
    record["bound"] = "exact" if exact else "at_least"
    if exponent >= QUADRATIC_EXPONENT:
        record["verdict"] = "quadratic"
    elif ratio <= LINEAR_SLACK * n_ratio:
        record["verdict"] = "linear" if exact else "unknown"
    elif workload == CONTROL:
        record["verdict"] = "control" if exact else "unknown"
    elif near_control:
        record["verdict"] = "as random keys" if exact else "unknown"
    else:
        record["verdict"] = "superlinear"
    return record


def _find(
    measurements: list[dict[str, Any]], workload: str, n: int, contender: str
) -> dict[str, Any] | None:
    for m in measurements:
        if m["workload"] == workload and m["n"] == n and m["contender"] == contender:
            return m
    return None


def versus_control(measurements: list[dict[str, Any]], m: dict[str, Any]) -> float | None:
    """``m``'s total over the same contender's total on random keys at the same N.

    ``None`` when the control was not measured or was cut.
    """
    control = _find(measurements, CONTROL, m["n"], m["contender"])
    if control is None or control["total_is_lower_bound"]:
        return None
    return float(m["total_ns"] / control["total_ns"])


def check_targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets: AdaptiveMap linear and faster than ``dict`` under full-hash flooding,
    and low-bit collisions no dearer than random keys (index mixing)."""
    measurements: list[dict[str, Any]] = result["measurements"]
    growths: list[dict[str, Any]] = result["growth"]
    targets: list[dict[str, Any]] = []

    adaptive_growth = next(
        (g for g in growths if g["workload"] == TARGET_WORKLOAD and g["contender"] == ADAPTIVE),
        None,
    )
    label = "AdaptiveMap's total time grows linearly with N under full-hash flooding"
    if adaptive_growth is None or adaptive_growth["ratio"] is None:
        targets.append({"target": label, "status": "n/a", "detail": "needs two sizes"})
    else:
        limit = LINEAR_SLACK * adaptive_growth["linear_ratio"]
        detail = f"{_ratio_text(adaptive_growth)} for {adaptive_growth['linear_ratio']:g}× N"
        if adaptive_growth["control_ratio"] is not None:
            detail += f"; the same map on random keys: {adaptive_growth['control_ratio']:.2f}"
        if adaptive_growth["bound"] != "exact":
            detail += "; a measurement was cut"
        status = "PASS" if adaptive_growth["verdict"] in ("linear", "as random keys") else "MISS"
        label += f" (ratio ≤ {limit:.3g}, or ≤ {CONTROL_SLACK:g}× the same map's on random keys)"
        targets.append({"target": label, "status": status, "detail": detail})

    sizes = sorted({m["n"] for m in measurements if m["workload"] == TARGET_WORKLOAD})
    label = "AdaptiveMap beats dict under full-hash flooding at the largest N"
    adaptive = _find(measurements, TARGET_WORKLOAD, sizes[-1], ADAPTIVE) if sizes else None
    baseline = _find(measurements, TARGET_WORKLOAD, sizes[-1], BASELINE) if sizes else None
    if adaptive is None or baseline is None:
        targets.append({"target": label, "status": "n/a", "detail": "not measured"})
    else:
        label = f"{label} (N = {sizes[-1]:,})"
        dict_text = ("≥ " if baseline["total_is_lower_bound"] else "") + _duration(
            baseline["total_ns"]
        )
        if adaptive["total_is_lower_bound"]:
            status = "MISS"
            detail = f"adaptive was cut ({_duration(adaptive['total_ns'])} at least)"
        else:
            status = "PASS" if adaptive["total_ns"] < baseline["total_ns"] else "MISS"
            detail = f"adaptive {_duration(adaptive['total_ns'])}"
        targets.append({"target": label, "status": status, "detail": f"{detail}, dict {dict_text}"})

    label = (
        f"Low-bit collisions cost nothing extra: every contender takes ≤ {CONTROL_LIMIT:g}× its "
        "time on random keys at the largest N (index mixing; dict's probe perturbation)"
    )
    sizes = sorted({m["n"] for m in measurements if m["workload"] == LOW_BITS})
    low = [m for m in measurements if m["workload"] == LOW_BITS and sizes and m["n"] == sizes[-1]]
    shares = {m["contender"]: versus_control(measurements, m) for m in low}
    if not low or any(share is None for share in shares.values()):
        targets.append({"target": label, "status": "n/a", "detail": "needs low-bits and random"})
    else:
        over = [name for name, share in shares.items() if (share or 0.0) > CONTROL_LIMIT]
        worst = max(shares.items(), key=lambda item: item[1] or 0.0)
        detail = f"N = {sizes[-1]:,}; highest {worst[1]:.2f}× ({worst[0]})"
        targets.append({"target": label, "status": "MISS" if over else "PASS", "detail": detail})
    return targets


def run(
    workloads: Sequence[FloodWorkload],
    sizes: Sequence[int],
    contenders: Sequence[str],
    cap_seconds: float,
    repeats: int,
    seed: int,
    argv: Sequence[str],
) -> dict[str, Any]:
    """Measure every (workload, N, contender) in order; the result document."""
    cap_ns = int(cap_seconds * 1e9)
    started = time.monotonic()
    measurements: list[FloodMeasurement] = []
    for workload in workloads:
        for n in sizes:
            for contender in contenders:
                m = measure(workload, n, contender, cap_ns, repeats, seed)
                measurements.append(m)
                _progress(started, _progress_line(m))
    records = [_measurement_record(m) for m in measurements]
    result: dict[str, Any] = {
        "schema": "adhash.bench.flooding.v1",
        "metadata": {
            **machine_metadata(seed, dict.fromkeys(sizes, repeats), argv),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "wall_seconds": time.monotonic() - started,
        },
        "cap_seconds": cap_seconds,
        "check_every": CHECK_EVERY,
        "workloads": [{"name": w.name, "summary": w.summary} for w in workloads],
        "sizes": list(sizes),
        "contenders": list(contenders),
        "measurements": records,
        "growth": [growth(records, w.name, c) for w in workloads for c in contenders],
    }
    result["targets"] = check_targets(result)
    return result


# -- Markdown ------------------------------------------------------------------------------


def _duration(ns: float) -> str:
    """Nanoseconds for people.

    >>> _duration(2_500_000), _duration(61_250_000_000)
    ('2.50 ms', '61.2 s')
    """
    if ns >= 10e9:
        return f"{ns / 1e9:.1f} s"
    if ns >= 1e9:
        return f"{ns / 1e9:.2f} s"
    return f"{ns / 1e6:.2f} ms"


def _ratio_text(g: dict[str, Any], field: str = "ratio") -> str:
    if g[field] is None:
        return "n/a"
    prefix = {"exact": "", "at_least": "≥ ", "unknown": "? "}[g["bound"]]
    return f"{prefix}{g[field]:.2f}"


def _verdict_text(g: dict[str, Any]) -> str:
    if g["bound"] == "at_least" and g["verdict"] != "unknown":
        return f"{g['verdict']} or worse"
    if g["verdict"] == "unknown" and g["ratio"] is not None:
        return "unknown (cut)"
    if g["verdict"] == "control":
        return "(the control)"
    return str(g["verdict"])


def _cut_note(m: dict[str, Any]) -> str:
    notes = []
    if m["insert"]["cut"]:
        notes.append(
            f"insert cut after {m['insert']['done']:,} of {m['n']:,}; lookups of those "
            f"{m['insert']['done']:,} keys only"
        )
    if m["lookup"]["cut"]:
        notes.append(f"lookup cut after {m['lookup']['done']:,} of {m['lookup']['planned']:,}")
    return "; ".join(notes)


def _progress_line(m: FloodMeasurement) -> str:
    record = _measurement_record(m)
    note = _cut_note(record)
    total = ("≥ " if m.cut else "") + _duration(m.total_ns)
    return (
        f"{m.workload} N={m.n:,} {m.contender}: insert {m.insert.ns_per_op:,.0f} ns/op, "
        f"lookup {m.lookup.ns_per_op:,.0f} ns/op, total {total}" + (f" ({note})" if note else "")
    )


def _per_op(phase: dict[str, Any]) -> str:
    return ("≥ " if phase["cut"] else "") + f"{phase['ns_per_op']:,.0f}"


def _adaptive_text(outcome: dict[str, Any] | None) -> str:
    if outcome is None:
        return ""
    parts = [f"hashing {outcome['hashing']}", f"on {outcome['backend']}"]
    parts.append(f"{outcome['migrations']} migration{'s' if outcome['migrations'] != 1 else ''}")
    for event in outcome["flooding_events"]:
        if event["kind"] not in (None, "migration_started"):
            continue
        numbers = ""
        if event["value"] is not None and event["threshold"] is not None:
            numbers = f", {event['metric']} {event['value']:g} ≥ {event['threshold']:g}"
        parts.append(f"flooding detected at write {event['writes']:,}{numbers}")
    if not outcome["flooding_events"]:
        parts.append("no flooding event")
    return "; ".join(parts)


def render_markdown(result: dict[str, Any]) -> str:
    """The result as Markdown: times per workload, growth with N, what was cut, the targets."""
    meta = result["metadata"]
    cap = result["cap_seconds"]
    lines = [
        "# Hash flooding",
        "",
        "Insert N `int` keys into a fresh map, then look every one up (shuffled), per contender, "
        f"in one process. Each phase is capped at {cap:g} s (the clock is read every "
        f"{result['check_every']} operations); a cut phase is marked ≥: its time, and its time "
        "per operation, are lower bounds. Each looked-up value is checked against the inserted "
        "one. Runs under a second are repeated and the median kept. × random: the total over "
        "the same contender's on random keys at the same N (the cost of the collisions).",
        "",
        f"{meta['implementation']} {meta['python']} on {meta['platform']}, CPU "
        f"{meta['cpu'] or 'unknown'}; adhash {meta['adhash']}; {meta['date']}; seed "
        f"{meta['seed']}; whole run {meta['wall_seconds']:.0f} s, peak RSS "
        f"{meta['peak_rss_mb']:.0f} MB.",
        "",
    ]
    measurements: list[dict[str, Any]] = result["measurements"]
    for workload in result["workloads"]:
        rows = [m for m in measurements if m["workload"] == workload["name"]]
        lines += [
            f"## `{workload['name']}`: {workload['summary']}",
            "",
            "| contender | N | insert ns/op | lookup ns/op | total | × random | runs | notes |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for m in rows:
            bound = "≥ " if m["total_is_lower_bound"] else ""
            share = versus_control(measurements, m)
            versus = "" if share is None or m["workload"] == CONTROL else f"{bound}{share:,.2f}"
            notes = "; ".join(
                text for text in (_cut_note(m), _adaptive_text(m["adaptive"])) if text
            )
            lines.append(
                f"| {m['contender']} | {m['n']:,} | {_per_op(m['insert'])} | "
                f"{_per_op(m['lookup'])} | {bound}{_duration(m['total_ns'])} | {versus} | "
                f"{m['runs']} | {notes} |"
            )
        lines.append("")
    growths = [g for g in result["growth"] if g["ratio"] is not None]
    if growths:
        first = growths[0]
        lines += [
            "## Growth with N",
            "",
            f"total(N = {first['n_max']:,}) / total(N = {first['n_min']:,}): linear growth gives "
            f"{first['linear_ratio']:g}, quadratic {first['quadratic_ratio']:g}; the exponent is "
            "log(ratio) / log(N ratio). Linear: a ratio up to "
            f"{LINEAR_SLACK * first['linear_ratio']:.3g}; as random keys: above that, but at most "
            f"{CONTROL_SLACK:g}× the same map's ratio on random keys (the control), or at most "
            f"{CONTROL_LIMIT:g}× the control's time at every N (larger maps miss the CPU caches "
            "more, so even random keys can grow by more than the N ratio); "
            f"quadratic: an exponent of {QUADRATIC_EXPONENT:g} or more. ≥: the larger N was cut, "
            "so the ratio is at least this; ?: the smaller N was cut, no verdict. Where the "
            "largest N was cut, the last column gives the exact exponent up to the largest N "
            "that ran to the end.",
            "",
            "| workload | contender | ratio | exponent | verdict | same map, random keys "
            "| exponent to the largest uncut N |",
            "|---|---|---:|---:|---|---:|---|",
        ]
        for g in growths:
            control = g["control_ratio"]
            versus = "" if control is None else f"{control:.2f}"
            uncut = ""
            if g.get("uncut_exponent") is not None:
                uncut = f"{g['uncut_exponent']:.2f} (N = {g['n_min']:,} to {g['uncut_n_max']:,})"
            lines.append(
                f"| {g['workload']} | {g['contender']} | {_ratio_text(g)} | "
                f"{_ratio_text(g, 'exponent')} | {_verdict_text(g)} | {versus} | {uncut} |"
            )
        lines.append("")
    cut = [m for m in result["measurements"] if m["total_is_lower_bound"]]
    lines += ["## What the cap cut", ""]
    if cut:
        lines += [
            f"- {m['workload']} N = {m['n']:,} {m['contender']}: {_cut_note(m)}; total ≥ "
            f"{_duration(m['total_ns'])}"
            for m in cut
        ]
    else:
        lines.append("Nothing: every measurement ran to the end.")
    lines += ["", "## Targets", ""]
    lines += [f"- {t['target']}: **{t['status']}** ({t['detail']})" for t in result["targets"]]
    return "\n".join(lines) + "\n"


# -- the chart -----------------------------------------------------------------------------

_PLOT_W, _PLOT_H = 290, 256
_LEFT, _TOP, _GAP, _RIGHT = 64, 86, 30, 16
_LEGEND_Y = _TOP + _PLOT_H + 58


def _seconds_label(seconds: float) -> str:
    """A decade of seconds as a short label.

    >>> [_seconds_label(s) for s in (1e-4, 1e-2, 1.0, 100.0)]
    ['100 µs', '10 ms', '1 s', '100 s']
    """
    if seconds >= 1:
        return f"{seconds:g} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:g} ms"
    return f"{seconds * 1e6:g} µs"


def _count_label(n: int) -> str:
    return f"{n / 1000:g}k" if n >= 1000 else str(n)


def render_chart(result: dict[str, Any]) -> str:
    """Total time against N, log-log, one panel per workload, as a standalone SVG document.

    Measured totals are filled circles; a cut measurement is an open circle at its lower bound
    with an arrow up and a ≥. Dotted guides show slopes ∝ N and ∝ N².
    """
    measurements: list[dict[str, Any]] = result["measurements"]
    workloads = [w["name"] for w in result["workloads"]]
    summaries = {w["name"]: w["summary"] for w in result["workloads"]}
    contenders: list[str] = result["contenders"]
    colors = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(contenders)}
    sizes = sorted({m["n"] for m in measurements}) or [1]
    seconds = [m["total_ns"] / 1e9 for m in measurements] or [1.0]
    y_low = 10 ** math.floor(math.log10(min(seconds)))
    y_high = 10 ** math.ceil(math.log10(max(seconds) * 3))
    x_low, x_high = sizes[0] / 1.6, sizes[-1] * 2.4
    width = _LEFT + len(workloads) * (_PLOT_W + _GAP) - _GAP + _RIGHT
    height = _LEGEND_Y + 36

    def x_at(panel: int, n: float) -> float:
        share = math.log(n / x_low) / math.log(x_high / x_low)
        return _LEFT + panel * (_PLOT_W + _GAP) + share * _PLOT_W

    def y_at(s: float) -> float:
        share = math.log(s / y_low) / math.log(y_high / y_low)
        return _TOP + (1 - share) * _PLOT_H

    title = "Hash flooding: insert + look up N int keys, total time (log-log)"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{html.escape(title)}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'font-family="system-ui, -apple-system, sans-serif" font-size="12" fill="#1b1f24">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{_LEFT}" y="20" font-size="15" font-weight="600">{html.escape(title)}</text>',
        f'<text x="{_LEFT}" y="38" fill="#57606a">each phase capped at '
        f"{result['cap_seconds']:g} s; {html.escape(result['metadata']['date'])}</text>",
    ]
    for panel, workload in enumerate(workloads):
        left = _LEFT + panel * (_PLOT_W + _GAP)
        parts.append(
            f'<defs><clipPath id="plot-{panel}"><rect x="{left}" y="{_TOP}" width="{_PLOT_W}" '
            f'height="{_PLOT_H}"/></clipPath></defs>'
            f'<text x="{left}" y="{_TOP - 26}" font-weight="600">{html.escape(workload)}</text>'
            f'<text x="{left}" y="{_TOP - 12}" fill="#57606a">'
            f"{html.escape(summaries[workload])}</text>"
        )
        decade = y_low
        while decade <= y_high * 1.001:
            y = y_at(decade)
            parts.append(
                f'<line x1="{left}" y1="{y:.1f}" x2="{left + _PLOT_W}" y2="{y:.1f}" '
                'stroke="#eaeef2"/>'
            )
            if panel == 0:
                parts.append(
                    f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
                    f"{_seconds_label(decade)}</text>"
                )
            decade *= 10
        for n in sizes:
            x = x_at(panel, n)
            parts.append(
                f'<line x1="{x:.1f}" y1="{_TOP}" x2="{x:.1f}" y2="{_TOP + _PLOT_H}" '
                'stroke="#eaeef2"/>'
                f'<text x="{x:.1f}" y="{_TOP + _PLOT_H + 16}" text-anchor="middle">'
                f"{_count_label(n)}</text>"
            )
        parts.append(
            f'<rect x="{left}" y="{_TOP}" width="{_PLOT_W}" height="{_PLOT_H}" fill="none" '
            'stroke="#8c959f"/>'
            f'<text x="{left + _PLOT_W / 2:.1f}" y="{_TOP + _PLOT_H + 34}" '
            'text-anchor="middle">N keys</text>'
        )
        rows = [m for m in measurements if m["workload"] == workload]
        parts += _guides(panel, rows, sizes, x_at, y_at, (x_high, y_high))
        for index, contender in enumerate(contenders):
            points = sorted((m for m in rows if m["contender"] == contender), key=lambda m: m["n"])
            shift = (index - (len(contenders) - 1) / 2) * 8
            coords = [(x_at(panel, m["n"]) + shift, y_at(m["total_ns"] / 1e9), m) for m in points]
            color = colors[contender]
            for (x1, y1, a), (x2, y2, b) in itertools.pairwise(coords):
                dashed = a["total_is_lower_bound"] or b["total_is_lower_bound"]
                parts.append(
                    f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                    f'stroke="{color}" stroke-width="2"'
                    + (' stroke-dasharray="5 4"' if dashed else "")
                    + "/>"
                )
            for x, y, m in coords:
                parts.append(_marker(x, y, color, m))
    parts += _legend(contenders, colors, _LEGEND_Y)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _guides(
    panel: int,
    rows: list[dict[str, Any]],
    sizes: list[int],
    x_at: Callable[[int, float], float],
    y_at: Callable[[float], float],
    corner: tuple[float, float],
) -> list[str]:
    """Dotted slope guides ∝ N and ∝ N² through dict's total at the smallest N, drawn to where
    they leave the plot, whose top-right corner is ``corner`` (N, seconds)."""
    anchor = next(
        (m for m in rows if m["n"] == sizes[0] and m["contender"] == BASELINE),
        None,
    )
    if anchor is None or len(sizes) < 2:
        return []
    start = anchor["total_ns"] / 1e9
    n_edge, s_edge = corner
    parts = [f'<g clip-path="url(#plot-{panel})" stroke="#8c959f" stroke-dasharray="2 3">']
    labels = []
    for power, label in ((1, "∝ N"), (2, "∝ N²")):
        n_exit = min(n_edge, sizes[0] * (s_edge / start) ** (1 / power))
        end = start * (n_exit / sizes[0]) ** power
        x1, y1 = x_at(panel, sizes[0]), y_at(start)
        x2, y2 = x_at(panel, n_exit), y_at(end)
        parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"/>')
        labels.append(
            f'<text x="{x2 - 4:.1f}" y="{max(y2 - 6, _TOP + 12):.1f}" text-anchor="end" '
            f'fill="#57606a">{label}</text>'
        )
    parts.append("</g>")
    return parts + labels


def _marker(x: float, y: float, color: str, m: dict[str, Any]) -> str:
    total = _duration(m["total_ns"])
    if not m["total_is_lower_bound"]:
        tip = f"{m['contender']}, N = {m['n']:,}: {total}"
        return (
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="{color}">'
            f"<title>{html.escape(tip)}</title></circle>"
        )
    tip = f"{m['contender']}, N = {m['n']:,}: cut, at least {total} ({_cut_note(m)})"
    return (
        f"<g><title>{html.escape(tip)}</title>"
        f'<line x1="{x:.1f}" y1="{y - 5:.1f}" x2="{x:.1f}" y2="{y - 20:.1f}" stroke="{color}" '
        'stroke-width="1.5"/>'
        f'<path d="M{x - 4:.1f},{y - 17:.1f} L{x:.1f},{y - 24:.1f} L{x + 4:.1f},{y - 17:.1f} Z" '
        f'fill="{color}"/>'
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="#ffffff" stroke="{color}" '
        'stroke-width="2"/>'
        f'<text x="{x + 6:.1f}" y="{y - 14:.1f}" fill="{color}" font-size="11">≥</text></g>'
    )


def _legend(contenders: list[str], colors: dict[str, str], y: float) -> list[str]:
    parts = []
    x = float(_LEFT)
    for contender in contenders:
        parts.append(
            f'<circle cx="{x + 5:.1f}" cy="{y - 4:.1f}" r="4.5" fill="{colors[contender]}"/>'
            f'<text x="{x + 14:.1f}" y="{y}">{html.escape(contender)}</text>'
        )
        x += 30 + 7.5 * len(contender)
    key = f'<circle cx="{_LEFT + 5}" cy="{y + 20}" r="4.5" fill="#57606a"/>'
    key += f'<text x="{_LEFT + 14}" y="{y + 24}">measured</text>'
    key += (
        f'<circle cx="{_LEFT + 105}" cy="{y + 20}" r="4.5" fill="#ffffff" stroke="#57606a" '
        'stroke-width="2"/>'
        f'<text x="{_LEFT + 114}" y="{y + 24}">≥ cut by the cap: the true time is at least this '
        "(dashed: a segment with a cut end)</text>"
    )
    return [*parts, key]


# -- command line --------------------------------------------------------------------------


def _progress(started: float, message: str) -> None:
    print(f"[{time.monotonic() - started:6.0f}s] {message}", file=sys.stderr, flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.flooding",
        description="Hash flooding: insert then look up N colliding int keys, per contender.",
    )
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=list(DEFAULT_SIZES),
        help="comma-separated numbers of keys N (default: "
        f"{','.join(str(n) for n in DEFAULT_SIZES)})",
    )
    parser.add_argument(
        "--cap-seconds",
        type=float,
        help=f"time cap of each phase (default: {DEFAULT_CAP_SECONDS:g}, "
        f"{QUICK_CAP_SECONDS:g} with --quick)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke test: N = {', '.join(map(str, QUICK_SIZES))}, a "
        f"{QUICK_CAP_SECONDS:g} s cap, and no chart unless --chart is given",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=DEFAULT_REPEATS,
        help="most runs of a measurement under a second (default: 3)",
    )
    parser.add_argument(
        "--workloads",
        help=f"comma-separated workloads (default: all of {', '.join(w.name for w in WORKLOADS)})",
    )
    parser.add_argument(
        "--contenders",
        help="comma-separated contenders; dict, the baseline, always runs "
        f"(default: all of {', '.join(CONTENDERS)})",
    )
    parser.add_argument(
        "--seed", type=int, default=1, help="seed of the random keys and the lookup order"
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="JSON output path; the Markdown goes beside it with a .md suffix "
        "(default: benchmarks/results/flooding-<UTC date>.json)",
    )
    parser.add_argument(
        "--chart",
        type=Path,
        help="SVG chart path (default: docs/images/flooding.svg; none with --quick)",
    )
    parser.add_argument(
        "--chart-only",
        type=Path,
        metavar="RESULTS_JSON",
        help="measure nothing: redraw the chart from this results file",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the flooding benchmark, write its JSON, Markdown and chart; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.chart_only is not None:
        result = json.loads(args.chart_only.read_text(encoding="utf-8"))
        chart = args.chart or DOCS_CHART
        atomic_write_text(chart, render_chart(result))
        print(f"wrote {chart}", file=sys.stderr)
        return 0
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    cap = args.cap_seconds
    if cap is None:
        cap = QUICK_CAP_SECONDS if args.quick else DEFAULT_CAP_SECONDS
    if cap <= 0:
        parser.error("--cap-seconds must be positive")
    workloads = WORKLOADS
    if args.workloads:
        chosen = choose(parser, args.workloads, [w.name for w in WORKLOADS], "workloads")
        workloads = tuple(w for w in WORKLOADS if w.name in chosen)
    contenders = list(CONTENDERS)
    if args.contenders:
        chosen = choose(parser, f"{BASELINE},{args.contenders}", contenders, "contenders")
        contenders = chosen
    sizes = list(QUICK_SIZES) if args.quick else args.sizes
    out = args.out or RESULTS / f"flooding-{datetime.now(UTC):%Y-%m-%d}.json"
    chart = args.chart if args.chart is not None or args.quick else DOCS_CHART
    result = run(
        workloads,
        sizes,
        contenders,
        cap,
        args.repeats,
        args.seed,
        sys.argv if argv is None else argv,
    )
    markdown = render_markdown(result)
    atomic_write_text(out, json.dumps(result, indent=2) + "\n")
    atomic_write_text(out.with_suffix(".md"), markdown)
    if chart is not None:
        atomic_write_text(chart, render_chart(result))
    print(markdown)
    written = f"{out}, its .md" + (f" and {chart}" if chart is not None else "")
    print(f"wrote {written}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
