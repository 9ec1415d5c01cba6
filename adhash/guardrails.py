"""Guardrails: thresholds on a map's statistics, with alerts that rise and fall.

A :class:`Guardrails` watchdog evaluates :class:`~adhash.maps.MapStats` records (one per metrics
tick) and reports which alerts are active and which changed state since the last evaluation.
The default thresholds sit *below* the points where the maps act on their own (Robin Hood grows
at load 0.7 and purges tombstones at 0.3; the adaptive policy compacts at 0.25 and leaves Robin
Hood at a mean displacement of 4), so an alert is seen before the map fixes itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from adhash.errors import BadInputError
from adhash.maps.stats import MapStats

__all__ = [
    "Alert",
    "AlertEdge",
    "GuardrailReport",
    "GuardrailThresholds",
    "Guardrails",
    "Metric",
    "format_value",
]

Metric = Literal[
    "load_factor", "probe_length_mean", "chain_length_max", "tombstone_ratio", "flood_keys"
]

_LABELS: dict[Metric, str] = {
    "load_factor": "Load factor",
    "probe_length_mean": "Mean probe length",
    "chain_length_max": "Longest chain",
    "tombstone_ratio": "Tombstone ratio",
    "flood_keys": "Hash flooding",
}


@dataclass(frozen=True, slots=True)
class GuardrailThresholds:
    """Alert thresholds; ``None`` disables one. An alert is active when ``value >= threshold``.

    Defaults: ``load_factor=0.8`` (a map running close to its resize point),
    ``probe_length_mean=3.0`` (random keys average about 1.2 at Robin Hood's default 0.7
    load and 2.7 even at 0.85),
    ``chain_length_max=10`` (at load 1 and 2²⁰ chains random keys reach
    10 somewhere about one time in eight; the adaptive policy acts at 12), ``tombstone_ratio=0.15``,
    ``flood_keys=8`` (distinct keys sharing one identical ``hash()`` in the map's worst chain or
    probe run: random keys give 1 whatever the load or index, so this alert means keys that no
    index can separate, a flooding attack; the adaptive policy moves to salted hashing at 16).

    >>> GuardrailThresholds(load_factor=-1)
    Traceback (most recent call last):
    ...
    adhash.errors.BadInputError: guardrail load_factor must be positive and finite, or None, got -1
    """

    load_factor: float | None = 0.8
    probe_length_mean: float | None = 3.0
    chain_length_max: float | None = 10
    tombstone_ratio: float | None = 0.15
    flood_keys: float | None = 8

    def __post_init__(self) -> None:
        for metric in _LABELS:
            value = getattr(self, metric)
            if value is None:
                continue
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or value <= 0
            ):
                raise BadInputError(
                    f"guardrail {metric} must be positive and finite, or None, got {value!r}"
                )


def format_value(metric: Metric, *values: float) -> tuple[str, ...]:
    """Values of ``metric`` as alerts print them: key counts whole, other statistics to 3 places.

    >>> format_value("flood_keys", 40.0, 8.0), format_value("load_factor", 0.95)
    (('40', '8'), ('0.950',))
    """
    places = 0 if metric == "flood_keys" else 3
    return tuple(f"{value:.{places}f}" for value in values)


@dataclass(frozen=True, slots=True)
class Alert:
    """One threshold crossed: which metric, its value, the threshold, and a message."""

    metric: Metric
    value: float
    threshold: float
    backend: str
    severity: Literal["warning"] = "warning"
    detail: str | None = None

    @property
    def message(self) -> str:
        """A one-line description, with the detail (why it fires) when there is one.

        >>> Alert("load_factor", 0.95, 0.8, "robinhood").message
        'Load factor guardrail exceeded on robinhood: 0.950 >= 0.800'
        >>> Alert("flood_keys", 40, 8, "chaining", detail="why").message
        'Hash flooding guardrail exceeded on chaining: 40 >= 8 (why)'
        """
        label = _LABELS[self.metric]
        value, threshold = format_value(self.metric, self.value, self.threshold)
        numbers = f"{value} >= {threshold}"
        text = f"{label} guardrail exceeded on {self.backend}: {numbers}"
        if self.detail:
            text += f" ({self.detail})"
        return text


@dataclass(frozen=True, slots=True)
class AlertEdge:
    """A change of state: ``rising`` when an alert starts, falling when it clears."""

    metric: Metric
    rising: bool
    value: float
    threshold: float
    backend: str


@dataclass(frozen=True, slots=True)
class GuardrailReport:
    """The result of one evaluation: the active alerts and the edges since the last one."""

    active: tuple[Alert, ...]
    edges: tuple[AlertEdge, ...]


def _detail(metric: Metric, stats: MapStats) -> str | None:
    """Why an alert fires, where the numbers alone do not say it."""
    if metric != "flood_keys":
        return None
    keys = stats.flood_keys or 0
    if stats.hashing == "salted":
        return (
            f"{keys} keys share one hash() value under salted hashing: "
            f"{stats.unsalted_keys or 0} keys are of types salted hashing cannot hash by value "
            "(only str, bytes, int, float, bool, None, other numbers and tuples of these), so "
            "they stay on plain hashing; give them a __hash__ that varies, or use such types"
        )
    return f"{keys} keys share one hash() value: no index can separate them"


class Guardrails:
    """A watchdog over map statistics with rising and falling edges.

    >>> from adhash import RobinHoodMap
    >>> watchdog = Guardrails(GuardrailThresholds(load_factor=0.5))
    >>> m = RobinHoodMap(capacity=8, max_load_factor=0.9)
    >>> m.update((i, i) for i in range(5))
    >>> [(e.metric, e.rising) for e in watchdog.evaluate(m.stats()).edges]
    [('load_factor', True)]
    >>> m.clear()
    >>> [(e.metric, e.rising) for e in watchdog.evaluate(m.stats()).edges]
    [('load_factor', False)]
    """

    def __init__(self, thresholds: GuardrailThresholds | None = None) -> None:
        self._thresholds = thresholds if thresholds is not None else GuardrailThresholds()
        self._active: dict[Metric, Alert] = {}

    @property
    def thresholds(self) -> GuardrailThresholds:
        """The thresholds in force.

        >>> Guardrails().thresholds.tombstone_ratio
        0.15
        """
        return self._thresholds

    @property
    def active(self) -> tuple[Alert, ...]:
        """The alerts active after the last evaluation.

        >>> from adhash import MapStats
        >>> watchdog = Guardrails()
        >>> _ = watchdog.evaluate(MapStats("chaining", 9, 8, 1.125, chain_length_max=2))
        >>> [alert.metric for alert in watchdog.active]
        ['load_factor']
        """
        return tuple(self._active.values())

    def evaluate(self, stats: MapStats) -> GuardrailReport:
        """Compare ``stats`` with the thresholds; return active alerts and state changes.

        Missing (``None``) or non-finite statistics count as inactive. Complexity: O(1).

        >>> from adhash import MapStats
        >>> report = Guardrails().evaluate(MapStats("robinhood", 3, 4, 0.75, tombstone_ratio=0.5))
        >>> [(edge.metric, edge.rising) for edge in report.edges]
        [('tombstone_ratio', True)]
        """
        edges: list[AlertEdge] = []
        for metric in _LABELS:
            threshold = getattr(self._thresholds, metric)
            raw = getattr(stats, metric)
            value = float(raw) if raw is not None else math.nan
            firing = threshold is not None and math.isfinite(value) and value >= threshold
            was = self._active.get(metric)
            if firing:
                self._active[metric] = Alert(
                    metric, value, float(threshold), stats.backend, detail=_detail(metric, stats)
                )
                if was is None:
                    edges.append(AlertEdge(metric, True, value, float(threshold), stats.backend))
            elif was is not None:
                del self._active[metric]
                edges.append(AlertEdge(metric, False, value, was.threshold, stats.backend))
        return GuardrailReport(active=tuple(self._active.values()), edges=tuple(edges))

    def reset(self) -> None:
        """Forget every active alert (no edges are reported for them).

        >>> from adhash import MapStats
        >>> watchdog = Guardrails()
        >>> _ = watchdog.evaluate(MapStats("chaining", 9, 8, 1.125))
        >>> watchdog.reset(); watchdog.active
        ()
        """
        self._active.clear()
