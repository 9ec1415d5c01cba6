"""``adhash info``: versions, platform and installed extras, as text and as a JSON envelope."""

from __future__ import annotations

import platform

import orjson

from adhash._version import __version__
from tests.cli.cli_harness import RunCli


def test_info_text_names_version_python_platform_and_extras(run_cli: RunCli) -> None:
    outcome = run_cli("info")
    assert (outcome.exit_code, outcome.stderr) == (0, "")
    assert outcome.stdout.startswith(f"adhash {__version__}\n")
    assert platform.python_version() in outcome.stdout
    assert platform.platform() in outcome.stdout
    assert "cli: installed" in outcome.stdout


def test_info_json_is_one_line_success_envelope(run_cli: RunCli) -> None:
    outcome = run_cli("--json", "info")
    assert (outcome.exit_code, outcome.stderr) == (0, "")
    assert outcome.stdout.count("\n") == 1
    envelope = orjson.loads(outcome.stdout)
    assert envelope == {
        "ok": True,
        "command": "info",
        "version": __version__,
        "python": {
            "implementation": platform.python_implementation(),
            "version": platform.python_version(),
        },
        "platform": platform.platform(),
        "extras": envelope["extras"],
    }
    assert envelope["extras"]["cli"] is True
    assert set(envelope["extras"]) == {"cli", "gui", "tui"}
