"""NDJSONSink and RingSink: whole lines, new or appended files, bounds, and concurrent writers."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from adhash.errors import BadInputError, IOFailureError
from adhash.metrics.records import (
    MetricsEvent,
    MetricsRecord,
    MetricsTick,
    RunSummary,
    parse_record,
)
from adhash.metrics.sinks import NDJSONSink, RingSink, Sink
from tests.core.test_metrics_records import make_event, make_summary, make_tick

THREADS = 8
PER_THREAD = 200


def event(seq: int, run_id: str = "run-1") -> MetricsEvent:
    return make_event().model_copy(update={"seq": seq, "run_id": run_id})


def tick(seq: int) -> MetricsTick:
    return make_tick(seq)


def read_events(path: Path) -> list[MetricsEvent]:
    events = [parse_record(line) for line in path.read_bytes().splitlines()]
    assert all(isinstance(e, MetricsEvent) for e in events)
    return [e for e in events if isinstance(e, MetricsEvent)]


def write_concurrently(sink: Sink) -> None:
    def writer(thread: int) -> None:
        for seq in range(PER_THREAD):
            sink.write(event(seq, run_id=f"thread-{thread}"))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_each_record_is_one_complete_json_line(tmp_path: Path) -> None:
    path = tmp_path / "metrics.ndjson"
    records: list[MetricsRecord] = [make_event(), make_tick(), make_summary()]
    with NDJSONSink(path) as sink:
        for record in records:
            sink.write(record)
            # The file is flushed on every write: a follower sees the line already.
            assert path.read_bytes().endswith(b"\n")
    lines = path.read_bytes().splitlines()
    assert [json.loads(line)["schema"] for line in lines] == [
        "metrics.event.v1",
        "metrics.v1",
        "adhash.run_summary.v1",
    ]
    assert [parse_record(line) for line in lines] == records
    assert sink.records_written == 3


def test_a_new_sink_truncates_the_file(tmp_path: Path) -> None:
    path = tmp_path / "metrics.ndjson"
    path.write_bytes(b"old run\n")
    with NDJSONSink(path) as sink:
        sink.write(event(0))
    assert len(path.read_bytes().splitlines()) == 1


def test_append_keeps_earlier_lines(tmp_path: Path) -> None:
    path = tmp_path / "metrics.ndjson"
    for seq in range(2):
        with NDJSONSink(path, append=True) as sink:
            sink.write(event(seq))
    assert [e.seq for e in read_events(path)] == [0, 1]


def test_parent_folders_are_created(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "metrics.ndjson"
    with NDJSONSink(path) as sink:
        sink.write(event(0))
    assert path.is_file()


def test_an_unopenable_path_is_an_io_failure_naming_it(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(IOFailureError, match=str(blocker / "metrics.ndjson")):
        NDJSONSink(blocker / "metrics.ndjson")


def test_writing_after_close_is_an_io_failure(tmp_path: Path) -> None:
    sink = NDJSONSink(tmp_path / "metrics.ndjson")
    sink.close()
    sink.close()
    with pytest.raises(IOFailureError, match="closed"):
        sink.write(event(0))


def test_concurrent_writers_to_a_file_lose_no_lines(tmp_path: Path) -> None:
    path = tmp_path / "metrics.ndjson"
    with NDJSONSink(path) as sink:
        write_concurrently(sink)
    records = read_events(path)
    assert sink.records_written == THREADS * PER_THREAD
    assert sorted((r.run_id, r.seq) for r in records) == sorted(
        (f"thread-{n}", seq) for n in range(THREADS) for seq in range(PER_THREAD)
    )


def test_ring_keeps_the_latest_ticks_within_capacity() -> None:
    ring = RingSink(capacity=3)
    for seq in range(5):
        ring.write(tick(seq))
    assert [t.seq for t in ring.ticks()] == [2, 3, 4]
    assert [t.seq for t in ring.ticks(limit=2)] == [3, 4]
    assert ring.ticks(limit=0) == []
    assert ring.total_ticks == 5
    latest = ring.latest_tick
    assert latest is not None
    assert latest.seq == 4


def test_ring_bounds_events_separately_from_ticks() -> None:
    ring = RingSink(capacity=2, event_capacity=10)
    ring.write(event(0))
    for seq in range(5):
        ring.write(tick(seq))
    assert [e.seq for e in ring.events()] == [0]
    assert (ring.total_ticks, ring.total_events) == (5, 1)


def test_ring_keeps_the_summary() -> None:
    ring = RingSink()
    assert (ring.latest_tick, ring.summary) == (None, None)
    summary = make_summary()
    ring.write(summary)
    assert ring.summary == summary
    assert isinstance(ring.summary, RunSummary)


def test_ring_concurrent_writers_lose_no_records() -> None:
    ring = RingSink(capacity=THREADS * PER_THREAD)
    write_concurrently(ring)
    assert ring.total_events == THREADS * PER_THREAD
    assert len({(e.run_id, e.seq) for e in ring.events()}) == THREADS * PER_THREAD


@pytest.mark.parametrize("capacity", [0, -1, True])
def test_ring_rejects_a_capacity_below_one(capacity: int) -> None:
    with pytest.raises(BadInputError, match="capacity"):
        RingSink(capacity)


def test_ring_rejects_a_negative_limit() -> None:
    with pytest.raises(BadInputError, match="limit"):
        RingSink().events(limit=-1)
