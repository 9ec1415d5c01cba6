"""``adhash inspect-snapshot``: a snapshot's header, stored statistics, a preview and a lookup."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from adhash_cli.keys import parse_key
from adhash_cli.output import emit
from adhash_cli.settings import ConfigOption, SetOption, resolve_settings

if TYPE_CHECKING:
    from adhash.snapshot import SnapshotInfo

__all__ = ["describe_stats", "inspect_snapshot"]

_TEXT_PREVIEW = 5
_STAT_LABELS = (
    ("size", "size"),
    ("capacity", "capacity"),
    ("load_factor", "load factor"),
    ("probe_length_mean", "probe length mean"),
    ("probe_length_max", "probe length max"),
    ("chain_length_mean", "chain length mean"),
    ("chain_length_max", "chain length max"),
    ("tombstones", "tombstones"),
    ("tombstone_ratio", "tombstone ratio"),
    ("hashing", "hashing"),
    ("flood_keys", "flood keys"),
    ("unsalted_keys", "unsalted keys"),
    ("migrating_from", "migrating from"),
    ("migration_progress", "migration progress"),
)


def inspect_snapshot(
    ctx: typer.Context,
    source: Annotated[Path, typer.Option("--in", help="The snapshot file to inspect.")],
    key: Annotated[
        str | None, typer.Option("--key", help="Look this key up (text; see --int-key).")
    ] = None,
    int_key: Annotated[bool, typer.Option("--int-key", help="Parse --key as an integer.")] = False,
    contains: Annotated[
        str | None,
        typer.Option(
            "--contains",
            help="Preview only entries whose key or value contains this (case-insensitive).",
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=0, help="Entries in the preview (0: none).")
    ] = 20,
    config: ConfigOption = None,
    sets: SetOption = None,
) -> None:
    """Show a snapshot's header and statistics, a preview of its entries, and a key lookup.

    Reads only the chunks the preview and the lookup need: `adhash verify-snapshot` checks the
    whole file.
    """
    from adhash.errors import BadInputError
    from adhash.snapshot import inspect

    if int_key and key is None:
        raise BadInputError("--int-key needs --key", hint="e.g. --key 42 --int-key")
    limits = resolve_settings(config, sets).settings.snapshot_limits()
    if key is None:
        info = inspect(source, contains=contains, limit=limit, limits=limits)
    else:
        info = inspect(
            source,
            contains=contains,
            limit=limit,
            lookup=parse_key(key, int_key=int_key),
            limits=limits,
        )
    emit(ctx, "inspect-snapshot", info.as_dict(), _render(info, contains))


def describe_stats(stats: Mapping[str, Any]) -> str:
    """A map's stored statistics on one line, leaving out those that do not apply.

    >>> describe_stats({"size": 1200, "load_factor": 0.5859, "tombstones": None})
    'size 1,200, load factor 0.586'
    >>> describe_stats({"size": 40, "hashing": "salted", "flood_keys": 1, "unsalted_keys": 0})
    'size 40, hashing salted, flood keys 1, unsalted keys 0'
    """
    parts = [
        f"{label} {_show_stat(stats[name])}"
        for name, label in _STAT_LABELS
        if stats.get(name) is not None
    ]
    return ", ".join(parts) if parts else "none recorded"


def _show_stat(value: object) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.3f}"
    # The statistics come from the file's metadata: show anything else briefly.
    return str(value)[:60]


def _render(info: SnapshotInfo, contains: str | None) -> str:
    lines = [
        f"path: {info.path} ({info.file_bytes:,} bytes)",
        f"format version: {info.format_version}",
        f"keyed: {'yes' if info.keyed else 'no'}",
        f"codec: {info.codec}",
        f"backend: {info.backend}",
        f"entries: {info.entry_count:,}",
        f"chunks: {info.chunk_count:,}",
        f"created_at: {info.created_at or 'unknown'}"
        + (f" (adhash {info.adhash_version})" if info.adhash_version else ""),
        f"stats: {describe_stats(info.stats)}",
    ]
    if info.preview:
        shown = info.preview[:_TEXT_PREVIEW]
        more = len(info.preview) - len(shown)
        lines.append(f"preview ({more} more with --json):" if more else "preview:")
        lines += [f"  {key} = {value}" for key, value in shown]
    elif contains:
        lines.append(f"preview: no entry matches {contains!r}")
    elif info.entry_count:
        lines.append("preview: none (--limit 0)")
    else:
        lines.append("preview: the snapshot is empty")
    if info.lookup is not None:
        if info.lookup.found:
            lines.append(f"key {info.lookup.key}: found, value {info.lookup.value}")
        else:
            lines.append(f"key {info.lookup.key}: not found")
    return "\n".join(lines)
