"""The three console scripts: a missing extra gives its ``pip install`` line and exit code 1.

Each runs in a fresh interpreter in which the extra's modules are blocked (``sys.modules[name] =
None`` makes ``import name`` fail), so the test does not depend on what is installed.
"""

from __future__ import annotations

import pytest

from tests.cli.cli_harness import run_python

ENTRY_POINTS = {
    "adhash": "adhash_cli._entry",
    "adhash-gui": "adhash_gui._entry",
    "adhash-tui": "adhash_tui._entry",
}


def _run_entry(script: str, *, blocked: tuple[str, ...] = (), faked: tuple[str, ...] = ()) -> str:
    return (
        "import sys, types\n"
        f"for name in {blocked!r}: sys.modules[name] = None\n"
        f"for name in {faked!r}: sys.modules[name] = types.ModuleType(name)\n"
        f"sys.argv = [{script!r}, '--version']\n"
        f"from {ENTRY_POINTS[script]} import main\n"
        "main()\n"
    )


@pytest.mark.parametrize(
    ("script", "module", "extra"),
    [
        ("adhash", "typer", "cli"),
        ("adhash", "rich", "cli"),
        ("adhash", "orjson", "cli"),
        ("adhash-gui", "PyQt6", "gui"),
        ("adhash-gui", "pyqtgraph", "gui"),
        ("adhash-tui", "textual", "tui"),
    ],
)
def test_missing_extra_prints_its_pip_line_and_exits_1(
    script: str, module: str, extra: str
) -> None:
    faked = ("PyQt6", "pyqtgraph") if extra == "gui" else ()
    outcome = run_python(
        "-c", _run_entry(script, blocked=(module,), faked=tuple(m for m in faked if m != module))
    )
    assert outcome.exit_code == 1
    assert outcome.stdout == ""
    assert outcome.stderr.count("\n") == 1
    assert outcome.stderr.startswith(f"{script}: ")
    assert f"cannot import {module}" in outcome.stderr
    assert f"pip install 'adhash[{extra}]'" in outcome.stderr
    assert "Traceback" not in outcome.stderr


@pytest.mark.parametrize(
    ("script", "faked"),
    [("adhash-gui", ("PyQt6", "pyqtgraph")), ("adhash-tui", ("textual",))],
)
def test_front_end_not_in_this_release_exits_with_policy_code(
    script: str, faked: tuple[str, ...]
) -> None:
    outcome = run_python("-c", _run_entry(script, faked=faked))
    assert outcome.exit_code == 4
    assert outcome.stderr.startswith(f"{script}: Policy error: ")
    assert "not part of adhash" in outcome.stderr
    assert "Traceback" not in outcome.stderr


def test_cli_entry_with_its_extra_runs_the_app() -> None:
    outcome = run_python("-c", _run_entry("adhash"))
    assert (outcome.exit_code, outcome.stderr) == (0, "")
    assert outcome.stdout.startswith("adhash ")
