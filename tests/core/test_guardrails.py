"""Guardrails with their default thresholds: each alert rises when a real map crosses it and
falls when the map recovers; disabled thresholds never fire; invalid ones are refused."""

from __future__ import annotations

import math
from typing import Any

import pytest

from adhash import (
    Alert,
    AlertEdge,
    BadInputError,
    ChainingMap,
    GuardrailReport,
    Guardrails,
    GuardrailThresholds,
    MapStats,
    RobinHoodMap,
)
from tests.core.map_cases import CollidingKey

SEED = 11
DEFAULTS = GuardrailThresholds()


def longest_quiet_chain() -> int:
    """The longest chain that raises no alert under the default thresholds."""
    assert DEFAULTS.chain_length_max is not None
    return math.ceil(DEFAULTS.chain_length_max) - 1


def edges_of(report: GuardrailReport, metric: str) -> list[tuple[str, bool]]:
    return [(edge.metric, edge.rising) for edge in report.edges if edge.metric == metric]


def active_metrics(report: GuardrailReport) -> set[str]:
    return {alert.metric for alert in report.active}


def test_load_factor_alert_rises_when_filled_and_falls_after_deletions() -> None:
    watchdog = Guardrails()
    m: RobinHoodMap[int, int] = RobinHoodMap(capacity=64, max_load_factor=0.9, hash_seed=SEED)
    m.update((i, i) for i in range(40))
    assert "load_factor" not in active_metrics(watchdog.evaluate(m.stats()))
    m.update((i, i) for i in range(40, 54))
    assert m.stats().load_factor == pytest.approx(54 / 64)
    rising = watchdog.evaluate(m.stats())
    assert edges_of(rising, "load_factor") == [("load_factor", True)]
    (alert,) = [a for a in rising.active if a.metric == "load_factor"]
    assert (alert.value, alert.threshold, alert.backend) == (54 / 64, 0.8, "robinhood")
    assert DEFAULTS.load_factor == 0.8
    for i in range(10):
        del m[i]
    falling = watchdog.evaluate(m.stats())
    assert edges_of(falling, "load_factor") == [("load_factor", False)]
    assert "load_factor" not in active_metrics(falling)


def test_probe_length_alert_rises_with_colliding_keys_and_falls_after_clear() -> None:
    watchdog = Guardrails()
    m: RobinHoodMap[Any, int] = RobinHoodMap(capacity=64)
    m.update((CollidingKey(i), i) for i in range(10))
    stats = m.stats()
    assert stats.probe_length_mean is not None
    assert stats.probe_length_mean >= 3.0
    assert edges_of(watchdog.evaluate(stats), "probe_length_mean") == [("probe_length_mean", True)]
    m.clear()
    falling = watchdog.evaluate(m.stats())
    assert edges_of(falling, "probe_length_mean") == [("probe_length_mean", False)]
    assert falling.active == ()


def test_chain_length_alert_rises_with_colliding_keys_and_falls_after_deleting_them() -> None:
    # The keys share one hash(): the flooding alert rises too (tested in test_flooding.py).
    watchdog = Guardrails(GuardrailThresholds(flood_keys=None))
    m: ChainingMap[Any, int] = ChainingMap()
    m.update((CollidingKey(i), i) for i in range(longest_quiet_chain()))
    assert watchdog.evaluate(m.stats()).edges == ()
    m[CollidingKey(longest_quiet_chain())] = 0
    rising = watchdog.evaluate(m.stats())
    assert edges_of(rising, "chain_length_max") == [("chain_length_max", True)]
    assert active_metrics(rising) == {"chain_length_max"}
    for i in range(longest_quiet_chain() + 1):
        del m[CollidingKey(i)]
    falling = watchdog.evaluate(m.stats())
    assert edges_of(falling, "chain_length_max") == [("chain_length_max", False)]
    assert falling.active == ()


def test_tombstone_alert_rises_before_the_map_purges_and_falls_after_clear() -> None:
    watchdog = Guardrails()
    m: RobinHoodMap[int, int] = RobinHoodMap(capacity=64, deletion="tombstone", hash_seed=SEED)
    m.update((i, i) for i in range(40))
    for i in range(12):
        del m[i]
    stats = m.stats()
    assert stats.tombstone_ratio is not None
    assert 0.15 <= stats.tombstone_ratio < 0.3
    rising = watchdog.evaluate(stats)
    assert edges_of(rising, "tombstone_ratio") == [("tombstone_ratio", True)]
    m.clear()
    falling = watchdog.evaluate(m.stats())
    assert edges_of(falling, "tombstone_ratio") == [("tombstone_ratio", False)]


