"""The map backends: chaining, Robin Hood, compact, the salted wrapper that defends against hash
flooding, and the adaptive map that moves between them."""

from adhash.maps.adaptive import AdaptiveMap, AdaptivePolicy, BackendName, MapEvent
from adhash.maps.chaining import ChainingMap
from adhash.maps.compact import CompactMap
from adhash.maps.robinhood import RobinHoodMap
from adhash.maps.salted import KeyedHasher, SaltedMap
from adhash.maps.stats import LengthHistogram, MapStats, OccupancyHeatmap

__all__ = [
    "AdaptiveMap",
    "AdaptivePolicy",
    "BackendName",
    "ChainingMap",
    "CompactMap",
    "KeyedHasher",
    "LengthHistogram",
    "MapEvent",
    "MapStats",
    "OccupancyHeatmap",
    "RobinHoodMap",
    "SaltedMap",
]
