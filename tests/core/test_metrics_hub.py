"""MetricsHub: state, bounded history, cached payloads, event dedup, monotonic counters, CSV."""

from __future__ import annotations

import csv
import io
import itertools
from pathlib import Path
from typing import Any

import orjson
import pytest

from adhash.errors import BadInputError
from adhash.metrics.hub import PAYLOAD_SCHEMAS, HubCounters, MetricsHub
from adhash.metrics.records import MetricsEvent, MetricsRecord, MetricsTick, RunSummary
from adhash.replay import ReplayOptions, replay
from adhash.workload.generate import GeneratorSpec, generate
from tests.core.test_metrics_records import flooded_tick, make_event, make_summary, make_tick

CSV_HEADER = [
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
]


class RecordingSink:
    """A sink in front of a hub: passes each record on and notes the hub's counters after it."""

    def __init__(self, hub: MetricsHub) -> None:
        self.hub = hub
        self.ops_after_each: list[int] = []
        self.ticks_after_each: list[int] = []

    def write(self, record: MetricsRecord) -> None:
        self.hub.write(record)
        counters = self.hub.snapshot()[1]
        self.ops_after_each.append(counters.ops)
        self.ticks_after_each.append(counters.ticks)

    def close(self) -> None:
        pass


def tick(seq: int, run_id: str = "run-1", **update: Any) -> MetricsTick:
    return make_tick(seq).model_copy(update={"run_id": run_id, **update})


def event(seq: int, run_id: str = "run-1", kind: str = "start") -> MetricsEvent:
    return make_event().model_copy(update={"seq": seq, "run_id": run_id, "type": kind})


def summary(run_id: str = "run-1") -> RunSummary:
    return make_summary().model_copy(update={"run_id": run_id})


def payload(hub: MetricsHub, name: str, **query: int) -> dict[str, Any]:
    document: dict[str, Any] = orjson.loads(hub.payload(name, **query))
    return document


def counting_clock() -> Any:
    """A clock that gives a new time on every call: a rebuilt payload always differs."""
    counter = itertools.count(1_000)
    return lambda: float(next(counter))


@pytest.fixture(scope="module")
def workload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hub") / "w.csv"
    generate(GeneratorSpec(ops=20_000, seed=11), path)
    return path


@pytest.fixture(scope="module")
def replayed(workload: Path) -> tuple[MetricsHub, RunSummary]:
    """A hub fed by one real replay (ticks and events), its summary not written yet."""
    hub = MetricsHub(history_limit=10_000)
    result, _ = replay(workload, ReplayOptions(tick_interval=0.01), sinks=[hub])
    return hub, result


# -- state ---------------------------------------------------------------------------------------


def test_a_new_hub_is_waiting_with_empty_payloads() -> None:
    hub = MetricsHub()
    assert hub.state == "waiting"
    assert payload(hub, "summary")["latest"] is None
    assert payload(hub, "history")["items"] == []
    assert payload(hub, "events")["items"] == []


def test_a_tick_makes_the_hub_running() -> None:
    hub = MetricsHub()
    hub.write(tick(0))
    assert hub.state == "running"


def test_an_event_makes_the_hub_running() -> None:
    hub = MetricsHub()
    hub.write(event(0))
    assert hub.state == "running"


def test_a_summary_makes_the_hub_completed() -> None:
    hub = MetricsHub()
    hub.write(event(0))
    hub.write(tick(0))
    hub.write(summary())
    assert hub.state == "completed"
    assert payload(hub, "summary")["run_summary"]["run_id"] == "run-1"


def test_a_replay_keeps_the_hub_running_until_its_complete_event(workload: Path) -> None:
    hub = MetricsHub()
    states: list[str] = []

    class StateSink(RecordingSink):
        def write(self, record: MetricsRecord) -> None:
            super().write(record)
            states.append(self.hub.state)

    result, _ = replay(workload, ReplayOptions(tick_interval=0.01), sinks=[StateSink(hub)])
    done = states.index("completed")
    assert done > 0
    assert set(states[:done]) == {"running"}
    assert set(states[done:]) == {"completed"}
    hub.write(result)
    assert hub.state == "completed"


