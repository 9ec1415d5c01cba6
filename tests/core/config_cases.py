"""Hypothesis strategies for the configuration tests, built from the settings catalog.

Every strategy is derived from :func:`adhash.config.fields`, so a field added to the model is
drawn (within its declared bounds) without touching the tests. ``typable=True`` restricts text and
paths to what a user can type on one line and read back unchanged (no surrounding blanks, no
unset word such as ``none``).
"""

from __future__ import annotations

import string
from typing import Any

from hypothesis import strategies as st

from adhash.config import SettingField, Settings, fields
from adhash.config.model import UNSET_WORDS

NestedValues = dict[str, dict[str, Any]]
"""Values by section and field name, as ``Settings.model_validate`` takes them."""

_WORD = st.text(alphabet=string.ascii_lowercase + string.digits + "_-.", min_size=1, max_size=8)


def _int_values(field: SettingField) -> st.SearchStrategy[int]:
    assert field.minimum is not None
    assert field.maximum is not None
    low = int(field.minimum) + (0 if field.minimum_inclusive else 1)
    high = int(field.maximum) - (0 if field.maximum_inclusive else 1)
    if field.power_of_two:
        exponents = st.integers(max(low - 1, 0).bit_length(), high.bit_length() - 1)
        return exponents.map(lambda exponent: 2**exponent)
    # The bounds themselves are the likeliest to be wrong somewhere: draw them often.
    return st.sampled_from([low, high]) | st.integers(low, high)


def _float_values(field: SettingField) -> st.SearchStrategy[float]:
    assert field.minimum is not None
    assert field.maximum is not None
    return st.floats(
        min_value=float(field.minimum),
        max_value=float(field.maximum),
        exclude_min=not field.minimum_inclusive,
        exclude_max=not field.maximum_inclusive,
        allow_nan=False,
        allow_infinity=False,
    )


def _percentiles() -> st.SearchStrategy[tuple[float, ...]]:
    one = st.floats(min_value=0, max_value=100, exclude_min=True) | st.just(100.0)
    return st.lists(one, min_size=1, max_size=32).map(tuple)


def _text(field: SettingField, *, typable: bool) -> st.SearchStrategy[str]:
    low, high = field.length
    low = 1 if low is None else low
    high = 40 if high is None else min(high, 40)
    if typable:
        return _WORD.filter(lambda word: word not in UNSET_WORDS)
    return st.text(min_size=low, max_size=high)


def _path() -> st.SearchStrategy[str]:
    segments = st.lists(_WORD.filter(lambda word: word not in (".", "..")), min_size=1, max_size=3)
    joined = st.tuples(st.sampled_from(["", "/", "~/"]), segments).map(
        lambda parts: parts[0] + "/".join(parts[1])
    )
    return joined.filter(lambda path: path.lower() not in UNSET_WORDS)


def field_values(field: SettingField, *, typable: bool = False) -> st.SearchStrategy[Any]:
    """Any value the field accepts, drawn inside its catalog bounds (None too when optional)."""
    base: st.SearchStrategy[Any]
    if field.kind == "bool":
        base = st.booleans()
    elif field.kind == "choice":
        base = st.sampled_from(field.choices)
    elif field.kind == "int":
        base = _int_values(field)
    elif field.kind == "float":
        base = _float_values(field)
    elif field.kind == "numbers":
        base = _percentiles()
    elif field.kind == "text":
        base = _text(field, typable=typable)
    elif field.kind == "path":
        base = _path()
    else:  # pragma: no cover - a new kind needs a strategy here
        raise AssertionError(f"no strategy for kind {field.kind!r}")
    return st.none() | base if field.optional else base


@st.composite
def settings_values(draw: st.DrawFn, *, typable: bool = False) -> NestedValues:
    """A nested dict setting every field to a valid value."""
    nested: NestedValues = {}
    for field in fields():
        nested.setdefault(field.section, {})[field.name] = draw(
            field_values(field, typable=typable)
        )
    return nested


def valid_settings(*, typable: bool = False) -> st.SearchStrategy[Settings]:
    """Settings with every field drawn inside its bounds."""
    return settings_values(typable=typable).map(Settings.model_validate)


@st.composite
def field_and_value(draw: st.DrawFn, *, typable: bool = False) -> tuple[SettingField, Any]:
    """One field of the catalog and a valid value for it."""
    field = draw(st.sampled_from(fields()))
    return field, draw(field_values(field, typable=typable))
