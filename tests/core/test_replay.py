"""The replay engine: every mode matches dict, counts are exact, measuring follows the options."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from adhash.errors import BadInputError, InvariantError, IOFailureError
from adhash.maps import RobinHoodMap
from adhash.metrics.records import MetricsEvent, MetricsRecord, MetricsTick, parse_record
from adhash.metrics.sinks import NDJSONSink
from adhash.replay import (
    MODES,
    ReplayOptions,
    build_map,
    content_digest,
    replay,
    resolve_mode,
)
from adhash.workload.format import KeyType, Op, WorkloadWriter

Row = tuple[Op, Any, str | None]


class ListSink:
    """Keeps every record a run emits, in order."""

    def __init__(self) -> None:
        self.records: list[MetricsRecord] = []

    def write(self, record: MetricsRecord) -> None:
        self.records.append(record)

    def close(self) -> None:
        pass

    def events(self) -> list[MetricsEvent]:
        return [record for record in self.records if isinstance(record, MetricsEvent)]

    def ticks(self) -> list[MetricsTick]:
        return [record for record in self.records if isinstance(record, MetricsTick)]


def _mixed_rows(count: int, *, key_type: KeyType = "text", seed: int = 7) -> list[Row]:
    rng = random.Random(seed)
    rows: list[Row] = []
    for index in range(count):
        number = rng.randrange(300)
        key: Any = number if key_type == "int" else f"K{number}"
        draw = rng.random()
        if draw < 0.45:
            rows.append((Op.PUT, key, f"v{index}"))
        elif draw < 0.85:
            rows.append((Op.GET, key, None))
        else:
            rows.append((Op.DEL, key, None))
    return rows


def _write(path: Path, rows: list[Row], key_type: KeyType = "text") -> Path:
    with WorkloadWriter(path, key_type=key_type) as writer:
        writer.write_many(rows)
    return path


def _model(rows: list[Row]) -> tuple[dict[Any, Any], dict[str, int], dict[str, int]]:
    """What a dict makes of the rows: final contents, op counts, misses."""
    contents: dict[Any, Any] = {}
    counts = {"put": 0, "get": 0, "del": 0}
    misses = {"get": 0, "del": 0}
    for op, key, value in rows:
        counts[op.label] += 1
        if op is Op.PUT:
            contents[key] = value
        elif op is Op.GET:
            misses["get"] += key not in contents
        else:
            misses["del"] += contents.pop(key, None) is None
    return contents, counts, misses


@pytest.fixture(scope="module")
def mixed_workload(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Row]]:
    rows = _mixed_rows(2000)
    return _write(tmp_path_factory.mktemp("replay") / "mixed.csv", rows), rows


# -- results ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("key_type", ["text", "int"])
def test_every_mode_ends_with_the_contents_a_dict_model_computes(
    tmp_path: Path, mode: str, key_type: KeyType
) -> None:
    rows = _mixed_rows(2000, key_type=key_type)
    path = _write(tmp_path / "w.csv", rows, key_type)
    contents, counts, misses = _model(rows)
    summary, final = replay(path, ReplayOptions(mode=mode))
    assert dict(final.items()) == contents
    assert summary.digest == content_digest(contents.items())
    assert summary.op_counts == counts
    assert summary.misses == misses
    assert summary.total_ops == len(rows)
    assert summary.final_stats.size == len(contents)
    assert summary.mode == mode


def test_every_mode_gives_the_same_digest(mixed_workload: tuple[Path, list[Row]]) -> None:
    path, _ = mixed_workload
    digests = {mode: replay(path, ReplayOptions(mode=mode))[0].digest for mode in MODES}
    assert len(set(digests.values())) == 1, digests


@pytest.mark.parametrize("mode", MODES)
def test_verify_passes_on_every_correct_mode(
    mixed_workload: tuple[Path, list[Row]], mode: str
) -> None:
    path, rows = mixed_workload
    contents, counts, misses = _model(rows)
    summary, _ = replay(path, ReplayOptions(mode=mode, verify=True))
    assert summary.verified is True
    assert summary.digest == content_digest(contents.items())
    assert (summary.op_counts, summary.misses) == (counts, misses)


def test_without_verify_the_summary_says_unverified(
    mixed_workload: tuple[Path, list[Row]],
) -> None:
    summary, _ = replay(mixed_workload[0], ReplayOptions(mode="dict"))
    assert summary.verified is False


def test_replay_continues_from_an_initial_map(tmp_path: Path) -> None:
    path = _write(tmp_path / "w.csv", [(Op.GET, "seed", None), (Op.DEL, "seed", None)])
    start = build_map("chaining")
    start["seed"] = "s"
    start["kept"] = "k"
    summary, final = replay(path, ReplayOptions(mode="chaining"), initial_map=start)
    assert summary.misses == {"get": 0, "del": 0}
    assert dict(final.items()) == {"kept": "k"}


class _LyingRobinHood(RobinHoodMap[Any, Any]):
    """A broken backend: ``get`` lies about one key."""

    def get(self, key: Any, default: Any = None) -> Any:
        if key == "K5":
            return "a lie"
        return super().get(key, default)


def test_verify_names_the_line_where_a_broken_map_disagrees(tmp_path: Path) -> None:
    rows: list[Row] = [(Op.PUT, f"K{i}", f"v{i}") for i in range(10)]  # lines 2..11
    rows += [(Op.GET, "K1", None), (Op.GET, "K5", None)]  # lines 12, 13
    path = _write(tmp_path / "w.csv", rows)
    with pytest.raises(InvariantError) as caught:
        replay(
            path,
            ReplayOptions(mode="robinhood", verify=True),
            initial_map=_LyingRobinHood(),
        )
    assert str(caught.value) == (
        "line 13: get 'K5' returned 'a lie' on robinhood, dict returned 'v5' (sizes 10 and 10)"
    )
    assert caught.value.exit_code == 3


def test_verify_counts_physical_lines_after_a_multi_line_row(tmp_path: Path) -> None:
    # The reader reports errors at physical lines; verify must name the same line for a row
    # that follows a key spanning two lines.
    rows: list[Row] = [(Op.PUT, "two\nlines", "v"), (Op.PUT, "K5", "v5"), (Op.GET, "K5", None)]
    path = _write(tmp_path / "w.csv", rows)  # the get is on line 5
    with pytest.raises(InvariantError) as caught:
        replay(
            path,
            ReplayOptions(mode="robinhood", verify=True),
            initial_map=_LyingRobinHood(),
        )
    assert str(caught.value).startswith("line 5: get 'K5'")


def test_without_verify_a_broken_map_goes_unnoticed(tmp_path: Path) -> None:
    path = _write(tmp_path / "w.csv", [(Op.PUT, "K5", "v"), (Op.GET, "K5", None)])
    summary, _ = replay(path, ReplayOptions(mode="robinhood"), initial_map=_LyingRobinHood())
    assert summary.verified is False


# -- measurement ------------------------------------------------------------------------------


@pytest.mark.parametrize("verify", [False, True], ids=["fast-path", "checked-path"])
def test_sampling_every_operation_times_each_measured_one(
    mixed_workload: tuple[Path, list[Row]], verify: bool
) -> None:
    path, rows = mixed_workload
    summary, _ = replay(path, ReplayOptions(mode="dict", latency_sample_every=1, verify=verify))
    assert summary.latency_sample.every_n == 1
    assert summary.latency_sample.samples == len(rows) == summary.measured_ops
    assert summary.warmup_ops == 0


@pytest.mark.parametrize("verify", [False, True], ids=["fast-path", "checked-path"])
def test_warmup_operations_run_but_are_not_measured(
    mixed_workload: tuple[Path, list[Row]], verify: bool
) -> None:
    path, rows = mixed_workload
    options = ReplayOptions(mode="chaining", latency_sample_every=1, warmup_ops=500, verify=verify)
    summary, final = replay(path, options)
    assert summary.total_ops == len(rows)
    assert summary.warmup_ops == 500
    assert summary.measured_ops == len(rows) - 500
    assert summary.latency_sample.samples == len(rows) - 500
    assert dict(final.items()) == _model(rows)[0]
    assert summary.ops_per_second is not None


def test_warmup_longer_than_the_workload_measures_nothing(
    mixed_workload: tuple[Path, list[Row]],
) -> None:
    path, rows = mixed_workload
    summary, _ = replay(path, ReplayOptions(mode="dict", warmup_ops=10 * len(rows)))
    assert (summary.warmup_ops, summary.measured_ops) == (len(rows), 0)
    assert summary.latency_sample.samples == 0
    assert summary.latency_ns == {}
    assert summary.ops_per_second is None


@pytest.mark.parametrize("verify", [False, True], ids=["fast-path", "checked-path"])
def test_systematic_sample_times_one_operation_in_every_n(
    mixed_workload: tuple[Path, list[Row]], verify: bool
) -> None:
    path, rows = mixed_workload
    summary, _ = replay(path, ReplayOptions(mode="dict", latency_sample_every=64, verify=verify))
    assert summary.latency_sample.every_n == 64
    assert summary.latency_sample.samples == len(rows) // 64


def test_percentile_keys_follow_the_options_and_do_not_decrease(
    mixed_workload: tuple[Path, list[Row]],
) -> None:
    options = ReplayOptions(mode="robinhood", latency_sample_every=1, percentiles=(50, 99.9, 100))
    summary, _ = replay(mixed_workload[0], options)
    assert set(summary.latency_ns) == {"overall", "put", "get", "del"}
    for name, values in summary.latency_ns.items():
        assert list(values) == ["p50", "p99.9", "max"], name
        assert values["p50"] <= values["p99.9"] <= values["max"], name
    assert summary.latency_sample.percentiles == [50, 99.9, 100]


def test_default_percentiles_are_p50_p90_p99_p999_and_max(
    mixed_workload: tuple[Path, list[Row]],
) -> None:
    summary, _ = replay(mixed_workload[0], ReplayOptions(mode="dict", latency_sample_every=1))
    overall = summary.latency_ns["overall"]
    assert list(overall) == ["p50", "p90", "p99", "p99.9", "max"]
    assert list(overall.values()) == sorted(overall.values())


def test_timer_overhead_is_calibrated_and_not_negative(
    mixed_workload: tuple[Path, list[Row]],
) -> None:
    summary, _ = replay(mixed_workload[0], ReplayOptions(mode="dict"))
    assert summary.latency_sample.timer_overhead_ns >= 0


def test_target_rate_measures_response_time_at_least_the_service_time(
    mixed_workload: tuple[Path, list[Row]],
) -> None:
    path, rows = mixed_workload
    summary, _ = replay(path, ReplayOptions(mode="chaining", target_rate=20_000))
    assert summary.target_rate == 20_000
    assert summary.elapsed_seconds >= len(rows) / 20_000 * 0.95
    assert summary.latency_sample.every_n == 1
    assert summary.latency_sample.samples == len(rows)
    assert summary.response_latency_ns is not None
    assert set(summary.response_latency_ns) == set(summary.latency_ns)
    for name, service in summary.latency_ns.items():
        response = summary.response_latency_ns[name]
        assert list(response) == list(service)
        for label, value in service.items():
            assert response[label] >= value, (name, label)


def test_without_target_rate_there_is_no_response_time(
    mixed_workload: tuple[Path, list[Row]],
) -> None:
    summary, _ = replay(mixed_workload[0], ReplayOptions(mode="dict"))
    assert summary.response_latency_ns is None
    assert summary.target_rate is None


# -- ticks and events -------------------------------------------------------------------------


def test_sinks_get_start_first_then_ticks_in_sequence_and_complete(
    mixed_workload: tuple[Path, list[Row]],
) -> None:
    sink = ListSink()
    summary, _ = replay(mixed_workload[0], ReplayOptions(mode="chaining"), sinks=[sink])
    first = sink.records[0]
    assert isinstance(first, MetricsEvent)
    assert first.type == "start"
    ticks = sink.ticks()
    assert [tick.seq for tick in ticks] == list(range(len(ticks)))
    assert len(ticks) >= 2
    assert summary.ticks == len(ticks)
    events = sink.events()
    assert [event.seq for event in events] == list(range(len(events)))
    assert summary.events == len(events)
    assert [event.type for event in events].count("complete") == 1
    complete = next(event for event in events if event.type == "complete")
    assert sink.records.index(complete) > sink.records.index(ticks[0])
    assert sink.records[-1] is ticks[-1]
    assert ticks[-1].ops == summary.total_ops
    assert len({record.run_id for record in sink.records}) == 1


def test_adaptive_map_migrating_emits_migration_events(tmp_path: Path) -> None:
    path = _write(tmp_path / "w.csv", [(Op.PUT, i, "v") for i in range(3000)], "int")
    sink = ListSink()
    summary, final = replay(path, ReplayOptions(mode="adaptive"), sinks=[sink])
    kinds = [event.type for event in sink.events()]
    assert kinds[0] == "start"
    assert kinds[-1] == "complete"
    assert "migration_started" in kinds
    assert "migration_completed" in kinds
    assert kinds.index("migration_started") < kinds.index("migration_completed")
    assert summary.migrations_triggered == kinds.count("migration_started") >= 1
    assert summary.backend_start == "chaining"
    assert summary.final_backend == final.backend
    assert len(final) == 3000


def test_replay_leaves_no_subscription_on_the_returned_map(tmp_path: Path) -> None:
    # A finished run must not keep receiving the map's events: its sinks may be closed by then.
    path = _write(tmp_path / "w.csv", [(Op.PUT, i, "v") for i in range(3000)], "int")
    sink = ListSink()
    _, final = replay(path, ReplayOptions(mode="adaptive"), sinks=[sink])
    written = len(sink.records)
    final.migrate_to("compact")
    assert len(sink.records) == written


def test_ndjson_sink_lines_each_parse_as_a_record(tmp_path: Path) -> None:
    path = _write(tmp_path / "w.csv", [(Op.PUT, i, "v") for i in range(3000)], "int")
    metrics = tmp_path / "metrics.ndjson"
    with NDJSONSink(metrics) as sink:
        summary, _ = replay(
            path, ReplayOptions(mode="adaptive"), sinks=[sink], metrics_file=str(metrics)
        )
    lines = metrics.read_bytes().splitlines()
    records = [parse_record(line) for line in lines]
    assert len(records) == summary.ticks + summary.events
    assert isinstance(records[0], MetricsEvent)
    assert records[0].type == "start"
    assert summary.metrics_file == str(metrics)


def test_progress_is_reported_with_each_tick(
    mixed_workload: tuple[Path, list[Row]],
) -> None:
    seen: list[int] = []
    path, rows = mixed_workload
    replay(
        path,
        ReplayOptions(mode="dict", tick_interval=1e-9, latency_sample_every=8, batch_size=100),
        on_progress=seen.append,
    )
    assert seen
    assert seen == sorted(seen)
    assert seen[-1] <= len(rows)


# -- errors -----------------------------------------------------------------------------------


def test_missing_workload_is_an_io_error(tmp_path: Path) -> None:
    with pytest.raises(IOFailureError):
        replay(tmp_path / "absent.csv")


def test_malformed_workload_is_bad_input_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    path.write_text("op,key,value\nput,a,1\npur,a,1\n")
    with pytest.raises(BadInputError, match=r"^line 3: unknown op 'pur'"):
        replay(path, ReplayOptions(mode="dict"))


# -- modes and options ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "mode"),
    [
        ("fast-insert", "chaining"),
        ("fast-lookup", "robinhood"),
        ("memory-tight", "compact"),
        ("adaptive", "adaptive"),
        ("dict", "dict"),
        (" RobinHood ", "robinhood"),
        ("FAST-LOOKUP", "robinhood"),
    ],
)
def test_resolve_mode_accepts_names_and_aliases(name: str, mode: str) -> None:
    assert resolve_mode(name) == mode


@pytest.mark.parametrize("name", ["btree", "", "fast", "robin-hood"])
def test_resolve_mode_refuses_unknown_modes(name: str) -> None:
    with pytest.raises(BadInputError, match="unknown mode"):
        resolve_mode(name)


def test_alias_mode_builds_the_backend_it_names(tmp_path: Path) -> None:
    path = _write(tmp_path / "w.csv", [(Op.PUT, "a", "1")])
    summary, final = replay(path, ReplayOptions(mode="memory-tight"))
    assert summary.mode == "compact"
    assert final.backend_name == "compact"


@pytest.mark.parametrize(
    "options",
    [
        {"mode": "btree"},
        {"latency_sample_every": 0},
        {"latency_sample_every": True},
        {"percentiles": (0,)},
        {"percentiles": (101,)},
        {"percentiles": ()},
        {"percentiles": (50, -1)},
        {"target_rate": 0},
        {"target_rate": -5.0},
        {"tick_interval": 0},
        {"tick_interval": -1},
        {"warmup_ops": -1},
        {"batch_size": 0},
        {"heatmap_cells": 0},
    ],
    ids=lambda options: ",".join(f"{key}={value!r}" for key, value in options.items()),
)
def test_replay_options_refuse_bad_values(options: dict[str, Any]) -> None:
    with pytest.raises(BadInputError):
        ReplayOptions(**options)


# -- content digest ---------------------------------------------------------------------------


def test_content_digest_ignores_order() -> None:
    pairs = [(f"k{i}", f"v{i}") for i in range(100)]
    shuffled = pairs[:]
    random.Random(3).shuffle(shuffled)
    assert content_digest(pairs) == content_digest(shuffled)


def test_content_digest_differs_when_a_value_differs() -> None:
    pairs = [(f"k{i}", f"v{i}") for i in range(100)]
    changed = [*pairs[:50], ("k50", "other"), *pairs[51:]]
    assert content_digest(pairs) != content_digest(changed)


def test_content_digest_tells_int_keys_from_text_keys() -> None:
    assert content_digest([(1, "v")]) != content_digest([("1", "v")])


def test_content_digest_counts_the_pairs() -> None:
    assert content_digest([]) == "0:" + "0" * 64
    assert content_digest([("a", "1"), ("b", "2")]).startswith("2:")
