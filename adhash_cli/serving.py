"""Starting the metrics server from the CLI: port parsing, the token, the loopback warning."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from adhash.config import Settings
    from adhash.metrics.hub import MetricsHub
    from adhash.metrics.server import MetricsServer

__all__ = ["TOKEN_ENV", "parse_port", "start_server"]

TOKEN_ENV = "ADHASH_TOKEN"


def parse_port(text: str | None, flag: str) -> int | None:
    """``"auto"`` or ``"0"`` → 0 (any free port), a number → itself, None → None."""
    from adhash.errors import BadInputError

    if text is None:
        return None
    if text.strip().lower() == "auto":
        return 0
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65_535:
        raise BadInputError(f"{flag} must be a port from 0 to 65535 or auto, got {text!r}")
    return port


def read_token(settings: Settings) -> str | None:
    """``ADHASH_TOKEN``, else the contents of the ``server.token_file`` setting, else None."""
    from adhash.errors import BadInputError, IOFailureError

    token = os.environ.get(TOKEN_ENV, "").strip()
    if token:
        return token
    path: Path | None = settings.server.token_file
    if path is None:
        return None
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise IOFailureError(
            f"cannot read the token file {path}: {error.strerror or error}"
        ) from None
    except UnicodeDecodeError:
        raise BadInputError(f"the token file {path} is not UTF-8 text") from None
    if not text:
        raise BadInputError(f"the token file {path} is empty")
    return text


def start_server(hub: MetricsHub, settings: Settings, *, quiet: bool) -> MetricsServer:
    """Start a server for ``hub`` on the configured host and port; warn about open binds."""
    from adhash.metrics.server import MetricsServer, is_loopback

    token = read_token(settings)
    server = MetricsServer(
        hub,
        host=settings.server.host,
        port=settings.server.port,
        token=token,
        request_timeout=settings.server.request_timeout,
    ).start()
    if token is None and not is_loopback(server.host):
        typer.echo(
            f"adhash: warning: serving on {server.host} without a token: anyone who can reach "
            f"port {server.port} can read these metrics; set {TOKEN_ENV}",
            err=True,
        )
    if not quiet:
        typer.echo(f"Dashboard: {server.url}", err=True)
    return server
