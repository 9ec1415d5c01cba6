"""Where settings come from: flag > environment variable > configuration file > default."""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path
from typing import Any

import pytest

from adhash.config import ResolvedSettings, Settings, Source, lookup, resolve
from adhash.config.layers import apply_assignments, environment_layer, parse_assignment
from adhash.errors import BadInputError, IOFailureError

KEY = "adaptive.migration_batch"
VAR = "ADHASH_ADAPTIVE__MIGRATION_BATCH"
FLAG = "--migration-batch"
DEFAULT_VALUE = 64
FILE_VALUE, ENV_VALUE, FLAG_VALUE = 100, 200, 300


def _config(folder: Path, text: str, name: str = "adhash.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _resolve_with(folder: Path, given: Collection[str]) -> tuple[ResolvedSettings, Path]:
    """Resolve with the key set by the sources named in ``given`` (file, env, flag)."""
    path = _config(folder, f"[adaptive]\nmigration_batch = {FILE_VALUE}\n")
    resolved = resolve(
        path if "file" in given else None,
        environ={VAR: str(ENV_VALUE)} if "env" in given else {},
        flags={KEY: (FLAG_VALUE if "flag" in given else None, FLAG)},
    )
    return resolved, path


# given sources -> (effective value, kind of the winning source)
PRECEDENCE: list[tuple[tuple[str, ...], int, str]] = [
    ((), DEFAULT_VALUE, "default"),
    (("file",), FILE_VALUE, "file"),
    (("env",), ENV_VALUE, "env"),
    (("flag",), FLAG_VALUE, "flag"),
    (("file", "env"), ENV_VALUE, "env"),
    (("file", "flag"), FLAG_VALUE, "flag"),
    (("env", "flag"), FLAG_VALUE, "flag"),
    (("file", "env", "flag"), FLAG_VALUE, "flag"),
]


@pytest.mark.parametrize(
    ("given", "value", "kind"), PRECEDENCE, ids=["+".join(g) or "none" for g, _, _ in PRECEDENCE]
)
def test_the_highest_given_source_sets_the_value(
    tmp_path: Path, given: tuple[str, ...], value: int, kind: str
) -> None:
    resolved, _ = _resolve_with(tmp_path, given)
    assert resolved.settings.adaptive.migration_batch == value


@pytest.mark.parametrize(
    ("given", "value", "kind"), PRECEDENCE, ids=["+".join(g) or "none" for g, _, _ in PRECEDENCE]
)
def test_the_source_of_a_value_is_the_highest_given_source(
    tmp_path: Path, given: tuple[str, ...], value: int, kind: str
) -> None:
    resolved, path = _resolve_with(tmp_path, given)
    where = {"default": "", "file": str(path), "env": VAR, "flag": FLAG}[kind]
    assert resolved.source_of(KEY) == Source(kind, where)  # type: ignore[arg-type]


def test_env_beats_file_but_not_flag(tmp_path: Path) -> None:
    resolved, _ = _resolve_with(tmp_path, ("file", "env", "flag"))
    env_only, _ = _resolve_with(tmp_path, ("file", "env"))
    assert (
        resolved.settings.adaptive.migration_batch,
        env_only.settings.adaptive.migration_batch,
    ) == (
        FLAG_VALUE,
        ENV_VALUE,
    )


def test_sources_are_kept_per_key(tmp_path: Path) -> None:
    path = _config(tmp_path, "[replay]\nwarmup_ops = 5\n")
    resolved = resolve(path, environ={"ADHASH_REPLAY__MODE": "dict"}, flags={KEY: (7, FLAG)})
    assert [str(resolved.source_of(key)) for key in ("replay.warmup_ops", "replay.mode", KEY)] == [
        f"config file {path}",
        "environment ADHASH_REPLAY__MODE",
        f"flag {FLAG}",
    ]


def test_a_key_nobody_set_has_the_default_source() -> None:
    resolved = resolve(environ={})
    assert (resolved.source_of("replay.mode"), str(resolved.source_of("replay.mode"))) == (
        Source("default"),
        "default",
    )


def test_nothing_given_resolves_to_the_defaults() -> None:
    resolved = resolve(environ={})
    assert (resolved.settings, resolved.config_file, dict(resolved.sources)) == (
        Settings(),
        None,
        {},
    )


# --- which file is read --------------------------------------------------------------------------


def test_adhash_config_names_the_file_when_no_explicit_file_is_given(tmp_path: Path) -> None:
    path = _config(tmp_path, "[adaptive]\nmigration_batch = 100\n")
    resolved = resolve(environ={"ADHASH_CONFIG": str(path)})
    assert (resolved.settings.adaptive.migration_batch, resolved.config_file) == (100, path)
    assert resolved.source_of(KEY) == Source("file", str(path))


def test_an_explicit_file_beats_adhash_config(tmp_path: Path) -> None:
    named = _config(tmp_path, "[adaptive]\nmigration_batch = 100\n", "named.toml")
    explicit = _config(tmp_path, "[adaptive]\nmigration_batch = 5\n", "explicit.toml")
    resolved = resolve(explicit, environ={"ADHASH_CONFIG": str(named)})
    assert (resolved.settings.adaptive.migration_batch, resolved.config_file) == (5, explicit)


def test_an_empty_adhash_config_means_no_file() -> None:
    resolved = resolve(environ={"ADHASH_CONFIG": ""})
    assert (resolved.config_file, resolved.settings) == (None, Settings())


def test_a_missing_file_named_by_adhash_config_is_an_io_failure(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(IOFailureError, match=re.escape(str(path))):
        resolve(environ={"ADHASH_CONFIG": str(path)})


def test_resolve_reads_the_process_environment_by_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = _config(tmp_path, "[replay]\nwarmup_ops = 9\n")
    monkeypatch.setenv(VAR, "128")
    monkeypatch.setenv("ADHASH_CONFIG", str(path))
    resolved = resolve()
    assert (resolved.settings.adaptive.migration_batch, resolved.settings.replay.warmup_ops) == (
        128,
        9,
    )


# --- bad values and unknown names ----------------------------------------------------------------


def test_a_bad_file_value_overridden_by_a_flag_is_not_an_error(tmp_path: Path) -> None:
    path = _config(tmp_path, "[adaptive]\nmigration_batch = 0\n")
    resolved = resolve(path, environ={}, flags={KEY: (32, FLAG)})
    assert resolved.settings.adaptive.migration_batch == 32


def test_a_bad_env_value_overridden_by_a_flag_is_not_an_error() -> None:
    resolved = resolve(environ={VAR: "lots"}, flags={KEY: (32, FLAG)})
    assert resolved.settings.adaptive.migration_batch == 32


def test_a_bad_file_value_overridden_by_an_env_value_is_not_an_error(tmp_path: Path) -> None:
    path = _config(tmp_path, "[adaptive]\nmigration_batch = 0\n")
    assert resolve(path, environ={VAR: "32"}).settings.adaptive.migration_batch == 32


def test_a_bad_env_value_is_bad_input_naming_the_variable() -> None:
    with pytest.raises(BadInputError) as caught:
        resolve(environ={VAR: "0"})
    assert caught.value.detail.startswith(f"environment {VAR}: {KEY} = '0'")
    assert lookup(KEY).allowed() in caught.value.detail


def test_a_bad_flag_value_is_bad_input_naming_the_flag() -> None:
    with pytest.raises(BadInputError, match=f"^flag {FLAG}: {re.escape(KEY)} = 0"):
        resolve(environ={}, flags={KEY: (0, FLAG)})


def test_an_unknown_env_variable_suggests_the_nearest_variable_name() -> None:
    with pytest.raises(BadInputError) as caught:
        resolve(environ={"ADHASH_ADAPTIV__MIGRATION_BATCH": "3"})
    assert "ADHASH_ADAPTIV__MIGRATION_BATCH" in caught.value.detail
    assert caught.value.detail.endswith("did you mean ADHASH_ADAPTIVE__MIGRATION_BATCH?")


def test_an_unknown_env_variable_near_no_setting_is_still_an_error() -> None:
    with pytest.raises(BadInputError, match="ADHASH_FOO__BAR"):
        resolve(environ={"ADHASH_FOO__BAR": "1"})


@pytest.mark.parametrize(
    "name", ["ADHASH_SNAPSHOT_KEY", "ADHASH_DEBUG", "ADHASH_TOKEN", "ADHASH_PRESETS_DIR", "PATH"]
)
def test_variables_without_a_double_underscore_are_ignored(name: str) -> None:
    assert resolve(environ={name: "anything"}).settings == Settings()


def test_an_unknown_flag_key_is_bad_input_suggesting_the_nearest_key() -> None:
    with pytest.raises(BadInputError, match=r"did you mean adaptive\.migration_batch\?"):
        resolve(environ={}, flags={"adaptive.migration_bath": (3, "--x")})


def test_errors_from_several_sources_are_all_reported(tmp_path: Path) -> None:
    path = _config(tmp_path, "[maps]\nchaining_buckets = 3\n")
    with pytest.raises(BadInputError) as caught:
        resolve(
            path,
            environ={"ADHASH_REPLAY__TICK_INTERVAL": "4000"},
            flags={KEY: (0, FLAG)},
        )
    detail = caught.value.detail
    assert f"config file {path}: maps.chaining_buckets = 3" in detail
    assert "environment ADHASH_REPLAY__TICK_INTERVAL: replay.tick_interval = '4000'" in detail
    assert f"flag {FLAG}: {KEY} = 0" in detail


# --- environment values are text, coerced per field ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("false", False),
        ("yes", True),
        ("no", False),
        ("1", True),
        ("0", False),
        ("TRUE", True),
    ],
)
def test_env_text_is_coerced_to_a_bool(text: str, expected: bool) -> None:
    resolved = resolve(environ={"ADHASH_GUARDRAILS__ENABLED": text})
    assert resolved.settings.guardrails.enabled is expected


