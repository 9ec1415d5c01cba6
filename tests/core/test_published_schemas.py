"""The JSON Schemas published in docs/schemas/ are the ones the record models produce."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from adhash.metrics.records import json_schemas

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "docs" / "schemas"


@pytest.mark.parametrize("name", sorted(json_schemas()))
def test_published_schema_matches_the_model(name: str) -> None:
    published = orjson.loads((SCHEMA_DIR / f"{name}.json").read_bytes())
    assert published == json_schemas()[name], (
        f"docs/schemas/{name}.json is stale: run `python -m adhash.metrics.records "
        "--write docs/schemas`"
    )


def test_every_published_schema_has_a_model() -> None:
    assert {path.stem for path in SCHEMA_DIR.glob("*.json")} == set(json_schemas())
