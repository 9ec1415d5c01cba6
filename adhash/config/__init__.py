"""Configuration: every tunable setting as a typed model, read from TOML, the environment and flags.

``resolve()`` combines them with one precedence (flag > ``ADHASH_*`` environment variable >
configuration file > default) and records where each value came from. Files are TOML, written
with a comment for every key; presets are named configuration files in a presets folder. See
``docs/config.md``.
"""

from adhash.config.catalog import SettingField, fields, lookup
from adhash.config.files import dumps, load_settings, loads, write_settings
from adhash.config.layers import ResolvedSettings, Source, resolve
from adhash.config.model import (
    SCHEMA,
    AdaptiveSettings,
    GuardrailSettings,
    MapSettings,
    ReplaySettings,
    ServerSettings,
    Settings,
    SnapshotSettings,
)

__all__ = [
    "SCHEMA",
    "AdaptiveSettings",
    "GuardrailSettings",
    "MapSettings",
    "ReplaySettings",
    "ResolvedSettings",
    "ServerSettings",
    "SettingField",
    "Settings",
    "SnapshotSettings",
    "Source",
    "dumps",
    "fields",
    "load_settings",
    "loads",
    "lookup",
    "resolve",
    "write_settings",
]
