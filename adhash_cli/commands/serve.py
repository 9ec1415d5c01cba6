"""``adhash serve``: the metrics server and dashboard over an NDJSON metrics file."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from adhash_cli.output import emit
from adhash_cli.serving import parse_port, start_server
from adhash_cli.settings import ConfigOption, SetOption, resolve_settings, setting_help

__all__ = ["serve"]


def serve(
    ctx: typer.Context,
    source: Annotated[
        Path | None,
        typer.Option(
            "--source", help="NDJSON metrics file to serve (written by run-csv --metrics-out-dir)."
        ),
    ] = None,
    follow: Annotated[
        bool,
        typer.Option(
            "--follow", help="Keep reading --source as a run appends to it (waits for the file)."
        ),
    ] = False,
    compare: Annotated[
        Path | None,
        typer.Option("--compare", help="An A/B comparison result (ab-compare JSON) to show."),
    ] = None,
    host: Annotated[
        str | None,
        typer.Option("--host", help=setting_help("server.host", "Address to listen on.")),
    ] = None,
    port: Annotated[
        str | None,
        typer.Option(
            "--port",
            help=setting_help("server.port", "Port to listen on; auto or 0 picks a free one."),
        ),
    ] = None,
    history_limit: Annotated[
        int | None,
        typer.Option(
            "--history-limit",
            min=1,
            help=setting_help("server.history_limit", "Ticks kept for the history endpoints."),
        ),
    ] = None,
    poll_interval: Annotated[
        float,
        typer.Option("--poll-interval", min=0.01, help="Seconds between reads of a followed file."),
    ] = 0.5,
    duration: Annotated[
        float | None,
        typer.Option(
            "--duration",
            min=0.0,
            help="Stop after this many seconds (default: serve until Ctrl-C or SIGTERM).",
        ),
    ] = None,
    config: ConfigOption = None,
    sets: SetOption = None,
) -> None:
    """Serve the dashboard, JSON API and Prometheus /metrics for a metrics file.

    Prints the dashboard's address on stderr (and, with --json, a line with it on stdout), then
    serves until Ctrl-C, SIGTERM or --duration. With ADHASH_TOKEN set every endpoint but the
    health checks needs the token.
    """
    from adhash.errors import BadInputError, IOFailureError
    from adhash.metrics.follow import NDJSONFollower, load_file
    from adhash.metrics.hub import MetricsHub

    settings = resolve_settings(
        config,
        sets,
        {
            "server.host": (host, "--host"),
            "server.port": (parse_port(port, "--port"), "--port"),
            "server.history_limit": (history_limit, "--history-limit"),
        },
    ).settings
    if source is None and compare is None:
        raise BadInputError(
            "nothing to serve", hint="give --source METRICS.ndjson and/or --compare RESULT.json"
        )
    if follow and source is None:
        raise BadInputError("--follow needs --source")
    hub = MetricsHub(
        history_limit=settings.server.history_limit, source="follow" if follow else "file"
    )
    if compare is not None:
        hub.set_comparison(_read_comparison(compare))
    follower = None
    if source is not None:
        if follow:
            follower = NDJSONFollower(source, hub, poll_interval=poll_interval).start()
        else:
            if source.is_dir():
                raise IOFailureError(f"--source {source} is a directory, not a metrics file")
            if load_file(source, hub) == 0:
                rejected = hub.rejected_records
                what = (
                    f"none of its {rejected:,} lines is an adhash metrics record"
                    if rejected
                    else "it is empty"
                )
                raise BadInputError(
                    f"--source {source} holds no metrics to serve: {what}",
                    hint="give an NDJSON file written by run-csv --metrics-out-dir, or add "
                    "--follow to wait for a run to write one",
                )
    server = start_server(hub, settings, quiet=False)
    emit(
        ctx,
        "serve",
        {"url": server.url, "host": server.host, "port": server.port, "status": "serving"},
        f"serving {source or compare} at {server.url} (Ctrl-C stops)",
    )
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait(duration)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.stop()
        if follower is not None:
            follower.stop()
    typer.echo("adhash: server stopped", err=True)


def _read_comparison(path: Path) -> dict[str, Any]:
    import orjson

    from adhash.errors import BadInputError, IOFailureError

    try:
        data = path.read_bytes()
    except OSError as error:
        raise IOFailureError(f"cannot read --compare {path}: {error.strerror or error}") from None
    if len(data) > 64 << 20:
        raise BadInputError(f"--compare {path} is over 64 MiB; not a comparison result")
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise BadInputError(f"--compare {path} is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise BadInputError(f"--compare {path} holds no JSON object")
    return document
