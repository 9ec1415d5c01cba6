"""Feeding a hub from NDJSON: load_file once, or NDJSONFollower as a run appends to the file."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import adhash.metrics.follow as follow
from adhash.errors import IOFailureError
from adhash.metrics.follow import NDJSONFollower, load_file
from adhash.metrics.hub import MetricsHub
from adhash.metrics.records import dump
from tests.core.test_metrics_records import make_event, make_summary, make_tick

POLL = 0.02
DEADLINE = 5.0


def event_line(seq: int, run_id: str = "run-1", message: str = "m") -> bytes:
    record = make_event().model_copy(update={"seq": seq, "run_id": run_id, "message": message})
    return dump(record) + b"\n"


def wait_until(predicate: Callable[[], bool], timeout: float = DEADLINE) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(POLL / 2)
    return predicate()


def settle() -> None:
    """Long enough for several polls of the follower: used only to show nothing happens."""
    time.sleep(POLL * 6)


def append(path: Path, data: bytes) -> None:
    with open(path, "ab") as handle:
        handle.write(data)


def seen(hub: MetricsHub) -> list[tuple[str, int]]:
    return [(e.run_id, e.seq) for e in hub.events()]


@pytest.fixture
def hub() -> MetricsHub:
    return MetricsHub(history_limit=1_000)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "metrics.ndjson"


@pytest.fixture
def following(path: Path, hub: MetricsHub) -> Iterator[NDJSONFollower]:
    follower = NDJSONFollower(path, hub, poll_interval=POLL).start()
    try:
        yield follower
    finally:
        follower.stop()


# -- load_file -----------------------------------------------------------------------------------


def test_load_file_feeds_every_record_and_counts_rejected_lines(
    path: Path, hub: MetricsHub
) -> None:
    path.write_bytes(
        event_line(0)
        + b"\n"
        + dump(make_tick(0))
        + b"\nnot json at all\n"
        + b'{"schema": "metrics.v2", "seq": 1}\n'
        + b"   \n"
        + b"[1, 2]\n"
        + dump(make_tick(1))
        + b"\n\n"
        + dump(make_summary())
        + b"\n"
    )
    assert load_file(path, hub) == 4
    assert hub.rejected_records == 3
    assert [t.seq for t in hub.ticks()] == [0, 1]
    assert seen(hub) == [("run-1", 0)]
    assert hub.state == "completed"


def test_load_file_takes_a_last_line_without_its_newline(path: Path, hub: MetricsHub) -> None:
    path.write_bytes(event_line(0) + dump(make_tick(0)))
    assert load_file(path, hub) == 2
    assert hub.rejected_records == 0


def test_load_file_counts_a_half_written_last_line_as_rejected(path: Path, hub: MetricsHub) -> None:
    path.write_bytes(event_line(0) + dump(make_tick(0))[:40])
    assert load_file(path, hub) == 1
    assert hub.rejected_records == 1


def test_load_file_of_an_empty_file_takes_nothing(path: Path, hub: MetricsHub) -> None:
    path.write_bytes(b"")
    assert load_file(path, hub) == 0
    assert (hub.state, hub.rejected_records) == ("waiting", 0)


def test_load_file_of_a_missing_file_is_an_io_failure(path: Path, hub: MetricsHub) -> None:
    with pytest.raises(IOFailureError, match="not found"):
        load_file(path, hub)


def test_load_file_of_a_folder_is_an_io_failure(tmp_path: Path, hub: MetricsHub) -> None:
    with pytest.raises(IOFailureError, match="cannot read"):
        load_file(tmp_path, hub)


# -- following -----------------------------------------------------------------------------------


def test_the_follower_reads_what_is_already_in_the_file(path: Path, hub: MetricsHub) -> None:
    path.write_bytes(b"".join(event_line(seq) for seq in range(3)))
    follower = NDJSONFollower(path, hub, poll_interval=POLL).start()
    try:
        assert wait_until(lambda: follower.records == 3)
    finally:
        follower.stop()
    assert seen(hub) == [("run-1", 0), ("run-1", 1), ("run-1", 2)]


def test_the_follower_picks_up_lines_appended_after_it_started(
    path: Path, hub: MetricsHub, following: NDJSONFollower
) -> None:
    path.write_bytes(event_line(0))
    assert wait_until(lambda: following.records == 1)
    append(path, event_line(1) + event_line(2))
    assert wait_until(lambda: following.records == 3)
    append(path, dump(make_tick(0)) + b"\n")
    assert wait_until(lambda: following.records == 4)
    assert seen(hub) == [("run-1", 0), ("run-1", 1), ("run-1", 2)]
    assert [t.seq for t in hub.ticks()] == [0]


def test_the_follower_joins_a_line_split_across_two_writes(
    path: Path, hub: MetricsHub, following: NDJSONFollower
) -> None:
    path.write_bytes(event_line(0))
    assert wait_until(lambda: following.records == 1)
    line = dump(make_tick(0)) + b"\n"
    append(path, line[:50])
    settle()
    assert (following.records, hub.rejected_records) == (1, 0)
    append(path, line[50:])
    assert wait_until(lambda: following.records == 2)
    assert hub.rejected_records == 0
    assert [t.seq for t in hub.ticks()] == [0]


def test_the_follower_counts_garbage_lines_and_goes_on(
    path: Path, hub: MetricsHub, following: NDJSONFollower
) -> None:
    path.write_bytes(event_line(0) + b"garbage\n" + b'{"schema": "other.v1"}\n')
    assert wait_until(lambda: hub.rejected_records == 2)
    append(path, event_line(1))
    assert wait_until(lambda: following.records == 2)
    assert seen(hub) == [("run-1", 0), ("run-1", 1)]


def test_the_follower_reads_a_truncated_file_from_the_start(
    path: Path, hub: MetricsHub, following: NDJSONFollower
) -> None:
    path.write_bytes(b"".join(event_line(seq) for seq in range(5)))
    assert wait_until(lambda: following.records == 5)
    path.write_bytes(event_line(0, run_id="run-2") + event_line(1, run_id="run-2"))
    assert wait_until(lambda: following.records == 7)
    assert seen(hub)[-2:] == [("run-2", 0), ("run-2", 1)]
    assert hub.rejected_records == 0


def test_the_follower_waits_for_a_file_that_appears_later(
    path: Path, hub: MetricsHub, following: NDJSONFollower
) -> None:
    settle()
    assert (following.records, hub.state) == (0, "waiting")
    path.write_bytes(event_line(0) + event_line(1))
    assert wait_until(lambda: following.records == 2)
    assert seen(hub) == [("run-1", 0), ("run-1", 1)]


def test_the_follower_reads_a_file_removed_and_written_again_from_its_start(
    path: Path, hub: MetricsHub, following: NDJSONFollower
) -> None:
    path.write_bytes(b"".join(event_line(seq) for seq in range(3)))
    assert wait_until(lambda: following.records == 3)
    path.unlink()
    settle()  # the follower sees the file gone
    replacement = path.with_suffix(".tmp")
    replacement.write_bytes(b"".join(event_line(seq, run_id="run-2") for seq in range(6)))
    os.replace(replacement, path)
    wait_until(lambda: following.records >= 9, timeout=2.0)
    assert seen(hub)[3:] == [("run-2", seq) for seq in range(6)]


def test_the_follower_skips_an_over_long_line_written_in_pieces(
    path: Path, hub: MetricsHub, following: NDJSONFollower, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(follow, "MAX_LINE_BYTES", 200)
    path.write_bytes(event_line(0))
    assert wait_until(lambda: following.records == 1)
    append(path, b'{"schema": "metrics.event.v1", "message": "' + b"x" * 300)
    assert wait_until(lambda: hub.rejected_records == 1)
    append(path, b"y" * 300)
    settle()
    append(path, b'"}\n' + event_line(1))
    assert wait_until(lambda: following.records == 2)
    assert hub.rejected_records == 1
    assert seen(hub) == [("run-1", 0), ("run-1", 1)]


def test_the_follower_skips_an_over_long_record_written_at_once(
    path: Path, hub: MetricsHub, following: NDJSONFollower, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(follow, "MAX_LINE_BYTES", 200)
    long_line = event_line(0, message="z" * 400)
    assert len(long_line) > 400
    path.write_bytes(long_line + event_line(1))
    assert wait_until(lambda: following.records + hub.rejected_records >= 2)
    assert seen(hub) == [("run-1", 1)]
    assert hub.rejected_records == 1


def test_a_stopped_follower_reads_no_more(
    path: Path, hub: MetricsHub, following: NDJSONFollower
) -> None:
    path.write_bytes(event_line(0))
    assert wait_until(lambda: following.records == 1)
    following.stop()
    append(path, event_line(1))
    settle()
    assert following.records == 1
    assert seen(hub) == [("run-1", 0)]
