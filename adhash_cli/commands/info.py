"""``adhash info``: which adhash, on which Python and platform, with which optional extras."""

from __future__ import annotations

import platform

import typer

from adhash._version import __version__
from adhash.extras import EXTRAS
from adhash_cli.output import emit

__all__ = ["info"]


def info(ctx: typer.Context) -> None:
    """Show the adhash version, the Python and platform it runs on, and the installed extras."""
    python = {
        "implementation": platform.python_implementation(),
        "version": platform.python_version(),
    }
    installed = {name: extra.is_installed() for name, extra in EXTRAS.items()}
    report = {
        "version": __version__,
        "python": python,
        "platform": platform.platform(),
        "extras": installed,
    }
    extra_lines = [
        f"{name}: "
        + ("installed" if present else f"not installed ({EXTRAS[name].install_command})")
        for name, present in installed.items()
    ]
    text = "\n".join(
        [
            f"adhash {__version__}",
            f"python    {python['implementation']} {python['version']}",
            f"platform  {report['platform']}",
            "extras    " + "\n          ".join(extra_lines),
        ]
    )
    emit(ctx, "info", report, text)
