"""A rich progress bar on stderr for long replays, shown only when stderr is a terminal."""

from __future__ import annotations

import sys
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["ProgressReporter", "count_rows"]


def count_rows(path: Path) -> int | None:
    """Data rows in a workload file, from a fast count of its newlines (None if unreadable)."""
    lines = 0
    last = b"\n"
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                lines += chunk.count(b"\n")
                last = chunk[-1:]
    except OSError:
        return None
    if last != b"\n":
        lines += 1
    return max(0, lines - 1)


class ProgressReporter:
    """Context manager whose :meth:`update` advances a progress bar, or does nothing."""

    def __init__(self, path: Path, *, enabled: bool) -> None:
        self._progress: Any = None
        self._task: Any = None
        if not enabled or not sys.stderr.isatty():
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("[bold]replay[/bold]"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task = self._progress.add_task("replay", total=count_rows(path))

    def __enter__(self) -> ProgressReporter:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def update(self, done: int) -> None:
        """Show ``done`` operations completed."""
        if self._progress is not None:
            self._progress.update(self._task, completed=done)
