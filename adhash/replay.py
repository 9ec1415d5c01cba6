"""The replay engine: runs a workload against a map and measures it.

``replay(path, options)`` streams the workload in batches and executes every row against the
chosen backend (or the built-in ``dict`` as the reference). Throughput comes from the untimed
operations; latency from a systematic sample (every ``latency_sample_every``-th operation is
timed, with the timer's own overhead calibrated at start and subtracted). Warm-up operations run
but are not measured. With a ``target_rate`` every operation is scheduled and timed twice: from
its intended start (response time, corrected for coordinated omission) and from its actual start
(service time).

While it runs it emits ``metrics.v1`` ticks (every ``tick_interval`` seconds) and events (start,
complete, migrations, compactions, guardrail alerts, idle) to its sinks, and returns a
``RunSummary``. ``verify=True`` replays every operation on a ``dict`` as well and stops with an
:class:`~adhash.errors.InvariantError` at the first difference.
"""

from __future__ import annotations

import hashlib
import os
import platform
import secrets
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from adhash._version import __version__
from adhash.errors import BadInputError, InvariantError
from adhash.guardrails import Guardrails, GuardrailThresholds, format_value
from adhash.maps import (
    AdaptiveMap,
    AdaptivePolicy,
    MapEvent,
    MapStats,
)
from adhash.maps.stats import Hashing
from adhash.metrics.histogram import LatencyHistogram
from adhash.metrics.records import (
    AlertRecord,
    HeatmapRecord,
    LatencySampleInfo,
    LengthHistogramRecord,
    MapStatsRecord,
    MetricsEvent,
    MetricsTick,
    RunSummary,
    Throughput,
)
from adhash.metrics.sinks import Sink
from adhash.workload.format import Limits, OpBatch, WorkloadReader

__all__ = [
    "MODES",
    "MODE_ALIASES",
    "ReplayOptions",
    "backend_name_of",
    "build_map",
    "calibrate_timer",
    "content_digest",
    "python_description",
    "replay",
    "resolve_mode",
]

Mode = Literal["chaining", "robinhood", "compact", "adaptive", "dict"]
MODES: tuple[Mode, ...] = ("adaptive", "chaining", "robinhood", "compact", "dict")
MODE_ALIASES: dict[str, Mode] = {
    "fast-insert": "chaining",
    "fast-lookup": "robinhood",
    "memory-tight": "compact",
}
_OP_NAMES = ("put", "get", "del")
_DEFAULT_PERCENTILES = (50.0, 90.0, 99.0, 99.9, 100.0)
_EMA_ALPHA = 0.3
_IDLE_AFTER_S = 5.0


def resolve_mode(name: str) -> Mode:
    """The canonical mode for a name or one of the original's aliases.

    >>> resolve_mode("fast-lookup")
    'robinhood'
    >>> resolve_mode("btree")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    adhash.errors.BadInputError: unknown mode 'btree'; choose adaptive, chaining, ...
    """
    lowered = name.strip().lower()
    if lowered in MODES:
        return lowered
    if lowered in MODE_ALIASES:
        return MODE_ALIASES[lowered]
    raise BadInputError(
        f"unknown mode {name!r}; choose {', '.join(MODES)} (or {', '.join(MODE_ALIASES)})"
    )


def build_map(
    mode: str,
    *,
    policy: AdaptivePolicy | None = None,
    hash_seed: int | None = None,
    hashing: Hashing = "plain",
) -> Any:
    """A fresh, empty map for ``mode`` (``dict`` for the reference mode).

    The policy's sizes and Robin Hood deletion strategy also build the fixed backends;
    ``hashing="salted"`` wraps a fixed backend in a SaltedMap and starts an adaptive map salted.

    >>> type(build_map("memory-tight")).__name__
    'CompactMap'
    >>> type(build_map("chaining", hashing="salted")).__name__
    'SaltedMap'
    """
    resolved = resolve_mode(mode)
    if resolved == "dict":
        if hashing != "plain":
            raise BadInputError("dict has no salted hashing: choose another mode")
        return {}
    if resolved == "adaptive":
        return AdaptiveMap(policy=policy, hash_seed=hash_seed, hashing=hashing)
    return (policy or AdaptivePolicy()).build_backend(resolved, hash_seed, hashing)


