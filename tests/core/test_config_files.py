"""Configuration files: written with a comment per key, read back to the same settings, and every
malformed file refused with an error that names it.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from hypothesis import given

from adhash.config import Settings, dumps, fields, load_settings, loads, write_settings
from adhash.config.files import MAX_CONFIG_BYTES, read_layer
from adhash.config.layers import Source
from adhash.config.model import SCHEMA
from adhash.errors import AdhashError, BadInputError, IOFailureError
from tests.core.config_cases import valid_settings

CHANGED = Settings.model_validate(
    {
        "adaptive": {"migration_batch": 128},
        "guardrails": {"load_factor": None},
        "replay": {"percentiles": (50.0, 99.0), "mode": "robinhood"},
        "server": {"token_file": "/run/adhash/token"},
    }
)


def _write(folder: Path, content: bytes | str, name: str = "adhash.toml") -> Path:
    path = folder / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def _assignment_lines(text: str) -> dict[str, str]:
    """Each dotted key's assignment line (live or commented out) in a written file."""
    found: dict[str, str] = {}
    section = ""
    for line in text.splitlines():
        header = re.fullmatch(r"\[(\w+)\]", line)
        if header:
            section = header.group(1)
            continue
        match = re.match(r"(?:# )?(\w+) = ", line)
        if match and section:
            found[f"{section}.{match.group(1)}"] = line
    return found


def _squeezed(text: str) -> str:
    return "".join(text.split())


def _comment_text(text: str) -> str:
    """The comments of a written file as one text without blanks (wrapping undone)."""
    return _squeezed(" ".join(line[2:] for line in text.splitlines() if line.startswith("# ")))


# --- writing and reading back --------------------------------------------------------------------


@given(settings=valid_settings())
def test_written_settings_read_back_equal(settings: Settings) -> None:
    assert loads(dumps(settings)) == settings


@given(settings=valid_settings())
def test_writing_read_back_settings_gives_the_same_text(settings: Settings) -> None:
    text = dumps(settings)
    assert dumps(loads(text)) == text


@given(settings=valid_settings())
def test_written_text_is_toml_declaring_the_schema(settings: Settings) -> None:
    assert tomllib.loads(dumps(settings))["schema"] == SCHEMA


@given(settings=valid_settings())
def test_written_text_comments_out_defaults_and_pins_changed_values(settings: Settings) -> None:
    lines = _assignment_lines(dumps(settings))
    dumped = settings.model_dump()
    for field in fields():
        is_default = dumped[field.section][field.name] == field.default
        assert lines[field.path].startswith("# ") == is_default, lines[field.path]


def test_written_defaults_pin_nothing() -> None:
    document = tomllib.loads(dumps(Settings()))
    assert document == {"schema": SCHEMA, **{section: {} for section in Settings.model_fields}}


def test_written_text_pins_exactly_the_changed_keys() -> None:
    document = tomllib.loads(dumps(CHANGED))
    pinned = {
        f"{section}.{name}"
        for section, table in document.items()
        if isinstance(table, dict)
        for name in table
    }
    assert pinned == {
        "adaptive.migration_batch",
        "guardrails.load_factor",
        "replay.percentiles",
        "replay.mode",
        "server.token_file",
    }


def test_an_unset_optional_is_written_as_the_word_none() -> None:
    assert _assignment_lines(dumps(CHANGED))["guardrails.load_factor"] == 'load_factor = "none"'


def test_written_text_carries_every_field_description() -> None:
    text = _comment_text(dumps(Settings()))
    missing = [f.path for f in fields() if _squeezed(f.description) not in text]
    assert missing == []


def test_written_text_carries_every_field_allowed_range() -> None:
    text = _comment_text(dumps(Settings()))
    missing = [f.path for f in fields() if _squeezed(f"Allowed: {f.allowed()}.") not in text]
    assert missing == []


def test_written_text_starts_with_the_title() -> None:
    assert dumps(Settings(), title="my lab").startswith("# my lab\n")


def test_write_settings_writes_exactly_the_dumped_text(tmp_path: Path) -> None:
    path = write_settings(CHANGED, tmp_path / "adhash.toml")
    assert path.read_text(encoding="utf-8") == dumps(CHANGED)


def test_write_settings_creates_a_missing_folder(tmp_path: Path) -> None:
    path = write_settings(CHANGED, tmp_path / "new" / "deeper" / "adhash.toml")
    assert load_settings(path) == CHANGED


def test_write_settings_replaces_a_previous_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = _write(tmp_path, "old content that is longer than nothing\n" * 100)
    write_settings(Settings(), target)
    assert target.read_text(encoding="utf-8") == dumps(Settings())
    assert [path.name for path in tmp_path.iterdir()] == [target.name]


def test_read_layer_returns_only_the_pinned_keys_with_the_file_as_source(tmp_path: Path) -> None:
    path = write_settings(CHANGED, tmp_path / "adhash.toml")
    layer = read_layer(path)
    assert set(layer) == {
        "adaptive.migration_batch",
        "guardrails.load_factor",
        "replay.percentiles",
        "replay.mode",
        "server.token_file",
    }
    assert {source for _, source in layer.values()} == {Source("file", str(path))}


# --- accepted files ------------------------------------------------------------------------------


def test_an_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    assert load_settings(_write(tmp_path, "")) == Settings()


def test_a_file_declaring_schema_v1_is_accepted(tmp_path: Path) -> None:
    path = _write(tmp_path, 'schema = "adhash.config.v1"\n[adaptive]\nmigration_batch = 5\n')
    assert load_settings(path).adaptive.migration_batch == 5


