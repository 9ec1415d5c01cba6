"""How ``adhash`` commands print results and failures.

A result goes through :func:`emit`: with ``--json`` the success envelope
``{"ok": true, "command": ..., ...}`` as one JSON line on stdout, otherwise the command's text. A
failure is an :class:`~adhash.errors.AdhashError` printed by :func:`render_error` on stderr: its
envelope as one JSON line, or ``adhash: <Kind> error: <detail>`` and a ``hint:`` line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import orjson
import typer

from adhash.errors import AdhashError

__all__ = ["GlobalOptions", "emit", "is_json", "render_error"]


@dataclass(frozen=True, slots=True)
class GlobalOptions:
    """The options given before the command name, kept as the Typer context object."""

    json: bool = False


def is_json(ctx: typer.Context) -> bool:
    """Whether ``--json`` was given."""
    return ctx.ensure_object(GlobalOptions).json


def emit(ctx: typer.Context, command: str, data: Mapping[str, object], text: str) -> None:
    """Print the result of ``command``: its success envelope under ``--json``, else ``text``."""
    if ctx.ensure_object(GlobalOptions).json:
        typer.echo(_json_line({"ok": True, "command": command, **data}))
    else:
        typer.echo(text)


def render_error(error: AdhashError, *, as_json: bool) -> None:
    """Print ``error`` on stderr: its envelope as one JSON line, or readable text."""
    if as_json:
        typer.echo(_json_line(error.envelope()), err=True)
        return
    typer.echo(f"adhash: {error.kind} error: {error.detail}", err=True)
    if error.hint:
        typer.echo(f"hint: {error.hint}", err=True)


def _json_line(payload: Mapping[str, object]) -> str:
    return orjson.dumps(payload).decode()