def calibrate_timer(rounds: int = 20_000) -> int:
    """The median cost in ns of one ``perf_counter_ns()`` pair with nothing between.

    Complexity: O(rounds).
    """
    clock = time.perf_counter_ns
    samples = []
    for _ in range(rounds):
        start = clock()
        samples.append(clock() - start)
    samples.sort()
    return samples[len(samples) // 2]


def content_digest(pairs: Iterable[tuple[Any, Any]]) -> str:
    """An order-independent digest of a map's contents (hex), equal for equal contents.

    Each pair's BLAKE2b digest is summed modulo 2**256, so any iteration order gives the same
    result and no sort or copy of the contents is needed. Complexity: O(n).

    >>> content_digest([("a", 1), ("b", 2)]) == content_digest([("b", 2), ("a", 1)])
    True
    """
    total = 0
    count = 0
    for key, value in pairs:
        item = f"{type(key).__name__}:{key!r}={type(value).__name__}:{value!r}".encode()
        total += int.from_bytes(hashlib.blake2b(item, digest_size=32).digest(), "big")
        count += 1
    total %= 1 << 256
    return f"{count}:{total:064x}"


@dataclass(frozen=True, slots=True)
class ReplayOptions:
    """How to replay a workload. Every field has a default a user would expect.

    ``latency_sample_every``: time one operation in this many (1 times all). ``percentiles``:
    which latency percentiles to report (100 = max). ``warmup_ops``: operations run first and left
    out of every measurement. ``target_rate``: operations per second to schedule (None = as fast as
    possible). ``tick_interval``: seconds between metrics ticks. ``verify``: check every result
    against a ``dict``. ``collect_metrics=False`` times nothing and emits only the start and end
    ticks: the baseline that shows what measuring costs.
    """

    mode: str = "adaptive"
    latency_sample_every: int = 64
    percentiles: tuple[float, ...] = _DEFAULT_PERCENTILES
    warmup_ops: int = 0
    target_rate: float | None = None
    tick_interval: float = 0.5
    verify: bool = False
    policy: AdaptivePolicy = field(default_factory=AdaptivePolicy)
    guardrails: GuardrailThresholds = field(default_factory=GuardrailThresholds)
    hash_seed: int | None = None
    limits: Limits = field(default_factory=Limits)
    heatmap_cells: int = 256
    batch_size: int = 65_536
    collect_metrics: bool = True

    def __post_init__(self) -> None:
        resolve_mode(self.mode)
        _require_int("latency_sample_every", self.latency_sample_every, 1)
        _require_int("warmup_ops", self.warmup_ops, 0)
        _require_int("heatmap_cells", self.heatmap_cells, 1)
        _require_int("batch_size", self.batch_size, 1)
        if not self.percentiles:
            raise BadInputError("percentiles must list at least one percentile")
        for p in self.percentiles:
            if isinstance(p, bool) or not isinstance(p, int | float) or not 0 < p <= 100:
                raise BadInputError(f"percentile {p!r} must be in (0, 100]")
        if self.target_rate is not None and not (
            isinstance(self.target_rate, int | float) and self.target_rate > 0
        ):
            raise BadInputError(f"target_rate must be > 0 ops/s, got {self.target_rate!r}")
        if not (isinstance(self.tick_interval, int | float) and self.tick_interval > 0):
            raise BadInputError(f"tick_interval must be > 0 seconds, got {self.tick_interval!r}")


def _require_int(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise BadInputError(f"{name} must be an int >= {minimum}, got {value!r}")


class _Run:
    """The state of one replay: the map, the clocks, the counters, the histograms, the sinks."""

    def __init__(
        self,
        path: Path,
        options: ReplayOptions,
        sinks: Sequence[Sink],
        on_progress: Callable[[int], None] | None,
        initial: Any,
    ) -> None:
        self.path = path
        self.options = options
        self.mode = resolve_mode(options.mode)
        self.sinks = sinks
        self.on_progress = on_progress
        self.run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(3)
        self.map: Any = (
            initial
            if initial is not None
            else build_map(self.mode, policy=options.policy, hash_seed=options.hash_seed)
        )
        self.start_backend = backend_name_of(self.map)
        self.reference: dict[Any, Any] | None = dict(_pairs(self.map)) if options.verify else None
        self.guardrails = Guardrails(options.guardrails)
        self.histograms = {name: LatencyHistogram() for name in ("overall", *_OP_NAMES)}
        self.response = (
            {name: LatencyHistogram() for name in ("overall", *_OP_NAMES)}
            if options.target_rate
            else None
        )
        self.op_counts = [0, 0, 0]
        self.misses = [0, 0, 0]
        self.ops_done = 0
        self.migrations = 0
        self.compactions = 0
        self.alerts_fired = 0
        self.ticks = 0
        self.events = 0
        self.ema = 0.0
        self.timer_overhead = calibrate_timer()
        self.started_at = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        self.t0 = time.perf_counter()
        self.last_tick_t = self.t0
        self.last_tick_ops = 0
        self.measure_start: float | None = None
        self.measure_start_ops = 0
        self.state: Literal["running", "idle"] = "running"
        self.unsubscribe: Callable[[], None] | None = None
        if isinstance(self.map, AdaptiveMap):
            self.unsubscribe = self.map.subscribe(self._on_map_event)

    # -- events and ticks ------------------------------------------------------------------

    def emit_event(self, kind: str, message: str, data: dict[str, Any] | None = None) -> None:
        event = MetricsEvent(
            run_id=self.run_id,
            seq=self.events,
            t=time.perf_counter() - self.t0,
            type=kind,  # type: ignore[arg-type]
            backend=backend_name_of(self.map),
            message=message,
            data=data or {},
        )
        self.events += 1
        for sink in self.sinks:
            sink.write(event)

    def _on_map_event(self, event: MapEvent) -> None:
        if event.kind == "migration_started":
            self.migrations += 1
        elif event.kind == "compaction_started":
            self.compactions += 1
        self.emit_event(
            event.kind,
            event.message,
            {
                "source": event.source,
                "target": event.target,
                "reason": event.reason,
                "metric": event.metric,
                "value": event.value,
                "threshold": event.threshold,
                "size": event.size,
                "moved": event.moved,
                "hashing": event.hashing,
                "unsalted_keys": event.unsalted_keys,
            },
        )

    def stats(self) -> MapStats:
        if isinstance(self.map, dict):
            return MapStats(backend="dict", size=len(self.map), capacity=0, load_factor=0.0)
        return self.map.stats()  # type: ignore[no-any-return]

    def tick(self) -> None:
        now = time.perf_counter()
        stats = self.stats()
        report = self.guardrails.evaluate(stats)
        active = {alert.metric: alert for alert in report.active}
        for edge in report.edges:
            data: dict[str, object] = {
                "metric": edge.metric,
                "value": edge.value,
                "threshold": edge.threshold,
            }
            if edge.rising:
                self.alerts_fired += 1
                message = active[edge.metric].message
                data["detail"] = active[edge.metric].detail
            else:
                (value,) = format_value(edge.metric, edge.value)
                message = f"{edge.metric} < {edge.threshold:g} ({value}) on {edge.backend}"
            self.emit_event("alert" if edge.rising else "alert_cleared", message, data)
        interval = now - self.last_tick_t
        instant = (self.ops_done - self.last_tick_ops) / interval if interval > 0 else 0.0
        self.ema = (
            instant if self.ticks == 0 else _EMA_ALPHA * instant + (1 - _EMA_ALPHA) * self.ema
        )
        if isinstance(self.map, dict):
            probe = LengthHistogramRecord(kind="probe", counts=[])
            heatmap = HeatmapRecord(
                rows=0, cols=0, cells=[], slot_span=1, capacity=0, sampled_slots=0
            )
        else:
            probe = LengthHistogramRecord.from_histogram(self.map.length_histogram())
            heatmap = HeatmapRecord.from_heatmap(
                self.map.occupancy_heatmap(cells=self.options.heatmap_cells)
            )
        tick = MetricsTick(
            run_id=self.run_id,
            seq=self.ticks,
            t=now - self.t0,
            ops=self.ops_done,
            measured_ops=max(0, self.ops_done - self.options.warmup_ops),
            ops_by_type=dict(zip(_OP_NAMES, self.op_counts, strict=True)),
            misses={"get": self.misses[1], "del": self.misses[2]},
            throughput=Throughput(instant=instant, ema=self.ema),
            backend=stats.backend,
            migrating_from=stats.migrating_from,
            migration_progress=stats.migration_progress,
            map=MapStatsRecord.from_stats(stats),
            probe_histogram=probe,
            heatmap=heatmap,
            latency_ns=self.latency_summary(self.histograms),
            latency_histogram=self.histograms["overall"].buckets(),
            latency_samples=self.histograms["overall"].count,
            latency_sum_ns=self.histograms["overall"].total,
            alerts=[AlertRecord.from_alert(alert) for alert in report.active],
            state=self.state,
        )
        self.ticks += 1
        self.last_tick_t = now
        self.last_tick_ops = self.ops_done
        for sink in self.sinks:
            sink.write(tick)

    def latency_summary(self, histograms: dict[str, LatencyHistogram]) -> dict[str, dict[str, int]]:
        return {
            name: histogram.percentiles(self.options.percentiles)
            for name, histogram in histograms.items()
            if histogram.count
        }

    # -- execution -------------------------------------------------------------------------

    def execute(self) -> None:
        options = self.options
        with WorkloadReader(self.path, limits=options.limits) as reader:
            if self.reference is not None or options.target_rate is not None:
                for batch in reader.batches(options.batch_size):
                    self._run_checked(batch)
            else:
                for batch in reader.batches(options.batch_size):
                    self._run_fast(batch.ops, batch.keys, batch.values)

    def _count(self, ops: list[int]) -> None:
        self.op_counts[0] += ops.count(0)
        self.op_counts[1] += ops.count(1)
        self.op_counts[2] += ops.count(2)

    def _maybe_tick(self) -> None:
        if self.ops_done >= self.options.warmup_ops and self.measure_start is None:
            self.measure_start = time.perf_counter()
            self.measure_start_ops = self.ops_done
        if (
            self.options.collect_metrics
            and time.perf_counter() - self.last_tick_t >= self.options.tick_interval
        ):
            self.tick()
            if self.on_progress is not None:
                self.on_progress(self.ops_done)

    def _run_fast(self, ops: list[int], keys: list[Any], values: list[Any]) -> None:
        """The hot loop: untimed segments of ``every - 1`` operations, then one timed one."""
        m = self.map
        get = m.get
        pop = m.pop
        setitem = m.__setitem__
        clock = time.perf_counter_ns
        overhead = self.timer_overhead
        n = len(ops)
        # Without metrics the whole batch is one untimed segment.
        every = self.options.latency_sample_every if self.options.collect_metrics else n + 1
        warmup_end = self.options.warmup_ops
        hist_overall = self.histograms["overall"]
        hist_by_op = (self.histograms["put"], self.histograms["get"], self.histograms["del"])
        misses = self.misses
        self._count(ops)
        start = 0
        while start < n:
            stop = min(n, start + every - 1)
            get_misses = del_misses = 0
            segment = zip(ops[start:stop], keys[start:stop], values[start:stop], strict=True)
            for op, key, value in segment:
                if op == 1:
                    if get(key) is None:
                        get_misses += 1
                elif op == 0:
                    setitem(key, value)
                elif pop(key, None) is None:
                    del_misses += 1
            misses[1] += get_misses
            misses[2] += del_misses
            self.ops_done += stop - start
            if stop < n:
                op = ops[stop]
                key = keys[stop]
                if op == 1:
                    began = clock()
                    found = get(key)
                    elapsed = clock() - began
                    if found is None:
                        misses[1] += 1
                elif op == 0:
                    value = values[stop]
                    began = clock()
                    setitem(key, value)
                    elapsed = clock() - began
                else:
                    began = clock()
                    found = pop(key, None)
                    elapsed = clock() - began
                    if found is None:
                        misses[2] += 1
                self.ops_done += 1
                if self.ops_done > warmup_end:
                    elapsed = max(0, elapsed - overhead)
                    hist_overall.record(elapsed)
                    hist_by_op[op].record(elapsed)
                stop += 1
            start = stop
            self._maybe_tick()

    def _run_checked(self, batch: OpBatch) -> None:
        """One operation at a time: for ``verify`` (a dict alongside) and for a target rate."""
        ops, keys, values = batch.ops, batch.keys, batch.values
        m = self.map
        reference = self.reference
        get = m.get
        pop = m.pop
        setitem = m.__setitem__
        clock = time.perf_counter_ns
        overhead = self.timer_overhead
        every = 1 if self.options.target_rate else self.options.latency_sample_every
        interval_ns = int(1e9 / self.options.target_rate) if self.options.target_rate else 0
        warmup_end = self.options.warmup_ops
        histograms = self.histograms
        response = self.response
        self._count(ops)
        if interval_ns and not hasattr(self, "schedule_start"):
            self.schedule_start = clock()
        for offset, (op, key, value) in enumerate(zip(ops, keys, values, strict=True)):
            intended = 0
            if interval_ns:
                intended = self.schedule_start + self.ops_done * interval_ns
                self._wait_until(intended)
            began = clock()
            if op == 1:
                result = get(key)
            elif op == 0:
                setitem(key, value)
                result = None
            else:
                result = pop(key, None)
            ended = clock()
            if op and result is None:
                self.misses[op] += 1
            if reference is not None:
                if op == 1:
                    expected = reference.get(key)
                elif op == 2:
                    expected = reference.pop(key, None)
                else:
                    reference[key] = value
                    expected = None
                if result != expected or len(m) != len(reference):
                    raise InvariantError(
                        f"line {batch.line(offset)}: {_OP_NAMES[op]} {key!r} returned "
                        f"{result!r} on {backend_name_of(m)}, dict returned {expected!r} "
                        f"(sizes {len(m)} and {len(reference)})",
                        hint="the backend disagrees with dict: this is a bug, please report it",
                    )
            self.ops_done += 1
            if self.ops_done > warmup_end and self.ops_done % every == 0:
                elapsed = max(0, ended - began - overhead)
                histograms["overall"].record(elapsed)
                histograms[_OP_NAMES[op]].record(elapsed)
                if response is not None:
                    waited = max(0, ended - intended - overhead)
                    response["overall"].record(waited)
                    response[_OP_NAMES[op]].record(waited)
            if self.ops_done % 1024 == 0:
                self._maybe_tick()

    def _wait_until(self, intended_ns: int) -> None:
        clock = time.perf_counter_ns
        remaining = intended_ns - clock()
        if remaining <= 0:
            return
        if remaining > _IDLE_AFTER_S * 1e9 and self.state == "running":
            self.state = "idle"
            self.emit_event("idle", f"no operation due for {remaining / 1e9:.1f} s")
            self.tick()
        while remaining > 2_000_000:
            time.sleep((remaining - 1_000_000) / 1e9)
            remaining = intended_ns - clock()
        while clock() < intended_ns:
            pass
        if self.state == "idle":
            self.state = "running"
            self.emit_event("resume", "operations resumed")

    def summary(self, elapsed: float, metrics_file: str | None) -> RunSummary:
        measured_ops = max(0, self.ops_done - self.options.warmup_ops)
        if self.measure_start is not None and measured_ops:
            measured_elapsed = time.perf_counter() - self.measure_start
            ops_per_second = (
                (self.ops_done - self.measure_start_ops) / measured_elapsed
                if measured_elapsed > 0
                else None
            )
        else:
            ops_per_second = None
        stats = self.stats()
        return RunSummary(
            run_id=self.run_id,
            csv=str(self.path),
            mode=self.mode,
            backend_start=self.start_backend,
            final_backend=stats.backend,
            started_at=self.started_at,
            elapsed_seconds=elapsed,
            total_ops=self.ops_done,
            measured_ops=measured_ops,
            warmup_ops=min(self.options.warmup_ops, self.ops_done),
            ops_per_second=ops_per_second,
            op_counts=dict(zip(_OP_NAMES, self.op_counts, strict=True)),
            misses={"get": self.misses[1], "del": self.misses[2]},
            migrations_triggered=self.migrations,
            compactions_triggered=self.compactions,
            latency_ns=self.latency_summary(self.histograms),
            response_latency_ns=(
                self.latency_summary(self.response) if self.response is not None else None
            ),
            latency_sample=LatencySampleInfo(
                every_n=1 if self.options.target_rate else self.options.latency_sample_every,
                samples=self.histograms["overall"].count,
                timer_overhead_ns=self.timer_overhead,
                percentiles=list(self.options.percentiles),
            ),
            target_rate=self.options.target_rate,
            final_stats=MapStatsRecord.from_stats(stats),
            digest=content_digest(_pairs(self.map)),
            ticks=self.ticks,
            events=self.events,
            alerts_fired=self.alerts_fired,
            metrics_file=metrics_file,
            verified=self.reference is not None,
            python=f"{platform.python_implementation()} {platform.python_version()}",
            adhash_version=__version__,
            hash_seed=self.options.hash_seed,
            pythonhashseed=os.environ.get("PYTHONHASHSEED"),
        )


def backend_name_of(m: Any) -> str:
    """The backend a map (or ``dict``) serves operations with now.

    >>> backend_name_of({}), backend_name_of(build_map("fast-insert"))
    ('dict', 'chaining')
    """
    if isinstance(m, dict):
        return "dict"
    return m.backend if isinstance(m, AdaptiveMap) else m.backend_name


def _pairs(m: Any) -> Iterable[tuple[Any, Any]]:
    return m.items()  # type: ignore[no-any-return]


def replay(
    path: str | os.PathLike[str],
    options: ReplayOptions | None = None,
    *,
    sinks: Sequence[Sink] = (),
    on_progress: Callable[[int], None] | None = None,
    initial_map: Any = None,
    metrics_file: str | None = None,
) -> tuple[RunSummary, Any]:
    """Replay the workload at ``path``; return the run summary and the final map.

    ``initial_map`` starts from an existing map (a loaded snapshot) instead of an empty one.
    ``metrics_file`` is recorded in the summary (the path of an NDJSON sink, if any).
    Complexity: O(rows) time, O(batch size + map size) memory.
    """
    options = options if options is not None else ReplayOptions()
    run = _Run(Path(path), options, sinks, on_progress, initial_map)
    try:
        run.emit_event("start", f"replaying {path} on {run.start_backend}", {"mode": run.mode})
        run.tick()
        if options.warmup_ops == 0:
            run.measure_start = time.perf_counter()
        run.execute()
    finally:
        # The returned map outlives the run: it must not keep writing to this run's sinks.
        if run.unsubscribe is not None:
            run.unsubscribe()
    elapsed = time.perf_counter() - run.t0
    run.emit_event(
        "complete",
        f"{run.ops_done} operations in {elapsed:.3f} s on {backend_name_of(run.map)}",
        {"ops": run.ops_done},
    )
    run.tick()
    summary = run.summary(elapsed, metrics_file)
    if run.reference is not None and summary.digest != content_digest(run.reference.items()):
        raise InvariantError(
            "final contents differ from the dict reference",
            hint="the backend disagrees with dict: this is a bug, please report it",
        )
    return summary, run.map


def python_description() -> str:
    """The running interpreter, for reports.

    >>> python_description().split()[0] in {"CPython", "PyPy"}
    True
    """
    return f"{platform.python_implementation()} {platform.python_version()} ({sys.platform})"