def test_a_file_of_exactly_the_size_limit_is_accepted(tmp_path: Path) -> None:
    path = _write(tmp_path, b"#" * (MAX_CONFIG_BYTES - 1) + b"\n")
    assert load_settings(path) == Settings()


def test_a_file_with_a_utf8_comment_is_accepted(tmp_path: Path) -> None:
    path = _write(tmp_path, "# réglages × deux\n[adaptive]\nmigration_batch = 5\n")
    assert load_settings(path).adaptive.migration_batch == 5


# --- refused files -------------------------------------------------------------------------------


def test_a_missing_file_is_an_io_failure_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(IOFailureError, match=re.escape(str(path))) as caught:
        load_settings(path)
    assert caught.value.exit_code == 5
    assert "no such file" in caught.value.detail


def test_a_folder_is_an_io_failure_naming_it(tmp_path: Path) -> None:
    with pytest.raises(IOFailureError, match=re.escape(str(tmp_path))) as caught:
        load_settings(tmp_path)
    assert caught.value.detail == f"config file {tmp_path}: is a directory, not a file"


# name: (file content, what the error detail says)
BAD_FILES: dict[str, tuple[bytes, str]] = {
    "invalid-toml": (b"[adaptive]\nmigration_batch = = 3\n", "invalid TOML"),
    "not-utf8": (b"[adaptive]\n# \xff\xfe\nmigration_batch = 3\n", "not UTF-8"),
    "too-large": (b"#" * (MAX_CONFIG_BYTES + 1), f"larger than {MAX_CONFIG_BYTES} bytes"),
    "unknown-section": (b"[adaptiv]\nmigration_batch = 3\n", "unknown key adaptiv"),
    "unknown-key": (b"[adaptive]\nmigration_bath = 3\n", "unknown key adaptive.migration_bath"),
    "section-not-table": (b"adaptive = 3\n", "adaptive must be a table"),
    "section-array-of-tables": (b"[[maps]]\nchaining_buckets = 4\n", "maps must be a table"),
    "nested-table": (b"[adaptive.extra]\nx = 1\n", "adaptive.extra must be a value"),
    "inline-table": (b"[adaptive]\nextra = { x = 1 }\n", "adaptive.extra must be a value"),
    "schema-v2": (b'schema = "adhash.config.v2"\n', "schema 'adhash.config.v2'"),
    "schema-in-a-section": (b'[replay]\nschema = "adhash.config.v1"\n', "unknown key replay"),
    "bad-value": (b"[adaptive]\nmigration_batch = 0\n", "adaptive.migration_batch = 0"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_a_malformed_file_is_bad_input_saying_what_is_wrong(tmp_path: Path, name: str) -> None:
    content, says = BAD_FILES[name]
    with pytest.raises(BadInputError) as caught:
        load_settings(_write(tmp_path, content))
    assert caught.value.exit_code == 2
    assert says in caught.value.detail


@pytest.mark.parametrize(
    "content",
    [content for content, _ in BAD_FILES.values()] + [None, "folder"],
    ids=[*BAD_FILES, "missing", "folder"],
)
def test_every_file_error_names_the_file(tmp_path: Path, content: bytes | str | None) -> None:
    if content == "folder":
        path = tmp_path / "config.toml"
        path.mkdir()
    elif content is None:
        path = tmp_path / "config.toml"
    else:
        path = _write(tmp_path, content, "config.toml")
    with pytest.raises(AdhashError) as caught:
        load_settings(path)
    assert str(path) in caught.value.detail


def test_invalid_toml_error_gives_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "[adaptive]\nmigration_batch = 64\ncheck_interval = = 3\n")
    with pytest.raises(BadInputError, match=r"line 3, column \d+"):
        load_settings(path)


def test_not_utf8_error_gives_the_byte_offset(tmp_path: Path) -> None:
    path = _write(tmp_path, b"# ok\n\xff\n")
    with pytest.raises(BadInputError, match=r"byte 5\b"):
        load_settings(path)


def test_an_unknown_key_suggests_the_nearest_valid_key(tmp_path: Path) -> None:
    path = _write(tmp_path, "[adaptive]\nmigration_bath = 3\n")
    with pytest.raises(BadInputError, match=r"did you mean adaptive\.migration_batch\?"):
        load_settings(path)


def test_a_key_in_the_wrong_section_suggests_where_it_belongs(tmp_path: Path) -> None:
    path = _write(tmp_path, "[replay]\nmigration_batch = 3\n")
    with pytest.raises(BadInputError, match=r"did you mean adaptive\.migration_batch\?"):
        load_settings(path)


def test_an_unknown_section_suggests_the_nearest_valid_section(tmp_path: Path) -> None:
    path = _write(tmp_path, "[adaptiv]\nmigration_batch = 3\n")
    with pytest.raises(BadInputError, match=r"unknown key adaptiv\b.*did you mean adaptive"):
        load_settings(path)


def test_every_bad_value_of_a_file_is_reported(tmp_path: Path) -> None:
    path = _write(tmp_path, "[maps]\nchaining_buckets = 3\n[adaptive]\nmigration_batch = 0\n")
    with pytest.raises(BadInputError) as caught:
        load_settings(path)
    assert "maps.chaining_buckets = 3" in caught.value.detail
    assert "adaptive.migration_batch = 0" in caught.value.detail


def test_text_without_a_file_is_named_as_text() -> None:
    with pytest.raises(BadInputError, match="<text>"):
        loads("[adaptive]\nmigration_batch = 0\n")
