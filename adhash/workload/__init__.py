"""Workloads: the CSV format, generators, and workload DNA."""

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
    "DNAReport",
    "GeneratorSpec",
    "KeyType",
    "Limits",
    "Manifest",
    "Op",
    "OpBatch",
    "WorkloadInfo",
    "WorkloadReader",
    "WorkloadWriter",
    "generate",
    "render_dna_text",
    "validate_workload",
    "workload_dna",
]
