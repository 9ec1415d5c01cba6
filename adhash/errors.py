"""The one error hierarchy of adhash.

Every failure a user can cause or meet is an :class:`AdhashError` with a ``kind`` and a stable
``exit_code``; the CLI turns it into the JSON error envelope, the GUI and TUI into a message.
"""

from __future__ import annotations

__all__ = [
    "AdhashError",
    "BadInputError",
    "IOFailureError",
    "InvariantError",
    "PolicyError",
]


class AdhashError(Exception):
    """Base of every error adhash raises on purpose.

    ``detail`` says what went wrong, ``hint`` (optional) what to do about it.

    >>> err = BadInputError("row 3: unknown op 'pur'", hint="ops are put, get, del")
    >>> (err.kind, err.exit_code, str(err))
    ('BadInput', 2, "row 3: unknown op 'pur'")
    """

    kind: str = "Error"
    exit_code: int = 1

    def __init__(self, detail: str, *, hint: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.hint = hint

    def envelope(self) -> dict[str, str]:
        """The error envelope ``{"error", "detail", "hint"?}`` for machine-readable output.

        >>> InvariantError("chain 4 holds 3 entries, size says 2").envelope()
        {'error': 'Invariant', 'detail': 'chain 4 holds 3 entries, size says 2'}
        """
        payload = {"error": self.kind, "detail": self.detail}
        if self.hint:
            payload["hint"] = self.hint
        return payload


class BadInputError(AdhashError, ValueError):
    """The input (a flag, a file, a value) is malformed or out of range. Exit code 2."""

    kind = "BadInput"
    exit_code = 2


class InvariantError(AdhashError):
    """A structure or a result failed verification. Exit code 3."""

    kind = "Invariant"
    exit_code = 3


class PolicyError(AdhashError):
    """The operation is refused by a policy or is not supported. Exit code 4."""

    kind = "Policy"
    exit_code = 4


class IOFailureError(AdhashError, OSError):
    """Reading or writing a file or a socket failed. Exit code 5."""

    kind = "IO"
    exit_code = 5
