"""The ``--config`` and ``--set`` options shared by every command that reads settings.

A command lists the flags that map onto settings; :func:`resolve_settings` combines them with the
environment, the configuration file and the defaults (flag > environment > file > default).
Such flags default to None so that a flag the user did not give never hides the configuration.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from adhash.config import ResolvedSettings

__all__ = ["ConfigOption", "SetOption", "resolve_settings", "setting_help"]

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="Read settings from this TOML file (default: the file named by ADHASH_CONFIG, if "
        "any). Flags and ADHASH_<SECTION>__<KEY> variables override it.",
    ),
]
SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="KEY=VALUE",
        help="Override one setting for this run, e.g. --set adaptive.migration_batch=128; "
        "repeatable. 'adhash config show' lists every key.",
    ),
]


def setting_help(path: str, text: str) -> str:
    """``text`` followed by the setting's default and key, for a flag that sets it."""
    from adhash.config import lookup

    field = lookup(path)
    return f"{text} Default: {field.format(field.default)}, or the setting {path}."


def resolve_settings(
    config: Path | None,
    sets: list[str] | None,
    flags: dict[str, tuple[Any, str]] | None = None,
) -> ResolvedSettings:
    """The effective settings of a command: its flags and ``--set`` over environment, file,
    defaults. A key given both by its own flag and by ``--set`` is an error.
    """
    from adhash.config import resolve
    from adhash.config.layers import Source, parse_assignment
    from adhash.errors import BadInputError

    layer: dict[str, tuple[Any, str]] = {
        key: given for key, given in (flags or {}).items() if given[0] is not None
    }
    for text in sets or []:
        key, value = parse_assignment(text, Source("flag", "--set"))
        if key in layer:
            raise BadInputError(
                f"{key} is given twice ({layer[key][1]} and --set)", hint="give it once"
            )
        layer[key] = (value, f"--set {key}")
    return resolve(config, flags=layer)
