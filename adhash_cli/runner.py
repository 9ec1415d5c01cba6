"""Runs the ``adhash`` Typer app and turns every way a run can end into an exit code.

Usage errors, :class:`~adhash.errors.AdhashError`, Ctrl-C and unexpected exceptions each end in an
error envelope (or its text form) on stderr and their documented exit code, never in a traceback;
``ADHASH_DEBUG=1`` adds the traceback of an unexpected exception. See ``docs/cli.md``.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Sequence

import typer

from adhash.errors import AdhashError, BadInputError
from adhash_cli.output import render_error

__all__ = ["EXIT_INTERNAL", "EXIT_INTERRUPTED", "run"]

EXIT_INTERNAL = 70  # EX_SOFTWARE in sysexits.h
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for Ctrl-C

_USAGE_HINT = "run 'adhash --help', or 'adhash COMMAND --help', for usage"
_BUG_HINT = (
    "this is a bug in adhash; please report it with the command you ran "
    "(ADHASH_DEBUG=1 prints the traceback)"
)


class _InternalError(AdhashError):
    """An exception adhash did not expect, that is a bug."""

    kind = "Internal"
    exit_code = EXIT_INTERNAL


class _InterruptedRunError(AdhashError):
    """The user stopped the run (Ctrl-C)."""

    kind = "Interrupted"
    exit_code = EXIT_INTERRUPTED


def run(app: typer.Typer, argv: Sequence[str]) -> int:
    """Run ``app`` on ``argv`` (without the program name) and return the exit code.

    Without arguments the help is shown, as ``adhash --help`` would.
    """
    args = _json_first(list(argv)) or ["--help"]
    failure: AdhashError
    try:
        outcome = typer.main.get_command(app).main(
            args=args, prog_name="adhash", standalone_mode=False
        )
    except AdhashError as error:
        failure = error
    except (typer.Abort, KeyboardInterrupt):
        failure = _InterruptedRunError("interrupted")
    except typer.TyperException as usage_error:
        if type(usage_error).__name__ == "NoArgsIsHelpError":
            # A command group run bare (`adhash config`) has printed its help, as --help would.
            return 0
        failure = BadInputError(usage_error.format_message(), hint=_USAGE_HINT)
    except Exception as unexpected:
        if os.environ.get("ADHASH_DEBUG") == "1":
            traceback.print_exc()
        failure = _InternalError(f"{type(unexpected).__name__}: {unexpected}", hint=_BUG_HINT)
    else:
        # Commands return None; an int is the code of a typer.Exit (--help, --version: 0).
        exit_code = outcome if isinstance(outcome, int) else 0
        if exit_code != EXIT_INTERRUPTED:
            return exit_code
        # Typer turns Ctrl-C into a silent exit code 130; say what happened.
        failure = _InterruptedRunError("interrupted")
    render_error(failure, as_json=_wants_json(args))
    return failure.exit_code


def _json_first(args: list[str]) -> list[str]:
    """``--json`` is a global flag; accept it after the command name too (before any ``--``).

    >>> _json_first(["run-csv", "--csv", "w.csv", "--json"])
    ['--json', 'run-csv', '--csv', 'w.csv']
    """
    options = args[: args.index("--")] if "--" in args else args
    if "--json" not in options:
        return args
    cut = len(options)
    return ["--json", *[arg for arg in options if arg != "--json"], *args[cut:]]


def _wants_json(args: list[str]) -> bool:
    """Whether the run asked for JSON output.

    Read from the raw arguments, not the parsed options: an unknown option fails the parse before
    the global callback stores ``--json``. Any ``--json`` before a ``--`` counts.
    """
    options = args[: args.index("--")] if "--" in args else args
    return "--json" in options
