"""The settings as a flat catalog of fields, read from the model: path, meaning, range, default.

The wizard, the reference page, the comments of written files and the error messages all describe
a field through :class:`SettingField`, so none of them can drift from the model.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import AfterValidator, BaseModel
from pydantic.fields import FieldInfo

from adhash.config.model import Settings, _power_of_two

__all__ = ["SettingField", "fields", "lookup", "nearest_paths", "sections"]

Kind = Literal["bool", "int", "float", "choice", "text", "path", "numbers"]


@dataclass(frozen=True, slots=True)
class SettingField:
    """One setting: where it lives, what it means, what it accepts, and its default."""

    section: str
    name: str
    description: str
    kind: Kind
    default: Any
    optional: bool = False
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    minimum_inclusive: bool = True
    maximum: float | None = None
    maximum_inclusive: bool = True
    power_of_two: bool = False
    length: tuple[int | None, int | None] = (None, None)

    @property
    def path(self) -> str:
        """The dotted key, e.g. ``adaptive.migration_batch``."""
        return f"{self.section}.{self.name}"

    @property
    def env_var(self) -> str:
        """The environment variable that overrides it, e.g. ``ADHASH_ADAPTIVE__MIGRATION_BATCH``."""
        return f"ADHASH_{self.section.upper()}__{self.name.upper()}"

    def allowed(self) -> str:
        """What the field accepts, in words.

        >>> lookup("adaptive.migration_batch").allowed()
        'an integer from 1 to 1000000'
        >>> lookup("guardrails.load_factor").allowed()
        'a number > 0 and <= 1000000, or "none"'
        """
        text = self._allowed_base()
        return f'{text}, or "none"' if self.optional else text

    def _allowed_base(self) -> str:
        if self.kind == "bool":
            return "true or false"
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "path":
            return "a file path"
        if self.kind == "text":
            low, high = self.length
            return f"text of {low} to {high} characters"
        if self.kind == "numbers":
            low, high = self.length
            return f"a list of {low} to {high} numbers > 0 and <= 100 (or max)"
        noun = "an integer" if self.kind == "int" else "a number"
        if self.power_of_two:
            noun = "a power of two"
        bottom, top = self.minimum, self.maximum
        closed = self.minimum_inclusive and self.maximum_inclusive
        if bottom is not None and top is not None and closed:
            return f"{noun} from {_number(bottom)} to {_number(top)}"
        parts = []
        if bottom is not None:
            parts.append(f"{'>=' if self.minimum_inclusive else '>'} {_number(bottom)}")
        if top is not None:
            parts.append(f"{'<=' if self.maximum_inclusive else '<'} {_number(top)}")
        return f"{noun} " + " and ".join(parts) if parts else noun

    def format(self, value: Any) -> str:
        """``value`` as a user would type it (``none`` for an unset optional).

        >>> lookup("replay.percentiles").format((50.0, 99.9, 100.0))
        '50,99.9,max'
        """
        if value is None:
            return "none"
        if isinstance(value, bool):
            return "true" if value else "false"
        if self.kind == "numbers":
            return ",".join("max" if v == 100 else _plain(v) for v in value)
        if isinstance(value, float):
            return _plain(value)
        return str(value)


def _plain(value: float) -> str:
    """A number as typed: ``1.0`` → ``1``, ``0.25`` → ``0.25``."""
    return str(int(value)) if value.is_integer() else repr(value)


def _number(value: float) -> str:
    """A bound in words: ``1.0`` → ``1``, ``0.25`` → ``0.25``, ``2**40`` → ``2^40``."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and value >= 2**20 and value & (value - 1) == 0:
        return f"2^{value.bit_length() - 1}"
    return str(value)


@cache
def _catalog() -> tuple[SettingField, ...]:
    found = []
    for section, section_info in Settings.model_fields.items():
        for name, info in _section_model(section_info).model_fields.items():
            found.append(_describe(section, name, info))
    return tuple(found)


