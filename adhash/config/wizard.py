"""The configuration wizard: one prompt per setting, generated from the model.

Each prompt shows the setting's description, what it accepts and its current value; Enter keeps
the current value, an invalid answer is explained and asked again. Reading answers through a
function makes the wizard work the same on a terminal, with piped answers and in tests.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from adhash.config.catalog import SettingField, fields
from adhash.config.layers import Source, apply_assignments
from adhash.config.model import Settings
from adhash.errors import BadInputError

__all__ = ["run_wizard"]

_ANSWER = Source("flag", "answer")


def run_wizard(
    start: Settings,
    *,
    ask: Callable[[str], str | None],
    say: Callable[[str], None],
    sections: Collection[str] | None = None,
) -> Settings:
    """Ask for every setting (of ``sections``, or all) starting from ``start``; return the result.

    ``ask(prompt)`` returns the answer line, or None when input has ended, which stops the wizard
    with a BadInputError (nothing is half-written by the caller). ``say`` prints a line.

    >>> answers = iter(["robinhood", "0"] + [""] * 80)
    >>> said = []
    >>> s = run_wizard(Settings(), ask=lambda _: next(answers), say=said.append,
    ...                sections=["adaptive"])
    >>> s.adaptive.start_backend, s.adaptive.chaining_max_load_factor
    ('robinhood', 0.9)
    >>> print(*[line for line in said if line.startswith("  !")])
      ! adaptive.chaining_max_load_factor = '0': input should be greater than 0; allowed: a number > 0 and <= 1
    """  # noqa: E501
    settings = start
    current_section = ""
    for field in fields():
        if sections is not None and field.section not in sections:
            continue
        if field.section != current_section:
            current_section = field.section
            say(f"[{current_section}]")
        settings = _ask_field(settings, field, ask, say)
    return settings


def _ask_field(
    settings: Settings,
    field: SettingField,
    ask: Callable[[str], str | None],
    say: Callable[[str], None],
) -> Settings:
    current = getattr(getattr(settings, field.section), field.name)
    say(f"  {field.name}: {field.description}")
    say(f"  allowed: {field.allowed()}; default: {field.format(field.default)}")
    while True:
        answer = ask(f"  {field.name} [{field.format(current)}]: ")
        if answer is None:
            raise BadInputError(
                f"input ended at {field.path}; nothing was written",
                hint="answer every prompt (an empty line keeps the value), or use --defaults",
            )
        answer = answer.strip()
        if not answer:
            return settings
        try:
            return apply_assignments(settings, {field.path: (answer, _ANSWER)})
        except BadInputError as error:
            say("  ! " + error.detail.removeprefix(f"{_ANSWER}: "))
