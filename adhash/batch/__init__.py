"""Batch suites: a TOML spec of jobs (or a matrix), run in parallel, with Markdown and HTML reports.

``python -m adhash.batch --spec suite.toml`` (or ``adhash batch``) runs one; see docs/batch.md.
"""

from adhash.batch.runner import BatchResult, RunOutcome, run_batch
from adhash.batch.spec import SPEC_SCHEMA, BatchSpec, Job, load_spec

__all__ = ["SPEC_SCHEMA", "BatchResult", "BatchSpec", "Job", "RunOutcome", "load_spec", "run_batch"]
