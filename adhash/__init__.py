"""adhash: a laboratory for hash-map design, in pure Python.

Four map backends that behave like ``dict`` (:class:`ChainingMap`, :class:`RobinHoodMap`,
:class:`CompactMap`, and :class:`AdaptiveMap`, which migrates between them live and moves to
salted hashing, :class:`SaltedMap`, when it is flooded), guardrails that watch their statistics,
and the errors every layer raises.
"""

from adhash._version import __version__
from adhash.errors import AdhashError, BadInputError, InvariantError, IOFailureError, PolicyError
from adhash.guardrails import Alert, AlertEdge, GuardrailReport, Guardrails, GuardrailThresholds
from adhash.maps import (
    AdaptiveMap,
    AdaptivePolicy,
    ChainingMap,
    CompactMap,
    LengthHistogram,
    MapEvent,
    MapStats,
    OccupancyHeatmap,
    RobinHoodMap,
    SaltedMap,
)

__all__ = [
    "AdaptiveMap",
    "AdaptivePolicy",
    "AdhashError",
    "Alert",
    "AlertEdge",
    "BadInputError",
    "ChainingMap",
    "CompactMap",
    "GuardrailReport",
    "GuardrailThresholds",
    "Guardrails",
    "IOFailureError",
    "InvariantError",
    "LengthHistogram",
    "MapEvent",
    "MapStats",
    "OccupancyHeatmap",
    "PolicyError",
    "RobinHoodMap",
    "SaltedMap",
    "__version__",
]
