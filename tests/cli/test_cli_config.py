"""Configuration from the command line: ``config show|schema``, ``config-wizard``, ``config-edit``,
and ``--config`` / ``--set`` with their precedence (flag > environment > file > default) as the
commands that read settings apply it."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from adhash.config import Settings, fields, load_settings
from adhash.config.model import SCHEMA, json_schema
from adhash.workload.format import Op, WorkloadWriter
from tests.cli.cli_harness import REPO_ROOT, RunCli, error_envelope, success_envelope

_PROMPT = re.compile(r"^  (\w+) \[[^\]]*\]: ", re.MULTILINE)
"""A wizard prompt on stderr, e.g. ``  migration_batch [64]: `` (the piped answer follows it)."""


def _rows(text: str) -> dict[str, tuple[str, str]]:
    """``config show`` text rows as ``{key: (value, source)}`` (columns are 2+ spaces apart)."""
    rows = {}
    for line in text.splitlines()[1:]:
        key, value, source = re.split(r" {2,}", line.strip(), maxsplit=2)
        rows[key] = (value, source)
    return rows


def _answer(monkeypatch: pytest.MonkeyPatch, *lines: str, end: bool = True) -> None:
    """Pipe ``lines`` into the wizard's stdin (``end=False`` leaves off the final newline)."""
    text = "\n".join(lines) + ("\n" if end and lines else "")
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))


def _answers_for(section: str | None, given: dict[str, str]) -> list[str]:
    """One answer per prompt of ``section`` (every section when None): ``given[path]`` or Enter."""
    return [given.get(f.path, "") for f in fields() if section is None or f.section == section]


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "adhash.toml"
    path.write_text('[adaptive]\nmigration_batch = 32\nstart_backend = "robinhood"\n')
    return path


@pytest.fixture
def workload(tmp_path: Path) -> Path:
    path = tmp_path / "w.csv"
    with WorkloadWriter(path) as writer:
        writer.write_many((Op.PUT, f"K{i % 40}", f"v{i}") for i in range(120))
        writer.write_many((Op.GET, f"K{i % 50}", None) for i in range(80))
    return path


# -- config show ------------------------------------------------------------------------------


def test_config_show_text_lists_every_setting_as_default_without_a_file(run_cli: RunCli) -> None:
    outcome = run_cli("config", "show")
    assert (outcome.exit_code, outcome.stderr) == (0, "")
    assert outcome.stdout.splitlines()[0] == "config file: none"
    rows = _rows(outcome.stdout)
    assert list(rows) == [f.path for f in fields()]
    assert {source for _, source in rows.values()} == {"default"}
    assert rows["adaptive.migration_batch"] == ("64", "default")


def test_config_show_json_gives_config_file_settings_and_sources(run_cli: RunCli) -> None:
    envelope = success_envelope(run_cli("--json", "config", "show"), "config show")
    assert set(envelope) == {"ok", "command", "config_file", "settings", "sources"}
    assert envelope["config_file"] is None
    assert envelope["settings"] == Settings().model_dump(mode="json")
    assert envelope["sources"] == {f.path: "default" for f in fields()}


def test_config_show_reports_a_value_from_the_config_file(
    run_cli: RunCli, config_file: Path
) -> None:
    envelope = success_envelope(
        run_cli("--json", "config", "show", "--config", str(config_file)), "config show"
    )
    assert envelope["config_file"] == str(config_file)
    assert envelope["settings"]["adaptive"]["migration_batch"] == 32
    assert envelope["sources"]["adaptive.migration_batch"] == f"config file {config_file}"
    assert envelope["sources"]["adaptive.check_interval"] == "default"


