"""The map backends: chaining, Robin Hood, compact, and the adaptive map that moves between them."""

from adhash.maps.adaptive import AdaptiveMap, AdaptivePolicy, BackendName, MapEvent
from adhash.maps.chaining import ChainingMap
from adhash.maps.compact import CompactMap
from adhash.maps.robinhood import RobinHoodMap
from adhash.maps.stats import LengthHistogram, MapStats, OccupancyHeatmap

__all__ = [
    "AdaptiveMap",
    "AdaptivePolicy",
    "BackendName",
    "ChainingMap",
    "CompactMap",
    "LengthHistogram",
    "MapEvent",
    "MapStats",
    "OccupancyHeatmap",
    "RobinHoodMap",
]
