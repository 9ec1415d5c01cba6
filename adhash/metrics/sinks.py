"""Where records go: an NDJSON file other processes can follow, or an in-memory ring for readers.

Both sinks take ticks, events and the summary in the order a run emits them and are safe to
write from several threads.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self, TypeVar

from adhash.errors import BadInputError, IOFailureError
from adhash.metrics.records import MetricsEvent, MetricsRecord, MetricsTick, RunSummary, dump

__all__ = ["NDJSONSink", "RingSink", "Sink"]

_T = TypeVar("_T")


class Sink(Protocol):
    """Anything a run can hand its records to."""

    def write(self, record: MetricsRecord) -> None:
        """Take one record (a tick, an event or the summary)."""

    def close(self) -> None:
        """Release resources; writing afterwards is an error. Closing twice is harmless."""


class NDJSONSink:
    """Appends each record as one JSON line to a file, flushed as it is written.

    Each record goes to the file in a single unbuffered write, so a process following the file
    (``tail -f``, the metrics server) only ever sees whole lines. A new run truncates the file
    unless ``append=True``; the parent folder is created if needed.

    >>> import tempfile, pathlib
    >>> from adhash.metrics.records import MetricsEvent
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with NDJSONSink(folder / "run" / "metrics.ndjson") as sink:
    ...     sink.write(MetricsEvent(run_id="r1", seq=0, t=0.0, type="start",
    ...                             backend="chaining", message="workload started"))
    >>> (folder / "run" / "metrics.ndjson").read_bytes().count(b"\\n"), sink.records_written
    (1, 1)
    """

    def __init__(self, path: str | os.PathLike[str], *, append: bool = False) -> None:
        self.path = Path(path)
        self.records_written = 0
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "ab" if append else "wb", buffering=0)  # noqa: SIM115
        except OSError as error:
            raise IOFailureError(
                f"cannot open metrics file {self.path}: {error.strerror or error}"
            ) from error
        self._closed = False

    def write(self, record: MetricsRecord) -> None:
        """Write ``record`` as one line and hand it to the OS at once.

        Complexity: O(size of the record); one ``write`` system call.
        """
        line = dump(record) + b"\n"
        with self._lock:
            if self._closed:
                raise IOFailureError(f"cannot write to {self.path}: the metrics file is closed")
            try:
                # A regular file takes the whole line in one call; loop in case it does not.
                view = memoryview(line)
                while view:
                    view = view[self._file.write(view) :]
            except OSError as error:
                raise IOFailureError(
                    f"cannot write metrics file {self.path}: {error.strerror or error}"
                ) from error
            self.records_written += 1

    def close(self) -> None:
        """Close the file. Complexity: O(1)."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class RingSink:
    """Keeps the latest ticks and events in memory for a server or a UI to read.

    Ticks and events have separate bounds (``event_capacity`` defaults to ``capacity``), so a
    long run's ticks never push out its few events. Reads return copies, oldest first.

    >>> from adhash.metrics.records import MetricsEvent
    >>> ring = RingSink(capacity=2)
    >>> for seq in range(3):
    ...     ring.write(MetricsEvent(run_id="r1", seq=seq, t=float(seq), type="idle",
    ...                             backend="chaining", message="idle"))
    >>> [event.seq for event in ring.events()], ring.total_events
    ([1, 2], 3)
    """

    def __init__(self, capacity: int = 1024, *, event_capacity: int | None = None) -> None:
        for name, value in (("capacity", capacity), ("event_capacity", event_capacity)):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 1
            ):
                raise BadInputError(f"{name} must be a positive integer, got {value!r}")
        self._lock = threading.Lock()
        self._ticks: deque[MetricsTick] = deque(maxlen=capacity)
        self._events: deque[MetricsEvent] = deque(
            maxlen=capacity if event_capacity is None else event_capacity
        )
        self._summary: RunSummary | None = None
        self._total_ticks = 0
        self._total_events = 0

    def write(self, record: MetricsRecord) -> None:
        """Store a tick or an event (evicting the oldest past capacity) or the summary.

        Complexity: O(1).
        """
        with self._lock:
            if isinstance(record, MetricsTick):
                self._ticks.append(record)
                self._total_ticks += 1
            elif isinstance(record, MetricsEvent):
                self._events.append(record)
                self._total_events += 1
            elif isinstance(record, RunSummary):
                self._summary = record
            else:
                raise BadInputError(f"a ring sink stores records, got {type(record).__name__}")

    def ticks(self, limit: int | None = None) -> list[MetricsTick]:
        """The latest ``limit`` ticks held (all when None), oldest first.

        Complexity: O(capacity).
        """
        with self._lock:
            return _tail(self._ticks, limit)

    def events(self, limit: int | None = None) -> list[MetricsEvent]:
        """The latest ``limit`` events held (all when None), oldest first.

        Complexity: O(event capacity).
        """
        with self._lock:
            return _tail(self._events, limit)

    @property
    def latest_tick(self) -> MetricsTick | None:
        """The last tick written, or None. Complexity: O(1)."""
        with self._lock:
            return self._ticks[-1] if self._ticks else None

    @property
    def summary(self) -> RunSummary | None:
        """The run summary once written, else None. Complexity: O(1)."""
        with self._lock:
            return self._summary

    @property
    def total_ticks(self) -> int:
        """Ticks written since creation, including those evicted. Complexity: O(1)."""
        with self._lock:
            return self._total_ticks

    @property
    def total_events(self) -> int:
        """Events written since creation, including those evicted. Complexity: O(1)."""
        with self._lock:
            return self._total_events

    def close(self) -> None:
        """Nothing to release: the history stays readable. Complexity: O(1)."""


def _tail(items: deque[_T], limit: int | None) -> list[_T]:
    """The last ``limit`` items (all when None), oldest first."""
    if limit is None:
        return list(items)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise BadInputError(f"limit must be a non-negative integer or None, got {limit!r}")
    return list(items)[max(len(items) - limit, 0) :]