def test_an_idle_tick_makes_the_hub_idle_and_a_running_tick_running_again() -> None:
    hub = MetricsHub()
    states = []
    for seq, state in enumerate(["running", "idle", "running"]):
        hub.write(tick(seq, state=state))
        states.append(hub.state)
    assert states == ["running", "idle", "running"]


def test_a_late_tick_of_the_completed_run_keeps_it_completed() -> None:
    hub = MetricsHub()
    hub.write(tick(0))
    hub.write(summary())
    hub.write(tick(1))
    assert hub.state == "completed"


def test_a_new_run_after_a_completed_one_is_running() -> None:
    hub = MetricsHub()
    hub.write(tick(0))
    hub.write(summary())
    hub.write(tick(0, run_id="run-2"))
    assert hub.state == "running"
    assert payload(hub, "summary")["run_id"] == "run-2"


def test_the_summary_payload_reflects_the_replay(replayed: tuple[MetricsHub, RunSummary]) -> None:
    hub, result = replayed
    document = payload(hub, "summary")
    assert document["schema"] == PAYLOAD_SCHEMAS["summary"]
    assert document["run_id"] == result.run_id
    assert document["totals"]["ops"] == result.total_ops
    assert document["totals"]["ops_by_type"] == result.op_counts
    assert document["totals"]["misses"] == result.misses
    assert document["totals"]["ticks"] == result.ticks
    assert document["totals"]["events"] == result.events
    assert document["totals"]["migrations"] == result.migrations_triggered
    assert document["backend"]["name"] == result.final_backend


def test_the_summary_payload_shows_a_flood_its_hashing_and_the_flood_alert() -> None:
    hub = MetricsHub()
    hub.write(flooded_tick())
    document = payload(hub, "summary")
    backend = document["backend"]
    assert (backend["flood_keys"], backend["hashing"], backend["unsalted_keys"]) == (
        40,
        "plain",
        None,
    )
    (alert,) = [a for a in document["alerts"] if a["metric"] == "flood_keys"]
    assert alert["detail"] == "40 keys share one hash() value: no index can separate them"
    assert alert["message"].endswith("(40 keys share one hash() value: no index can separate them)")


# -- history -------------------------------------------------------------------------------------


def test_history_holds_at_most_history_limit_ticks_the_newest() -> None:
    hub = MetricsHub(history_limit=4)
    for seq in range(10):
        hub.write(tick(seq))
    assert [t.seq for t in hub.ticks()] == [6, 7, 8, 9]
    document = payload(hub, "history")
    assert [item["seq"] for item in document["items"]] == [6, 7, 8, 9]
    assert (document["total_ticks"], document["held"]) == (10, 4)


def test_history_limit_keeps_the_newest_ticks() -> None:
    hub = MetricsHub(history_limit=10)
    for seq in range(6):
        hub.write(tick(seq))
    assert [item["seq"] for item in payload(hub, "history", limit=2)["items"]] == [4, 5]
    assert [item["seq"] for item in payload(hub, "history", limit=50)["items"]] == list(range(6))


def test_history_items_are_the_replays_ticks(replayed: tuple[MetricsHub, RunSummary]) -> None:
    hub, result = replayed
    items = payload(hub, "history")["items"]
    assert [item["seq"] for item in items] == list(range(result.ticks))
    assert [MetricsTick.model_validate(item) for item in items] == hub.ticks()


@pytest.mark.parametrize("limit", [0, -1, True, 1.5])
def test_a_history_limit_below_one_or_not_an_int_is_rejected(limit: Any) -> None:
    with pytest.raises(BadInputError, match="history_limit"):
        MetricsHub(history_limit=limit)


# -- cached payloads -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["summary", "history", "history.csv", "latency", "events"])
def test_a_payload_is_the_same_bytes_object_until_the_next_record(name: str) -> None:
    hub = MetricsHub(clock=counting_clock())
    hub.write(tick(0))
    first = hub.payload(name)
    assert hub.payload(name) is first


