"""Metrics of a run: a latency histogram, the records a run emits (ticks, events, summary), sinks.

The records and sinks need pydantic, whose import costs over 0.1 s; they load on first use so that
``LatencyHistogram`` (used on the replay's hot path and by tools that never emit records) does not
pay for it, and ``python -m adhash.metrics.records`` runs without a double-import warning.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from adhash.metrics.histogram import HISTOGRAM_SCHEMA, LatencyHistogram, percentile_label

if TYPE_CHECKING:
    from adhash.metrics.records import (
        AlertRecord,
        HeatmapRecord,
        LatencySampleInfo,
        LengthHistogramRecord,
        MapStatsRecord,
        MetricsEvent,
        MetricsRecord,
        MetricsTick,
        RunSummary,
        Throughput,
        dump,
        json_schemas,
        parse_record,
    )
    from adhash.metrics.sinks import NDJSONSink, RingSink, Sink

__all__ = [
    "HISTOGRAM_SCHEMA",
    "AlertRecord",
    "HeatmapRecord",
    "LatencyHistogram",
    "LatencySampleInfo",
    "LengthHistogramRecord",
    "MapStatsRecord",
    "MetricsEvent",
    "MetricsRecord",
    "MetricsTick",
    "NDJSONSink",
    "RingSink",
    "RunSummary",
    "Sink",
    "Throughput",
    "dump",
    "json_schemas",
    "parse_record",
    "percentile_label",
]

_LAZY_MODULES = {
    **dict.fromkeys(
        (
            "AlertRecord",
            "HeatmapRecord",
            "LatencySampleInfo",
            "LengthHistogramRecord",
            "MapStatsRecord",
            "MetricsEvent",
            "MetricsRecord",
            "MetricsTick",
            "RunSummary",
            "Throughput",
            "dump",
            "json_schemas",
            "parse_record",
        ),
        "adhash.metrics.records",
    ),
    **dict.fromkeys(("NDJSONSink", "RingSink", "Sink"), "adhash.metrics.sinks"),
}


def __getattr__(name: str) -> Any:
    module = _LAZY_MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
