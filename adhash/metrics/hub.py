"""The metrics hub: what a run has emitted, kept for the server, and its payloads prepared once.

A :class:`MetricsHub` is a sink: a live replay writes its ticks, events and summary into it, and a
file follower feeds it the records of an NDJSON stream. The server reads payloads from it; each
payload is serialised at most once per change (per tick, in practice) and then served as the same
bytes to every client, so many dashboards polling cost the run almost nothing.

Counters (operations, misses, migrations, compactions, alerts fired) only go up, across runs too:
when a stream holds several runs, each new run's counts are added to those of the runs before.
"""

from __future__ import annotations

import csv
import io
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import orjson

from adhash.errors import BadInputError
from adhash.metrics.records import MetricsEvent, MetricsRecord, MetricsTick, RunSummary

__all__ = [
    "COMPARE_SCHEMA_PREFIX",
    "PAYLOAD_SCHEMAS",
    "HubCounters",
    "MetricsHub",
]

PAYLOAD_SCHEMAS: Final = {
    "summary": "adhash.metrics_summary.v1",
    "history": "adhash.metrics_history.v1",
    "latency": "adhash.tick_latency.v1",
    "probe": "adhash.probe_histogram.v1",
    "heatmap": "adhash.heatmap.v1",
    "events": "adhash.events.v1",
    "health": "adhash.health.v1",
    "dashboard": "adhash.dashboard.v1",
    "error": "adhash.error.v1",
}
"""The ``schema`` of each JSON payload the server sends."""

COMPARE_SCHEMA_PREFIX: Final = "adhash.compare"
"""A comparison loaded with ``--compare`` must declare a schema starting with this."""

HubState = Literal["waiting", "running", "idle", "completed"]
_OPS = ("put", "get", "del")
_CSV_COLUMNS = (
    "run_id",
    "seq",
    "t",
    "state",
    "backend",
    "ops",
    "ops_per_second",
    "ops_per_second_ema",
    "size",
    "load_factor",
    "probe_length_mean",
    "chain_length_max",
    "tombstone_ratio",
    "flood_keys",
    "hashing",
    "p50_ns",
    "p99_ns",
    "alerts",
)


@dataclass(slots=True)
class HubCounters:
    """Totals since the hub was created, across every run it has seen. They never go down."""

    ops_by_type: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_OPS, 0))
    misses: dict[str, int] = field(default_factory=lambda: {"get": 0, "del": 0})
    migrations: int = 0
    compactions: int = 0
    alerts_fired: int = 0
    latency_samples: int = 0
    latency_sum_ns: int = 0
    ticks: int = 0
    events: int = 0
    runs: int = 0
    earlier_latency_buckets: dict[int, int] = field(default_factory=dict)
    """Latency histogram buckets (upper bound ns → count) of the runs before the current one."""

    @property
    def ops(self) -> int:
        """Operations of every type."""
        return sum(self.ops_by_type.values())


