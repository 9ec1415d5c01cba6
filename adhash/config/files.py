"""Configuration files: TOML read with :mod:`tomllib`, written with :mod:`tomli_w` and comments.

A written file lists every setting with its description, range and default. Values equal to the
default are written commented out, so the file documents every knob but pins only what was
changed; reading a written file gives back the same settings (round-trip stable).
"""

from __future__ import annotations

import os
import textwrap
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from adhash.atomic import atomic_write_text
from adhash.config.catalog import SettingField, fields, sections
from adhash.config.layers import Layer, Source, check_schema, settings_from_layer, unknown_key
from adhash.config.model import SCHEMA, Settings
from adhash.errors import BadInputError, IOFailureError

__all__ = ["MAX_CONFIG_BYTES", "dumps", "load_settings", "loads", "read_layer", "write_settings"]

MAX_CONFIG_BYTES = 1 << 20
"""Larger files are refused: a configuration is a few kilobytes."""


def read_layer(path: str | os.PathLike[str], source: Source | None = None) -> Layer:
    """The settings a TOML file sets, by dotted key; IO or BadInput errors naming the file."""
    path = Path(path)
    source = source or Source("file", str(path))
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        hint = (
            "check the preset's path, or give a preset name ('config-edit --list-presets')"
            if source.kind == "preset"
            else "check the path given to --config or ADHASH_CONFIG"
        )
        raise IOFailureError(f"{source}: no such file", hint=hint) from None
    except IsADirectoryError:
        raise IOFailureError(f"{source}: is a directory, not a file") from None
    except OSError as error:
        raise IOFailureError(f"{source}: cannot read: {error.strerror or error}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise BadInputError(f"{source}: larger than {MAX_CONFIG_BYTES} bytes; not a config file")
    return layer_from_text(data, source)


def layer_from_text(data: bytes | str, source: Source) -> Layer:
    """The dotted keys of a TOML document, checked for shape and unknown keys (not values)."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        document = tomllib.loads(text)
    except UnicodeDecodeError as error:
        raise BadInputError(f"{source}: not UTF-8 text (byte {error.start})") from None
    except tomllib.TOMLDecodeError as error:
        raise BadInputError(f"{source}: invalid TOML: {error}") from None
    layer: Layer = {}
    known_sections = dict(sections())
    known_keys = {field.path for field in fields()}
    for section, table in document.items():
        if section == "schema":
            check_schema(table, source)
            continue
        if section not in known_sections:
            first = next(iter(table), "") if isinstance(table, dict) else ""
            raise unknown_key(f"{section}.{first}" if first else section, source)
        if not isinstance(table, dict):
            raise BadInputError(
                f"{source}: {section} must be a table ([{section}]), got {type(table).__name__}"
            )
        for name, value in table.items():
            key = f"{section}.{name}"
            if isinstance(value, dict):
                raise BadInputError(f"{source}: {key} must be a value, not a table")
            if key not in known_keys:
                raise unknown_key(key, source)
            layer[key] = (value, source)
    return layer


def loads(text: str, source: Source | None = None) -> Settings:
    """Settings from TOML text: defaults for what it leaves out (no environment applied)."""
    return settings_from_layer(layer_from_text(text, source or Source("file", "<text>")))


def load_settings(path: str | os.PathLike[str], source: Source | None = None) -> Settings:
    """Settings from a TOML file alone (no environment applied): for editing and presets."""
    return settings_from_layer(read_layer(path, source))


def dumps(settings: Settings, *, title: str = "adhash configuration") -> str:
    """The settings as a commented TOML document; defaults are written commented out.

    >>> s = Settings.model_validate({"adaptive": {"migration_batch": 128}})
    >>> loads(dumps(s)) == s
    True
    >>> "migration_batch = 128" in dumps(s), "# check_interval = 256" in dumps(s)
    (True, True)
    """
    dumped = settings.model_dump()
    lines = [
        f"# {title}",
        "# Every key is optional; a commented-out key shows its default. Precedence: command-line",
        "# flag > ADHASH_<SECTION>__<KEY> environment variable > this file > default.",
        f"schema = {_toml_value(SCHEMA)}",
    ]
    descriptions = dict(sections())
    for section in descriptions:
        lines += ["", f"[{section}]", *_comment(descriptions[section])]
        for field in fields():
            if field.section == section:
                lines += _field_lines(field, dumped[section][field.name])
    return "\n".join(lines) + "\n"


def _field_lines(field: SettingField, value: Any) -> list[str]:
    default = field.format(field.default)
    lines = [""]
    lines += _comment(field.description)
    lines += _comment(f"Allowed: {field.allowed()}. Default: {default}.")
    assignment = f"{field.name} = {_toml_value(value)}"
    lines.append(f"# {assignment}" if value == field.default else assignment)
    return lines


def _comment(text: str) -> list[str]:
    return textwrap.wrap(text, width=100, initial_indent="# ", subsequent_indent="# ")


def _toml_value(value: Any) -> str:
    if value is None:
        return '"none"'
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, Path):
        value = str(value)
    return tomli_w.dumps({"v": value}).removeprefix("v = ").rstrip("\n")


def write_settings(
    settings: Settings, path: str | os.PathLike[str], *, title: str = "adhash configuration"
) -> Path:
    """Write ``settings`` to ``path`` atomically (a reader sees the old file or the new one)."""
    path = Path(path)
    atomic_write_text(path, dumps(settings, title=title))
    return path
