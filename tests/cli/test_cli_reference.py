"""The generated reference pages (docs/cli.md commands, docs/config.md settings) are current."""

from __future__ import annotations

import pytest
import typer

from adhash.config import fields
from adhash_cli.app import create_app
from adhash_cli.reference import GENERATED, main, render_commands, splice


def test_generated_docs_match_the_app_and_the_model(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--check"]) == 0, capsys.readouterr().out


def test_command_reference_lists_every_command_and_option() -> None:
    text = render_commands()
    root = typer.main.get_command(create_app())
    assert isinstance(root, typer.core.TyperGroup)
    for name, command in root.commands.items():
        assert f"### `adhash {name}`" in text
        for param in command.params:
            if param.name != "help" and param.opts[0].startswith("--"):
                assert f"`{param.opts[0]}" in text, (name, param.opts[0])


def test_settings_reference_lists_every_setting_with_its_variable() -> None:
    _, render = GENERATED["settings"]
    text = render()
    for field in fields():
        assert f"| `{field.name}` |" in text
        assert f"`{field.env_var}`" in text


def test_splice_refuses_a_page_without_markers() -> None:
    with pytest.raises(ValueError, match="generated:x"):
        splice("no markers here", "x", "body\n")
