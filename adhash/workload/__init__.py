"""Workloads: the CSV format, generators, adversarial key sets, and workload DNA."""

from adhash.workload.adversarial import (
    ConstantHashKey,
    HashSeedProbe,
    colliding_ints,
    colliding_text,
    constant_hash_keys,
    current_hash_seed_matches,
    lowbit_ints,
    seed_warning,
    text_hash_check,
)
from adhash.workload.dna import DNAReport, render_dna_text, workload_dna
from adhash.workload.format import (
    KeyType,
    Limits,
    Op,
    OpBatch,
    WorkloadInfo,
    WorkloadReader,
    WorkloadWriter,
    validate_workload,
)
from adhash.workload.generate import PRESETS, GeneratorSpec, Manifest, generate

__all__ = [
    "PRESETS",
    "ConstantHashKey",
    "DNAReport",
    "GeneratorSpec",
    "HashSeedProbe",
    "KeyType",
    "Limits",
    "Manifest",
    "Op",
    "OpBatch",
    "WorkloadInfo",
    "WorkloadReader",
    "WorkloadWriter",
    "colliding_ints",
    "colliding_text",
    "constant_hash_keys",
    "current_hash_seed_matches",
    "generate",
    "lowbit_ints",
    "render_dna_text",
    "seed_warning",
    "text_hash_check",
    "validate_workload",
    "workload_dna",
]