def test_tombstone_alert_falls_when_the_map_purges_its_tombstones() -> None:
    watchdog = Guardrails()
    m: RobinHoodMap[int, int] = RobinHoodMap(capacity=64, deletion="tombstone", hash_seed=SEED)
    m.update((i, i) for i in range(40))
    for i in range(12):
        del m[i]
    watchdog.evaluate(m.stats())
    for i in range(12, 26):
        del m[i]
    stats = m.stats()
    assert stats.tombstones is not None
    assert stats.tombstones < 12
    assert edges_of(watchdog.evaluate(stats), "tombstone_ratio") == [("tombstone_ratio", False)]


def test_an_alert_that_stays_active_reports_no_new_edge() -> None:
    watchdog = Guardrails(GuardrailThresholds(flood_keys=None))
    colliding = (CollidingKey(i) for i in range(longest_quiet_chain() + 1))
    m: ChainingMap[Any, int] = ChainingMap.fromkeys(colliding, 0)
    first = watchdog.evaluate(m.stats())
    second = watchdog.evaluate(m.stats())
    assert edges_of(first, "chain_length_max") == [("chain_length_max", True)]
    assert second.edges == ()
    assert active_metrics(second) == {"chain_length_max"}
    assert watchdog.active == second.active


def test_edges_carry_the_value_and_the_threshold() -> None:
    watchdog = Guardrails()
    stats = MapStats(backend="chaining", size=10, capacity=8, load_factor=1.25)
    (edge,) = watchdog.evaluate(stats).edges
    assert edge == AlertEdge("load_factor", True, 1.25, 0.8, "chaining")
    (falling,) = watchdog.evaluate(MapStats("chaining", 0, 8, 0.0)).edges
    assert falling == AlertEdge("load_factor", False, 0.0, 0.8, "chaining")


def test_reset_forgets_active_alerts_without_edges() -> None:
    watchdog = Guardrails()
    watchdog.evaluate(MapStats(backend="chaining", size=10, capacity=8, load_factor=1.25))
    watchdog.reset()
    assert watchdog.active == ()
    assert watchdog.evaluate(MapStats("chaining", 0, 8, 0.0)).edges == ()


def test_alert_message_names_the_metric_values_and_backend() -> None:
    message = Alert("tombstone_ratio", 0.2, 0.15, "robinhood").message
    assert message == "Tombstone ratio guardrail exceeded on robinhood: 0.200 >= 0.150"


def test_missing_or_non_finite_statistics_count_as_inactive() -> None:
    watchdog = Guardrails()
    stats = MapStats(
        backend="robinhood", size=1, capacity=8, load_factor=math.nan, probe_length_mean=math.inf
    )
    assert watchdog.evaluate(stats) == GuardrailReport(active=(), edges=())


WORST_STATS = MapStats(
    backend="robinhood",
    size=100,
    capacity=64,
    load_factor=1.5,
    probe_length_mean=50.0,
    probe_length_max=99,
    chain_length_mean=40.0,
    chain_length_max=99,
    tombstones=60,
    tombstone_ratio=0.9,
)
METRICS = ("load_factor", "probe_length_mean", "chain_length_max", "tombstone_ratio")


@pytest.mark.parametrize("metric", METRICS)
def test_disabled_threshold_never_fires(metric: str) -> None:
    watchdog = Guardrails(GuardrailThresholds(**{metric: None}))
    report = watchdog.evaluate(WORST_STATS)
    assert active_metrics(report) == set(METRICS) - {metric}


def test_all_thresholds_disabled_means_no_alert_ever() -> None:
    watchdog = Guardrails(GuardrailThresholds(**dict.fromkeys(METRICS)))
    assert watchdog.evaluate(WORST_STATS) == GuardrailReport(active=(), edges=())


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("value", [0, -1, math.nan, math.inf, True, "0.5"])
def test_invalid_threshold_raises_bad_input_error(metric: str, value: Any) -> None:
    with pytest.raises(BadInputError) as raised:
        GuardrailThresholds(**{metric: value})
    assert (raised.value.kind, raised.value.exit_code) == ("BadInput", 2)
    assert metric in str(raised.value)
