"""Presets (built-in and saved by the user) and the wizard that asks for every setting."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

import platformdirs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from adhash.config import Settings, fields, lookup
from adhash.config.layers import Source, apply_assignments
from adhash.config.presets import (
    check_preset_name,
    default_presets_dir,
    list_presets,
    preset_layer,
    save_preset,
)
from adhash.config.wizard import run_wizard
from adhash.errors import BadInputError, PolicyError

BUILTIN = ["churn", "lookup-heavy", "memory-tight", "strict-guardrails"]
TUNED = Settings.model_validate(
    {
        "adaptive": {"migration_batch": 128, "start_backend": "compact"},
        "guardrails": {"load_factor": None},
    }
)


def _apply(name: str, folder: Path) -> Settings:
    return apply_assignments(Settings(), preset_layer(name, folder))


# --- built-in presets ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", BUILTIN)
def test_a_builtin_preset_loads_and_changes_some_default(tmp_path: Path, name: str) -> None:
    assert _apply(name, tmp_path) != Settings()


@pytest.mark.parametrize("name", BUILTIN)
def test_a_builtin_preset_is_listed_as_builtin_with_a_description(
    tmp_path: Path, name: str
) -> None:
    (preset,) = [preset for preset in list_presets(tmp_path) if preset.name == name]
    assert (preset.builtin, preset.path) == (True, None)
    assert preset.description.endswith(".")


@pytest.mark.parametrize("name", BUILTIN)
def test_a_builtin_preset_is_named_as_the_source_of_its_values(tmp_path: Path, name: str) -> None:
    sources = {source for _, source in preset_layer(name, tmp_path).values()}
    assert sources == {Source("preset", f"{name} (built-in)")}


def test_list_presets_without_a_presets_folder_lists_the_builtins(tmp_path: Path) -> None:
    assert [preset.name for preset in list_presets(tmp_path / "absent")] == BUILTIN


def test_the_memory_tight_preset_runs_the_compact_backend(tmp_path: Path) -> None:
    settings = _apply("memory-tight", tmp_path)
    assert (settings.replay.mode, settings.adaptive.start_backend) == ("compact", "compact")


def test_the_strict_guardrails_preset_lowers_every_threshold(tmp_path: Path) -> None:
    strict = _apply("strict-guardrails", tmp_path).guardrail_thresholds()
    default = Settings().guardrail_thresholds()
    lowered = {
        name: (getattr(strict, name), getattr(default, name))
        for name in default.__dataclass_fields__
    }
    assert all(value < was for value, was in lowered.values()), lowered


# --- saved presets -------------------------------------------------------------------------------


def test_a_saved_preset_reads_back_to_the_same_settings(tmp_path: Path) -> None:
    save_preset(TUNED, "mine", tmp_path)
    assert _apply("mine", tmp_path) == TUNED


def test_a_saved_preset_pins_only_the_changed_keys(tmp_path: Path) -> None:
    save_preset(TUNED, "mine", tmp_path)
    assert set(preset_layer("mine", tmp_path)) == {
        "adaptive.migration_batch",
        "adaptive.start_backend",
        "guardrails.load_factor",
    }


def test_a_saved_preset_is_listed_as_a_user_preset(tmp_path: Path) -> None:
    path = save_preset(TUNED, "mine", tmp_path)
    (preset,) = [preset for preset in list_presets(tmp_path) if preset.name == "mine"]
    assert (preset.builtin, preset.path, preset.description) == (False, path, "adhash preset mine")


def test_saving_over_an_existing_preset_without_force_is_refused(tmp_path: Path) -> None:
    path = save_preset(TUNED, "mine", tmp_path)
    before = path.read_bytes()
    with pytest.raises(PolicyError) as caught:
        save_preset(Settings(), "mine", tmp_path)
    assert caught.value.exit_code == 4
    assert "--force" in (caught.value.hint or "")
    assert path.read_bytes() == before


def test_saving_over_an_existing_preset_with_force_replaces_it(tmp_path: Path) -> None:
    save_preset(TUNED, "mine", tmp_path)
    save_preset(
        Settings.model_validate({"replay": {"warmup_ops": 3}}), "mine", tmp_path, force=True
    )
    assert set(preset_layer("mine", tmp_path)) == {"replay.warmup_ops"}


def test_saving_a_preset_creates_the_presets_folder(tmp_path: Path) -> None:
    path = save_preset(TUNED, "mine", tmp_path / "new" / "presets")
    assert path == tmp_path / "new" / "presets" / "mine.toml"
    assert path.is_file()


def test_a_user_preset_shadows_the_builtin_of_the_same_name_in_the_list(tmp_path: Path) -> None:
    path = save_preset(TUNED, "churn", tmp_path)
    (preset,) = [preset for preset in list_presets(tmp_path) if preset.name == "churn"]
    assert (preset.builtin, preset.path) == (False, path)


def test_a_user_preset_shadows_the_builtin_of_the_same_name_when_applied(tmp_path: Path) -> None:
    save_preset(TUNED, "churn", tmp_path)
    assert _apply("churn", tmp_path) == TUNED


def test_a_preset_given_as_a_toml_path_is_read_from_that_file(tmp_path: Path) -> None:
    path = save_preset(TUNED, "elsewhere", tmp_path / "other")
    layer = preset_layer(str(path), tmp_path / "presets")
    assert apply_assignments(Settings(), layer) == TUNED
    assert {source for _, source in layer.values()} == {Source("preset", str(path))}


def test_a_missing_preset_is_bad_input_listing_the_available_names(tmp_path: Path) -> None:
    save_preset(TUNED, "mine", tmp_path)
    with pytest.raises(BadInputError, match="'absent' not found") as caught:
        preset_layer("absent", tmp_path)
    assert caught.value.hint == "available: " + ", ".join(sorted([*BUILTIN, "mine"]))


@pytest.mark.parametrize("name", ["low-latency", "a", "x_1", "0", "a" * 64])
def test_a_valid_preset_name_is_accepted_as_is(name: str) -> None:
    assert check_preset_name(name) == name


def _suggestion(error: BadInputError) -> str:
    match = re.search(r"\(e\.g\. '([^']*)'\)$", error.detail)
    assert match, error.detail
    return match.group(1)


@pytest.mark.parametrize(
    ("name", "suggested"),
    [
        ("My Preset!", "my-preset"),
        ("", "preset"),
        ("../x", "x"),
        ("a" * 65, "a" * 64),
        ("-x", "x"),
        ("_x", "x"),
        ("Low Latency", "low-latency"),
    ],
)
def test_an_invalid_preset_name_is_bad_input_suggesting_a_slug(name: str, suggested: str) -> None:
    with pytest.raises(BadInputError) as caught:
        check_preset_name(name)
    assert _suggestion(caught.value) == suggested


@given(name=st.text(max_size=80))
def test_the_suggested_slug_for_any_invalid_name_is_itself_valid(name: str) -> None:
    assume(re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", name) is None)
    with pytest.raises(BadInputError) as caught:
        check_preset_name(name)
    suggestion = _suggestion(caught.value)
    assert check_preset_name(suggestion) == suggestion


@pytest.mark.parametrize("name", ["My Preset!", "../x", "-x"])
def test_saving_under_an_invalid_name_writes_nothing(tmp_path: Path, name: str) -> None:
    with pytest.raises(BadInputError):
        save_preset(TUNED, name, tmp_path / "presets")
    assert list(tmp_path.rglob("*")) == []


def test_default_presets_dir_honours_the_environment_variable(tmp_path: Path) -> None:
    assert default_presets_dir({"ADHASH_PRESETS_DIR": str(tmp_path)}) == tmp_path


def test_default_presets_dir_reads_the_process_environment_by_default() -> None:
    assert default_presets_dir() == Path(os.environ["ADHASH_PRESETS_DIR"])


@pytest.mark.parametrize("environ", [{}, {"ADHASH_PRESETS_DIR": ""}])
def test_default_presets_dir_is_otherwise_in_the_user_config_folder(
    environ: dict[str, str],
) -> None:
    assert default_presets_dir(environ) == platformdirs.user_config_path("adhash") / "presets"


# --- the wizard ----------------------------------------------------------------------------------


class Script:
    """Scripted answers for the wizard, and a record of every prompt and every line said."""

    def __init__(self, answers: Iterable[str | None]) -> None:
        self._answers = iter(answers)
        self.prompts: list[str] = []
        self.said: list[str] = []

    def ask(self, prompt: str) -> str | None:
        self.prompts.append(prompt)
        return next(self._answers, None)

    def run(self, start: Settings | None = None, sections: list[str] | None = None) -> Settings:
        return run_wizard(
            start or Settings(), ask=self.ask, say=self.said.append, sections=sections
        )


def _fields_of(sections: list[str]) -> list[str]:
    return [field.path for field in fields() if field.section in sections]


def _answers_for(sections: list[str], **by_path: str) -> list[str]:
    """An answer per field of ``sections``: the given ones, Enter for the rest."""
    return [by_path.get(path, "") for path in _fields_of(sections)]


def test_wizard_enter_on_every_prompt_keeps_the_start_settings() -> None:
    assert Script([""] * len(fields())).run(TUNED) == TUNED


def test_wizard_a_valid_answer_sets_the_field() -> None:
    answers = _answers_for(["adaptive"], **{"adaptive.migration_batch": "128"})
    settings = Script(answers).run(sections=["adaptive"])
    assert settings == Settings.model_validate({"adaptive": {"migration_batch": 128}})


def _answering_migration_batch(*tries: str) -> list[str]:
    """Enter for every adaptive prompt but migration_batch, which gets ``tries`` in turn."""
    paths = _fields_of(["adaptive"])
    at = paths.index("adaptive.migration_batch")
    return [""] * at + list(tries) + [""] * (len(paths) - at - 1)


def test_wizard_an_invalid_answer_is_explained_and_asked_again() -> None:
    # 0 is refused, then 32 is taken.
    script = Script(_answering_migration_batch("0", "32"))
    settings = script.run(sections=["adaptive"])
    assert settings.adaptive.migration_batch == 32
    explanations = [line for line in script.said if line.startswith("  !")]
    assert explanations == [
        "  ! adaptive.migration_batch = '0': input should be greater than or equal to 1; "
        "allowed: " + lookup("adaptive.migration_batch").allowed()
    ]


def test_wizard_asks_the_same_prompt_again_after_an_invalid_answer() -> None:
    script = Script(_answering_migration_batch("0", "nope", "32"))
    script.run(sections=["adaptive"])
    batch_prompts = [prompt for prompt in script.prompts if "migration_batch" in prompt]
    assert batch_prompts == ["  migration_batch [64]: "] * 3


def test_wizard_end_of_input_is_bad_input_naming_the_field() -> None:
    script = Script(["", ""])  # then input ends at the third adaptive field
    with pytest.raises(BadInputError, match=r"input ended at adaptive\.chaining_max_chain_length"):
        script.run(sections=["adaptive"])


def test_wizard_end_of_input_after_an_invalid_answer_is_bad_input() -> None:
    with pytest.raises(BadInputError, match=r"input ended at maps\.hash_seed"):
        Script(["-1"]).run(sections=["maps"])


@pytest.mark.parametrize("sections", [["adaptive"], ["server", "maps"], ["snapshot"]])
def test_wizard_sections_limit_the_prompts_to_their_fields(sections: list[str]) -> None:
    script = Script(_answers_for(sections))
    script.run(sections=sections)
    asked = [prompt.split()[0] for prompt in script.prompts]
    assert asked == [path.partition(".")[2] for path in _fields_of(sections)]


def test_wizard_without_sections_asks_every_field_once() -> None:
    script = Script([""] * len(fields()))
    script.run()
    assert len(script.prompts) == len(fields())


def test_wizard_says_each_section_header_before_its_fields() -> None:
    script = Script(_answers_for(["server", "maps"]))
    script.run(sections=["server", "maps"])
    assert [line for line in script.said if line.startswith("[")] == ["[maps]", "[server]"]


def test_wizard_every_prompt_shows_the_current_value_in_brackets() -> None:
    script = Script([""] * len(fields()))
    script.run(TUNED)
    dumped = TUNED.model_dump()
    expected = [
        f"  {field.name} [{field.format(dumped[field.section][field.name])}]: "
        for field in fields()
    ]
    assert script.prompts == expected


def test_wizard_answering_every_formatted_default_gives_the_defaults() -> None:
    answers = [field.format(field.default) for field in fields()]
    start = Settings.model_validate(
        {
            "maps": {"hash_seed": 3, "chaining_buckets": 64},
            "guardrails": {"enabled": False, "load_factor": None},
            "replay": {"percentiles": [75], "target_rate": 10.0, "mode": "dict"},
            "server": {"token_file": "/tmp/token", "host": "0.0.0.0"},
        }
    )
    assert Script(answers).run(start) == Settings()


def test_wizard_answers_are_stripped_before_parsing() -> None:
    answers = _answers_for(["replay"], **{"replay.mode": "  fast-insert  "})
    assert Script(answers).run(sections=["replay"]).replay.mode == "chaining"


def test_wizard_never_asks_when_no_section_matches() -> None:
    script = Script([])
    assert script.run(TUNED, sections=["nothing"]) == TUNED
    assert (script.prompts, script.said) == ([], [])
