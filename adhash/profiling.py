"""Backend recommendation: replay a sample of a workload on every backend and pick the fastest.

The sample (the first ``sample_rows`` rows) is read once, then replayed on a fresh map of each
backend, ``repeats`` times, interleaved (A B C D A B C D ...) so that machine noise falls on every
backend alike. The recommendation is the backend with the best median throughput, ``adaptive``
included; ``dict`` is measured as the reference and never recommended. The report carries the
evidence: every backend's median, minimum and maximum throughput and its ratio to ``dict``.
"""

from __future__ import annotations

import gc
import os
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adhash.errors import BadInputError
from adhash.maps import AdaptivePolicy
from adhash.replay import backend_name_of, build_map
from adhash.workload.format import Limits, WorkloadReader

__all__ = ["BackendTiming", "ProfileReport", "profile_workload"]

CANDIDATES = ("chaining", "robinhood", "compact", "adaptive")


@dataclass(frozen=True, slots=True)
class BackendTiming:
    """Throughput of one backend over the repeats, in operations per second."""

    mode: str
    median_ops_per_second: float
    min_ops_per_second: float
    max_ops_per_second: float
    ratio_to_dict: float | None
    final_backend: str


@dataclass(frozen=True, slots=True)
class ProfileReport:
    """The recommendation and the evidence behind it."""

    csv: str
    sample_rows: int
    repeats: int
    recommended_mode: str
    timings: tuple[BackendTiming, ...]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (schema ``adhash.profile.v1``)."""
        return {
            "schema": "adhash.profile.v1",
            "csv": self.csv,
            "sample_rows": self.sample_rows,
            "repeats": self.repeats,
            "recommended_mode": self.recommended_mode,
            "timings": [
                {
                    "mode": t.mode,
                    "median_ops_per_second": t.median_ops_per_second,
                    "min_ops_per_second": t.min_ops_per_second,
                    "max_ops_per_second": t.max_ops_per_second,
                    "ratio_to_dict": t.ratio_to_dict,
                    "final_backend": t.final_backend,
                }
                for t in self.timings
            ],
        }


def _replay_once(
    mode: str,
    ops: list[int],
    keys: list[Any],
    values: list[Any],
    policy: AdaptivePolicy,
    hash_seed: int | None,
) -> tuple[float, str]:
    m = build_map(mode, policy=policy, hash_seed=hash_seed)
    get = m.get
    pop = m.pop
    setitem = m.__setitem__
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        started = time.perf_counter()
        for op, key, value in zip(ops, keys, values, strict=True):
            if op == 1:
                get(key)
            elif op == 0:
                setitem(key, value)
            else:
                pop(key, None)
        elapsed = time.perf_counter() - started
    finally:
        if gc_was_enabled:
            gc.enable()
    backend = backend_name_of(m)
    return (len(ops) / elapsed if elapsed > 0 else float("inf")), backend


def profile_workload(
    path: str | os.PathLike[str],
    *,
    sample_rows: int = 20_000,
    repeats: int = 5,
    candidates: Sequence[str] = CANDIDATES,
    limits: Limits | None = None,
    policy: AdaptivePolicy | None = None,
    hash_seed: int | None = None,
) -> ProfileReport:
    """Recommend the fastest backend for the workload at ``path``, with the evidence.

    ``policy`` and ``hash_seed`` build the maps (the policy also sizes the fixed backends).

    Complexity: O(sample_rows × repeats × backends).
    """
    if sample_rows < 1:
        raise BadInputError(f"sample_rows must be >= 1, got {sample_rows}")
    if repeats < 1:
        raise BadInputError(f"repeats must be >= 1, got {repeats}")
    unknown = [mode for mode in candidates if mode not in CANDIDATES]
    if unknown or not candidates:
        raise BadInputError(
            f"candidates must be a non-empty selection of {', '.join(CANDIDATES)}, "
            f"got {list(candidates)}"
        )
    ops: list[int] = []
    keys: list[Any] = []
    values: list[Any] = []
    with WorkloadReader(path, limits=limits) as reader:
        for batch in reader.batches(min(sample_rows, 65_536)):
            room = sample_rows - len(ops)
            ops.extend(batch.ops[:room])
            keys.extend(batch.keys[:room])
            values.extend(batch.values[:room])
            if len(ops) >= sample_rows:
                break
    if not ops:
        raise BadInputError(f"workload {path} contains no data rows")
    modes = ["dict", *candidates]
    samples: dict[str, list[float]] = {mode: [] for mode in modes}
    finals: dict[str, str] = {}
    for _ in range(repeats):
        for mode in modes:
            rate, finals[mode] = _replay_once(
                mode, ops, keys, values, policy or AdaptivePolicy(), hash_seed
            )
            samples[mode].append(rate)
    dict_median = statistics.median(samples["dict"])
    timings = tuple(
        BackendTiming(
            mode=mode,
            median_ops_per_second=statistics.median(samples[mode]),
            min_ops_per_second=min(samples[mode]),
            max_ops_per_second=max(samples[mode]),
            ratio_to_dict=(dict_median / statistics.median(samples[mode]))
            if mode != "dict"
            else 1.0,
            final_backend=finals[mode],
        )
        for mode in modes
    )
    best = max((t for t in timings if t.mode != "dict"), key=lambda t: t.median_ops_per_second)
    return ProfileReport(
        csv=str(Path(path)),
        sample_rows=len(ops),
        repeats=repeats,
        recommended_mode=best.mode,
        timings=timings,
    )