def _section_model(info: FieldInfo) -> type[BaseModel]:
    model = info.annotation
    if not (isinstance(model, type) and issubclass(model, BaseModel)):  # pragma: no cover
        raise TypeError(f"settings section {model!r} is not a model")
    return model


def _describe(section: str, name: str, info: FieldInfo) -> SettingField:
    base, metadata, optional = _unwrap(info.annotation, list(info.metadata))
    fields: dict[str, Any] = {
        "section": section,
        "name": name,
        "description": info.description or "",
        "default": info.default,
        "optional": optional,
    }
    for item in metadata:
        if isinstance(item, annotated_types.Ge):
            fields["minimum"] = item.ge
        elif isinstance(item, annotated_types.Gt):
            fields["minimum"], fields["minimum_inclusive"] = item.gt, False
        elif isinstance(item, annotated_types.Le):
            fields["maximum"] = item.le
        elif isinstance(item, annotated_types.Lt):
            fields["maximum"], fields["maximum_inclusive"] = item.lt, False
        elif isinstance(item, annotated_types.MinLen):
            fields["length"] = (item.min_length, fields.get("length", (None, None))[1])
        elif isinstance(item, annotated_types.MaxLen):
            fields["length"] = (fields.get("length", (None, None))[0], item.max_length)
        elif isinstance(item, AfterValidator) and item.func is _power_of_two:
            fields["power_of_two"] = True
    if get_origin(base) is Literal:
        fields["kind"], fields["choices"] = "choice", tuple(str(c) for c in get_args(base))
    elif get_origin(base) is tuple:
        fields["kind"] = "numbers"
    elif base is bool:
        fields["kind"] = "bool"
    elif base is int:
        fields["kind"] = "int"
    elif base is float:
        fields["kind"] = "float"
    elif base is Path:
        fields["kind"] = "path"
    elif base is str:
        fields["kind"] = "text"
    else:  # pragma: no cover - a new field type needs a kind here
        raise TypeError(f"setting {section}.{name} has an unsupported type {base!r}")
    return SettingField(**fields)


def _unwrap(annotation: Any, metadata: list[Any]) -> tuple[Any, list[Any], bool]:
    """Strip ``Annotated`` and ``| None``; collect every constraint found on the way."""
    optional = False
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            base, *extra = get_args(annotation)
            for item in extra:
                metadata.extend(item.metadata if isinstance(item, FieldInfo) else [item])
            annotation = base
        elif origin in (Union, types.UnionType):
            members = [arg for arg in get_args(annotation) if arg is not type(None)]
            optional = True
            (annotation,) = members
        else:
            return annotation, metadata, optional


def fields() -> tuple[SettingField, ...]:
    """Every setting, section by section, in the model's order."""
    return _catalog()


def sections() -> Iterator[tuple[str, str]]:
    """Each section's name and its one-line description."""
    for section, info in Settings.model_fields.items():
        yield section, (_section_model(info).__doc__ or "").strip().splitlines()[0]


def lookup(path: str) -> SettingField:
    """The field at a dotted ``path``; KeyError when there is none."""
    for field in _catalog():
        if field.path == path:
            return field
    raise KeyError(path)


def nearest_paths(path: str, limit: int = 1) -> list[str]:
    """The valid dotted keys closest to a mistyped ``path`` (also matching its last part alone).

    >>> nearest_paths("adaptive.migration_bath")
    ['adaptive.migration_batch']
    >>> nearest_paths("replay.migration_batch")
    ['adaptive.migration_batch']
    """
    paths = [field.path for field in _catalog()]
    close = difflib.get_close_matches(path, paths, n=limit, cutoff=0.6)
    if close:
        return close
    leaf = path.rpartition(".")[2]
    by_leaf = {field.name: field.path for field in _catalog()}
    return [by_leaf[name] for name in difflib.get_close_matches(leaf, by_leaf, n=limit, cutoff=0.6)]
