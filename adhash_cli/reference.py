"""Generated reference documentation: every command of the Typer app, and every setting.

``python -m adhash_cli.reference --write`` splices the generated parts into ``docs/cli.md`` and
``docs/config.md`` between their ``<!-- generated:NAME -->`` markers; ``--check`` exits 1 when a
page is out of date (a test runs the same check). The hand-written prose around them stays.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import typer

from adhash_cli.app import create_app

__all__ = ["GENERATED", "GENERATED_FILES", "main", "render_commands", "splice"]

_DOCS = Path(__file__).resolve().parents[1] / "docs"


def render_commands() -> str:
    """Every command with its summary, usage and a table of its arguments and options."""
    root = typer.main.get_command(create_app())
    root_ctx = typer.Context(root, info_name="adhash")
    out: list[str] = []
    for path, command, ctx in _walk(root, root_ctx, ["adhash"]):
        out += [f"### `{' '.join(path)}`", ""]
        help_text = (command.help or "").strip()
        if help_text:
            out += [help_text, ""]
        usage = " ".join(command.collect_usage_pieces(ctx))
        out += ["```text", f"{' '.join(path)} {usage}".rstrip(), "```", ""]
        rows = []
        for param in command.params:
            record = param.get_help_record(ctx)
            if record is None or param.name == "help":
                continue
            names, text = record
            rows.append(f"| `{names}` | {_cell(text)} |")
        if rows:
            out += ["| argument or option | meaning |", "| --- | --- |", *rows, ""]
        if isinstance(command, typer.core.TyperGroup):
            subcommands = ", ".join(f"`{name}`" for name in command.commands)
            out += [f"Subcommands: {subcommands}.", ""]
    return "\n".join(out).rstrip() + "\n"


def _walk(
    command: Any, ctx: typer.Context, path: list[str]
) -> Iterator[tuple[list[str], Any, typer.Context]]:
    """Every command below ``command`` (groups too, but not the root), depth first."""
    if not isinstance(command, typer.core.TyperGroup):
        yield path, command, ctx
        return
    if len(path) > 1:
        yield path, command, ctx
    for name, sub in command.commands.items():
        yield from _walk(sub, typer.Context(sub, info_name=name, parent=ctx), [*path, name])


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _render_config() -> str:
    from adhash.config.reference import render_reference

    return render_reference()


def _render_config_schema() -> str:
    import orjson

    from adhash.config.model import json_schema

    return orjson.dumps(
        json_schema(), option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE
    ).decode()


GENERATED: dict[str, tuple[Path, Callable[[], str]]] = {
    "commands": (_DOCS / "cli.md", render_commands),
    "settings": (_DOCS / "config.md", _render_config),
}
"""Each generated part of a page: the page it lives in and the function that renders it."""

GENERATED_FILES: dict[Path, Callable[[], str]] = {
    _DOCS / "schemas" / "adhash.config.v1.json": _render_config_schema,
}
"""Whole generated files and the function that renders each."""


def splice(page: str, name: str, body: str) -> str:
    """``page`` with the text between ``<!-- generated:NAME -->`` and its end marker replaced.

    >>> splice("a\\n<!-- generated:x -->\\nold\\n<!-- end generated:x -->\\nb", "x", "new\\n")
    'a\\n<!-- generated:x -->\\nnew\\n<!-- end generated:x -->\\nb'
    """
    start, end = f"<!-- generated:{name} -->\n", f"<!-- end generated:{name} -->"
    head, found, rest = page.partition(start)
    _, found_end, tail = rest.partition(end)
    if not found or not found_end:
        raise ValueError(f"the page has no {start.strip()} ... {end} markers")
    return f"{head}{start}{body}{end}{tail}"


def main(argv: list[str] | None = None) -> int:
    """Write (``--write``) or check (``--check``) every generated part of the docs."""
    parser = argparse.ArgumentParser(prog="python -m adhash_cli.reference", description=__doc__)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true", help="update the pages")
    action.add_argument("--check", action="store_true", help="exit 1 if a page is stale")
    args = parser.parse_args(argv)
    stale = []
    pages: list[tuple[Path, Callable[[], str]]] = [
        (page, partial(_spliced, page, name, render)) for name, (page, render) in GENERATED.items()
    ]
    pages += GENERATED_FILES.items()
    for page, render in pages:
        current = _read(page)
        updated = render()
        if updated == current:
            continue
        if args.write:
            page.write_text(updated, encoding="utf-8")
            print(f"updated {page}")
        else:
            stale.append(str(page))
    if stale:
        print("stale: " + ", ".join(stale) + " (run python -m adhash_cli.reference --write)")
        return 1
    return 0


def _spliced(page: Path, name: str, render: Callable[[], str]) -> str:
    return splice(_read(page), name, render())


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""


if __name__ == "__main__":
    sys.exit(main())