@pytest.mark.parametrize("name", ["summary", "history", "history.csv", "latency", "events"])
def test_a_payload_changes_after_the_next_record(name: str) -> None:
    hub = MetricsHub(clock=counting_clock())
    hub.write(event(0))
    hub.write(tick(0))
    first = hub.payload(name)
    hub.write(event(1))
    hub.write(tick(1))
    second = hub.payload(name)
    assert second is not first
    assert second != first


def test_payloads_with_different_limits_are_cached_separately() -> None:
    hub = MetricsHub()
    for seq in range(3):
        hub.write(tick(seq))
    one, two = hub.payload("history", limit=1), hub.payload("history", limit=2)
    assert len(orjson.loads(one)["items"]) == 1
    assert len(orjson.loads(two)["items"]) == 2
    assert hub.payload("history", limit=1) is one


def test_a_duplicate_event_leaves_payloads_and_version_unchanged() -> None:
    hub = MetricsHub(clock=counting_clock())
    hub.write(event(0))
    version, cached = hub.version, hub.payload("events")
    hub.write(event(0))
    assert hub.version == version
    assert hub.payload("events") is cached


# -- events --------------------------------------------------------------------------------------


def test_events_are_deduplicated_by_run_and_seq() -> None:
    hub = MetricsHub()
    for record in (event(0), event(1), event(0), event(1), event(0, run_id="run-2")):
        hub.write(record)
    assert [(e.run_id, e.seq) for e in hub.events()] == [
        ("run-1", 0),
        ("run-1", 1),
        ("run-2", 0),
    ]
    assert payload(hub, "events")["total_events"] == 3


def test_an_older_event_of_the_run_is_dropped_as_already_seen() -> None:
    hub = MetricsHub()
    hub.write(event(5))
    hub.write(event(3))
    assert [e.seq for e in hub.events()] == [5]


def test_events_since_returns_only_newer_events_of_the_current_run() -> None:
    hub = MetricsHub()
    for seq in range(5):
        hub.write(event(seq))
    assert [item["seq"] for item in payload(hub, "events", since=2)["items"]] == [3, 4]
    assert [item["seq"] for item in payload(hub, "events", since=-1)["items"]] == list(range(5))
    assert payload(hub, "events", since=4)["items"] == []


def test_events_since_leaves_out_the_events_of_earlier_runs() -> None:
    hub = MetricsHub()
    for seq in range(3):
        hub.write(event(seq))
    hub.write(event(0, run_id="run-2"))
    document = payload(hub, "events", since=-1)
    assert document["run_id"] == "run-2"
    assert [(i["run_id"], i["seq"]) for i in document["items"]] == [("run-2", 0)]
    assert len(payload(hub, "events")["items"]) == 4


def test_events_limit_keeps_the_newest() -> None:
    hub = MetricsHub()
    for seq in range(6):
        hub.write(event(seq))
    assert [item["seq"] for item in payload(hub, "events", limit=2)["items"]] == [4, 5]
    assert [item["seq"] for item in payload(hub, "events", limit=2, since=1)["items"]] == [4, 5]


def test_the_replays_events_start_and_complete(replayed: tuple[MetricsHub, RunSummary]) -> None:
    hub, result = replayed
    kinds = [item["type"] for item in payload(hub, "events")["items"]]
    assert kinds[0] == "start"
    assert kinds[-1] == "complete"
    assert len(kinds) == result.events


def test_migration_compaction_and_alert_events_are_counted() -> None:
    hub = MetricsHub()
    kinds = ["start", "migration_started", "migration_completed", "compaction_started", "alert"]
    for seq, kind in enumerate(kinds):
        hub.write(event(seq, kind=kind))
    counters = hub.snapshot()[1]
    assert (counters.migrations, counters.compactions, counters.alerts_fired) == (1, 1, 1)
    assert counters.events == len(kinds)


