"""``adhash put``, ``get``, ``del`` and ``items``: a persistent key-value store in a snapshot file.

Each command loads the whole store, and a write saves it again atomically: a failed or
interrupted command leaves the previous file intact. There is no locking; with concurrent
writers the last one to finish wins.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from adhash_cli.keys import json_item, parse_key, show_item
from adhash_cli.output import emit, is_json
from adhash_cli.settings import ConfigOption, SetOption, resolve_settings

__all__ = ["delete", "get", "items", "put"]

StoreOption = Annotated[Path, typer.Option("--store", help="The store: a snapshot file.")]
IntKeyOption = Annotated[bool, typer.Option("--int-key", help="Parse KEY as an integer.")]
KeyArgument = Annotated[str, typer.Argument(help="The key (text unless --int-key).")]


def put(
    ctx: typer.Context,
    key: KeyArgument,
    value: Annotated[str, typer.Argument(help="The value (text).")],
    store: StoreOption,
    int_key: IntKeyOption = False,
    mode: Annotated[
        str | None,
        typer.Option(
            "--mode",
            help="Backend of a new store: adaptive, chaining, robinhood, compact or dict. Used "
            "only when put creates the store; the configuration's maps and adaptive settings "
            "build it. Default: adaptive, or the setting replay.mode.",
        ),
    ] = None,
    config: ConfigOption = None,
    sets: SetOption = None,
) -> None:
    """Store VALUE under KEY, creating the store file on first use."""
    from adhash.errors import BadInputError
    from adhash.replay import build_map
    from adhash.snapshot import load, save

    parsed = parse_key(key, int_key=int_key)
    settings = resolve_settings(config, sets, {"replay.mode": (mode, "--mode")}).settings
    requested = settings.replay.mode if mode is not None else None
    created = not store.exists()
    if created:
        m = build_map(
            settings.replay.mode, policy=settings.policy(), hash_seed=settings.maps.hash_seed
        )
    else:
        m = load(store, limits=settings.snapshot_limits())
        if requested is not None and requested != _mode_of(m):
            raise BadInputError(
                f"store {store} holds a {_mode_of(m)} map; --mode {requested} applies only "
                "when put creates a store",
                hint="leave out --mode, or use a new --store",
            )
    m[parsed] = value
    save(m, store, level=settings.snapshot.compression_level)
    data = {"key": json_item(parsed), "value": value, "created": created, "size": len(m)}
    text = f"stored {show_item(parsed)} in {store} (size {len(m):,}"
    text += f", new {_mode_of(m)} store)" if created else ")"
    emit(ctx, "put", data, text)


def get(
    ctx: typer.Context,
    key: KeyArgument,
    store: StoreOption,
    int_key: IntKeyOption = False,
    config: ConfigOption = None,
    sets: SetOption = None,
) -> None:
    """Print the value stored under KEY.

    A missing key is an answer, not an error: exit 0, `found: false` with --json, and a
    "not found" line on stderr (stdout stays empty) without it.
    """
    parsed = parse_key(key, int_key=int_key)
    m = _load_existing(store, config, sets)
    found = parsed in m
    value = m[parsed] if found else None
    if found or is_json(ctx):
        data = {"key": json_item(parsed), "found": found, "value": json_item(value)}
        emit(ctx, "get", data, show_item(value))
    else:
        typer.echo(f"adhash: key {parsed!r} not found in {store}", err=True)


def delete(
    ctx: typer.Context,
    key: KeyArgument,
    store: StoreOption,
    int_key: IntKeyOption = False,
    config: ConfigOption = None,
    sets: SetOption = None,
) -> None:
    """Remove KEY from the store; a missing key leaves the file untouched."""
    from adhash.snapshot import save

    parsed = parse_key(key, int_key=int_key)
    settings = resolve_settings(config, sets).settings
    m = _load_existing(store, config, sets)
    deleted = parsed in m
    if deleted:
        del m[parsed]
        save(m, store, level=settings.snapshot.compression_level)
        text = f"deleted {show_item(parsed)} from {store} (size {len(m):,})"
    else:
        text = f"{show_item(parsed)} not found in {store}; nothing deleted"
    emit(ctx, "del", {"key": json_item(parsed), "deleted": deleted}, text)


def items(
    ctx: typer.Context,
    store: StoreOption,
    limit: Annotated[
        int | None, typer.Option("--limit", min=0, help="List at most this many (default all).")
    ] = None,
    config: ConfigOption = None,
    sets: SetOption = None,
) -> None:
    """List the store's entries sorted by key, one `KEY<tab>VALUE` line each."""
    m = _load_existing(store, config, sets)
    pairs = _sorted_items(m)
    if limit is not None:
        pairs = pairs[:limit]
    data = {
        "count": len(m),
        "items": [{"key": json_item(k), "value": json_item(v)} for k, v in pairs],
    }
    lines = [f"{show_item(k)}\t{show_item(v)}" for k, v in pairs]
    if len(pairs) < len(m):
        lines.append(f"({len(m) - len(pairs):,} more; {len(m):,} entries in all)")
    emit(ctx, "items", data, "\n".join(lines) if lines else f"{store} is empty")


def _mode_of(m: Any) -> str:
    """The mode that builds a map like ``m`` (AdaptiveMap's ``backend_name`` is ``adaptive``)."""
    return "dict" if isinstance(m, dict) else str(m.backend_name)


def _load_existing(store: Path, config: Path | None, sets: list[str] | None) -> Any:
    from adhash.errors import IOFailureError
    from adhash.snapshot import load

    limits = resolve_settings(config, sets).settings.snapshot_limits()
    if not store.exists():
        raise IOFailureError(
            f"store not found: {store}",
            hint=f"`adhash put --store {store} KEY VALUE` creates it",
        )
    return load(store, limits=limits)


def _sorted_items(m: Any) -> list[tuple[Any, Any]]:
    pairs = list(m.items())
    try:
        pairs.sort(key=lambda pair: (type(pair[0]).__name__, pair[0]))
    except TypeError:
        # Keys of one type that do not order among themselves (tuples of mixed items).
        pairs.sort(key=lambda pair: (type(pair[0]).__name__, repr(pair[0])))
    return pairs
