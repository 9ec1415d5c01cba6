"""Feeding a hub from an NDJSON metrics file: read it once, or follow it as a run appends to it.

Each line is parsed with :func:`~adhash.metrics.records.parse_record`; a line that is not a valid
record (garbage, another schema, a half-written last line) is counted in the hub's
``rejected_records`` and skipped. While following, a line without its newline yet is kept until
the rest arrives; a file that shrinks (truncated or replaced) is read again from the start; a file
that does not exist yet is waited for.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from adhash.errors import AdhashError, IOFailureError
from adhash.metrics.hub import MetricsHub
from adhash.metrics.records import parse_record

__all__ = ["MAX_LINE_BYTES", "NDJSONFollower", "load_file"]

MAX_LINE_BYTES = 16 << 20
"""Longer lines are not records: they are skipped, never held in memory whole."""


def load_file(path: str | os.PathLike[str], hub: MetricsHub) -> int:
    """Feed every record of the NDJSON file at ``path`` to ``hub``; the number of records taken.

    IOFailureError when the file cannot be read. Complexity: O(file size).
    """
    follower = NDJSONFollower(path, hub)
    try:
        handle = open(follower.path, "rb")  # noqa: SIM115 - closed below, read in pieces
    except FileNotFoundError:
        raise IOFailureError(f"metrics file not found: {follower.path}") from None
    except OSError as error:
        raise IOFailureError(f"cannot read {follower.path}: {error.strerror or error}") from None
    with handle:
        follower._read_available(handle)
        follower._finish_partial()
    return follower.records


class NDJSONFollower:
    """Follows an NDJSON file on a daemon thread, feeding each new record to a hub."""

    def __init__(
        self, path: str | os.PathLike[str], hub: MetricsHub, *, poll_interval: float = 0.5
    ) -> None:
        self.path = Path(path)
        self.hub = hub
        self.poll_interval = poll_interval
        self.records = 0
        self._partial = b""
        self._skipping = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> NDJSONFollower:
        """Start following on a daemon thread; returns self."""
        self._thread = threading.Thread(target=self._run, name="adhash-follow", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop following and wait for the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        position = 0
        identity: tuple[int, int] | None = None
        while not self._stop.is_set():
            try:
                status = self.path.stat()
                current = (status.st_dev, status.st_ino)
                if identity is not None and (current != identity or status.st_size < position):
                    position, self._partial, self._skipping = 0, b"", False
                identity = current
                if status.st_size > position:
                    with open(self.path, "rb") as handle:
                        handle.seek(position)
                        self._read_available(handle)
                        position = handle.tell()
            except OSError:
                # Missing (or unreadable) for now: whatever appears next is a new file.
                identity, position, self._partial, self._skipping = None, 0, b"", False
            self._stop.wait(self.poll_interval)

    def _read_available(self, handle: object) -> None:
        read = handle.read  # type: ignore[attr-defined]
        while True:
            chunk: bytes = read(1 << 20)
            if not chunk:
                return
            lines = (self._partial + chunk).split(b"\n")
            self._partial = lines.pop()
            for line in lines:
                if self._skipping:
                    self._skipping = False  # the end of an over-long line, already counted
                elif len(line) > MAX_LINE_BYTES:
                    self.hub.rejected_records += 1
                else:
                    self._take(line)
            if len(self._partial) > MAX_LINE_BYTES:
                if not self._skipping:
                    self.hub.rejected_records += 1
                self._partial, self._skipping = b"", True

    def _finish_partial(self) -> None:
        if self._partial.strip() and not self._skipping:
            self._take(self._partial)
        self._partial = b""

    def _take(self, line: bytes) -> None:
        if not line.strip():
            return
        try:
            record = parse_record(line)
        except AdhashError:
            self.hub.rejected_records += 1
            return
        self.hub.write(record)
        self.records += 1
