"""Presets: named configuration files, built in or saved by the user into a presets folder.

A preset is a configuration file; applying one sets the keys it pins (commented-out defaults in a
saved preset pin nothing). User presets live in ``ADHASH_PRESETS_DIR`` or, without it, in
``presets`` under the user's configuration folder, and shadow built-in presets of the same name.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import platformdirs

from adhash.config.files import dumps, layer_from_text, read_layer
from adhash.config.layers import Layer, Source
from adhash.config.model import Settings
from adhash.errors import BadInputError, PolicyError

__all__ = [
    "PRESETS_ENV",
    "Preset",
    "check_preset_name",
    "default_presets_dir",
    "list_presets",
    "preset_layer",
    "save_preset",
]

PRESETS_ENV = "ADHASH_PRESETS_DIR"
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_NAME_RULE = "1 to 64 lower-case letters, digits, '-' or '_', starting with a letter or digit"


@dataclass(frozen=True, slots=True)
class Preset:
    """A preset's name, where it lives (None for a built-in), and its first comment line."""

    name: str
    path: Path | None
    description: str

    @property
    def builtin(self) -> bool:
        """Whether the preset ships with adhash."""
        return self.path is None


def default_presets_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``ADHASH_PRESETS_DIR``, else ``presets`` in the user's configuration folder."""
    env = os.environ if environ is None else environ
    if env.get(PRESETS_ENV):
        return Path(env[PRESETS_ENV])
    return platformdirs.user_config_path("adhash") / "presets"


def check_preset_name(name: str) -> str:
    """``name`` if it is a valid preset name; BadInput with a valid spelling otherwise.

    >>> check_preset_name("low-latency")
    'low-latency'
    >>> check_preset_name("My Preset!")
    Traceback (most recent call last):
    ...
    adhash.errors.BadInputError: invalid preset name 'My Preset!': use 1 to 64 lower-case letters, digits, '-' or '_', starting with a letter or digit (e.g. 'my-preset')
    """  # noqa: E501
    if _NAME.fullmatch(name):
        return name
    slug = re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-_")[:64] or "preset"
    raise BadInputError(f"invalid preset name {name!r}: use {_NAME_RULE} (e.g. {slug!r})")


def _builtin_names() -> dict[str, str]:
    folder = resources.files("adhash.config") / "presets"
    return {
        entry.name.removesuffix(".toml"): entry.read_text(encoding="utf-8")
        for entry in folder.iterdir()
        if entry.name.endswith(".toml")
    }


def _description(text: str) -> str:
    for line in text.splitlines():
        if line.startswith("#"):
            return line.lstrip("# ").strip()
        if line.strip():
            break
    return ""


def list_presets(directory: str | os.PathLike[str]) -> list[Preset]:
    """Every preset by name: the user's (from ``directory``) and the built-in ones they leave."""
    found: dict[str, Preset] = {
        name: Preset(name, None, _description(text)) for name, text in _builtin_names().items()
    }
    folder = Path(directory)
    if folder.is_dir():
        for path in folder.glob("*.toml"):
            name = path.stem
            if not _NAME.fullmatch(name) or not path.is_file():
                continue
            try:
                head = path.read_text(encoding="utf-8", errors="replace")[:4096]
            except OSError:
                head = ""
            found[name] = Preset(name, path, _description(head))
    return [found[name] for name in sorted(found)]


def preset_layer(name_or_path: str, directory: str | os.PathLike[str]) -> Layer:
    """The keys a preset pins: a user preset, a built-in one, or the path of a ``.toml`` file."""
    candidate = Path(name_or_path)
    if name_or_path.endswith(".toml") or os.sep in name_or_path or "/" in name_or_path:
        return read_layer(candidate, Source("preset", str(candidate)))
    name = check_preset_name(name_or_path)
    path = Path(directory) / f"{name}.toml"
    if path.is_file():
        return read_layer(path, Source("preset", str(path)))
    builtins = _builtin_names()
    if name in builtins:
        return layer_from_text(builtins[name], Source("preset", f"{name} (built-in)"))
    names = ", ".join(preset.name for preset in list_presets(directory))
    raise BadInputError(
        f"preset {name!r} not found in {directory} or the built-in presets",
        hint=f"available: {names}" if names else "save one with --save-preset NAME",
    )


def save_preset(
    settings: Settings, name: str, directory: str | os.PathLike[str], *, force: bool = False
) -> Path:
    """Write ``settings`` as the preset ``name`` (atomically); Policy error if it exists."""
    from adhash.atomic import atomic_write_text

    name = check_preset_name(name)
    path = Path(directory) / f"{name}.toml"
    if path.exists() and not force:
        raise PolicyError(
            f"preset {name!r} already exists: {path}", hint="add --force to overwrite it"
        )
    atomic_write_text(path, dumps(settings, title=f"adhash preset {name}"))
    return path
