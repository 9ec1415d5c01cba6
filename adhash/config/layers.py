"""Where settings come from, and the one precedence that combines them.

A value is taken from the first of: a command-line flag, an ``ADHASH_<SECTION>__<FIELD>``
environment variable, the configuration file (``--config`` or ``ADHASH_CONFIG``), the default.
:func:`resolve` returns the settings with the source of every value; every invalid value, from
any source, is a :class:`~adhash.errors.BadInputError` that names the source, the key and what
the key accepts.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from adhash.config.catalog import fields, lookup, nearest_paths, sections
from adhash.config.model import SCHEMA, Settings
from adhash.errors import BadInputError

__all__ = [
    "CONFIG_ENV",
    "ENV_PREFIX",
    "ResolvedSettings",
    "Source",
    "apply_assignments",
    "environment_layer",
    "parse_assignment",
    "resolve",
    "settings_from_layer",
]

ENV_PREFIX = "ADHASH_"
CONFIG_ENV = "ADHASH_CONFIG"
_CONFIG_HINT = "run 'adhash config schema' or see docs/config.md for every key and its range"

SourceKind = Literal["default", "file", "preset", "env", "flag"]


@dataclass(frozen=True, slots=True)
class Source:
    """Where one value came from: its kind and the file, variable or flag that gave it."""

    kind: SourceKind
    where: str = ""

    def __str__(self) -> str:
        labels = {
            "default": "default",
            "file": "config file",
            "preset": "preset",
            "env": "environment",
            "flag": "flag",
        }
        return f"{labels[self.kind]} {self.where}".rstrip()


DEFAULT = Source("default")

Layer = dict[str, tuple[Any, Source]]
"""Values by dotted key, each with its source."""


@dataclass(frozen=True, slots=True)
class ResolvedSettings:
    """The effective settings, where each value came from, and the file that was read."""

    settings: Settings
    sources: Mapping[str, Source] = field(default_factory=dict)
    config_file: Path | None = None

    def source_of(self, path: str) -> Source:
        """The source of the value at the dotted ``path`` (``default`` when nothing set it)."""
        return self.sources.get(path, DEFAULT)


def resolve(
    config_file: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, tuple[Any, str]] | None = None,
) -> ResolvedSettings:
    """The effective settings: flags > environment > configuration file > defaults.

    ``config_file`` is the ``--config`` path; without it ``ADHASH_CONFIG`` names the file, and
    without that no file is read. ``flags`` maps dotted keys to ``(value, flag name)``; a value of
    None means the flag was not given. ``environ`` defaults to ``os.environ``.

    >>> r = resolve(environ={"ADHASH_ADAPTIVE__MIGRATION_BATCH": "128"},
    ...             flags={"replay.warmup_ops": (1000, "--warmup-ops")})
    >>> r.settings.adaptive.migration_batch, str(r.source_of("adaptive.migration_batch"))
    (128, 'environment ADHASH_ADAPTIVE__MIGRATION_BATCH')
    >>> str(r.source_of("replay.warmup_ops")), str(r.source_of("replay.mode"))
    ('flag --warmup-ops', 'default')
    """
    from adhash.config.files import read_layer

    env = os.environ if environ is None else environ
    path: Path | None = None
    if config_file is not None:
        path = Path(config_file)
    elif env.get(CONFIG_ENV):
        path = Path(env[CONFIG_ENV])
    combined: Layer = {}
    if path is not None:
        combined.update(read_layer(path, Source("file", str(path))))
    combined.update(environment_layer(env))
    for key, (value, flag) in (flags or {}).items():
        if value is not None:
            _require_known(key, Source("flag", flag))
            combined[key] = (value, Source("flag", flag))
    settings = settings_from_layer(combined)
    return ResolvedSettings(settings, {key: source for key, (_, source) in combined.items()}, path)


def environment_layer(environ: Mapping[str, str]) -> Layer:
    """The settings given as ``ADHASH_<SECTION>__<FIELD>`` variables.

    A variable with that shape that names no setting is an error (a typo must not be ignored).
    """
    layer: Layer = {}
    for name, value in environ.items():
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or "__" not in upper:
            continue
        section, _, leaf = upper[len(ENV_PREFIX) :].partition("__")
        key = f"{section.lower()}.{leaf.lower()}"
        source = Source("env", name)
        _require_known(key, source)
        layer[key] = (value, source)
    return layer


def parse_assignment(text: str, source: Source) -> tuple[str, str]:
    """``"adaptive.migration_batch=128"`` → ``("adaptive.migration_batch", "128")``.

    >>> parse_assignment("replay.mode = robinhood", Source("flag", "--set"))
    ('replay.mode', 'robinhood')
    """
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise BadInputError(
            f"{source}: {text!r} is not KEY=VALUE", hint="e.g. --set adaptive.migration_batch=128"
        )
    _require_known(key, source)
    return key, value.strip()


def apply_assignments(
    settings: Settings, assignments: Mapping[str, tuple[Any, Source]]
) -> Settings:
    """``settings`` with the given dotted keys replaced, validated as a whole."""
    layer: Layer = {key: (value, DEFAULT) for key, value in _flat(settings).items()}
    for key, (value, source) in assignments.items():
        _require_known(key, source)
        layer[key] = (value, source)
    return settings_from_layer(layer)


def settings_from_layer(layer: Layer) -> Settings:
    """Validate a layer of dotted keys into settings; BadInput naming each bad value's source."""
    nested: dict[str, dict[str, Any]] = {}
    for key, (value, _) in layer.items():
        section, _, leaf = key.partition(".")
        nested.setdefault(section, {})[leaf] = value
    try:
        return Settings.model_validate(nested)
    except ValidationError as error:
        raise _describe_errors(error, layer) from None