class MetricsHub:
    """Ticks, events, the summary and a comparison, with JSON payloads prepared once per change.

    ``history_limit`` ticks and ``event_limit`` events are kept. Thread-safe: one writer (the run
    or the follower) and any number of readers.

    >>> hub = MetricsHub(history_limit=10)
    >>> hub.state
    'waiting'
    >>> orjson.loads(hub.payload("summary"))["schema"]
    'adhash.metrics_summary.v1'
    """

    def __init__(
        self,
        *,
        history_limit: int = 360,
        event_limit: int = 1024,
        source: str = "live",
        clock: Callable[[], float] = time.time,
    ) -> None:
        for name, value in (("history_limit", history_limit), ("event_limit", event_limit)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise BadInputError(f"{name} must be an integer >= 1, got {value!r}")
        self.history_limit = history_limit
        self.source = source
        self._clock = clock
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._ticks: deque[MetricsTick] = deque(maxlen=history_limit)
        self._tick_json: deque[bytes] = deque(maxlen=history_limit)
        # The few fields the dashboard's time charts draw: a tenth of a tick's size.
        self._timeline_json: deque[bytes] = deque(maxlen=history_limit)
        self._events: deque[MetricsEvent] = deque(maxlen=event_limit)
        self._event_json: deque[bytes] = deque(maxlen=event_limit)
        self._summary: RunSummary | None = None
        self._compare: bytes | None = None
        self._counters = HubCounters()
        # Counts of the runs before the current one, so totals keep growing across runs.
        self._base = HubCounters()
        self._run_id: str | None = None
        self._completed_run: str | None = None
        self._last_event_seq: dict[str, int] = {}
        self._version = 0
        self._cache: dict[str, bytes] = {}
        self._state: HubState = "waiting"
        self.rejected_records = 0

    # -- writing -------------------------------------------------------------------------------

    def write(self, record: MetricsRecord) -> None:
        """Take a tick, an event or a run summary (the :class:`~adhash.metrics.sinks.Sink` API).

        Complexity: O(1) amortised; the record is serialised once here.
        """
        with self._changed:
            if isinstance(record, MetricsTick):
                self._take_tick(record)
            elif isinstance(record, MetricsEvent):
                if not self._take_event(record):
                    return
            elif isinstance(record, RunSummary):
                self._summary = record
                self._completed_run = record.run_id
                self._state = "completed"
            else:
                raise BadInputError(f"a metrics hub takes records, got {type(record).__name__}")
            self._version += 1
            self._cache.clear()
            self._changed.notify_all()

    def close(self) -> None:
        """Nothing to release: the hub stays readable after the run (the Sink API)."""

    def set_comparison(self, comparison: dict[str, Any]) -> None:
        """Load an A/B comparison result (its ``schema`` must start with ``adhash.compare``)."""
        schema = comparison.get("schema")
        if not isinstance(schema, str) or not schema.startswith(COMPARE_SCHEMA_PREFIX):
            raise BadInputError(
                f"not an A/B comparison result: schema {schema!r}",
                hint="give a file written by adhash ab-compare",
            )
        with self._changed:
            self._compare = orjson.dumps(comparison)
            self._version += 1
            self._cache.clear()
            self._changed.notify_all()

    def _take_tick(self, tick: MetricsTick) -> None:
        if tick.run_id != self._run_id:
            self._start_run(tick.run_id)
        self._ticks.append(tick)
        self._tick_json.append(orjson.dumps(tick.model_dump(mode="json", by_alias=True)))
        self._timeline_json.append(orjson.dumps(_timeline_point(tick)))
        counters, base = self._counters, self._base
        for op in _OPS:
            counters.ops_by_type[op] = base.ops_by_type[op] + tick.ops_by_type.get(op, 0)
        for op in ("get", "del"):
            counters.misses[op] = base.misses[op] + tick.misses.get(op, 0)
        counters.latency_samples = base.latency_samples + tick.latency_samples
        counters.latency_sum_ns = base.latency_sum_ns + tick.latency_sum_ns
        counters.ticks += 1
        if tick.run_id != self._completed_run:
            self._state = "idle" if tick.state == "idle" else "running"

    def _take_event(self, event: MetricsEvent) -> bool:
        last = self._last_event_seq.get(event.run_id, -1)
        if event.seq <= last:
            return False  # already seen (a follower re-reading a file): counters stay exact
        self._last_event_seq[event.run_id] = event.seq
        if event.run_id != self._run_id:
            self._start_run(event.run_id)
        self._events.append(event)
        self._event_json.append(orjson.dumps(event.model_dump(mode="json", by_alias=True)))
        counters = self._counters
        counters.events += 1
        if event.type == "migration_started":
            counters.migrations += 1
        elif event.type == "compaction_started":
            counters.compactions += 1
        elif event.type == "alert":
            counters.alerts_fired += 1
        if event.type == "complete":
            # A followed file carries no summary: the complete event ends the run.
            self._completed_run = event.run_id
            self._state = "completed"
        elif self._state == "waiting":
            self._state = "running"
        return True

    def _start_run(self, run_id: str) -> None:
        if self._run_id is not None:
            counters, base = self._counters, self._base
            base.ops_by_type = dict(counters.ops_by_type)
            base.misses = dict(counters.misses)
            base.latency_samples = counters.latency_samples
            base.latency_sum_ns = counters.latency_sum_ns
            if self._ticks and self._ticks[-1].run_id == self._run_id:
                earlier = counters.earlier_latency_buckets
                for upper, count in self._ticks[-1].latency_histogram:
                    earlier[upper] = earlier.get(upper, 0) + count
        self._run_id = run_id
        self._counters.runs += 1
        self._state = "running"

    # -- reading -------------------------------------------------------------------------------

    @property
    def version(self) -> int:
        """Grows by one with every record taken. Complexity: O(1)."""
        with self._lock:
            return self._version

    @property
    def state(self) -> HubState:
        """waiting (nothing yet), running, idle, or completed (the summary has arrived)."""
        with self._lock:
            return self._state

    def wait_for(self, version: int, timeout: float) -> int:
        """Block until the version passes ``version`` or ``timeout`` seconds pass; the version."""
        with self._changed:
            self._changed.wait_for(lambda: self._version > version, timeout=timeout)
            return self._version

    def snapshot(self) -> tuple[MetricsTick | None, HubCounters, HubState, str | None]:
        """The latest tick, a copy of the counters, the state and the current run id."""
        with self._lock:
            counters = HubCounters(
                ops_by_type=dict(self._counters.ops_by_type),
                misses=dict(self._counters.misses),
                migrations=self._counters.migrations,
                compactions=self._counters.compactions,
                alerts_fired=self._counters.alerts_fired,
                latency_samples=self._counters.latency_samples,
                latency_sum_ns=self._counters.latency_sum_ns,
                ticks=self._counters.ticks,
                events=self._counters.events,
                runs=self._counters.runs,
                earlier_latency_buckets=dict(self._counters.earlier_latency_buckets),
            )
            latest = self._ticks[-1] if self._ticks else None
            return latest, counters, self._state, self._run_id

    def ticks(self) -> list[MetricsTick]:
        """The ticks held, oldest first."""
        with self._lock:
            return list(self._ticks)

    def events(self) -> list[MetricsEvent]:
        """The events held, oldest first."""
        with self._lock:
            return list(self._events)

    def payload(self, name: str, limit: int | None = None, since: int | None = None) -> bytes:
        """The JSON (or CSV for ``history.csv``) body of one endpoint, built once per change.

        ``name`` is one of summary, history, history.csv, latency, probe, heatmap, events,
        compare. ``limit`` keeps the newest items; ``since`` keeps events after that sequence
        number of the current run. Complexity: O(1) when cached, else O(items held).
        """
        with self._lock:
            return self._cached(name, limit, since)

    def _cached(self, name: str, limit: int | None, since: int | None) -> bytes:
        key = f"{name}:{limit}:{since}"
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        body = self._build(name, limit, since)
        if len(self._cache) > 256:  # odd limits from many clients must not grow it forever
            self._cache.clear()
        self._cache[key] = body
        return body

    def _build(self, name: str, limit: int | None, since: int | None) -> bytes:
        now = self._clock()
        if name == "summary":
            return orjson.dumps(self._summary_payload(now))
        if name in ("history", "history.timeline"):
            items = _tail(self._tick_json if name == "history" else self._timeline_json, limit)
            head = orjson.dumps(
                {
                    "schema": PAYLOAD_SCHEMAS["history"],
                    "generated_at": now,
                    "view": "full" if name == "history" else "timeline",
                    "total_ticks": self._counters.ticks,
                    "held": len(self._tick_json),
                }
            )
            return head[:-1] + b',"items":[' + b",".join(items) + b"]}"
        if name == "history.csv":
            return self._history_csv(limit)
        if name == "dashboard":
            # Everything one poll of the page draws, from the cached parts: one request, not six.
            parts = [
                ("summary", self._cached("summary", None, None)),
                ("history", self._cached("history.timeline", limit, None)),
                ("events", self._cached("events", 50, since)),
                ("latency", self._cached("latency", None, None)),
                ("probe", self._cached("probe", None, None)),
                ("heatmap", self._cached("heatmap", None, None)),
            ]
            head = orjson.dumps({"schema": PAYLOAD_SCHEMAS["dashboard"], "generated_at": now})
            body = b",".join(b'"' + key.encode() + b'":' + value for key, value in parts)
            return head[:-1] + b"," + body + b"}"
        if name == "events":
            chosen = list(zip(self._events, self._event_json, strict=True))
            if since is not None:
                run = self._run_id
                chosen = [(e, raw) for e, raw in chosen if e.run_id == run and e.seq > since]
            raws = _tail(deque(raw for _, raw in chosen), limit)
            head = orjson.dumps(
                {
                    "schema": PAYLOAD_SCHEMAS["events"],
                    "generated_at": now,
                    "run_id": self._run_id,
                    "total_events": self._counters.events,
                }
            )
            return head[:-1] + b',"items":[' + b",".join(raws) + b"]}"
        if name == "compare":
            if self._compare is None:
                raise LookupError("no comparison loaded (serve --compare FILE loads one)")
            return self._compare
        latest = self._ticks[-1] if self._ticks else None
        if name == "latency":
            return orjson.dumps(
                {
                    "schema": PAYLOAD_SCHEMAS["latency"],
                    "generated_at": now,
                    "run_id": self._run_id,
                    "unit": "ns",
                    "samples": latest.latency_samples if latest else 0,
                    "sum_ns": latest.latency_sum_ns if latest else 0,
                    "buckets": latest.latency_histogram if latest else [],
                    "percentiles": latest.latency_ns if latest else {},
                }
            )
        if name == "probe":
            return orjson.dumps(
                {
                    "schema": PAYLOAD_SCHEMAS["probe"],
                    "generated_at": now,
                    "run_id": self._run_id,
                    "backend": latest.backend if latest else None,
                    "kind": latest.probe_histogram.kind if latest else None,
                    "counts": latest.probe_histogram.counts if latest else [],
                }
            )
        if name == "heatmap":
            grid = latest.heatmap.model_dump(mode="json") if latest else None
            return orjson.dumps(
                {
                    "schema": PAYLOAD_SCHEMAS["heatmap"],
                    "generated_at": now,
                    "run_id": self._run_id,
                    "backend": latest.backend if latest else None,
                    **(grid or {"rows": 0, "cols": 0, "cells": []}),
                }
            )
        raise KeyError(name)

    def _summary_payload(self, now: float) -> dict[str, Any]:
        latest = self._ticks[-1] if self._ticks else None
        counters = self._counters
        return {
            "schema": PAYLOAD_SCHEMAS["summary"],
            "generated_at": now,
            "source": self.source,
            "state": self._state,
            "run_id": self._run_id,
            "runs": counters.runs,
            "totals": {
                "ops": counters.ops,
                "ops_by_type": counters.ops_by_type,
                "misses": counters.misses,
                "migrations": counters.migrations,
                "compactions": counters.compactions,
                "alerts_fired": counters.alerts_fired,
                "ticks": counters.ticks,
                "events": counters.events,
            },
            "throughput": latest.throughput.model_dump(mode="json") if latest else None,
            "backend": (
                {
                    "name": latest.backend,
                    "migrating_from": latest.migrating_from,
                    "migration_progress": latest.migration_progress,
                    **latest.map.model_dump(
                        mode="json",
                        include={
                            "size",
                            "capacity",
                            "load_factor",
                            "probe_length_mean",
                            "probe_length_max",
                            "chain_length_max",
                            "tombstone_ratio",
                            "flood_keys",
                            "hashing",
                            "unsalted_keys",
                        },
                    ),
                }
                if latest
                else None
            ),
            "latency_ns": latest.latency_ns if latest else {},
            "alerts": [a.model_dump(mode="json") for a in latest.alerts] if latest else [],
            "latest": latest.model_dump(mode="json", by_alias=True) if latest else None,
            "run_summary": (
                self._summary.model_dump(mode="json", by_alias=True) if self._summary else None
            ),
            "compare_loaded": self._compare is not None,
            "rejected_records": self.rejected_records,
        }

    def _history_csv(self, limit: int | None) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(_CSV_COLUMNS)
        for tick in _tail(self._ticks, limit):
            overall = tick.latency_ns.get("overall", {})
            writer.writerow(
                [
                    tick.run_id,
                    tick.seq,
                    f"{tick.t:.6f}",
                    tick.state,
                    tick.backend,
                    tick.ops,
                    f"{tick.throughput.instant:.3f}",
                    f"{tick.throughput.ema:.3f}",
                    tick.map.size,
                    f"{tick.map.load_factor:.6f}",
                    _optional(tick.map.probe_length_mean),
                    _optional(tick.map.chain_length_max),
                    _optional(tick.map.tombstone_ratio),
                    _optional(tick.map.flood_keys),
                    tick.map.hashing,
                    overall.get("p50", ""),
                    overall.get("p99", ""),
                    ";".join(alert.metric for alert in tick.alerts),
                ]
            )
        return out.getvalue().encode()


def _timeline_point(tick: MetricsTick) -> dict[str, Any]:
    """A tick reduced to what a chart over time needs (``view=timeline``)."""
    shape = tick.map
    return {
        "run_id": tick.run_id,
        "seq": tick.seq,
        "t": tick.t,
        "state": tick.state,
        "backend": tick.backend,
        "ops": tick.ops,
        "throughput": tick.throughput.model_dump(mode="json"),
        "latency_ns": {"overall": tick.latency_ns.get("overall", {})},
        "map": {
            "size": shape.size,
            "load_factor": shape.load_factor,
            "probe_length_mean": shape.probe_length_mean,
            "chain_length_max": shape.chain_length_max,
            "tombstone_ratio": shape.tombstone_ratio,
            "flood_keys": shape.flood_keys,
        },
    }


def _optional(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.6f}" if isinstance(value, float) else str(value)


def _tail(items: deque[Any], limit: int | None) -> list[Any]:
    if limit is None or limit >= len(items):
        return list(items)
    return list(items)[len(items) - limit :]
