"""The optional extras of the adhash distribution, and how a console script checks for its own.

Standard library only: a console script consults this table before it imports anything its extra
brings, so a missing extra ends in a ``pip install`` line instead of a traceback.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from dataclasses import dataclass

__all__ = ["EXIT_MISSING_EXTRA", "EXTRAS", "Extra", "require"]

EXIT_MISSING_EXTRA = 1


@dataclass(frozen=True, slots=True)
class Extra:
    """An optional extra: its name in ``adhash[name]``, what it enables, the modules it provides."""

    name: str
    feature: str
    modules: tuple[str, ...]

    @property
    def install_command(self) -> str:
        """The pip command that installs this extra.

        >>> EXTRAS["gui"].install_command
        "pip install 'adhash[gui]'"
        """
        return f"pip install 'adhash[{self.name}]'"

    def is_installed(self) -> bool:
        """Whether every module of the extra can be found, without importing any of them.

        >>> Extra("none", "nothing", ()).is_installed()
        True
        """
        return all(importlib.util.find_spec(module) is not None for module in self.modules)


EXTRAS: dict[str, Extra] = {
    extra.name: extra
    for extra in (
        Extra("cli", "the command-line interface", ("typer", "rich", "orjson")),
        Extra("gui", "Mission Control, the desktop app,", ("PyQt6", "pyqtgraph")),
        Extra("tui", "the terminal dashboard", ("textual",)),
    )
}


def require(extra: Extra, *, program: str) -> None:
    """Import the modules of ``extra``; if one is missing, print how to install it and exit 1."""
    for module in extra.modules:
        try:
            importlib.import_module(module)
        except ImportError:
            print(
                f"{program}: {extra.feature} is an optional extra (cannot import {module}); "
                f"install it with: {extra.install_command}",
                file=sys.stderr,
            )
            raise SystemExit(EXIT_MISSING_EXTRA) from None
