"""Helpers for the CLI tests: how a run ended, and running code in a fresh interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Outcome:
    """How one run of the CLI ended: its exit code and what it printed."""

    exit_code: int
    stdout: str
    stderr: str


def success_envelope(outcome: Outcome, command: str | None = None) -> dict[str, Any]:
    """The one-line success envelope of a ``--json`` run that must have succeeded."""
    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.stdout.count("\n") == 1, outcome.stdout
    envelope: dict[str, Any] = orjson.loads(outcome.stdout)
    assert envelope["ok"] is True
    if command is not None:
        assert envelope["command"] == command
    return envelope


def error_envelope(outcome: Outcome, exit_code: int, kind: str) -> dict[str, Any]:
    """The one-line error envelope of a ``--json`` run that must have failed with ``kind``."""
    assert outcome.exit_code == exit_code, (outcome.stdout, outcome.stderr)
    assert outcome.stdout == ""
    assert outcome.stderr.count("\n") == 1, outcome.stderr
    envelope: dict[str, Any] = orjson.loads(outcome.stderr)
    assert envelope["error"] == kind
    assert envelope["detail"]
    return envelope


RunCli = Callable[..., Outcome]
"""The type of the ``run_cli`` fixture: ``run_cli(*args, app=None) -> Outcome``."""


def run_python(*args: str, env: Mapping[str, str] | None = None) -> Outcome:
    """Run ``python *args`` from the repository root in a fresh interpreter.

    ``env`` adds variables to (or overrides them in) the inherited environment.
    """
    completed = subprocess.run(
        [sys.executable, *args],
        cwd=REPO_ROOT,
        env={**os.environ, **env} if env is not None else None,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return Outcome(completed.returncode, completed.stdout, completed.stderr)