# -- counters across runs ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_runs(workload: Path) -> tuple[RecordingSink, RunSummary, RunSummary, HubCounters]:
    """Two real replays into one hub; the counters after the first are kept too."""
    sink = RecordingSink(MetricsHub(history_limit=10_000))
    options = ReplayOptions(tick_interval=0.01)
    first, _ = replay(workload, options, sinks=[sink])
    after_first = sink.hub.snapshot()[1]
    second, _ = replay(workload, options, sinks=[sink])
    return sink, first, second, after_first


def test_counters_never_go_down_across_two_runs(
    two_runs: tuple[RecordingSink, RunSummary, RunSummary, HubCounters],
) -> None:
    sink = two_runs[0]
    ops = sink.ops_after_each
    assert all(a <= b for a, b in itertools.pairwise(ops))
    assert all(a <= b for a, b in itertools.pairwise(sink.ticks_after_each))


def test_the_second_runs_operations_are_added_to_the_firsts(
    two_runs: tuple[RecordingSink, RunSummary, RunSummary, HubCounters],
) -> None:
    sink, first, second, after_first = two_runs
    counters = sink.hub.snapshot()[1]
    assert after_first.ops == first.total_ops
    assert counters.ops == first.total_ops + second.total_ops
    assert counters.ops_by_type == {
        op: first.op_counts[op] + second.op_counts[op] for op in ("put", "get", "del")
    }
    assert counters.misses == {op: first.misses[op] + second.misses[op] for op in ("get", "del")}


def test_ticks_events_and_runs_add_up_across_two_runs(
    two_runs: tuple[RecordingSink, RunSummary, RunSummary, HubCounters],
) -> None:
    sink, first, second, _ = two_runs
    counters = sink.hub.snapshot()[1]
    assert counters.runs == 2
    assert counters.ticks == first.ticks + second.ticks
    assert counters.events == first.events + second.events
    assert counters.migrations == first.migrations_triggered + second.migrations_triggered


def test_latency_samples_add_up_across_two_runs(
    two_runs: tuple[RecordingSink, RunSummary, RunSummary, HubCounters],
) -> None:
    sink, first, second, after_first = two_runs
    counters = sink.hub.snapshot()[1]
    assert counters.latency_samples == first.latency_sample.samples + second.latency_sample.samples
    assert sum(counters.earlier_latency_buckets.values()) == after_first.latency_samples
    assert counters.latency_sum_ns > after_first.latency_sum_ns


def test_the_summary_payload_totals_cover_both_runs(
    two_runs: tuple[RecordingSink, RunSummary, RunSummary, HubCounters],
) -> None:
    sink, first, second, _ = two_runs
    document = payload(sink.hub, "summary")
    assert document["runs"] == 2
    assert document["run_id"] == second.run_id
    assert document["totals"]["ops"] == first.total_ops + second.total_ops


# -- comparison ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [{}, {"schema": "adhash.run_summary.v1"}, {"schema": 3}, {"schema": "compare.v1"}],
    ids=["no-schema", "other-schema", "not-a-string", "no-prefix"],
)
def test_set_comparison_rejects_a_document_without_a_compare_schema(
    document: dict[str, Any],
) -> None:
    hub = MetricsHub()
    with pytest.raises(BadInputError, match="not an A/B comparison"):
        hub.set_comparison(document)
    with pytest.raises(LookupError):
        hub.payload("compare")


def test_set_comparison_serves_the_document_as_given() -> None:
    hub = MetricsHub()
    document = {"schema": "adhash.compare.v1", "verdict": "faster"}
    hub.set_comparison(document)
    assert orjson.loads(hub.payload("compare")) == document
    assert payload(hub, "summary")["compare_loaded"] is True


def test_the_compare_payload_is_a_lookup_error_when_none_is_loaded() -> None:
    with pytest.raises(LookupError, match="no comparison loaded"):
        MetricsHub().payload("compare")


# -- history.csv ---------------------------------------------------------------------------------


