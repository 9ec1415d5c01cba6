"""The settings model: every value a user can tune, with its type, bounds, default and meaning.

Defaults are read from the core's own dataclasses (``AdaptivePolicy``, ``GuardrailThresholds``,
``ReplayOptions``, ``Limits``, ``SnapshotLimits``), so a default is written in one place. The
documentation page, the wizard and the configuration file's comments are generated from the
``description`` and bounds declared here.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from adhash.guardrails import GuardrailThresholds
from adhash.maps import AdaptivePolicy
from adhash.maps.stats import FLOOD_SAMPLE
from adhash.replay import MODE_ALIASES, Mode, ReplayOptions, resolve_mode
from adhash.snapshot.container import SnapshotLimits
from adhash.workload.format import Limits

__all__ = [
    "SCHEMA",
    "UNSET_WORDS",
    "AdaptiveSettings",
    "GuardrailSettings",
    "MapSettings",
    "ReplaySettings",
    "ServerSettings",
    "Settings",
    "SnapshotSettings",
    "json_schema",
]

SCHEMA = "adhash.config.v1"
"""The ``schema`` a configuration file may declare (written into every file adhash writes)."""

UNSET_WORDS = frozenset({"none", "off", "null", "disabled"})
"""Strings that unset an optional value (TOML has no null): a threshold off, no fixed seed."""

_POLICY = AdaptivePolicy()
_THRESHOLDS = GuardrailThresholds()
_REPLAY = ReplayOptions()
_LIMITS = Limits()
_SNAPSHOT = SnapshotLimits()


def _unset_word_to_none(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in UNSET_WORDS:
        return None
    return value


def _power_of_two(value: int) -> int:
    if value & (value - 1):
        raise ValueError("must be a power of two")
    return value


def _percentile_list(value: Any) -> Any:
    """``"50,p99.9,max"`` (an environment value or a flag) → ``[50, 99.9, 100]``."""
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    if isinstance(value, list | tuple):
        return [_percentile_word(item) if isinstance(item, str) else item for item in value]
    return value


def _percentile_word(word: str) -> str | float:
    word = word.strip().lower().removeprefix("p")
    return 100.0 if word in ("max", "100") else word


def _canonical_mode(value: Any) -> Any:
    """The original's mode names (``fast-insert`` …) are accepted and stored canonical."""
    if isinstance(value, str):
        return MODE_ALIASES.get(value.strip().lower(), value.strip().lower())
    return value