@pytest.mark.parametrize(
    ("name", "text", "path", "expected"),
    [
        ("ADHASH_ADAPTIVE__MAX_TOMBSTONE_RATIO", "0.5", "adaptive.max_tombstone_ratio", 0.5),
        ("ADHASH_REPLAY__TICK_INTERVAL", "2", "replay.tick_interval", 2.0),
        ("ADHASH_REPLAY__TARGET_RATE", "1e6", "replay.target_rate", 1e6),
        ("ADHASH_ADAPTIVE__MIGRATION_BATCH", "128", "adaptive.migration_batch", 128),
        ("ADHASH_MAPS__HASH_SEED", "42", "maps.hash_seed", 42),
        ("ADHASH_MAPS__HASH_SEED", "none", "maps.hash_seed", None),
        ("ADHASH_GUARDRAILS__LOAD_FACTOR", "Off", "guardrails.load_factor", None),
        ("ADHASH_GUARDRAILS__FLOOD_KEYS", "12", "guardrails.flood_keys", 12),
        ("ADHASH_ADAPTIVE__FLOOD_MIN_KEYS", "none", "adaptive.flood_min_keys", None),
        ("ADHASH_SERVER__TOKEN_FILE", "/run/token", "server.token_file", Path("/run/token")),
        ("ADHASH_REPLAY__PERCENTILES", "99,50,max", "replay.percentiles", (50.0, 99.0, 100.0)),
        ("ADHASH_REPLAY__MODE", "fast-lookup", "replay.mode", "robinhood"),
        ("ADHASH_SERVER__HOST", "0.0.0.0", "server.host", "0.0.0.0"),
    ],
)
def test_env_text_is_coerced_to_the_field_type(
    name: str, text: str, path: str, expected: Any
) -> None:
    settings = resolve(environ={name: text}).settings
    section, _, leaf = path.partition(".")
    value = getattr(getattr(settings, section), leaf)
    assert (value, type(value)) == (expected, type(expected))


