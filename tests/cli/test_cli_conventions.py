"""The conventions every ``adhash`` command shares: global flags, envelopes and exit codes."""

from __future__ import annotations

import orjson
import pytest
import typer

from adhash._version import __version__
from adhash.errors import AdhashError, BadInputError, InvariantError, IOFailureError, PolicyError
from adhash_cli.app import create_app
from tests.cli.cli_harness import RunCli, run_python


def _failing_app(error: BaseException) -> typer.Typer:
    """The production app plus a test-only ``fail`` command that raises ``error``."""
    app = create_app()

    @app.command("fail")
    def fail() -> None:
        raise error

    return app


def test_version_flag_prints_the_version_and_exits_0(run_cli: RunCli) -> None:
    outcome = run_cli("--version")
    assert (outcome.exit_code, outcome.stdout, outcome.stderr) == (0, f"adhash {__version__}\n", "")


def test_help_lists_the_commands_and_exits_0(run_cli: RunCli) -> None:
    outcome = run_cli("--help")
    assert outcome.exit_code == 0
    assert "info" in outcome.stdout
    assert "--json" in outcome.stdout


def test_no_arguments_prints_the_help_and_exits_0(run_cli: RunCli) -> None:
    outcome = run_cli()
    assert outcome.exit_code == 0
    assert "info" in outcome.stdout


def test_unknown_flag_is_a_bad_input_envelope_on_stderr_only(run_cli: RunCli) -> None:
    outcome = run_cli("--json", "--bogus")
    assert outcome.exit_code == 2
    assert outcome.stdout == ""
    envelope = orjson.loads(outcome.stderr)
    assert envelope["error"] == "BadInput"
    assert "--bogus" in envelope["detail"]
    assert "--help" in envelope["hint"]


def test_unknown_flag_of_a_command_is_a_bad_input_envelope(run_cli: RunCli) -> None:
    outcome = run_cli("--json", "info", "--bogus")
    assert (outcome.exit_code, outcome.stdout) == (2, "")
    assert orjson.loads(outcome.stderr)["error"] == "BadInput"


def test_unknown_command_exits_2_with_readable_text(run_cli: RunCli) -> None:
    outcome = run_cli("no-such-command")
    assert (outcome.exit_code, outcome.stdout) == (2, "")
    first_line, hint_line = outcome.stderr.splitlines()
    assert first_line.startswith("adhash: BadInput error: ")
    assert "no-such-command" in first_line
    assert hint_line.startswith("hint: ")


@pytest.mark.parametrize(
    "error",
    [
        BadInputError("row 3: unknown op 'pur'", hint="ops are put, get, del"),
        InvariantError("chain 4 holds 3 entries, size says 2"),
        PolicyError("refused", hint="raise the limit"),
        IOFailureError("cannot write out.ndjson"),
    ],
    ids=lambda error: error.kind,
)
def test_adhash_error_maps_to_its_exit_code_and_envelope(
    run_cli: RunCli, error: AdhashError
) -> None:
    outcome = run_cli("--json", "fail", app=_failing_app(error))
    assert outcome.exit_code == error.exit_code
    assert outcome.stdout == ""
    assert outcome.stderr.count("\n") == 1
    assert orjson.loads(outcome.stderr) == error.envelope()


def test_adhash_error_as_text_names_kind_detail_and_hint(run_cli: RunCli) -> None:
    error = PolicyError("refused", hint="raise the limit")
    outcome = run_cli("fail", app=_failing_app(error))
    assert outcome.exit_code == 4
    assert outcome.stderr == "adhash: Policy error: refused\nhint: raise the limit\n"


def test_error_envelope_omits_a_missing_hint(run_cli: RunCli) -> None:
    outcome = run_cli("--json", "fail", app=_failing_app(InvariantError("broken")))
    assert orjson.loads(outcome.stderr) == {"error": "Invariant", "detail": "broken"}


def test_unexpected_exception_is_an_internal_envelope_with_exit_70(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ADHASH_DEBUG", raising=False)
    outcome = run_cli("--json", "fail", app=_failing_app(ZeroDivisionError("division by zero")))
    assert outcome.exit_code == 70
    envelope = orjson.loads(outcome.stderr)
    assert envelope["error"] == "Internal"
    assert envelope["detail"] == "ZeroDivisionError: division by zero"
    assert "report" in envelope["hint"]
    assert "Traceback" not in outcome.stderr


def test_adhash_debug_adds_the_traceback_of_an_unexpected_exception(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADHASH_DEBUG", "1")
    outcome = run_cli("fail", app=_failing_app(ZeroDivisionError("division by zero")))
    assert outcome.exit_code == 70
    assert "Traceback" in outcome.stderr
    assert outcome.stderr.splitlines()[-2].startswith("adhash: Internal error: ZeroDivisionError")


def test_ctrl_c_exits_130_with_one_line(run_cli: RunCli) -> None:
    outcome = run_cli("--json", "fail", app=_failing_app(KeyboardInterrupt()))
    assert outcome.exit_code == 130
    assert outcome.stdout == ""
    assert orjson.loads(outcome.stderr.strip()) == {"error": "Interrupted", "detail": "interrupted"}


def test_abort_exits_130_with_one_line(run_cli: RunCli) -> None:
    outcome = run_cli("fail", app=_failing_app(typer.Abort()))
    assert outcome.exit_code == 130
    assert outcome.stderr.strip() == "adhash: Interrupted error: interrupted"


def test_python_dash_m_adhash_cli_runs_the_command_line() -> None:
    outcome = run_python("-m", "adhash_cli", "--version")
    assert (outcome.exit_code, outcome.stdout) == (0, f"adhash {__version__}\n")


def test_usage_error_from_a_subprocess_prints_no_traceback() -> None:
    outcome = run_python("-m", "adhash_cli", "--json", "info", "--bogus")
    assert (outcome.exit_code, outcome.stdout) == (2, "")
    assert orjson.loads(outcome.stderr)["error"] == "BadInput"


def test_json_after_the_command_name_counts_as_the_global_flag(run_cli: RunCli) -> None:
    outcome = run_cli("info", "--json")
    assert outcome.exit_code == 0
    assert orjson.loads(outcome.stdout)["command"] == "info"
