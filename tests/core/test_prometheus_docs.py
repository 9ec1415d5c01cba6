"""docs/prometheus.md and the Grafana dashboard name only metrics a real scrape exposes, and the
page documents every family a scrape exposes."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from adhash import SaltedMap
from adhash.metrics.hub import MetricsHub
from adhash.metrics.prometheus import render
from adhash.replay import ReplayOptions, replay
from adhash.workload.generate import GeneratorSpec, generate
from tests.core.test_metrics_records import tick_of

DOCS = Path(__file__).resolve().parents[2] / "docs"
NAME = re.compile(r"\badhash_[a-z_]+")
SUFFIXES = ("_bucket", "_count", "_sum", "_total", "_info", "_created")


def _names(hub: MetricsHub) -> set[str]:
    return {family.name for family in text_string_to_metric_families(render(hub).decode())}


@pytest.fixture(scope="module")
def families(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Family names of a scrape after a chaining run and a Robin Hood run (both shapes), and of
    a salted map's tick (the gauges only salted hashing has)."""
    folder = tmp_path_factory.mktemp("prom")
    workload = folder / "w.csv"
    generate(GeneratorSpec.from_params(ops=5_000, key_space=500, seed=3), workload)
    names: set[str] = set()
    for mode in ("chaining", "robinhood"):
        hub = MetricsHub()
        replay(workload, ReplayOptions(mode=mode), sinks=[hub])
        names |= _names(hub)
    salted: SaltedMap[object, int] = SaltedMap(seed=3)
    salted.update({"a": 1, object(): 2})
    hub = MetricsHub()
    hub.write(tick_of(salted))
    return names | _names(hub)


def _family(name: str, known: set[str]) -> str:
    if name in known:
        return name
    for suffix in SUFFIXES:
        if name.endswith(suffix) and name.removesuffix(suffix) in known:
            return name.removesuffix(suffix)
    return name


def _exposed(names: set[str], families: set[str]) -> set[str]:
    return {name for name in names if _family(name, families) not in families}


def test_every_name_in_the_page_is_exposed(families: set[str]) -> None:
    names = set(NAME.findall((DOCS / "prometheus.md").read_text()))
    assert names
    assert _exposed(names, families) == set()


def test_every_name_in_the_grafana_dashboard_is_exposed(families: set[str]) -> None:
    dashboard = orjson.loads((DOCS / "grafana" / "adhash-dashboard.json").read_bytes())
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    names = {name for expr in expressions for name in NAME.findall(expr)}
    assert len(names) >= 8
    assert _exposed(names, families) == set()


def test_every_exposed_family_is_documented(families: set[str]) -> None:
    page = (DOCS / "prometheus.md").read_text()
    documented = {_family(name, families) for name in NAME.findall(page)}
    assert families <= documented
