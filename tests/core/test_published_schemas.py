"""The JSON Schemas published in docs/schemas/ are the ones the models produce."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from adhash.config.model import SCHEMA as CONFIG_SCHEMA
from adhash.config.model import json_schema as config_json_schema
from adhash.metrics.records import json_schemas

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "docs" / "schemas"


@pytest.mark.parametrize("name", sorted(json_schemas()))
def test_published_schema_matches_the_model(name: str) -> None:
    published = orjson.loads((SCHEMA_DIR / f"{name}.json").read_bytes())
    assert published == json_schemas()[name], (
        f"docs/schemas/{name}.json is stale: run `python -m adhash.metrics.records "
        "--write docs/schemas`"
    )


def test_published_config_schema_matches_the_settings_model() -> None:
    published = orjson.loads((SCHEMA_DIR / f"{CONFIG_SCHEMA}.json").read_bytes())
    assert published == config_json_schema(), (
        f"docs/schemas/{CONFIG_SCHEMA}.json is stale: run `python -m adhash_cli.reference --write`"
    )


def test_every_published_schema_has_a_model() -> None:
    published = {path.stem for path in SCHEMA_DIR.glob("*.json")}
    assert published == {*json_schemas(), CONFIG_SCHEMA}
