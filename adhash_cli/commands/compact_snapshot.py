"""``adhash compact-snapshot``: rewrite a snapshot right-sized and recompressed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from adhash_cli.commands.inspect_snapshot import describe_stats
from adhash_cli.output import emit
from adhash_cli.settings import ConfigOption, SetOption, resolve_settings

__all__ = ["compact_snapshot"]


def compact_snapshot(
    ctx: typer.Context,
    source: Annotated[Path, typer.Option("--in", help="The snapshot file to compact.")],
    out: Annotated[
        Path,
        typer.Option("--out", help="Where to write the compacted snapshot (may be --in)."),
    ],
    config: ConfigOption = None,
    sets: SetOption = None,
) -> None:
    """Load a snapshot (fully verified), rebuild its map right-sized, save it recompressed.

    The write is atomic: --out may name the --in file, which is replaced only on success.
    """
    from adhash.snapshot import compact

    limits = resolve_settings(config, sets).settings.snapshot_limits()
    report = compact(source, out, limits=limits)
    change = report.bytes_after - report.bytes_before
    share = f" ({change / report.bytes_before:+.1%})" if report.bytes_before else ""
    text = "\n".join(
        [
            f"compacted: {report.source} -> {report.out}",
            f"bytes: {report.bytes_before:,} -> {report.bytes_after:,}{share}",
            f"before: {describe_stats(report.stats_before)}",
            f"after:  {describe_stats(report.stats_after)}",
        ]
    )
    emit(ctx, "compact-snapshot", report.as_dict(), text)
