"""The Prometheus exposition of a hub: hash flooding, the hashing mode and every guardrail."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from adhash import SaltedMap
from adhash.guardrails import GuardrailThresholds
from adhash.metrics.hub import MetricsHub
from adhash.metrics.prometheus import render
from adhash.metrics.records import MetricsTick
from tests.core.test_metrics_records import colliding_ints, flooded_tick, make_tick, tick_of


def scrape_of(*ticks: MetricsTick) -> dict[str, list[Sample]]:
    hub = MetricsHub()
    for tick in ticks:
        hub.write(tick)
    text = render(hub).decode()
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


def gauge(scrape: dict[str, list[Sample]], name: str) -> float:
    (sample,) = scrape[name]
    return sample.value


def test_the_flood_keys_gauge_is_the_latest_ticks() -> None:
    assert gauge(scrape_of(make_tick()), "adhash_flood_keys") == 1.0
    assert gauge(scrape_of(make_tick(0), flooded_tick(seq=1)), "adhash_flood_keys") == 40.0


def test_a_flood_makes_its_guardrail_alert_active() -> None:
    scrape = scrape_of(flooded_tick())
    active = {s.labels["metric"]: s.value for s in scrape["adhash_alert_active"]}
    assert active["flood_keys"] == 1.0
    assert set(active) == set(GuardrailThresholds.__dataclass_fields__)
    calm = {s.labels["metric"]: s.value for s in scrape_of(make_tick())["adhash_alert_active"]}
    assert calm["flood_keys"] == 0.0


def test_the_backend_info_names_the_hashing() -> None:
    salted: SaltedMap[Any, int] = SaltedMap(seed=3)
    salted.update((key, j) for j, key in enumerate(colliding_ints(40)))
    for tick, hashing in ((flooded_tick(), "plain"), (tick_of(salted), "salted")):
        (info,) = scrape_of(tick)["adhash_backend_info"]
        assert info.labels["hashing"] == hashing


def test_unsalted_keys_are_a_gauge_only_under_salted_hashing() -> None:
    salted: SaltedMap[Any, int] = SaltedMap(seed=3)
    salted.update({"a": 1, object(): 2, object(): 3})
    assert gauge(scrape_of(tick_of(salted)), "adhash_unsalted_keys") == 2.0
    assert "adhash_unsalted_keys" not in scrape_of(flooded_tick())


def test_a_dict_runs_tick_leaves_the_flood_keys_gauge_out() -> None:
    tick = make_tick()
    tick = tick.model_copy(update={"map": tick.map.model_copy(update={"flood_keys": None})})
    assert "adhash_flood_keys" not in scrape_of(tick)
