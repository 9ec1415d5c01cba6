"""The records a run emits: metrics ticks, events and the run summary, as validated pydantic models.

Each top-level record carries its schema name in a ``schema`` field, so one NDJSON stream can mix
them and :func:`parse_record` can tell them apart. ``python -m adhash.metrics.records`` prints
their JSON Schemas (generated from these models, so they cannot drift from the code).
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal, TypeAlias

import orjson
from pydantic import BaseModel, ConfigDict, Field, FiniteFloat, ValidationError

from adhash.errors import BadInputError
from adhash.guardrails import Alert
from adhash.maps.stats import FLOOD_SAMPLE, Hashing, LengthHistogram, MapStats, OccupancyHeatmap

__all__ = [
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
]

TICK_SCHEMA: Final = "metrics.v1"
EVENT_SCHEMA: Final = "metrics.event.v1"
SUMMARY_SCHEMA: Final = "adhash.run_summary.v1"

Count = Annotated[int, Field(ge=0)]
Seconds = Annotated[FiniteFloat, Field(ge=0)]
Fraction01 = Annotated[FiniteFloat, Field(ge=0, le=1)]
Percentiles = dict[str, Count]

EventType = Literal[
    "start",
    "complete",
    "migration_started",
    "migration_completed",
    "compaction_started",
    "compaction_completed",
    "alert",
    "alert_cleared",
    "idle",
    "resume",
]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class MapStatsRecord(_Record):
    """A map's shape at one moment: the fields of :class:`adhash.maps.MapStats`.

    >>> from adhash import RobinHoodMap
    >>> MapStatsRecord.from_stats(RobinHoodMap(a=1).stats()).size
    1
    """

    backend: str = Field(description="Backend name: chaining, robinhood, compact or adaptive.")
    size: Count = Field(description="Live entries.")
    capacity: Count = Field(description="Slots (open addressing) or chains (chaining).")
    load_factor: Annotated[FiniteFloat, Field(ge=0)] = Field(description="size / capacity.")
    probe_length_mean: Annotated[FiniteFloat, Field(ge=0)] | None = Field(
        default=None,
        description="Mean displacement from the home slot (open addressing), else null.",
    )
    probe_length_max: Count | None = Field(
        default=None, description="Largest displacement (open addressing), else null."
    )
    chain_length_mean: Annotated[FiniteFloat, Field(ge=0)] | None = Field(
        default=None, description="Mean entries per non-empty chain (chaining), else null."
    )
    chain_length_max: Count | None = Field(
        default=None, description="Entries in the longest chain (chaining), else null."
    )
    tombstones: Count | None = Field(
        default=None, description="Deleted-entry markers held (robinhood, compact), else null."
    )
    tombstone_ratio: Fraction01 | None = Field(
        default=None,
        description="Share of the slots (robinhood) or of the entry array (compact) held by "
        "tombstones, 0..1, else null.",
    )
    migrating_from: str | None = Field(
        default=None, description="Backend being drained by a live migration, else null."
    )
    migration_progress: Fraction01 | None = Field(
        default=None, description="Share of the old table migrated, 0..1, else null."
    )
    flood_keys: Count | None = Field(
        default=None,
        description="Most keys sharing one identical hash() value in a sample of at most "
        f"{FLOOD_SAMPLE} keys from the map's worst chain or probe run: 1 for random keys, more "
        "only when full hashes collide (hash flooding); null for dict and in older files.",
    )
    hashing: Hashing = Field(
        default="plain",
        description="plain, or salted once the map places keys by a keyed hash of their value "
        "(the flooding defence); plain in older files.",
    )
    unsalted_keys: Count | None = Field(
        default=None,
        description="With salted hashing, keys of types that cannot be hashed by value and stay "
        "on plain hashing, else null.",
    )

    @classmethod
    def from_stats(cls, stats: MapStats) -> MapStatsRecord:
        """The record of a :class:`~adhash.maps.MapStats`. Complexity: O(1)."""
        return cls(
            backend=stats.backend,
            size=stats.size,
            capacity=stats.capacity,
            load_factor=stats.load_factor,
            probe_length_mean=stats.probe_length_mean,
            probe_length_max=stats.probe_length_max,
            chain_length_mean=stats.chain_length_mean,
            chain_length_max=stats.chain_length_max,
            tombstones=stats.tombstones,
            tombstone_ratio=stats.tombstone_ratio,
            migrating_from=stats.migrating_from,
            migration_progress=stats.migration_progress,
            flood_keys=stats.flood_keys,
            hashing=stats.hashing,
            unsalted_keys=stats.unsalted_keys,
        )


class AlertRecord(_Record):
    """An active guardrail alert.

    >>> from adhash import Alert
    >>> AlertRecord.from_alert(Alert("load_factor", 0.9, 0.8, "chaining")).threshold
    0.8
    >>> AlertRecord.from_alert(Alert("flood_keys", 40, 8, "chaining", detail="why")).detail
    'why'
    """

    metric: str = Field(
        description="Guarded statistic: load_factor, probe_length_mean, chain_length_max, "
        "tombstone_ratio or flood_keys."
    )
    value: FiniteFloat = Field(description="The statistic's value when evaluated.")
    threshold: FiniteFloat = Field(description="The threshold it reached (value >= threshold).")
    backend: str = Field(description="Backend the statistic was read from.")
    message: str = Field(
        description="One-line human-readable description, ending with the detail if any."
    )
    detail: str | None = Field(
        default=None,
        description="Why the alert fires where the numbers alone do not say it (flood_keys: "
        "what collides and what to do), else null.",
    )

    @classmethod
    def from_alert(cls, alert: Alert) -> AlertRecord:
        """The record of a guardrail :class:`~adhash.guardrails.Alert`. Complexity: O(1)."""
        return cls(
            metric=alert.metric,
            value=alert.value,
            threshold=alert.threshold,
            backend=alert.backend,
            message=alert.message,
            detail=alert.detail,
        )


class Throughput(_Record):
    """Operations per second at a tick."""

    instant: Annotated[FiniteFloat, Field(ge=0)] = Field(
        description="ops/s since the previous tick (since the start for the first tick)."
    )
    ema: Annotated[FiniteFloat, Field(ge=0)] = Field(
        description="Exponential moving average of instant, alpha 0.3, seeded with the first."
    )


class LengthHistogramRecord(_Record):
    """Probe or chain lengths: ``counts[n]`` entries (probe) or chains (chain) have length n.

    >>> from adhash import ChainingMap
    >>> LengthHistogramRecord.from_histogram(ChainingMap(a=1).length_histogram()).counts
    [63, 1]
    """

    kind: Literal["probe", "chain"] = Field(
        description="probe: displacement of entries; chain: entries per chain."
    )
    counts: list[Count] = Field(description="counts[n] = entries or chains of length n.")

    @classmethod
    def from_histogram(cls, histogram: LengthHistogram) -> LengthHistogramRecord:
        """The record of a :class:`~adhash.maps.LengthHistogram`. Complexity: O(len(counts))."""
        return cls(kind=histogram.kind, counts=list(histogram.counts))


class HeatmapRecord(_Record):
    """Slot occupancy folded into a rows × cols grid, row-major.

    >>> from adhash import RobinHoodMap
    >>> grid = HeatmapRecord.from_heatmap(RobinHoodMap(a=1).occupancy_heatmap(cells=4, cols=2))
    >>> (grid.rows, grid.cols, len(grid.cells))
    (2, 2, 4)
    """

    rows: Count = Field(description="Grid rows.")
    cols: Count = Field(description="Grid columns.")
    cells: list[Annotated[FiniteFloat, Field(ge=0)]] = Field(
        description="rows × cols mean occupancies, row-major: a fraction 0..1 of slots in use "
        "(open addressing) or mean entries per chain (chaining)."
    )
    slot_span: Count = Field(description="Consecutive slots (or chains) folded into one cell.")
    capacity: Count = Field(description="Slots (or chains) of the map.")
    sampled_slots: Count = Field(description="Slots actually read to build the grid.")

    @classmethod
    def from_heatmap(cls, heatmap: OccupancyHeatmap) -> HeatmapRecord:
        """The record of an :class:`~adhash.maps.OccupancyHeatmap`. Complexity: O(cells)."""
        return cls(
            rows=heatmap.rows,
            cols=heatmap.cols,
            cells=list(heatmap.cells),
            slot_span=heatmap.slot_span,
            capacity=heatmap.capacity,
            sampled_slots=heatmap.sampled_slots,
        )


class MetricsTick(_Record):
    """One periodic snapshot of a run (schema ``metrics.v1``); events are separate records."""

    schema_: Literal["metrics.v1"] = Field(
        default=TICK_SCHEMA, alias="schema", description="Record type and version: metrics.v1."
    )
    run_id: str = Field(description="Identifier shared by every record of one run.")
    seq: Count = Field(description="Tick number in the run: 0, 1, 2, ...")
    t: Seconds = Field(description="Seconds since the run started (monotonic clock).")
    ops: Count = Field(description="Operations executed so far, warm-up included.")
    measured_ops: Count = Field(description="Operations executed after the warm-up.")
    ops_by_type: dict[str, Count] = Field(
        description="Operations so far by type: keys put, get, del."
    )
    misses: dict[str, Count] = Field(
        description="get and del operations so far that found no key: keys get, del."
    )
    throughput: Throughput = Field(description="Operations per second.")
    backend: str = Field(description="Backend serving operations now.")
    migrating_from: str | None = Field(
        default=None, description="Backend being drained by a live migration, else null."
    )
    migration_progress: Fraction01 | None = Field(
        default=None, description="Share of the old table migrated, 0..1, else null."
    )
    map: MapStatsRecord = Field(description="The map's statistics.")
    probe_histogram: LengthHistogramRecord = Field(description="Probe or chain lengths.")
    heatmap: HeatmapRecord = Field(description="Slot occupancy grid.")
    latency_ns: dict[str, Percentiles] = Field(
        description="Service-time percentiles in ns since the warm-up, cumulative: keys overall, "
        "put, get, del, each mapping p50, p90, p99, p99.9, max (labels of the configured "
        "percentiles) to ns."
    )
    latency_histogram: list[tuple[Count, Count]] = Field(
        description="Overall latency histogram since the warm-up: non-empty buckets as "
        "[inclusive upper bound in ns, count], ascending."
    )
    latency_samples: Count = Field(description="Operations timed into the histograms so far.")
    latency_sum_ns: Count = Field(
        default=0,
        description="Sum in ns of every latency in latency_histogram (0 in files written "
        "before this field existed).",
    )
    alerts: list[AlertRecord] = Field(description="Guardrail alerts active at this tick.")
    state: Literal["running", "idle"] = Field(
        default="running", description="running, or idle while no operations are being executed."
    )


class MetricsEvent(_Record):
    """Something that happened once in a run (schema ``metrics.event.v1``).

    >>> MetricsEvent(run_id="r1", seq=0, t=0.0, type="start", backend="adaptive",
    ...              message="workload started").schema_
    'metrics.event.v1'
    """

    schema_: Literal["metrics.event.v1"] = Field(
        default=EVENT_SCHEMA,
        alias="schema",
        description="Record type and version: metrics.event.v1.",
    )
    run_id: str = Field(description="Identifier shared by every record of one run.")
    seq: Count = Field(description="Event number in the run: 0, 1, 2, ...")
    t: Seconds = Field(description="Seconds since the run started (monotonic clock).")
    type: EventType = Field(description="What happened.")
    backend: str = Field(description="Backend serving operations when it happened.")
    message: str = Field(description="One-line human-readable description.")
    data: dict[str, Any] = Field(
        default_factory=dict,
        description="Details that depend on the type, e.g. source, target, reason and hashing "
        "(and unsalted_keys) for a migration or compaction, the alert's metric, value and "
        "threshold for alert (with its detail) and alert_cleared.",
    )


class LatencySampleInfo(_Record):
    """How latency was sampled during a run."""

    every_n: Annotated[int, Field(ge=1)] = Field(
        description="One operation in every_n is timed (1 = all)."
    )
    samples: Count = Field(description="Operations timed after the warm-up.")
    timer_overhead_ns: Count = Field(
        description="Measured cost of one timing (two clock reads), in ns."
    )
    percentiles: list[Annotated[FiniteFloat, Field(ge=0, le=100)]] = Field(
        description="Percentiles reported, in [0, 100]."
    )


class RunSummary(_Record):
    """The outcome of a replay (schema ``adhash.run_summary.v1``)."""

    schema_: Literal["adhash.run_summary.v1"] = Field(
        default=SUMMARY_SCHEMA,
        alias="schema",
        description="Record type and version: adhash.run_summary.v1.",
    )
    run_id: str = Field(description="Identifier shared by every record of one run.")
    csv: str = Field(description="Path of the replayed workload CSV.")
    mode: str = Field(description="Replay mode requested (a backend name or adaptive).")
    backend_start: str = Field(description="Backend the run started on.")
    final_backend: str = Field(description="Backend at the end of the run.")
    started_at: str = Field(description="Wall-clock start, UTC, ISO 8601.")
    elapsed_seconds: Seconds = Field(description="Run duration in seconds, warm-up included.")
    total_ops: Count = Field(description="Operations executed, warm-up included.")
    measured_ops: Count = Field(description="Operations executed after the warm-up.")
    warmup_ops: Count = Field(description="Operations in the warm-up.")
    ops_per_second: Annotated[FiniteFloat, Field(ge=0)] | None = Field(
        description="measured_ops per second of measured time; null if that time is 0."
    )
    op_counts: dict[str, Count] = Field(description="Operations by type: keys put, get, del.")
    misses: dict[str, Count] = Field(description="get and del that found no key: keys get, del.")
    migrations_triggered: Count = Field(description="Live migrations started.")
    compactions_triggered: Count = Field(description="Compactions started.")
    latency_ns: dict[str, Percentiles] = Field(
        description="Service-time percentiles in ns after the warm-up: keys overall, put, get, "
        "del, each mapping percentile labels (p50, ..., max) to ns."
    )
    response_latency_ns: dict[str, Percentiles] | None = Field(
        description="Response-time percentiles in ns, measured from each operation's intended "
        "start (corrects coordinated omission); only with a target rate, else null."
    )
    latency_sample: LatencySampleInfo = Field(description="How latency was sampled.")
    target_rate: Annotated[FiniteFloat, Field(gt=0)] | None = Field(
        description="Requested operations per second, or null for as fast as possible."
    )
    final_stats: MapStatsRecord = Field(description="The map's statistics at the end.")
    digest: str = Field(description="Order-independent hex digest of the final contents.")
    ticks: Count = Field(description="Metrics ticks emitted.")
    events: Count = Field(description="Events emitted.")
    alerts_fired: Count = Field(description="Guardrail alerts raised (rising edges).")
    metrics_file: str | None = Field(description="Path of the NDJSON metrics stream, or null.")
    verified: bool = Field(description="Whether the final contents were checked against a dict.")
    python: str = Field(description="Python implementation and version that ran the replay.")
    adhash_version: str = Field(description="adhash version that ran the replay.")
    hash_seed: int | None = Field(description="Seed of the maps' key hashing, or null.")
    pythonhashseed: str | None = Field(description="PYTHONHASHSEED in the environment, or null.")


MetricsRecord: TypeAlias = MetricsTick | MetricsEvent | RunSummary

_SCHEMAS: dict[str, type[MetricsRecord]] = {
    TICK_SCHEMA: MetricsTick,
    EVENT_SCHEMA: MetricsEvent,
    SUMMARY_SCHEMA: RunSummary,
}


def dump(record: BaseModel, *, pretty: bool = False) -> bytes:
    """One record as compact JSON bytes (no newline), fields under their public names.

    ``pretty=True`` indents by two spaces and ends with a newline, for files people read.
    Complexity: O(size of the record).

    >>> event = MetricsEvent(run_id="r1", seq=0, t=0.5, type="idle", backend="chaining",
    ...                      message="no operations for 5 s")
    >>> dump(event)[:59]
    b'{"schema":"metrics.event.v1","run_id":"r1","seq":0,"t":0.5,'
    >>> parse_record(dump(event)) == event == parse_record(dump(event, pretty=True))
    True
    """
    option = orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE if pretty else None
    return orjson.dumps(record.model_dump(mode="json", by_alias=True), option=option)


def parse_record(line: bytes | str) -> MetricsRecord:
    """Parse one NDJSON line into the record its ``schema`` names; BadInputError if invalid.

    Complexity: O(len(line)).

    >>> parse_record('{"schema": "metrics.v2"}')  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    adhash.errors.BadInputError: unknown record schema 'metrics.v2'; expected one of ...
    """
    hint = "see docs/metrics.md"
    try:
        payload = orjson.loads(line)
    except orjson.JSONDecodeError as error:
        raise BadInputError(f"not a JSON record: {error}", hint=hint) from None
    if not isinstance(payload, dict):
        raise BadInputError(
            f"a record must be a JSON object, got {type(payload).__name__}", hint=hint
        )
    schema = payload.get("schema")
    model = _SCHEMAS.get(schema) if isinstance(schema, str) else None
    if model is None:
        expected = ", ".join(sorted(_SCHEMAS))
        raise BadInputError(
            f"unknown record schema {schema!r}; expected one of {expected}", hint=hint
        )
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        problems = error.errors(include_url=False)
        where = ".".join(str(part) for part in problems[0]["loc"]) or "record"
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise BadInputError(
            f"invalid {schema} record: {where}: {problems[0]['msg']}{more}", hint=hint
        ) from None


def json_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema (draft 2020-12) of each top-level record, keyed by schema name.

    Complexity: O(fields), regenerated from the models on each call.

    >>> sorted(json_schemas())
    ['adhash.run_summary.v1', 'metrics.event.v1', 'metrics.v1']
    """
    schemas: dict[str, dict[str, Any]] = {}
    for name, model in sorted(_SCHEMAS.items()):
        schema = model.model_json_schema(by_alias=True)
        # parse_record dispatches on "schema", so a line without it is invalid.
        schema["required"] = ["schema", *schema["required"]]
        schemas[name] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"urn:adhash:{name}",
            **schema,
        }
    return schemas


def main(argv: list[str] | None = None) -> None:
    """Print every record's JSON Schema, or with ``--write DIR`` write one file per schema.

    ``docs/schemas/`` holds the published copies; a test keeps them equal to the models.
    """
    import argparse
    from pathlib import Path

    from adhash.atomic import atomic_write_bytes

    parser = argparse.ArgumentParser(prog="python -m adhash.metrics.records")
    parser.add_argument("--write", metavar="DIR", help="write <schema name>.json files into DIR")
    args = parser.parse_args(argv)
    schemas = json_schemas()
    if args.write is None:
        print(orjson.dumps(schemas, option=orjson.OPT_INDENT_2).decode())
        return
    for name, schema in schemas.items():
        atomic_write_bytes(
            Path(args.write) / f"{name}.json",
            orjson.dumps(schema, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE),
        )


if __name__ == "__main__":
    main()