def test_environment_layer_keeps_the_text_and_the_variable_as_source() -> None:
    assert environment_layer({VAR: "128", "HOME": "/root"}) == {KEY: ("128", Source("env", VAR))}


# --- KEY=VALUE assignments -----------------------------------------------------------------------

SET = Source("flag", "--set")


def test_parse_assignment_splits_at_the_first_equals_and_strips() -> None:
    assert parse_assignment(" server.host = a=b ", SET) == ("server.host", "a=b")


@pytest.mark.parametrize("text", ["adaptive.migration_batch", "=3", "  = 3", ""])
def test_parse_assignment_without_a_key_and_equals_is_bad_input(text: str) -> None:
    with pytest.raises(BadInputError, match="is not KEY=VALUE"):
        parse_assignment(text, SET)


def test_parse_assignment_of_an_unknown_key_is_bad_input() -> None:
    with pytest.raises(BadInputError, match=r"unknown key adaptive\.migration_bath"):
        parse_assignment("adaptive.migration_bath=3", SET)


def test_apply_assignments_keeps_every_other_value() -> None:
    start = Settings.model_validate({"replay": {"warmup_ops": 10}})
    result = apply_assignments(start, {KEY: ("32", SET)})
    assert result == Settings.model_validate(
        {"replay": {"warmup_ops": 10}, "adaptive": {"migration_batch": 32}}
    )


def test_apply_assignments_validates_the_assigned_value() -> None:
    with pytest.raises(
        BadInputError, match=r"maps\.chaining_buckets = '5': must be a power of two"
    ):
        apply_assignments(Settings(), {"maps.chaining_buckets": ("5", SET)})


def test_apply_assignments_refuses_an_unknown_key() -> None:
    with pytest.raises(BadInputError, match=r"unknown key maps\.buckets"):
        apply_assignments(Settings(), {"maps.buckets": ("8", SET)})


def test_apply_assignments_reports_every_bad_value() -> None:
    with pytest.raises(BadInputError) as caught:
        apply_assignments(
            Settings(),
            {"maps.chaining_buckets": ("5", SET), "replay.mode": ("btree", SET)},
        )
    assert "maps.chaining_buckets" in caught.value.detail
    assert "replay.mode" in caught.value.detail
