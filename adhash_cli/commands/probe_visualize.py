"""``adhash probe-visualize``: the path a get or put takes through a map, slot by slot."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from adhash_cli.keys import parse_key
from adhash_cli.output import emit
from adhash_cli.settings import ConfigOption, SetOption, resolve_settings

if TYPE_CHECKING:
    from adhash.maps.stats import Hashing
    from adhash.trace import ProbeTrace, TraceCheck

__all__ = ["probe_visualize"]

_DEFAULT_MODE = "robinhood"
_HASHINGS = ("plain", "salted")


def probe_visualize(
    ctx: typer.Context,
    operation: Annotated[
        str, typer.Option("--operation", help="The operation to trace: get or put.")
    ],
    key: Annotated[str, typer.Option("--key", help="The key to trace (text; see --int-key).")],
    value: Annotated[
        str | None,
        typer.Option("--value", help="The value to put (text); required with --operation put."),
    ] = None,
    int_key: Annotated[
        bool,
        typer.Option("--int-key", help="Parse --key and the keys of --seed-entry as integers."),
    ] = False,
    snapshot: Annotated[
        Path | None, typer.Option("--snapshot", help="Trace on the map stored in this snapshot.")
    ] = None,
    seed_entries: Annotated[
        list[str] | None,
        typer.Option(
            "--seed-entry",
            metavar="KEY=VALUE",
            help="Put this entry into the map before tracing (the snapshot's map, or a new "
            "one); repeatable, applied in order.",
        ),
    ] = None,
    mode: Annotated[
        str | None,
        typer.Option(
            "--mode",
            help="Backend of the new map when there is no --snapshot: robinhood, chaining, "
            "compact or adaptive, built with the configuration's map settings. Default: "
            "robinhood (the one whose paths show the most: clusters, early exits, swaps).",
        ),
    ] = None,
    hashing: Annotated[
        str | None,
        typer.Option(
            "--hashing",
            help="Hashing of the new map when there is no --snapshot, with any --mode: plain "
            "(by hash(key), the default) or salted (by a keyed hash of each key's value, the "
            "hash-flooding defence; the trace then shows both hashes). maps.hash_seed also "
            "fixes the salted secret.",
        ),
    ] = None,
    export_json: Annotated[
        Path | None,
        typer.Option(
            "--export-json",
            help="Also write the trace (schema adhash.probe_trace.v1) to this JSON file, "
            "atomically.",
        ),
    ] = None,
    apply: Annotated[
        bool,
        typer.Option(
            "--apply",
            help="Then perform the operation and check that it did what the trace says (exit 3 "
            "if not). The snapshot file is never changed.",
        ),
    ] = False,
    config: ConfigOption = None,
    sets: SetOption = None,
) -> None:
    """Trace the exact path a get or put takes through a map: every slot or chain entry it reads,
    the Robin Hood swaps, and the outcome.

    The map comes from --snapshot or is built empty by --mode and --hashing, then receives the
    --seed-entry entries. Tracing changes nothing; --apply then performs the operation for real.
    """
    from adhash.atomic import atomic_write_text
    from adhash.errors import BadInputError, InvariantError
    from adhash.replay import build_map, resolve_mode
    from adhash.snapshot import load
    from adhash.trace import apply_and_check, trace_get, trace_put

    if operation not in ("get", "put"):
        raise BadInputError(f"--operation must be get or put, got {operation!r}")
    if operation == "put" and value is None:
        raise BadInputError("put needs --value", hint="e.g. --operation put --key K1 --value v1")
    if operation == "get" and value is not None:
        raise BadInputError("--value applies to --operation put only")
    if snapshot is not None and mode is not None:
        raise BadInputError(
            "--mode builds a new map; a --snapshot map keeps its own backend",
            hint="leave out --mode or --snapshot",
        )
    if hashing is not None and hashing not in _HASHINGS:
        raise BadInputError(f"--hashing must be plain or salted, got {hashing!r}")
    if snapshot is not None and hashing is not None:
        raise BadInputError(
            "--hashing builds a new map; a --snapshot map keeps its own hashing",
            hint="leave out --hashing or --snapshot",
        )
    traced_key = parse_key(key, int_key=int_key)
    seeds = [_parse_seed(text, int_key=int_key) for text in seed_entries or []]
    backend = resolve_mode(mode or _DEFAULT_MODE)
    if backend == "dict":
        raise BadInputError(
            "--mode dict: a dict's probe path runs in C and cannot be traced",
            hint="choose robinhood, chaining, compact or adaptive",
        )
    settings = resolve_settings(config, sets).settings
    if snapshot is not None:
        m = load(snapshot, limits=settings.snapshot_limits())
    else:
        m = build_map(
            backend,
            policy=settings.policy(),
            hash_seed=settings.maps.hash_seed,
            hashing="salted" if hashing == "salted" else "plain",
        )
    for seed_key, seed_value in seeds:
        m[seed_key] = seed_value
    size = len(m)
    trace = trace_put(m, traced_key, value) if operation == "put" else trace_get(m, traced_key)
    check = apply_and_check(m, trace) if apply else None
    if check is not None and not check.matched:
        raise InvariantError(
            f"the {operation} did not do what its trace says: {'; '.join(check.mismatches)}",
            hint="this is a bug in adhash's probe tracing; please report it",
        )
    if export_json is not None:
        import orjson

        document = orjson.dumps(trace.as_dict(), option=orjson.OPT_INDENT_2).decode()
        atomic_write_text(export_json, document + "\n")
    source = {
        "snapshot": None if snapshot is None else str(snapshot),
        "backend": _mode_of(m),
        "hashing": _hashing_of(m),
        "seed_entries": len(seeds),
        "size": size,
    }
    data = {
        "trace": trace.as_dict(),
        "map": source,
        "applied": None if check is None else check.as_dict(),
        "export_json": None if export_json is None else str(export_json),
    }
    emit(
        ctx,
        "probe-visualize",
        data,
        _render(_describe(m), trace, check, snapshot, len(seeds), size, export_json),
    )


def _parse_seed(text: str, *, int_key: bool) -> tuple[str | int, str]:
    """``KEY=VALUE`` split at the first ``=``; the key typed as ``--int-key`` says."""
    from adhash.errors import BadInputError

    seed_key, equals, seed_value = text.partition("=")
    if not equals:
        raise BadInputError(
            f"--seed-entry {text!r} must be KEY=VALUE", hint="e.g. --seed-entry K1=v1"
        )
    try:
        return parse_key(seed_key, int_key=int_key), seed_value
    except BadInputError as error:
        raise BadInputError(f"--seed-entry {text!r}: {error.detail}", hint=error.hint) from None


def _mode_of(m: Any) -> str:
    return "dict" if isinstance(m, dict) else str(m.backend_name)


def _hashing_of(m: Any) -> Hashing:
    """``salted`` for a SaltedMap and an adaptive map on salted hashing, else ``plain``."""
    from adhash.maps import AdaptiveMap, SaltedMap

    if isinstance(m, AdaptiveMap):
        return m.hashing
    return "salted" if isinstance(m, SaltedMap) else "plain"


def _describe(m: Any) -> str:
    """The map for the text's first line: its backend (a SaltedMap's structure) and hashing."""
    from adhash.maps import SaltedMap

    backend = m.inner.backend_name if isinstance(m, SaltedMap) else _mode_of(m)
    return f"{backend}, salted hashing" if _hashing_of(m) == "salted" else backend


def _render(
    described: str,
    trace: ProbeTrace,
    check: TraceCheck | None,
    snapshot: Path | None,
    seeds: int,
    size: int,
    export_json: Path | None,
) -> str:
    origin = f"from {snapshot}" if snapshot is not None else "new"
    if seeds:
        origin += f", {seeds} seed entr{'y' if seeds == 1 else 'ies'}"
    entries = f"{size:,} entr{'y' if size == 1 else 'ies'}"
    lines = [f"Map: {described} ({origin}; {entries})", trace.render_text()]
    if check is not None:
        lines.append(f"Applied: the {trace.operation} was {check.outcome}, as traced.")
    if export_json is not None:
        lines.append(f"Trace written to {export_json}")
    return "\n".join(lines)