def _flat(settings: Settings) -> dict[str, Any]:
    dumped = settings.model_dump()
    return {f.path: dumped[f.section][f.name] for f in fields()}


def _require_known(key: str, source: Source) -> None:
    try:
        lookup(key)
    except KeyError:
        raise unknown_key(key, source) from None


def unknown_key(key: str, source: Source) -> BadInputError:
    """The error for a key no setting has, with the nearest valid key when one is close."""
    if key == "schema":
        return BadInputError(f"{source}: 'schema' is only valid at the top of a file")
    near = nearest_paths(key)
    if "." not in key:
        near = difflib.get_close_matches(key, [name for name, _ in sections()], n=1) or near
        if near:
            return BadInputError(
                f"{source}: unknown section {key}; did you mean {near[0]}?", hint=_CONFIG_HINT
            )
    if source.kind == "env":
        suggestion = f"; did you mean {lookup(near[0]).env_var}?" if near else ""
        return BadInputError(f"{source}: no setting {key}{suggestion}", hint=_CONFIG_HINT)
    suggestion = f"; did you mean {near[0]}?" if near else ""
    return BadInputError(f"{source}: unknown key {key}{suggestion}", hint=_CONFIG_HINT)


def _describe_errors(error: ValidationError, layer: Layer) -> BadInputError:
    problems = []
    for item in error.errors(include_url=False):
        loc = [str(part) for part in item["loc"]]
        key = ".".join(loc[:2])
        value, source = layer.get(key, (item.get("input"), DEFAULT))
        if item["type"] == "extra_forbidden":
            problems.append(unknown_key(key, source).detail)
            continue
        try:
            allowed = lookup(key).allowed()
        except KeyError:
            allowed = ""
        position = f" (item {int(loc[2]) + 1})" if len(loc) > 2 and loc[2].isdigit() else ""
        reason = item["msg"][0].lower() + item["msg"][1:]
        reason = reason.removeprefix("value error, ")
        problems.append(
            f"{source}: {key} = {value!r}{position}: {reason}"
            + (f"; allowed: {allowed}" if allowed else "")
        )
    return BadInputError("; ".join(problems), hint=_CONFIG_HINT)


def check_schema(value: Any, source: Source) -> None:
    """A file's optional top-level ``schema`` must be the one this adhash reads."""
    if value != SCHEMA:
        raise BadInputError(
            f"{source}: schema {value!r} is not {SCHEMA!r}",
            hint="this adhash reads adhash.config.v1 files; leave 'schema' out or set it to that",
        )
