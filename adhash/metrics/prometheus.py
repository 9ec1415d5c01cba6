"""Prometheus exposition of a :class:`~adhash.metrics.hub.MetricsHub`, with ``prometheus_client``.

A custom collector reads the hub's counters and latest tick at scrape time: counters that only go
up (operations by type, misses, migrations, compactions, alerts fired), gauges of the map's shape
(hash flooding included), the backend and its hashing as an info metric, and a latency histogram
over every timed operation, in seconds.
The histogram's buckets are fixed bounds filled from the run's log-linear histogram (whose bucket
edges are within 0.8 % of the values), so ``histogram_quantile`` works across scrapes and runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final, get_args

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from adhash.guardrails import Metric as GuardedMetric
from adhash.metrics.hub import HubCounters, MetricsHub

__all__ = ["CONTENT_TYPE", "LATENCY_BUCKETS_SECONDS", "HubCollector", "render"]

CONTENT_TYPE: Final = CONTENT_TYPE_LATEST

LATENCY_BUCKETS_SECONDS: Final = (
    1e-7,
    2.5e-7,
    5e-7,
    1e-6,
    2.5e-6,
    5e-6,
    1e-5,
    2.5e-5,
    5e-5,
    1e-4,
    2.5e-4,
    5e-4,
    1e-3,
    2.5e-3,
    5e-3,
    1e-2,
    2.5e-2,
    0.1,
    1.0,
)
"""Upper bounds of the latency histogram (100 ns to 1 s; +Inf is added)."""

_ALERT_METRICS: tuple[str, ...] = get_args(GuardedMetric)


class HubCollector(Collector):
    """Collects the metrics of one hub at scrape time."""

    def __init__(self, hub: MetricsHub) -> None:
        self._hub = hub

    def collect(self) -> Iterator[Metric]:
        latest, counters, state, run_id = self._hub.snapshot()
        ops = CounterMetricFamily(
            "adhash_operations", "Operations executed, by type.", labels=["op"]
        )
        for op, count in counters.ops_by_type.items():
            ops.add_metric([op], count)
        yield ops
        misses = CounterMetricFamily(
            "adhash_misses", "get and del operations that found no key.", labels=["op"]
        )
        for op, count in counters.misses.items():
            misses.add_metric([op], count)
        yield misses
        yield CounterMetricFamily(
            "adhash_migrations", "Live migrations started.", value=counters.migrations
        )
        yield CounterMetricFamily(
            "adhash_compactions", "Compactions started.", value=counters.compactions
        )
        yield CounterMetricFamily(
            "adhash_alerts_fired",
            "Guardrail alerts that became active.",
            value=counters.alerts_fired,
        )
        yield CounterMetricFamily("adhash_runs", "Runs seen.", value=counters.runs)
        info = InfoMetricFamily(
            "adhash_backend", "The backend serving operations now and its hashing (plain, salted)."
        )
        info.add_metric(
            [],
            {
                "backend": latest.backend if latest else "",
                "migrating_from": (latest.migrating_from or "") if latest else "",
                "hashing": latest.map.hashing if latest else "",
                "run_id": run_id or "",
                "state": state,
            },
        )
        yield info
        yield from self._gauges(latest)
        yield self._latency(latest, counters)

    def _gauges(self, latest: object) -> Iterator[Metric]:
        from adhash.metrics.records import MetricsTick

        if not isinstance(latest, MetricsTick):
            return
        shape = latest.map
        values = {
            "adhash_map_entries": ("Live entries in the map.", shape.size),
            "adhash_map_capacity": (
                "Slots (open addressing) or chains (chaining).",
                shape.capacity,
            ),
            "adhash_load_factor": ("Entries per slot or chain.", shape.load_factor),
            "adhash_probe_length_mean": (
                "Mean displacement from the home slot (open addressing).",
                shape.probe_length_mean,
            ),
            "adhash_probe_length_max": ("Largest displacement.", shape.probe_length_max),
            "adhash_chain_length_max": ("Entries in the longest chain.", shape.chain_length_max),
            "adhash_tombstone_ratio": ("Share of slots held by tombstones.", shape.tombstone_ratio),
            "adhash_flood_keys": (
                "Most keys sharing one identical hash() in the worst chain or probe run "
                "(1 for random keys; more means hash flooding).",
                shape.flood_keys,
            ),
            "adhash_unsalted_keys": (
                "Keys left on plain hashing by salted hashing (types it cannot hash by value).",
                shape.unsalted_keys,
            ),
            "adhash_migration_progress": (
                "Share of the old table migrated (0 when not migrating).",
                latest.migration_progress or 0.0,
            ),
            "adhash_throughput_ops_per_second": (
                "Operations per second, exponential moving average.",
                latest.throughput.ema,
            ),
        }
        for name, (text, value) in values.items():
            if value is not None:
                yield GaugeMetricFamily(name, text, value=float(value))
        active = {alert.metric for alert in latest.alerts}
        alerts = GaugeMetricFamily(
            "adhash_alert_active", "1 while a guardrail alert is active.", labels=["metric"]
        )
        for metric in _ALERT_METRICS:
            alerts.add_metric([metric], 1.0 if metric in active else 0.0)
        yield alerts

    def _latency(self, latest: object, counters: HubCounters) -> Metric:
        from adhash.metrics.records import MetricsTick

        merged = dict(counters.earlier_latency_buckets)
        if isinstance(latest, MetricsTick):
            for upper, count in latest.latency_histogram:
                merged[upper] = merged.get(upper, 0) + count
        buckets = sorted(merged.items())
        cumulative: list[tuple[str, float]] = []
        index, running = 0, 0
        for bound in LATENCY_BUCKETS_SECONDS:
            limit_ns = bound * 1e9
            while index < len(buckets) and buckets[index][0] <= limit_ns:
                running += buckets[index][1]
                index += 1
            cumulative.append((repr(bound), float(running)))
        total = running + sum(count for _, count in buckets[index:])
        cumulative.append(("+Inf", float(total)))
        return HistogramMetricFamily(
            "adhash_operation_latency_seconds",
            "Service time of the timed operations (one in latency_sample_every).",
            buckets=cumulative,
            sum_value=counters.latency_sum_ns / 1e9,
        )


def render(hub: MetricsHub) -> bytes:
    """The Prometheus text exposition of ``hub``."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HubCollector(hub))
    return generate_latest(registry)