def test_history_csv_has_the_header_and_one_row_per_tick(
    replayed: tuple[MetricsHub, RunSummary],
) -> None:
    hub, result = replayed
    rows = list(csv.reader(io.StringIO(hub.payload("history.csv").decode())))
    assert rows[0] == CSV_HEADER
    assert len(rows) == 1 + result.ticks
    assert [int(row[1]) for row in rows[1:]] == list(range(result.ticks))
    assert {row[0] for row in rows[1:]} == {result.run_id}
    assert [int(row[5]) for row in rows[1:]] == [t.ops for t in hub.ticks()]


def test_history_csv_limit_keeps_the_newest_rows() -> None:
    hub = MetricsHub()
    for seq in range(5):
        hub.write(tick(seq))
    rows = list(csv.reader(io.StringIO(hub.payload("history.csv", limit=2).decode())))
    assert rows[0] == CSV_HEADER
    assert [row[1] for row in rows[1:]] == ["3", "4"]


def test_history_csv_has_the_flood_keys_and_the_hashing_of_each_tick() -> None:
    hub = MetricsHub()
    hub.write(flooded_tick())
    row = list(csv.reader(io.StringIO(hub.payload("history.csv").decode())))[1]
    record = dict(zip(CSV_HEADER, row, strict=True))
    assert (record["flood_keys"], record["hashing"]) == ("40", "plain")
    assert record["alerts"] == "chain_length_max;flood_keys"


def test_history_csv_lists_active_alerts_and_leaves_missing_values_empty() -> None:
    hub = MetricsHub()
    hub.write(tick(0, latency_ns={}))
    row = list(csv.reader(io.StringIO(hub.payload("history.csv").decode())))[1]
    record = dict(zip(CSV_HEADER, row, strict=True))
    assert record["alerts"] == "load_factor"
    assert (record["p50_ns"], record["p99_ns"], record["chain_length_max"]) == ("", "", "")


# -- wrong input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "record",
    [{"schema": "metrics.v1"}, b"{}", "tick", None, 42],
    ids=["dict", "bytes", "str", "none", "int"],
)
def test_a_record_of_the_wrong_type_is_rejected(record: Any) -> None:
    hub = MetricsHub()
    with pytest.raises(BadInputError, match="takes records"):
        hub.write(record)
    assert (hub.version, hub.state) == (0, "waiting")


def test_an_unknown_payload_name_is_a_lookup_error() -> None:
    with pytest.raises(LookupError):
        MetricsHub().payload("nonsense")


def test_the_timeline_view_of_history_keeps_only_what_charts_draw(workload: Path) -> None:
    hub = MetricsHub()
    replay(workload, ReplayOptions(tick_interval=0.01), sinks=[hub])
    full = orjson.loads(hub.payload("history"))
    timeline = orjson.loads(hub.payload("history.timeline"))
    assert timeline["view"] == "timeline"
    assert [item["seq"] for item in timeline["items"]] == [item["seq"] for item in full["items"]]
    last = timeline["items"][-1]
    assert set(last) == {
        "run_id",
        "seq",
        "t",
        "state",
        "backend",
        "ops",
        "throughput",
        "latency_ns",
        "map",
    }
    assert last["map"]["load_factor"] == full["items"][-1]["map"]["load_factor"]
    assert last["map"]["flood_keys"] == full["items"][-1]["map"]["flood_keys"] == 1
    assert len(hub.payload("history.timeline")) * 4 < len(hub.payload("history"))


def test_the_dashboard_bundle_holds_every_part_the_page_draws(workload: Path) -> None:
    hub = MetricsHub()
    replay(workload, ReplayOptions(tick_interval=0.01), sinks=[hub])
    bundle = orjson.loads(hub.payload("dashboard", since=0))
    assert bundle["schema"] == "adhash.dashboard.v1"
    assert bundle["summary"] == orjson.loads(hub.payload("summary"))
    assert bundle["history"] == orjson.loads(hub.payload("history.timeline"))
    assert bundle["events"] == orjson.loads(hub.payload("events", limit=50, since=0))
    for part in ("latency", "probe", "heatmap"):
        assert bundle[part] == orjson.loads(hub.payload(part))
    assert all(event["seq"] > 0 for event in bundle["events"]["items"])