def _percentiles_sorted_unique(value: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(sorted(set(value)))


Optional = BeforeValidator(_unset_word_to_none)
PowerOfTwo = AfterValidator(_power_of_two)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class MapSettings(_Section):
    """How the backends are built, in every mode."""

    hash_seed: Annotated[
        Annotated[int, Field(ge=0, lt=2**63)] | None,
        Optional,
        Field(
            description="Seed of the maps' index mixing, for a repeatable layout; "
            '"none" draws a fresh random salt per map.',
        ),
    ] = None
    chaining_buckets: Annotated[
        int,
        PowerOfTwo,
        Field(ge=1, le=2**24, description="Buckets of a new chaining map."),
    ] = _POLICY.chaining_buckets
    groups_per_bucket: Annotated[
        int,
        PowerOfTwo,
        Field(ge=1, le=1024, description="Chains per bucket of a chaining map."),
    ] = _POLICY.groups_per_bucket
    robinhood_capacity: Annotated[
        int,
        PowerOfTwo,
        Field(ge=2, le=2**30, description="Slots of a new Robin Hood map."),
    ] = _POLICY.robinhood_capacity
    robinhood_deletion: Annotated[
        Literal["backward_shift", "tombstone"],
        Field(
            description="How Robin Hood deletes: backward_shift moves the following entries "
            "back; tombstone marks the slot and purges later."
        ),
    ] = _POLICY.robinhood_deletion
    compact_capacity: Annotated[
        int,
        PowerOfTwo,
        Field(ge=8, le=2**30, description="Index slots of a new compact map."),
    ] = _POLICY.compact_capacity


# Keys sharing one hash(): every non-empty map has 1, and at most FLOOD_SAMPLE keys are read, so
# a bound outside [2, FLOOD_SAMPLE] would act always or never.
_FloodKeys = Annotated[int, Field(ge=2, le=FLOOD_SAMPLE)]


class AdaptiveSettings(_Section):
    """When the adaptive map migrates between backends, and how fast."""

    start_backend: Annotated[
        Literal["chaining", "robinhood", "compact"],
        Field(description="The backend a new adaptive map starts on."),
    ] = _POLICY.start_backend
    chaining_max_load_factor: Annotated[
        float,
        Field(
            gt=0,
            le=1,
            description="On chaining, move to Robin Hood when entries per chain exceed this "
            "(chaining itself doubles at 1.0).",
        ),
    ] = _POLICY.chaining_max_load_factor
    chaining_max_chain_length: Annotated[
        int,
        Field(
            ge=1,
            le=1_000_000,
            description="On chaining, move to Robin Hood when a chain reaches this length.",
        ),
    ] = _POLICY.chaining_max_chain_length
    robinhood_max_probe_mean: Annotated[
        float,
        Field(
            gt=0,
            le=1_000_000,
            description="On Robin Hood, move to chaining when the mean probe distance exceeds "
            "this.",
        ),
    ] = _POLICY.robinhood_max_probe_mean
    flood_min_keys: Annotated[
        _FloodKeys | None,
        Optional,
        Field(
            description="Move to salted hashing (a keyed hash of each key's value) when this "
            "many keys share one identical hash() in the worst chain or probe run (random keys: "
            f"1; at most {FLOOD_SAMPLE} keys are read); "
            '"none" turns the flooding defence off.',
        ),
    ] = _POLICY.flood_min_keys
    max_tombstone_ratio: Annotated[
        float,
        Field(
            gt=0,
            le=1,
            description="Compact (rebuild the same backend) when tombstones or holes reach "
            "this share of the slots.",
        ),
    ] = _POLICY.max_tombstone_ratio
    cooldown_ops: Annotated[
        int,
        Field(
            ge=1,
            le=2**40,
            description="Writes after a chain- or probe-driven migration before the next "
            "decision; doubles with each further one.",
        ),
    ] = _POLICY.cooldown_ops
    migration_batch: Annotated[
        int,
        Field(ge=1, le=1_000_000, description="Entries moved per operation while migrating."),
    ] = _POLICY.migration_batch
    check_interval: Annotated[
        int,
        Field(ge=1, le=1_000_000, description="Writes between two checks of the policy."),
    ] = _POLICY.check_interval


_Threshold = Annotated[float, Field(gt=0, le=1_000_000)]


class GuardrailSettings(_Section):
    """Alert thresholds watched on every metrics tick; an alert is active at value >= threshold."""

    enabled: Annotated[
        bool, Field(description="Watch the thresholds at all; false silences every alert.")
    ] = True
    load_factor: Annotated[
        _Threshold | None,
        Optional,
        Field(description='Alert at this load factor; "none" disables it.'),
    ] = _THRESHOLDS.load_factor
    probe_length_mean: Annotated[
        _Threshold | None,
        Optional,
        Field(
            description='Alert at this mean probe length; "none" disables it.',
        ),
    ] = _THRESHOLDS.probe_length_mean
    chain_length_max: Annotated[
        _Threshold | None,
        Optional,
        Field(
            description='Alert when the longest chain reaches this; "none" disables it.',
        ),
    ] = _THRESHOLDS.chain_length_max
    tombstone_ratio: Annotated[
        _Threshold | None,
        Optional,
        Field(
            description='Alert at this share of tombstones or holes; "none" disables it.',
        ),
    ] = _THRESHOLDS.tombstone_ratio
    flood_keys: Annotated[
        _FloodKeys | None,
        Optional,
        Field(
            description="Alert when this many keys share one identical hash() in the worst "
            'chain or probe run (hash flooding); "none" disables it.',
        ),
    ] = _THRESHOLDS.flood_keys  # type: ignore[assignment]  # the core's float holds an int: 8


class ReplaySettings(_Section):
    """How workloads are replayed and measured."""

    mode: Annotated[
        Mode,
        BeforeValidator(_canonical_mode),
        Field(description="The backend a run uses (dict is the built-in reference)."),
    ] = resolve_mode(_REPLAY.mode)
    latency_sample_every: Annotated[
        int,
        Field(ge=1, le=1_000_000, description="Time one operation in this many (1 times all)."),
    ] = _REPLAY.latency_sample_every
    percentiles: Annotated[
        tuple[Annotated[float, Field(gt=0, le=100)], ...],
        BeforeValidator(_percentile_list),
        AfterValidator(_percentiles_sorted_unique),
        Field(min_length=1, max_length=32, description="Latency percentiles reported (100 = max)."),
    ] = _REPLAY.percentiles
    warmup_ops: Annotated[
        int,
        Field(ge=0, le=2**40, description="Operations run first and left out of measurements."),
    ] = _REPLAY.warmup_ops
    target_rate: Annotated[
        Annotated[float, Field(gt=0, le=1e9)] | None,
        Optional,
        Field(
            description='Operations per second to schedule; "none" runs as fast as possible.',
        ),
    ] = _REPLAY.target_rate
    tick_interval: Annotated[
        float,
        Field(ge=0.01, le=3600, description="Seconds between two metrics ticks."),
    ] = _REPLAY.tick_interval
    heatmap_cells: Annotated[
        int,
        Field(ge=1, le=65_536, description="Cells of the slot-occupancy heatmap in each tick."),
    ] = _REPLAY.heatmap_cells
    max_rows: Annotated[
        int,
        Field(ge=0, le=2**40, description="Refuse workloads with more rows (0: no limit)."),
    ] = _LIMITS.max_rows
    max_bytes: Annotated[
        int,
        Field(ge=0, le=2**50, description="Refuse larger workload files, in bytes (0: no limit)."),
    ] = _LIMITS.max_bytes
    max_field_bytes: Annotated[
        int,
        Field(ge=0, le=2**30, description="Refuse keys or values longer than this (0: no limit)."),
    ] = _LIMITS.max_field_bytes


class ServerSettings(_Section):
    """The metrics server and its dashboard."""

    host: Annotated[
        str,
        Field(
            min_length=1,
            max_length=255,
            description="Address to bind; off loopback, set a token (adhash warns without one).",
        ),
    ] = "127.0.0.1"
    port: Annotated[
        int,
        Field(ge=0, le=65_535, description="TCP port to listen on (0: any free port)."),
    ] = 9090
    token_file: Annotated[
        Path | None,
        Optional,
        Field(description='File holding the bearer token (ADHASH_TOKEN wins); "none": no file.'),
    ] = None
    history_limit: Annotated[
        int,
        Field(ge=1, le=1_000_000, description="Ticks kept for /api/metrics/history."),
    ] = 360
    request_timeout: Annotated[
        float,
        Field(gt=0, le=600, description="Seconds a client may take to send a request."),
    ] = 10.0


class SnapshotSettings(_Section):
    """How snapshots are written, and what a reader accepts before refusing a file."""

    compression_level: Annotated[
        int, Field(ge=1, le=22, description="zstd level for snapshots written by runs.")
    ] = 3
    max_entries: Annotated[
        int, Field(ge=1, le=2**40, description="Refuse snapshots declaring more entries.")
    ] = _SNAPSHOT.max_entries
    max_chunks: Annotated[
        int, Field(ge=1, le=2**32, description="Refuse snapshots declaring more chunks.")
    ] = _SNAPSHOT.max_chunks
    max_chunk_raw_bytes: Annotated[
        int,
        Field(ge=1, le=2**34, description="Refuse chunks that decompress to more bytes."),
    ] = _SNAPSHOT.max_chunk_raw_bytes
    max_chunk_entries: Annotated[
        int, Field(ge=1, le=2**32, description="Refuse chunks declaring more entries.")
    ] = _SNAPSHOT.max_chunk_entries
    max_meta_bytes: Annotated[
        int, Field(ge=1, le=2**30, description="Refuse headers with more metadata bytes.")
    ] = _SNAPSHOT.max_meta_bytes
    max_initial_slots: Annotated[
        int,
        Field(ge=1, le=2**34, description="Refuse snapshots asking for a larger initial table."),
    ] = _SNAPSHOT.max_initial_slots


class Settings(_Section):
    """Every setting of adhash, one section per concern."""

    maps: MapSettings = MapSettings()
    adaptive: AdaptiveSettings = AdaptiveSettings()
    guardrails: GuardrailSettings = GuardrailSettings()
    replay: ReplaySettings = ReplaySettings()
    server: ServerSettings = ServerSettings()
    snapshot: SnapshotSettings = SnapshotSettings()

    def policy(self) -> AdaptivePolicy:
        """The adaptive policy these settings describe (also sizes the fixed backends)."""
        return AdaptivePolicy(
            **self.adaptive.model_dump(),
            robinhood_deletion=self.maps.robinhood_deletion,
            chaining_buckets=self.maps.chaining_buckets,
            groups_per_bucket=self.maps.groups_per_bucket,
            robinhood_capacity=self.maps.robinhood_capacity,
            compact_capacity=self.maps.compact_capacity,
        )

    def guardrail_thresholds(self) -> GuardrailThresholds:
        """The guardrail thresholds; all ``None`` when guardrails are disabled."""
        if not self.guardrails.enabled:
            unset = dict.fromkeys((f.name for f in dataclasses.fields(GuardrailThresholds)), None)
            return GuardrailThresholds(**unset)
        values = self.guardrails.model_dump(exclude={"enabled"})
        return GuardrailThresholds(**values)

    def workload_limits(self) -> Limits:
        """The bounds a workload reader enforces."""
        replay = self.replay
        return Limits(
            max_rows=replay.max_rows,
            max_bytes=replay.max_bytes,
            max_field_bytes=replay.max_field_bytes,
        )

    def snapshot_limits(self) -> SnapshotLimits:
        """The bounds a snapshot reader enforces."""
        return SnapshotLimits(**self.snapshot.model_dump(exclude={"compression_level"}))

    def replay_options(self, **overrides: Any) -> ReplayOptions:
        """Replay options from these settings; ``overrides`` sets the run-only fields
        (``verify``, ``collect_metrics``, ``batch_size``) or replaces any other.
        """
        replay = self.replay
        fields: dict[str, Any] = {
            "mode": replay.mode,
            "latency_sample_every": replay.latency_sample_every,
            "percentiles": replay.percentiles,
            "warmup_ops": replay.warmup_ops,
            "target_rate": replay.target_rate,
            "tick_interval": replay.tick_interval,
            "heatmap_cells": replay.heatmap_cells,
            "policy": self.policy(),
            "guardrails": self.guardrail_thresholds(),
            "hash_seed": self.maps.hash_seed,
            "limits": self.workload_limits(),
        }
        fields.update(overrides)
        return ReplayOptions(**fields)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a configuration file (a TOML file read as JSON would validate)."""
    schema = Settings.model_json_schema(mode="validation")
    for section in schema["$defs"].values():
        for prop in section.get("properties", {}).values():
            if {"type": "null"} in prop.get("anyOf", []):
                # TOML has no null: files say "none" (or off, null, disabled).
                prop["anyOf"].append({"enum": sorted(UNSET_WORDS)})
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = SCHEMA
    schema["properties"] = {
        "schema": {
            "const": SCHEMA,
            "description": "Optional; names the file format.",
        },
        **schema["properties"],
    }
    return schema
