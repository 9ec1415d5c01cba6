"""The records a run emits: round trips, strictness, pinned schema names, documented fields."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeAlias

import pytest
from pydantic import ValidationError

from adhash import Alert, ChainingMap, RobinHoodMap, SaltedMap
from adhash.errors import BadInputError
from adhash.guardrails import Guardrails
from adhash.metrics import LatencyHistogram
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

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS = REPO_ROOT / "docs" / "metrics.md"

Backend: TypeAlias = ChainingMap[Any, Any] | RobinHoodMap[Any, Any] | SaltedMap[Any, Any]


def make_tick(seq: int = 0) -> MetricsTick:
    robinhood: RobinHoodMap[str, int] = RobinHoodMap({f"k{i}": i for i in range(20)})
    latency = LatencyHistogram()
    for ns in (300, 450, 900, 12_000):
        latency.record(ns)
    return MetricsTick(
        run_id="run-1",
        seq=seq,
        t=0.25 * seq,
        ops=1_000,
        measured_ops=900,
        ops_by_type={"put": 500, "get": 400, "del": 100},
        misses={"get": 3, "del": 1},
        throughput=Throughput(instant=41_000.0, ema=40_500.0),
        backend="robinhood",
        map=MapStatsRecord.from_stats(robinhood.stats()),
        probe_histogram=LengthHistogramRecord.from_histogram(robinhood.length_histogram()),
        heatmap=HeatmapRecord.from_heatmap(robinhood.occupancy_heatmap(cells=8, cols=4)),
        latency_ns={"overall": latency.percentiles([50, 99, 100])},
        latency_histogram=latency.buckets(),
        latency_samples=latency.count,
        alerts=[AlertRecord.from_alert(Alert("load_factor", 0.9, 0.8, "robinhood"))],
    )


def colliding_ints(n: int) -> list[int]:
    """``n`` distinct ints with one identical ``hash()`` (equal modulo 2**61 - 1): a flood."""
    return [5 + j * (2**61 - 1) for j in range(n)]


def tick_of(m: Backend, seq: int = 0, run_id: str = "run-1") -> MetricsTick:
    """A tick of ``m`` as a replay builds one: its stats, histograms and guardrail alerts."""
    stats = m.stats()
    return make_tick(seq).model_copy(
        update={
            "run_id": run_id,
            "backend": stats.backend,
            "map": MapStatsRecord.from_stats(stats),
            "probe_histogram": LengthHistogramRecord.from_histogram(m.length_histogram()),
            "heatmap": HeatmapRecord.from_heatmap(m.occupancy_heatmap(cells=8, cols=4)),
            "alerts": [AlertRecord.from_alert(a) for a in Guardrails().evaluate(stats).active],
        }
    )


def flooded_tick(
    backend: Callable[[], Backend] = ChainingMap, seq: int = 0, run_id: str = "run-1"
) -> MetricsTick:
    """A tick of a ``backend`` map holding 40 keys with one full hash: flood_keys is 40."""
    flooded = backend()
    flooded.update((key, j) for j, key in enumerate(colliding_ints(40)))
    return tick_of(flooded, seq, run_id)


def make_event() -> MetricsEvent:
    return MetricsEvent(
        run_id="run-1",
        seq=3,
        t=1.5,
        type="migration_completed",
        backend="robinhood",
        message="migrated from chaining to robinhood",
        data={"from": "chaining", "to": "robinhood"},
    )


def make_summary() -> RunSummary:
    return RunSummary(
        run_id="run-1",
        csv="data/w.csv",
        mode="adaptive",
        backend_start="chaining",
        final_backend="robinhood",
        started_at="2025-01-01T00:00:00Z",
        elapsed_seconds=2.0,
        total_ops=1_000,
        measured_ops=900,
        warmup_ops=100,
        ops_per_second=450.0,
        op_counts={"put": 500, "get": 400, "del": 100},
        misses={"get": 3, "del": 1},
        migrations_triggered=1,
        compactions_triggered=0,
        latency_ns={"overall": {"p50": 450, "max": 12_000}},
        response_latency_ns=None,
        latency_sample=LatencySampleInfo(
            every_n=16, samples=57, timer_overhead_ns=60, percentiles=[50, 99, 100]
        ),
        target_rate=None,
        final_stats=MapStatsRecord.from_stats(ChainingMap(a=1).stats()),
        digest="ab12",
        ticks=8,
        events=4,
        alerts_fired=1,
        metrics_file=None,
        verified=True,
        python="CPython 3.11.9",
        adhash_version="0.1.0",
        hash_seed=None,
        pythonhashseed=None,
    )


RECORDS: list[MetricsRecord] = [make_tick(), make_event(), make_summary()]


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_dump_then_parse_record_round_trips(record: MetricsRecord) -> None:
    line = dump(record)
    assert b"\n" not in line
    assert parse_record(line) == record
    assert parse_record(line.decode()) == record


@pytest.mark.parametrize(
    ("model", "schema"),
    [
        (MetricsTick, "metrics.v1"),
        (MetricsEvent, "metrics.event.v1"),
        (RunSummary, "adhash.run_summary.v1"),
    ],
)
def test_schema_names_are_pinned(model: type[MetricsRecord], schema: str) -> None:
    record = next(r for r in RECORDS if type(r) is model)
    assert json.loads(dump(record))["schema"] == schema
    assert json_schemas()[schema]["properties"]["schema"]["const"] == schema


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_parse_record_rejects_unknown_fields(record: MetricsRecord) -> None:
    payload = json.loads(dump(record)) | {"surprise": 1}
    with pytest.raises(BadInputError, match="surprise: Extra inputs are not permitted"):
        parse_record(json.dumps(payload))


def test_nested_records_reject_unknown_fields_too() -> None:
    payload = json.loads(dump(make_tick()))
    payload["map"]["colour"] = "red"
    with pytest.raises(BadInputError, match=r"map\.colour"):
        parse_record(json.dumps(payload))


def test_constructing_a_record_with_an_unknown_field_fails() -> None:
    with pytest.raises(ValidationError):
        Throughput(instant=1.0, ema=1.0, peak=2.0)  # type: ignore[call-arg]


def test_records_are_frozen() -> None:
    with pytest.raises(ValidationError):
        make_event().seq = 4


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not a JSON record"),
        ("[1, 2]", "must be a JSON object"),
        ('{"seq": 1}', "unknown record schema None"),
        ('{"schema": "metrics.v0"}', "unknown record schema 'metrics.v0'"),
        ('{"schema": "metrics.event.v1", "seq": -1}', "invalid metrics.event.v1 record"),
    ],
)
def test_parse_record_raises_bad_input_not_a_traceback(line: str, message: str) -> None:
    with pytest.raises(BadInputError, match=re.escape(message)):
        parse_record(line)


def test_non_finite_numbers_are_rejected() -> None:
    with pytest.raises(ValidationError):
        Throughput(instant=float("nan"), ema=0.0)


def test_from_stats_copies_every_map_stats_field() -> None:
    stats = RobinHoodMap({"a": 1}, deletion="tombstone").stats()
    record = MapStatsRecord.from_stats(stats)
    assert record.model_dump() == {
        name: getattr(stats, name) for name in type(stats).__dataclass_fields__
    }


@pytest.mark.parametrize("backend", [ChainingMap, RobinHoodMap])
def test_a_flooded_maps_tick_carries_flood_keys_and_the_flood_alert_with_its_detail(
    backend: Callable[[], Backend],
) -> None:
    tick = parse_record(dump(flooded_tick(backend)))
    assert isinstance(tick, MetricsTick)
    assert tick.map.flood_keys is not None
    assert tick.map.flood_keys >= 8
    assert tick.map.hashing == "plain"
    (alert,) = [a for a in tick.alerts if a.metric == "flood_keys"]
    assert alert.value == tick.map.flood_keys
    assert alert.threshold == 8
    assert alert.detail == "40 keys share one hash() value: no index can separate them"
    assert alert.message.endswith(f"({alert.detail})")


def test_a_salted_maps_record_says_salted_and_counts_its_unsalted_keys() -> None:
    salted: SaltedMap[Any, int] = SaltedMap(seed=1)
    salted.update({"a": 1, 2: 2, object(): 3})
    record = MapStatsRecord.from_stats(salted.stats())
    assert (record.hashing, record.unsalted_keys, record.flood_keys) == ("salted", 1, 1)


def test_a_random_keyed_maps_flood_keys_is_one() -> None:
    m: RobinHoodMap[str, int] = RobinHoodMap({f"k{i}": i for i in range(500)})
    assert MapStatsRecord.from_stats(m.stats()).flood_keys == 1


def test_a_tick_written_before_the_flooding_fields_still_parses_with_their_defaults() -> None:
    payload = json.loads(dump(make_tick()))
    for name in ("flood_keys", "hashing", "unsalted_keys"):
        del payload["map"][name]
    for alert in payload["alerts"]:
        del alert["detail"]
    tick = parse_record(json.dumps(payload))
    assert isinstance(tick, MetricsTick)
    assert (tick.map.flood_keys, tick.map.hashing, tick.map.unsalted_keys) == (None, "plain", None)
    assert tick.alerts[0].detail is None


def test_a_hashing_other_than_plain_or_salted_is_rejected() -> None:
    payload = json.loads(dump(make_tick()))
    payload["map"]["hashing"] = "peppered"
    with pytest.raises(BadInputError, match=r"map\.hashing"):
        parse_record(json.dumps(payload))


def test_json_schemas_forbid_extra_fields_and_require_the_schema_field() -> None:
    for schema in json_schemas().values():
        assert schema["additionalProperties"] is False
        assert schema["required"][0] == "schema"
        assert all("description" in prop for prop in schema["properties"].values()), (
            "every field explains itself"
        )


def _documented_fields() -> dict[str, list[str]]:
    """Field names per record from docs/metrics.md: a ``### `Name` `` heading, then a table."""
    tables: dict[str, list[str]] = {}
    current: str | None = None
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            heading = re.match(r"#{2,4} `(\w+)`", line)
            current = heading.group(1) if heading else None
            if current:
                tables[current] = []
        elif current and (cell := re.match(r"\| `(\w+)` \|", line)):
            tables[current].append(cell.group(1))
    return tables


def _schema_fields() -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for schema in json_schemas().values():
        fields[schema["title"]] = list(schema["properties"])
        for name, definition in schema.get("$defs", {}).items():
            fields[name] = list(definition["properties"])
    return fields


def test_docs_tables_list_exactly_the_schema_fields() -> None:
    assert _documented_fields() == _schema_fields()


def test_running_the_module_prints_the_schemas() -> None:
    completed = subprocess.run(
        [sys.executable, "-W", "error", "-m", "adhash.metrics.records"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(completed.stdout) == json_schemas()
    assert completed.stderr == ""


def test_every_public_model_has_described_fields() -> None:
    models: list[Any] = [
        AlertRecord,
        HeatmapRecord,
        LatencySampleInfo,
        LengthHistogramRecord,
        MapStatsRecord,
        MetricsEvent,
        MetricsTick,
        RunSummary,
        Throughput,
    ]
    for model in models:
        missing = [n for n, f in model.model_fields.items() if not f.description]
        assert missing == [], model.__name__
