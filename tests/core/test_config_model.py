"""The settings model and its catalog: defaults from the core, bounds, coercions and error texts."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import pytest
from hypothesis import example, given

from adhash.config import SettingField, Settings, fields, lookup
from adhash.config.catalog import nearest_paths, sections
from adhash.config.layers import Source, apply_assignments
from adhash.config.model import SCHEMA, UNSET_WORDS, json_schema
from adhash.errors import BadInputError
from adhash.guardrails import GuardrailThresholds
from adhash.maps import AdaptivePolicy
from adhash.replay import ReplayOptions
from adhash.snapshot.container import SnapshotLimits
from adhash.workload.format import Limits
from tests.core.config_cases import NestedValues, field_and_value, settings_values

FLAG = Source("flag", "--set")
OPTIONAL_PATHS = [field.path for field in fields() if field.optional]


def _assign(key: str, value: Any) -> Settings:
    return apply_assignments(Settings(), {key: (value, FLAG)})


def _value_at(settings: Settings, path: str) -> Any:
    section, _, name = path.partition(".")
    return getattr(getattr(settings, section), name)


# --- defaults come from the core's dataclasses ---------------------------------------------------


def test_default_settings_give_the_default_adaptive_policy() -> None:
    assert Settings().policy() == AdaptivePolicy()


def test_default_settings_give_the_default_guardrail_thresholds() -> None:
    assert Settings().guardrail_thresholds() == GuardrailThresholds()


def test_default_settings_give_the_default_workload_limits() -> None:
    assert Settings().workload_limits() == Limits()


def test_default_settings_give_the_default_snapshot_limits() -> None:
    assert Settings().snapshot_limits() == SnapshotLimits()


@pytest.mark.parametrize("name", [field.name for field in dataclasses.fields(ReplayOptions)])
def test_default_settings_give_each_default_replay_option(name: str) -> None:
    assert getattr(Settings().replay_options(), name) == getattr(ReplayOptions(), name)


def test_replay_options_overrides_set_the_run_only_fields() -> None:
    options = Settings().replay_options(verify=True, batch_size=7)
    assert (options.verify, options.batch_size) == (True, 7)


NO_THRESHOLDS = GuardrailThresholds(
    load_factor=None,
    probe_length_mean=None,
    chain_length_max=None,
    tombstone_ratio=None,
    flood_keys=None,
)


def test_disabled_guardrails_give_no_thresholds_at_all() -> None:
    settings = Settings.model_validate(
        {
            "guardrails": {
                "enabled": False,
                "load_factor": 0.5,
                "chain_length_max": 4,
                "flood_keys": 3,
            }
        }
    )
    assert settings.guardrail_thresholds() == NO_THRESHOLDS


def test_disabled_guardrails_reach_the_replay_options() -> None:
    settings = Settings.model_validate({"guardrails": {"enabled": False}})
    assert settings.replay_options().guardrails == NO_THRESHOLDS


# --- the flooding guardrail and defence ----------------------------------------------------------


def test_an_unset_flood_keys_threshold_turns_only_that_guardrail_off() -> None:
    thresholds = _assign("guardrails.flood_keys", "none").guardrail_thresholds()
    assert thresholds == dataclasses.replace(GuardrailThresholds(), flood_keys=None)


def test_an_unset_flood_min_keys_turns_the_flooding_defence_off() -> None:
    settings = _assign("adaptive.flood_min_keys", "none")
    assert settings.policy() == dataclasses.replace(AdaptivePolicy(), flood_min_keys=None)
    assert settings.replay_options().policy.flood_min_keys is None


@pytest.mark.parametrize(("value", "expected"), [("4", 4), (256, 256), ("2", 2)])
def test_a_flood_keys_threshold_reaches_the_guardrails(value: Any, expected: int) -> None:
    options = _assign("guardrails.flood_keys", value).replay_options()
    assert options.guardrails.flood_keys == expected


def test_a_flood_min_keys_reaches_the_adaptive_policy() -> None:
    assert _assign("adaptive.flood_min_keys", "2").policy().flood_min_keys == 2


@pytest.mark.parametrize("key", ["guardrails.flood_keys", "adaptive.flood_min_keys"])
@pytest.mark.parametrize("value", ["abc", 1, -3, 257, 8.5, "1"])
def test_a_flood_count_outside_2_to_256_is_refused_saying_what_is_allowed(
    key: str, value: Any
) -> None:
    with pytest.raises(BadInputError) as caught:
        _assign(key, value)
    detail = caught.value.detail
    assert f"{key} = {value!r}" in detail
    assert 'an integer from 2 to 256, or "none"' in detail


# --- the model's bounds are no looser than the core's --------------------------------------------


@given(values=settings_values())
def test_any_values_inside_the_catalog_bounds_build_every_core_object(
    values: NestedValues,
) -> None:
    settings = Settings.model_validate(values)
    settings.policy()
    settings.guardrail_thresholds()
    settings.snapshot_limits()
    settings.workload_limits()
    settings.replay_options()


# --- out-of-range values are BadInput naming key, value and what is allowed ----------------------

OUT_OF_RANGE: list[tuple[str, Any]] = [
    ("adaptive.migration_batch", 0),
    ("maps.hash_seed", -1),
    ("maps.hash_seed", 2**63),
    ("adaptive.max_tombstone_ratio", 1.5),
    ("adaptive.chaining_max_load_factor", 0.0),
    ("replay.tick_interval", 3600.5),
    ("maps.chaining_buckets", 12),
    ("maps.compact_capacity", 4),
    ("replay.mode", "btree"),
    ("maps.robinhood_deletion", "lazy"),
    ("guardrails.enabled", "maybe"),
    ("guardrails.load_factor", "abc"),
    ("server.port", 65_536),
    ("replay.percentiles", [0]),
    ("replay.percentiles", [50, 101]),
    ("replay.percentiles", "0"),
    ("replay.percentiles", "101"),
    ("replay.percentiles", []),
    ("replay.percentiles", ""),
]


@pytest.mark.parametrize(("key", "value"), OUT_OF_RANGE)
def test_an_out_of_range_value_is_bad_input_naming_key_value_and_range(
    key: str, value: Any
) -> None:
    with pytest.raises(BadInputError) as caught:
        _assign(key, value)
    detail = caught.value.detail
    assert caught.value.exit_code == 2
    assert key in detail
    assert repr(value) in detail
    assert lookup(key).allowed() in detail


def test_an_out_of_range_value_error_names_its_source() -> None:
    with pytest.raises(BadInputError, match=r"^flag --set: adaptive\.migration_batch"):
        _assign("adaptive.migration_batch", 0)


@pytest.mark.parametrize("key", ["adaptive.migration_batch", "guardrails.enabled", "replay.mode"])
def test_a_required_field_cannot_be_unset(key: str) -> None:
    with pytest.raises(BadInputError, match=re.escape(key)):
        _assign(key, "none")


# --- coercions: unset words, percentiles, mode aliases -------------------------------------------


@pytest.mark.parametrize("word", ["none", "NONE", "Off", "disabled", "Null", " none "])
def test_an_unset_word_in_any_case_turns_every_optional_field_to_none(word: str) -> None:
    settings = apply_assignments(
        Settings.model_validate({"maps": {"hash_seed": 7}, "replay": {"target_rate": 5.0}}),
        {path: (word, FLAG) for path in OPTIONAL_PATHS},
    )
    assert [_value_at(settings, path) for path in OPTIONAL_PATHS] == [None] * len(OPTIONAL_PATHS)


def test_percentiles_text_accepts_p_prefixes_and_max() -> None:
    assert _assign("replay.percentiles", "50,p99,max").replay.percentiles == (50.0, 99.0, 100.0)


def test_percentiles_are_sorted_and_deduplicated() -> None:
    settings = _assign("replay.percentiles", "max, 99.9,P50,50,100, p99.9")
    assert settings.replay.percentiles == (50.0, 99.9, 100.0)


def test_percentiles_from_a_list_mix_numbers_and_words() -> None:
    assert _assign("replay.percentiles", [99, "max", "p50"]).replay.percentiles == (
        50.0,
        99.0,
        100.0,
    )


@pytest.mark.parametrize(
    ("alias", "mode"),
    [
        ("fast-insert", "chaining"),
        ("fast-lookup", "robinhood"),
        ("memory-tight", "compact"),
        ("Fast-Insert", "chaining"),
        (" ROBINHOOD ", "robinhood"),
    ],
)
def test_mode_aliases_are_stored_as_the_canonical_mode(alias: str, mode: str) -> None:
    assert _assign("replay.mode", alias).replay.mode == mode


# --- the JSON Schema -----------------------------------------------------------------------------


def _schema_properties() -> dict[str, dict[str, Any]]:
    """Each dotted key's property in the schema, following the sections' ``$ref``."""
    schema = json_schema()
    found: dict[str, dict[str, Any]] = {}
    for section, prop in schema["properties"].items():
        if section == "schema":
            continue
        definition = schema["$defs"][prop["$ref"].rpartition("/")[2]]
        for name, leaf in definition["properties"].items():
            found[f"{section}.{name}"] = leaf
    return found


def test_json_schema_is_titled_with_the_config_schema_name() -> None:
    assert json_schema()["title"] == SCHEMA == "adhash.config.v1"


def test_json_schema_is_plain_json() -> None:
    schema = json_schema()
    assert json.loads(json.dumps(schema)) == schema


def test_json_schema_declares_the_optional_schema_key_as_a_constant() -> None:
    assert json_schema()["properties"]["schema"]["const"] == SCHEMA


def test_json_schema_has_every_catalog_field_and_nothing_else() -> None:
    assert set(_schema_properties()) == {field.path for field in fields()}


@pytest.mark.parametrize("path", [field.path for field in fields()])
def test_json_schema_describes_each_field_as_the_catalog_does(path: str) -> None:
    assert _schema_properties()[path]["description"] == lookup(path).description


@pytest.mark.parametrize("path", OPTIONAL_PATHS)
def test_json_schema_lets_each_optional_field_be_an_unset_word(path: str) -> None:
    alternatives = _schema_properties()[path]["anyOf"]
    assert {"enum": sorted(UNSET_WORDS)} in alternatives


def test_json_schema_forbids_unknown_keys_in_every_section() -> None:
    definitions = json_schema()["$defs"]
    assert all(definition["additionalProperties"] is False for definition in definitions.values())


# --- the catalog ---------------------------------------------------------------------------------


def test_catalog_lists_every_field_of_every_section_once() -> None:
    paths = [field.path for field in fields()]
    expected = [
        f"{section}.{name}"
        for section, info in Settings.model_fields.items()
        for name in info.annotation.model_fields  # type: ignore[union-attr]
    ]
    assert paths == expected


@pytest.mark.parametrize("field", fields(), ids=lambda field: field.path)
def test_every_field_has_a_sentence_as_description(field: SettingField) -> None:
    assert field.description.strip()
    assert field.description.endswith(".")


@pytest.mark.parametrize("field", fields(), ids=lambda field: field.path)
def test_every_field_says_what_it_accepts(field: SettingField) -> None:
    assert field.allowed().strip()


@pytest.mark.parametrize("field", fields(), ids=lambda field: field.path)
def test_every_field_has_an_adhash_section_double_underscore_env_var(field: SettingField) -> None:
    assert re.fullmatch(r"ADHASH_[A-Z]+__[A-Z0-9_]+", field.env_var)
    assert field.env_var == f"ADHASH_{field.section.upper()}__{field.name.upper()}"


@pytest.mark.parametrize("field", fields(), ids=lambda field: field.path)
def test_every_optional_field_says_none_is_allowed(field: SettingField) -> None:
    assert field.allowed().endswith(', or "none"') == field.optional


def test_every_section_has_a_one_line_description() -> None:
    described = dict(sections())
    assert list(described) == list(Settings.model_fields)
    assert all(text.strip() for text in described.values())


def test_allowed_text_of_an_integer_range() -> None:
    assert lookup("adaptive.migration_batch").allowed() == "an integer from 1 to 1000000"


def test_allowed_text_of_an_open_float_range_that_may_be_unset() -> None:
    assert lookup("guardrails.load_factor").allowed() == 'a number > 0 and <= 1000000, or "none"'


def test_allowed_text_of_a_power_of_two() -> None:
    assert lookup("maps.chaining_buckets").allowed() == "a power of two from 1 to 2^24"


def test_lookup_of_an_unknown_key_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        lookup("adaptive.nothing")


@pytest.mark.parametrize(
    ("typo", "nearest"),
    [
        ("adaptive.migration_bath", "adaptive.migration_batch"),
        ("replay.migration_batch", "adaptive.migration_batch"),
        ("guardrail.load_factor", "guardrails.load_factor"),
        ("snapshot.max_chunkz", "snapshot.max_chunks"),
        ("maps.hash_sed", "maps.hash_seed"),
        ("replay.tick", "replay.tick_interval"),
    ],
)
def test_nearest_paths_suggests_the_intended_key_for_a_typo(typo: str, nearest: str) -> None:
    assert nearest_paths(typo) == [nearest]


def test_nearest_paths_suggests_nothing_for_an_unrelated_word() -> None:
    assert nearest_paths("xyz") == []


# --- format: what a field shows is what a user can type back -------------------------------------


def test_format_writes_percentiles_with_max_for_100() -> None:
    assert lookup("replay.percentiles").format((50.0, 99.9, 100.0)) == "50,99.9,max"


def test_format_writes_an_unset_optional_as_none() -> None:
    assert lookup("maps.hash_seed").format(None) == "none"


@given(case=field_and_value(typable=True))
@example(case=(lookup("replay.target_rate"), float(2**20)))
def test_a_formatted_value_parses_back_to_the_same_value(case: tuple[SettingField, Any]) -> None:
    field, value = case
    expected = _value_at(Settings.model_validate({field.section: {field.name: value}}), field.path)
    assert _value_at(_assign(field.path, field.format(expected)), field.path) == expected
