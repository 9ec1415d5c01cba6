"""Fixtures for the CLI tests."""

from __future__ import annotations

import pytest
import typer

from adhash_cli.app import create_app
from adhash_cli.runner import run
from tests.cli.cli_harness import Outcome, RunCli


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> RunCli:
    """Run the CLI in-process (``app`` defaults to the production app) and capture its output."""

    def invoke(*args: str, app: typer.Typer | None = None) -> Outcome:
        exit_code = run(app if app is not None else create_app(), args)
        captured = capsys.readouterr()
        return Outcome(exit_code, captured.out, captured.err)

    return invoke
