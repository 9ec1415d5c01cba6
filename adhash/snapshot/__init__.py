"""Snapshots: a safe, versioned, checksummed file format for maps, and the tools around it.

No pickle, no eval, no import of names from a file. See ``docs/snapshots.md``.
"""

from adhash.snapshot.api import (
    USE_ENVIRONMENT_KEY,
    CompactReport,
    KeyLookup,
    LostChunk,
    RepairReport,
    SnapshotInfo,
    VerifyReport,
    compact,
    inspect,
    load,
    repair,
    save,
    verify,
)
from adhash.snapshot.container import SnapshotLimits

__all__ = [
    "USE_ENVIRONMENT_KEY",
    "CompactReport",
    "KeyLookup",
    "LostChunk",
    "RepairReport",
    "SnapshotInfo",
    "SnapshotLimits",
    "VerifyReport",
    "compact",
    "inspect",
    "load",
    "repair",
    "save",
    "verify",
]