def test_config_show_reports_a_value_from_the_environment(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADHASH_ADAPTIVE__MIGRATION_BATCH", "100")
    envelope = success_envelope(run_cli("--json", "config", "show"), "config show")
    assert envelope["settings"]["adaptive"]["migration_batch"] == 100
    assert (
        envelope["sources"]["adaptive.migration_batch"]
        == "environment ADHASH_ADAPTIVE__MIGRATION_BATCH"
    )


def test_config_show_environment_beats_the_config_file(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, config_file: Path
) -> None:
    monkeypatch.setenv("ADHASH_ADAPTIVE__MIGRATION_BATCH", "100")
    envelope = success_envelope(
        run_cli("--json", "config", "show", "--config", str(config_file)), "config show"
    )
    assert envelope["settings"]["adaptive"]["migration_batch"] == 100
    assert envelope["sources"]["adaptive.start_backend"] == f"config file {config_file}"


def test_config_show_set_flag_beats_environment_and_file(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, config_file: Path
) -> None:
    monkeypatch.setenv("ADHASH_ADAPTIVE__MIGRATION_BATCH", "100")
    outcome = run_cli(
        "--json",
        "config",
        "show",
        "--config",
        str(config_file),
        "--set",
        "adaptive.migration_batch=128",
    )
    envelope = success_envelope(outcome, "config show")
    assert envelope["settings"]["adaptive"]["migration_batch"] == 128
    assert envelope["sources"]["adaptive.migration_batch"] == "flag --set adaptive.migration_batch"


def test_config_show_text_names_each_source(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, config_file: Path
) -> None:
    monkeypatch.setenv("ADHASH_REPLAY__WARMUP_OPS", "9")
    outcome = run_cli(
        "config", "show", "--config", str(config_file), "--set", "replay.mode=compact"
    )
    assert (outcome.exit_code, outcome.stderr) == (0, "")
    assert outcome.stdout.splitlines()[0] == f"config file: {config_file}"
    rows = _rows(outcome.stdout)
    assert rows["adaptive.migration_batch"] == ("32", f"config file {config_file}")
    assert rows["replay.warmup_ops"] == ("9", "environment ADHASH_REPLAY__WARMUP_OPS")
    assert rows["replay.mode"] == ("compact", "flag --set replay.mode")
    assert rows["replay.tick_interval"] == ("0.5", "default")


def test_config_show_only_changed_text_lists_only_non_defaults(
    run_cli: RunCli, config_file: Path
) -> None:
    outcome = run_cli(
        "config",
        "show",
        "--only-changed",
        "--config",
        str(config_file),
        "--set",
        "replay.mode=dict",
    )
    assert outcome.exit_code == 0, outcome.stderr
    assert set(_rows(outcome.stdout)) == {
        "adaptive.migration_batch",
        "adaptive.start_backend",
        "replay.mode",
    }


def test_config_show_only_changed_json_sources_hold_only_non_defaults(
    run_cli: RunCli, config_file: Path
) -> None:
    outcome = run_cli("--json", "config", "show", "--only-changed", "--config", str(config_file))
    envelope = success_envelope(outcome, "config show")
    assert set(envelope["sources"]) == {"adaptive.migration_batch", "adaptive.start_backend"}


def test_config_show_only_changed_with_nothing_changed_lists_no_setting(run_cli: RunCli) -> None:
    outcome = run_cli("config", "show", "--only-changed")
    assert (outcome.exit_code, outcome.stdout) == (0, "config file: none\n")


def test_config_show_reads_the_file_named_by_adhash_config(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, config_file: Path
) -> None:
    monkeypatch.setenv("ADHASH_CONFIG", str(config_file))
    envelope = success_envelope(run_cli("--json", "config", "show"), "config show")
    assert envelope["config_file"] == str(config_file)
    assert envelope["settings"]["adaptive"]["migration_batch"] == 32
    assert envelope["sources"]["adaptive.migration_batch"] == f"config file {config_file}"


def test_config_show_config_flag_replaces_the_adhash_config_file(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, config_file: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other.toml"
    other.write_text("[replay]\nwarmup_ops = 5\n")
    monkeypatch.setenv("ADHASH_CONFIG", str(config_file))
    envelope = success_envelope(
        run_cli("--json", "config", "show", "--config", str(other)), "config show"
    )
    assert envelope["config_file"] == str(other)
    assert envelope["settings"]["replay"]["warmup_ops"] == 5
    assert envelope["settings"]["adaptive"]["migration_batch"] == 64


def test_config_show_bad_value_in_file_is_bad_input_naming_file_and_key(
    run_cli: RunCli, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[adaptive]\nmigration_batch = 0\n")
    outcome = run_cli("--json", "config", "show", "--config", str(bad))
    envelope = error_envelope(outcome, 2, "BadInput")
    assert str(bad) in envelope["detail"]
    assert "adaptive.migration_batch" in envelope["detail"]
    assert "Traceback" not in outcome.stderr


def test_config_show_bad_value_in_file_text_error_has_no_traceback(
    run_cli: RunCli, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[adaptive]\nmigration_batch = 'many'\n")
    outcome = run_cli("config", "show", "--config", str(bad))
    assert (outcome.exit_code, outcome.stdout) == (2, "")
    assert outcome.stderr.startswith(f"adhash: BadInput error: config file {bad}: ")
    assert "adaptive.migration_batch" in outcome.stderr
    assert "Traceback" not in outcome.stderr


def test_config_show_unknown_key_in_file_suggests_the_right_key(
    run_cli: RunCli, tmp_path: Path
) -> None:
    bad = tmp_path / "typo.toml"
    bad.write_text("[adaptive]\nmigraton_batch = 5\n")
    envelope = error_envelope(
        run_cli("--json", "config", "show", "--config", str(bad)), 2, "BadInput"
    )
    assert str(bad) in envelope["detail"]
    assert "did you mean adaptive.migration_batch?" in envelope["detail"]


def test_config_show_bad_environment_value_names_the_variable(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADHASH_REPLAY__MODE", "quantum")
    envelope = error_envelope(run_cli("--json", "config", "show"), 2, "BadInput")
    assert "ADHASH_REPLAY__MODE" in envelope["detail"]


def test_config_show_missing_file_is_io_error(run_cli: RunCli, tmp_path: Path) -> None:
    missing = tmp_path / "absent.toml"
    outcome = run_cli("--json", "config", "show", "--config", str(missing))
    envelope = error_envelope(outcome, 5, "IO")
    assert str(missing) in envelope["detail"]


def test_config_show_missing_adhash_config_file_is_io_error(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "absent.toml"
    monkeypatch.setenv("ADHASH_CONFIG", str(missing))
    envelope = error_envelope(run_cli("--json", "config", "show"), 5, "IO")
    assert str(missing) in envelope["detail"]


def test_config_show_set_none_turns_the_flooding_guardrail_and_defence_off(
    run_cli: RunCli,
) -> None:
    outcome = run_cli(
        "--json",
        "config",
        "show",
        "--set",
        "guardrails.flood_keys=none",
        "--set",
        "adaptive.flood_min_keys=off",
    )
    settings = Settings.model_validate(success_envelope(outcome, "config show")["settings"])
    assert settings.guardrail_thresholds().flood_keys is None
    assert settings.policy().flood_min_keys is None
    rows = _rows(run_cli("config", "show", "--set", "guardrails.flood_keys=none").stdout)
    assert rows["guardrails.flood_keys"] == ("none", "flag --set guardrails.flood_keys")


@pytest.mark.parametrize("value", ["abc", "1", "-3"])
def test_config_show_refuses_a_flood_min_keys_below_two_saying_what_is_allowed(
    run_cli: RunCli, value: str
) -> None:
    outcome = run_cli("config", "show", "--set", f"adaptive.flood_min_keys={value}")
    assert (outcome.exit_code, outcome.stdout) == (2, "")
    assert outcome.stderr.startswith(
        f"adhash: BadInput error: flag --set adaptive.flood_min_keys: "
        f"adaptive.flood_min_keys = {value!r}: "
    )
    assert 'allowed: an integer from 2 to 256, or "none"' in outcome.stderr
    assert "Traceback" not in outcome.stderr


# -- config schema ----------------------------------------------------------------------------


def test_config_schema_text_is_json_titled_with_the_schema_name(run_cli: RunCli) -> None:
    outcome = run_cli("config", "schema")
    assert (outcome.exit_code, outcome.stderr) == (0, "")
    document = orjson.loads(outcome.stdout)
    assert document["title"] == "adhash.config.v1"
    assert document["properties"]["schema"]["const"] == SCHEMA
    assert {"maps", "adaptive", "guardrails", "replay", "server", "snapshot"} <= set(
        document["properties"]
    )


def test_config_schema_json_envelope_holds_the_schema(run_cli: RunCli) -> None:
    envelope = success_envelope(run_cli("--json", "config", "schema"), "config schema")
    assert set(envelope) == {"ok", "command", "schema"}
    assert envelope["schema"] == json_schema()
    assert envelope["schema"]["title"] == "adhash.config.v1"


def test_published_config_schema_matches_the_model() -> None:
    published = REPO_ROOT / "docs" / "schemas" / "adhash.config.v1.json"
    assert orjson.loads(published.read_bytes()) == json_schema()


# -- config-wizard ----------------------------------------------------------------------------


def test_wizard_defaults_writes_a_file_that_loads_to_the_defaults(
    run_cli: RunCli, tmp_path: Path
) -> None:
    outfile = tmp_path / "new.toml"
    outcome = run_cli("--json", "config-wizard", "--outfile", str(outfile), "--defaults")
    envelope = success_envelope(outcome, "config-wizard")
    assert (envelope["outfile"], envelope["defaults"]) == (str(outfile), True)
    assert load_settings(outfile) == Settings()
    assert outcome.stderr == ""


def test_wizard_piped_answers_are_written_to_the_file(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outfile = tmp_path / "new.toml"
    given = {"adaptive.start_backend": "compact", "replay.mode": "robinhood", "server.port": "8181"}
    _answer(monkeypatch, *_answers_for(None, given))
    outcome = run_cli("config-wizard", "--outfile", str(outfile))
    assert outcome.exit_code == 0, outcome.stderr
    written = load_settings(outfile)
    assert written.adaptive.start_backend == "compact"
    assert written.replay.mode == "robinhood"
    assert written.server.port == 8181
    assert written.adaptive.migration_batch == Settings().adaptive.migration_batch


def test_wizard_prompts_go_to_stderr_and_stdout_reports_the_file(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outfile = tmp_path / "new.toml"
    _answer(monkeypatch, *_answers_for("snapshot", {}))
    outcome = run_cli("config-wizard", "--outfile", str(outfile), "--section", "snapshot")
    assert outcome.exit_code == 0, outcome.stderr
    assert "  compression_level [3]: " in outcome.stderr
    assert "compression_level" not in outcome.stdout
    assert f"configuration written to {outfile.resolve()}" in outcome.stdout


def test_wizard_explains_an_invalid_answer_and_asks_again(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outfile = tmp_path / "new.toml"
    answers = _answers_for("adaptive", {"adaptive.chaining_max_load_factor": "0"})
    index = answers.index("0")
    answers.insert(index + 1, "0.5")
    _answer(monkeypatch, *answers)
    outcome = run_cli("config-wizard", "--outfile", str(outfile), "--section", "adaptive")
    assert outcome.exit_code == 0, outcome.stderr
    assert "  ! adaptive.chaining_max_load_factor = '0': input should be greater than 0" in (
        outcome.stderr
    )
    assert _PROMPT.findall(outcome.stderr).count("chaining_max_load_factor") == 2
    assert load_settings(outfile).adaptive.chaining_max_load_factor == 0.5


def test_wizard_input_ending_early_is_bad_input_and_writes_nothing(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outfile = tmp_path / "new.toml"
    _answer(monkeypatch, "robinhood", "0.5")
    outcome = run_cli("--json", "config-wizard", "--outfile", str(outfile), "--section", "adaptive")
    assert outcome.exit_code == 2
    assert outcome.stdout == ""
    last_line = outcome.stderr.splitlines()[-1]
    envelope = orjson.loads(last_line)
    assert envelope["error"] == "BadInput"
    assert "input ended at adaptive.chaining_max_chain_length" in envelope["detail"]
    assert not outfile.exists()
    assert list(tmp_path.iterdir()) == []


def test_wizard_input_ending_early_with_force_keeps_the_existing_file(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config_file: Path
) -> None:
    before = config_file.read_bytes()
    _answer(monkeypatch)
    outcome = run_cli("config-wizard", "--outfile", str(config_file), "--force")
    assert outcome.exit_code == 2
    assert config_file.read_bytes() == before


def test_wizard_section_asks_only_that_section_s_keys(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outfile = tmp_path / "new.toml"
    _answer(monkeypatch, *_answers_for("adaptive", {}))
    outcome = run_cli("config-wizard", "--outfile", str(outfile), "--section", "adaptive")
    assert outcome.exit_code == 0, outcome.stderr
    asked = _PROMPT.findall(outcome.stderr)
    assert asked == [f.name for f in fields() if f.section == "adaptive"]
    assert "[adaptive]" in outcome.stderr.splitlines()
    assert "[maps]" not in outcome.stderr.splitlines()


def test_wizard_repeated_section_asks_each_named_section(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outfile = tmp_path / "new.toml"
    _answer(monkeypatch, *_answers_for("maps", {}), *_answers_for("server", {}))
    outcome = run_cli(
        "config-wizard", "--outfile", str(outfile), "--section", "server", "--section", "maps"
    )
    assert outcome.exit_code == 0, outcome.stderr
    expected = [f.name for f in fields() if f.section in ("maps", "server")]
    assert _PROMPT.findall(outcome.stderr) == expected


def test_wizard_unknown_section_is_bad_input(run_cli: RunCli, tmp_path: Path) -> None:
    outfile = tmp_path / "new.toml"
    outcome = run_cli("--json", "config-wizard", "--outfile", str(outfile), "--section", "cache")
    envelope = error_envelope(outcome, 2, "BadInput")
    assert "'cache'" in envelope["detail"]
    assert not outfile.exists()


def test_wizard_refuses_an_existing_outfile_without_force(
    run_cli: RunCli, config_file: Path
) -> None:
    before = config_file.read_bytes()
    outcome = run_cli("--json", "config-wizard", "--outfile", str(config_file), "--defaults")
    envelope = error_envelope(outcome, 4, "Policy")
    assert str(config_file) in envelope["detail"]
    assert "--force" in envelope["hint"]
    assert config_file.read_bytes() == before


def test_wizard_force_replaces_an_existing_outfile(run_cli: RunCli, config_file: Path) -> None:
    outcome = run_cli("config-wizard", "--outfile", str(config_file), "--defaults", "--force")
    assert outcome.exit_code == 0, outcome.stderr
    assert load_settings(config_file) == Settings()


def test_wizard_from_starts_from_that_file_s_values(
    run_cli: RunCli, tmp_path: Path, config_file: Path
) -> None:
    outfile = tmp_path / "new.toml"
    outcome = run_cli(
        "config-wizard", "--outfile", str(outfile), "--from", str(config_file), "--defaults"
    )
    assert outcome.exit_code == 0, outcome.stderr
    assert load_settings(outfile) == load_settings(config_file)


def test_wizard_from_shows_that_file_s_values_as_the_current_ones(
    run_cli: RunCli, tmp_path: Path, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outfile = tmp_path / "new.toml"
    _answer(monkeypatch, *_answers_for("adaptive", {"adaptive.check_interval": "512"}))
    outcome = run_cli(
        "config-wizard",
        "--outfile",
        str(outfile),
        "--from",
        str(config_file),
        "--section",
        "adaptive",
    )
    assert outcome.exit_code == 0, outcome.stderr
    assert "  migration_batch [32]: " in outcome.stderr
    assert "  start_backend [robinhood]: " in outcome.stderr
    written = load_settings(outfile)
    assert (written.adaptive.migration_batch, written.adaptive.check_interval) == (32, 512)


# -- config-edit ------------------------------------------------------------------------------


def test_edit_set_changes_the_infile_in_place_and_keeps_other_values(
    run_cli: RunCli, config_file: Path
) -> None:
    outcome = run_cli(
        "config-edit", "--infile", str(config_file), "--set", "adaptive.migration_batch=128"
    )
    assert outcome.exit_code == 0, outcome.stderr
    edited = load_settings(config_file)
    assert edited.adaptive.migration_batch == 128
    assert edited.adaptive.start_backend == "robinhood"


def test_edit_json_envelope_names_base_outfile_and_changed_keys(
    run_cli: RunCli, config_file: Path
) -> None:
    outcome = run_cli(
        "--json",
        "config-edit",
        "--infile",
        str(config_file),
        "--set",
        "adaptive.migration_batch=128",
        "--set",
        "replay.mode=dict",
    )
    envelope = success_envelope(outcome, "config-edit")
    assert envelope["base"] == str(config_file)
    assert envelope["outfile"] == str(config_file)
    assert envelope["changed"] == ["adaptive.migration_batch", "replay.mode"]
    assert envelope["settings"] == load_settings(config_file).model_dump(mode="json")


def test_edit_outfile_leaves_the_infile_untouched(
    run_cli: RunCli, config_file: Path, tmp_path: Path
) -> None:
    before = config_file.read_bytes()
    outfile = tmp_path / "edited.toml"
    outcome = run_cli(
        "config-edit",
        "--infile",
        str(config_file),
        "--outfile",
        str(outfile),
        "--set",
        "adaptive.migration_batch=128",
    )
    assert outcome.exit_code == 0, outcome.stderr
    assert config_file.read_bytes() == before
    edited = load_settings(outfile)
    assert (edited.adaptive.migration_batch, edited.adaptive.start_backend) == (128, "robinhood")


def test_edit_refuses_an_existing_outfile_other_than_the_infile_without_force(
    run_cli: RunCli, config_file: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other.toml"
    other.write_text("[replay]\nwarmup_ops = 5\n")
    before = other.read_bytes()
    outcome = run_cli(
        "--json",
        "config-edit",
        "--infile",
        str(config_file),
        "--outfile",
        str(other),
        "--set",
        "replay.mode=dict",
    )
    error_envelope(outcome, 4, "Policy")
    assert other.read_bytes() == before


def test_edit_missing_infile_starts_from_the_defaults(run_cli: RunCli, tmp_path: Path) -> None:
    infile = tmp_path / "fresh.toml"
    outcome = run_cli(
        "--json", "config-edit", "--infile", str(infile), "--set", "adaptive.migration_batch=128"
    )
    envelope = success_envelope(outcome, "config-edit")
    assert envelope["base"] == "defaults"
    expected = Settings.model_validate({"adaptive": {"migration_batch": 128}})
    assert load_settings(infile) == expected


def test_edit_missing_infile_says_so_on_stderr_in_text_mode(
    run_cli: RunCli, tmp_path: Path
) -> None:
    infile = tmp_path / "fresh.toml"
    outcome = run_cli("config-edit", "--infile", str(infile), "--set", "replay.mode=dict")
    assert outcome.exit_code == 0, outcome.stderr
    assert f"no configuration at {infile}; starting from the defaults" in outcome.stderr


def test_edit_unknown_key_is_bad_input_suggesting_the_right_key(
    run_cli: RunCli, config_file: Path
) -> None:
    before = config_file.read_bytes()
    outcome = run_cli(
        "--json", "config-edit", "--infile", str(config_file), "--set", "adaptive.migraton_batch=1"
    )
    envelope = error_envelope(outcome, 2, "BadInput")
    assert "did you mean adaptive.migration_batch?" in envelope["detail"]
    assert config_file.read_bytes() == before


def test_edit_bad_value_is_bad_input_and_leaves_the_infile_byte_identical(
    run_cli: RunCli, config_file: Path
) -> None:
    before = config_file.read_bytes()
    outcome = run_cli(
        "--json", "config-edit", "--infile", str(config_file), "--set", "adaptive.migration_batch=0"
    )
    envelope = error_envelope(outcome, 2, "BadInput")
    assert "adaptive.migration_batch" in envelope["detail"]
    assert config_file.read_bytes() == before


def test_edit_apply_builtin_preset_sets_the_preset_s_keys(run_cli: RunCli, tmp_path: Path) -> None:
    outfile = tmp_path / "churn.toml"
    outcome = run_cli("--json", "config-edit", "--outfile", str(outfile), "--apply-preset", "churn")
    envelope = success_envelope(outcome, "config-edit")
    assert envelope["apply_preset"] == "churn"
    edited = load_settings(outfile)
    assert edited.maps.robinhood_deletion == "tombstone"
    assert edited.adaptive.start_backend == "robinhood"
    assert edited.adaptive.max_tombstone_ratio == 0.15
    assert edited.guardrails.tombstone_ratio == 0.1


def test_edit_set_overrides_the_applied_preset(run_cli: RunCli, tmp_path: Path) -> None:
    outfile = tmp_path / "churn.toml"
    outcome = run_cli(
        "config-edit",
        "--outfile",
        str(outfile),
        "--apply-preset",
        "churn",
        "--set",
        "adaptive.start_backend=compact",
    )
    assert outcome.exit_code == 0, outcome.stderr
    edited = load_settings(outfile)
    assert edited.adaptive.start_backend == "compact"
    assert edited.maps.robinhood_deletion == "tombstone"


def test_edit_apply_preset_by_path_reads_that_file(
    run_cli: RunCli, tmp_path: Path, config_file: Path
) -> None:
    outfile = tmp_path / "out.toml"
    outcome = run_cli("config-edit", "--outfile", str(outfile), "--apply-preset", str(config_file))
    assert outcome.exit_code == 0, outcome.stderr
    assert load_settings(outfile) == load_settings(config_file)


def test_edit_unknown_preset_is_bad_input_listing_the_available_ones(
    run_cli: RunCli, tmp_path: Path
) -> None:
    outfile = tmp_path / "out.toml"
    outcome = run_cli(
        "--json", "config-edit", "--outfile", str(outfile), "--apply-preset", "speedy"
    )
    envelope = error_envelope(outcome, 2, "BadInput")
    assert "'speedy'" in envelope["detail"]
    assert "churn" in envelope["hint"]
    assert not outfile.exists()


def test_edit_saved_preset_is_listed(run_cli: RunCli, config_file: Path, tmp_path: Path) -> None:
    saved = run_cli("config-edit", "--infile", str(config_file), "--save-preset", "mine")
    assert saved.exit_code == 0, saved.stderr
    envelope = success_envelope(run_cli("--json", "config-edit", "--list-presets"), "config-edit")
    assert envelope["action"] == "list-presets"
    presets = {preset["name"]: preset for preset in envelope["presets"]}
    expected_path = tmp_path / "adhash-presets" / "mine.toml"
    assert presets["mine"] == {
        "name": "mine",
        "builtin": False,
        "path": str(expected_path),
        "description": "adhash preset mine",
    }
    assert load_settings(expected_path) == load_settings(config_file)


def test_edit_list_presets_json_describes_the_builtin_presets(run_cli: RunCli) -> None:
    envelope = success_envelope(run_cli("--json", "config-edit", "--list-presets"), "config-edit")
    assert envelope["action"] == "list-presets"
    names = [preset["name"] for preset in envelope["presets"]]
    assert {"churn", "lookup-heavy", "memory-tight", "strict-guardrails"} <= set(names)
    for preset in envelope["presets"]:
        assert set(preset) == {"name", "builtin", "path", "description"}
        assert (preset["builtin"], preset["path"]) == (True, None)
        assert preset["description"]


def test_edit_list_presets_text_shows_a_saved_preset_with_its_path(
    run_cli: RunCli, tmp_path: Path
) -> None:
    assert run_cli("config-edit", "--save-preset", "mine").exit_code == 0
    outcome = run_cli("config-edit", "--list-presets")
    assert outcome.exit_code == 0, outcome.stderr
    line = next(line for line in outcome.stdout.splitlines() if line.strip().startswith("mine "))
    assert line.endswith(f"[{tmp_path / 'adhash-presets' / 'mine.toml'}]")
    assert re.search(r"^  churn +.*\[built-in\]$", outcome.stdout, re.MULTILINE)


def test_edit_saving_an_existing_preset_without_force_is_refused(
    run_cli: RunCli, tmp_path: Path
) -> None:
    assert run_cli("config-edit", "--save-preset", "mine").exit_code == 0
    preset = tmp_path / "adhash-presets" / "mine.toml"
    before = preset.read_bytes()
    outcome = run_cli("--json", "config-edit", "--save-preset", "mine", "--set", "replay.mode=dict")
    envelope = error_envelope(outcome, 4, "Policy")
    assert "'mine'" in envelope["detail"]
    assert preset.read_bytes() == before


def test_edit_saving_an_existing_preset_with_force_replaces_it(
    run_cli: RunCli, tmp_path: Path
) -> None:
    assert run_cli("config-edit", "--save-preset", "mine").exit_code == 0
    outcome = run_cli(
        "config-edit", "--save-preset", "mine", "--set", "replay.mode=dict", "--force"
    )
    assert outcome.exit_code == 0, outcome.stderr
    assert load_settings(tmp_path / "adhash-presets" / "mine.toml").replay.mode == "dict"


def test_edit_invalid_preset_name_is_bad_input(run_cli: RunCli, tmp_path: Path) -> None:
    outcome = run_cli("--json", "config-edit", "--save-preset", "My Preset!")
    envelope = error_envelope(outcome, 2, "BadInput")
    assert "'My Preset!'" in envelope["detail"]
    assert not (tmp_path / "adhash-presets").exists()


def test_edit_presets_dir_is_where_presets_are_saved_and_listed(
    run_cli: RunCli, tmp_path: Path
) -> None:
    folder = tmp_path / "team-presets"
    saved = run_cli("--json", "config-edit", "--save-preset", "team", "--presets-dir", str(folder))
    assert success_envelope(saved, "config-edit")["saved_preset"] == str(folder / "team.toml")
    assert (folder / "team.toml").is_file()
    assert not (tmp_path / "adhash-presets").exists()
    listed = success_envelope(
        run_cli("--json", "config-edit", "--list-presets", "--presets-dir", str(folder)),
        "config-edit",
    )
    assert listed["presets_dir"] == str(folder)
    team = next(preset for preset in listed["presets"] if preset["name"] == "team")
    assert (team["builtin"], team["path"]) == (False, str(folder / "team.toml"))


def test_edit_applies_a_user_preset_from_presets_dir(run_cli: RunCli, tmp_path: Path) -> None:
    folder = tmp_path / "team-presets"
    folder.mkdir()
    (folder / "team.toml").write_text("[replay]\nwarmup_ops = 77\n")
    outfile = tmp_path / "out.toml"
    outcome = run_cli(
        "config-edit",
        "--outfile",
        str(outfile),
        "--apply-preset",
        "team",
        "--presets-dir",
        str(folder),
    )
    assert outcome.exit_code == 0, outcome.stderr
    assert load_settings(outfile).replay.warmup_ops == 77


def test_edit_list_presets_with_another_action_is_bad_input(run_cli: RunCli) -> None:
    outcome = run_cli("--json", "config-edit", "--list-presets", "--set", "replay.mode=dict")
    envelope = error_envelope(outcome, 2, "BadInput")
    assert "--list-presets" in envelope["detail"]


def test_edit_without_anything_to_write_is_bad_input(run_cli: RunCli) -> None:
    outcome = run_cli("--json", "config-edit", "--set", "replay.mode=dict")
    envelope = error_envelope(outcome, 2, "BadInput")
    assert envelope["detail"] == "nothing to write"


def test_edit_without_set_or_preset_prompts_for_every_setting(
    run_cli: RunCli, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _answer(monkeypatch, *_answers_for(None, {"adaptive.check_interval": "512"}))
    outcome = run_cli("config-edit", "--infile", str(config_file))
    assert outcome.exit_code == 0, outcome.stderr
    assert _PROMPT.findall(outcome.stderr) == [f.name for f in fields()]
    assert "  start_backend [robinhood]: " in outcome.stderr
    edited = load_settings(config_file)
    assert edited.adaptive.check_interval == 512
    assert (edited.adaptive.migration_batch, edited.adaptive.start_backend) == (32, "robinhood")


def test_edit_interactive_input_ending_early_leaves_the_infile_unchanged(
    run_cli: RunCli, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = config_file.read_bytes()
    _answer(monkeypatch, "", "", "256")
    outcome = run_cli("config-edit", "--infile", str(config_file))
    assert outcome.exit_code == 2
    assert "input ended at " in outcome.stderr
    assert config_file.read_bytes() == before


# -- precedence through run-csv ---------------------------------------------------------------


@pytest.fixture
def replay_config(tmp_path: Path) -> Path:
    path = tmp_path / "replay.toml"
    path.write_text('[replay]\nlatency_sample_every = 1\nmode = "robinhood"\n')
    return path


def _run_summary(run_cli: RunCli, workload: Path, *args: str) -> dict[str, Any]:
    return success_envelope(run_cli("--json", "run-csv", "--csv", str(workload), *args), "run-csv")


def test_run_csv_mode_flag_beats_environment_and_file(
    run_cli: RunCli, workload: Path, replay_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADHASH_REPLAY__MODE", "compact")
    summary = _run_summary(run_cli, workload, "--config", str(replay_config), "--mode", "chaining")
    assert summary["mode"] == "chaining"
    assert summary["latency_sample"]["every_n"] == 1


def test_run_csv_environment_beats_the_file(
    run_cli: RunCli, workload: Path, replay_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADHASH_REPLAY__MODE", "compact")
    summary = _run_summary(run_cli, workload, "--config", str(replay_config))
    assert summary["mode"] == "compact"
    assert summary["latency_sample"]["every_n"] == 1


def test_run_csv_file_beats_the_default(
    run_cli: RunCli, workload: Path, replay_config: Path
) -> None:
    summary = _run_summary(run_cli, workload, "--config", str(replay_config))
    assert summary["mode"] == "robinhood"
    assert summary["latency_sample"]["every_n"] == 1


def test_run_csv_without_file_env_or_flag_uses_the_defaults(
    run_cli: RunCli, workload: Path
) -> None:
    summary = _run_summary(run_cli, workload)
    assert summary["mode"] == "adaptive"
    assert summary["latency_sample"]["every_n"] == Settings().replay.latency_sample_every


def test_run_csv_reads_the_file_named_by_adhash_config(
    run_cli: RunCli, workload: Path, replay_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADHASH_CONFIG", str(replay_config))
    summary = _run_summary(run_cli, workload)
    assert (summary["mode"], summary["latency_sample"]["every_n"]) == ("robinhood", 1)


def test_run_csv_measurement_flags_beat_the_file(
    run_cli: RunCli, workload: Path, replay_config: Path
) -> None:
    summary = _run_summary(
        run_cli,
        workload,
        "--config",
        str(replay_config),
        "--latency-sample-every",
        "4",
        "--warmup-ops",
        "10",
        "--percentiles",
        "50,max",
    )
    assert summary["latency_sample"]["every_n"] == 4
    assert summary["warmup_ops"] == 10
    assert summary["latency_sample"]["percentiles"] == [50.0, 100.0]


def test_run_csv_set_beats_environment_and_file(
    run_cli: RunCli, workload: Path, replay_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADHASH_REPLAY__MODE", "compact")
    summary = _run_summary(
        run_cli, workload, "--config", str(replay_config), "--set", "replay.mode=dict"
    )
    assert summary["mode"] == "dict"


def test_run_csv_hash_seed_flag_sets_the_maps_seed(run_cli: RunCli, workload: Path) -> None:
    summary = _run_summary(run_cli, workload, "--hash-seed", "77")
    assert summary["hash_seed"] == 77


def test_run_csv_same_key_by_flag_and_set_is_bad_input(run_cli: RunCli, workload: Path) -> None:
    outcome = run_cli(
        "--json",
        "run-csv",
        "--csv",
        str(workload),
        "--set",
        "replay.mode=robinhood",
        "--mode",
        "chaining",
    )
    envelope = error_envelope(outcome, 2, "BadInput")
    assert "replay.mode is given twice" in envelope["detail"]


def test_run_csv_missing_config_file_is_io_error(
    run_cli: RunCli, workload: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "absent.toml"
    outcome = run_cli("--json", "run-csv", "--csv", str(workload), "--config", str(missing))
    assert str(missing) in error_envelope(outcome, 5, "IO")["detail"]


# -- --config on the other commands -----------------------------------------------------------


def test_put_config_builds_a_new_store_from_the_settings(run_cli: RunCli, tmp_path: Path) -> None:
    config = tmp_path / "store.toml"
    config.write_text('[maps]\nrobinhood_deletion = "tombstone"\n[replay]\nmode = "robinhood"\n')
    store = tmp_path / "store.adh"
    put = run_cli("--json", "put", "--store", str(store), "--config", str(config), "k", "v")
    assert success_envelope(put, "put")["created"] is True
    info = success_envelope(
        run_cli("--json", "inspect-snapshot", "--in", str(store)), "inspect-snapshot"
    )
    assert info["backend"] == "robinhood"
    assert info["config"]["deletion"] == "tombstone"


def test_put_mode_flag_beats_the_config_file(run_cli: RunCli, tmp_path: Path) -> None:
    config = tmp_path / "store.toml"
    config.write_text('[replay]\nmode = "robinhood"\n')
    store = tmp_path / "store.adh"
    put = run_cli(
        "put", "--store", str(store), "--config", str(config), "--mode", "compact", "k", "v"
    )
    assert put.exit_code == 0, put.stderr
    info = success_envelope(
        run_cli("--json", "inspect-snapshot", "--in", str(store)), "inspect-snapshot"
    )
    assert info["backend"] == "compact"


def test_inspect_snapshot_set_snapshot_limit_refuses_a_larger_file(
    run_cli: RunCli, tmp_path: Path
) -> None:
    store = tmp_path / "store.adh"
    for key in ("a", "b"):
        assert run_cli("put", "--store", str(store), key, "v").exit_code == 0
    outcome = run_cli(
        "--json", "inspect-snapshot", "--in", str(store), "--set", "snapshot.max_entries=1"
    )
    envelope = error_envelope(outcome, 2, "BadInput")
    assert "2 entries" in envelope["detail"]


def test_demo_config_sets_the_adaptive_start_backend(run_cli: RunCli, tmp_path: Path) -> None:
    config = tmp_path / "demo.toml"
    config.write_text('[adaptive]\nstart_backend = "robinhood"\n')
    out_dir = tmp_path / "demo"
    outcome = run_cli(
        "--json",
        "demo",
        "--out-dir",
        str(out_dir),
        "--ops",
        "3000",
        "--key-space",
        "300",
        "--config",
        str(config),
    )
    envelope = success_envelope(outcome, "demo")
    adaptive = next(row for row in envelope["results"] if row["mode"] == "adaptive")
    summary = orjson.loads(Path(adaptive["summary_file"]).read_bytes())
    assert summary["backend_start"] == "robinhood"


def test_profile_then_passes_config_to_the_inner_command(
    run_cli: RunCli, workload: Path, tmp_path: Path
) -> None:
    config = tmp_path / "profile.toml"
    config.write_text("[replay]\nlatency_sample_every = 1\nwarmup_ops = 7\n")
    outcome = run_cli(
        "--json",
        "profile",
        "--csv",
        str(workload),
        "--sample-rows",
        "100",
        "--repeats",
        "1",
        "--config",
        str(config),
        "--then",
        f"run-csv --csv '{workload}'",
    )
    envelope = success_envelope(outcome, "run-csv")
    assert envelope["latency_sample"]["every_n"] == 1
    assert envelope["warmup_ops"] == 7


def test_profile_then_passes_set_to_the_inner_command(run_cli: RunCli, workload: Path) -> None:
    outcome = run_cli(
        "--json",
        "profile",
        "--csv",
        str(workload),
        "--sample-rows",
        "100",
        "--repeats",
        "1",
        "--set",
        "replay.warmup_ops=5",
        "--then",
        f"run-csv --csv '{workload}'",
    )
    assert success_envelope(outcome, "run-csv")["warmup_ops"] == 5
