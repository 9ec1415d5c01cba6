"""Map keys as the command line types them, and keys and values as it shows them.

A key is text unless ``--int-key`` asks for an integer. Items a snapshot holds may be of any type
snapshots support (written by the Python API), so showing one never assumes it is text.
"""

from __future__ import annotations

import re

from adhash.errors import BadInputError

__all__ = ["json_item", "parse_key", "show_item"]

_INTEGER = re.compile(r"[+-]?[0-9]+")
_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1


def parse_key(text: str, *, int_key: bool) -> str | int:
    """The key ``text`` names: the text itself, or with ``int_key`` a signed 64-bit integer.

    >>> parse_key("007", int_key=False), parse_key("-42", int_key=True)
    ('007', -42)
    >>> parse_key("4.5", int_key=True)
    Traceback (most recent call last):
    ...
    adhash.errors.BadInputError: --int-key: '4.5' is not an integer
    """
    if not int_key:
        return text
    if not _INTEGER.fullmatch(text):
        raise BadInputError(
            f"--int-key: {text!r} is not an integer", hint="digits with an optional sign"
        )
    number = int(text)
    if not _INT64_MIN <= number <= _INT64_MAX:
        raise BadInputError(f"--int-key: {text} does not fit in a signed 64-bit integer")
    return number


def show_item(item: object) -> str:
    """``item`` as text: a string as it is, anything else as its ``repr``.

    >>> show_item("v1"), show_item(7), show_item(("a", None))
    ('v1', '7', "('a', None)")
    """
    return item if isinstance(item, str) else repr(item)


def json_item(item: object) -> object:
    """``item`` as JSON can hold it: text, numbers, booleans and null as they are, else ``repr``.

    >>> json_item("k"), json_item(3), json_item(b"x"), json_item(1 << 70) == repr(1 << 70)
    ('k', 3, "b'x'", True)
    """
    if item is None or isinstance(item, str | bool | float):
        return item
    if isinstance(item, int) and _INT64_MIN <= item <= _INT64_MAX:
        return item
    return repr(item)
