"""Running a batch suite: workloads generated once, every (job, repeat) in a fresh process.

Runs go through :mod:`adhash.analysis.worker` (one interpreter per run) on a local pool of
``jobs`` threads each driving a subprocess, or on a Dask distributed cluster (``cluster=ADDRESS``;
the workers need adhash installed and the same file system). A failing run is recorded and the
others go on; Ctrl-C stops the pool, terminates the runs in flight and still returns what
finished, marked partial.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from adhash.analysis.worker import worker_command
from adhash.batch.spec import BatchSpec, Job, load_spec
from adhash.errors import BadInputError, IOFailureError, PolicyError
from adhash.workload.generate import GeneratorSpec, generate

__all__ = ["BatchResult", "RunOutcome", "run_batch"]


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """One run of one job: whether it worked, its summary, its artifacts, its error."""

    job: str
    repeat: int
    ok: bool
    seconds: float
    summary_file: Path
    metrics_file: Path
    summary: dict[str, Any] | None = None
    error: str | None = None


@dataclass(slots=True)
class BatchResult:
    """Everything a suite produced; ``partial`` when it was interrupted."""

    spec_path: Path
    spec: BatchSpec
    jobs: list[Job]
    out_dir: Path
    workloads: dict[str, Path]
    outcomes: list[RunOutcome] = field(default_factory=list)
    partial: bool = False
    started_at: str = ""
    seconds: float = 0.0
    cluster: str | None = None

    @property
    def failed(self) -> list[RunOutcome]:
        """The runs that failed."""
        return [outcome for outcome in self.outcomes if not outcome.ok]

    def job_rows(self) -> list[dict[str, Any]]:
        """Per job: median, spread and latency over its successful repeats, and its status."""
        rows = []
        for job in self.jobs:
            runs = [o for o in self.outcomes if o.job == job.name]
            good = [o.summary for o in runs if o.ok and o.summary is not None]
            rates = [float(s.get("ops_per_second") or 0.0) for s in good]
            overall = [s.get("latency_ns", {}).get("overall", {}) for s in good]
            rows.append(
                {
                    "job": job.name,
                    "workload": job.workload,
                    "mode": job.mode,
                    "config": job.config_name,
                    "repeats": job.repeats,
                    "completed": len(good),
                    "failed": sum(1 for o in runs if not o.ok),
                    "status": "ok"
                    if runs and len(good) == len(runs) == job.repeats
                    else ("failed" if any(not o.ok for o in runs) else "incomplete"),
                    "ops_per_second_median": statistics.median(rates) if rates else None,
                    "ops_per_second_min": min(rates) if rates else None,
                    "ops_per_second_max": max(rates) if rates else None,
                    "ops_per_second": rates,
                    "p50_ns": _median_of(overall, "p50"),
                    "p99_ns": _median_of(overall, "p99"),
                    "final_backend": good[0].get("final_backend") if good else None,
                    "migrations": good[0].get("migrations_triggered") if good else None,
                    "errors": [o.error for o in runs if o.error],
                    "artifacts": [
                        {"summary": str(o.summary_file), "metrics": str(o.metrics_file)}
                        for o in runs
                        if o.ok
                    ],
                }
            )
        return rows


def _median_of(values: list[dict[str, Any]], key: str) -> float | None:
    found = [float(v[key]) for v in values if v.get(key) is not None]
    return statistics.median(found) if found else None


def _execute(argv: list[str], timeout: float | None) -> tuple[int, str]:
    """Run one worker process; ``(exit code, stderr)``. Module-level so Dask can ship it."""
    try:
        completed = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return 124, f"timed out after {timeout} s"
    return completed.returncode, completed.stderr


class _LocalPool:
    """Threads that each drive a worker subprocess, which Ctrl-C can terminate."""

    def __init__(self, jobs: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="adhash-batch")
        self._running: set[subprocess.Popen[str]] = set()
        self._lock = threading.Lock()

    def submit(self, argv: list[str], timeout: float | None) -> Future[tuple[int, str]]:
        return self._executor.submit(self._run, argv, timeout)

    def _run(self, argv: list[str], timeout: float | None) -> tuple[int, str]:
        process = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        with self._lock:
            self._running.add(process)
        try:
            _, stderr = process.communicate(timeout=timeout)
            return process.returncode, stderr
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            return 124, f"timed out after {timeout} s"
        finally:
            with self._lock:
                self._running.discard(process)

    def as_completed(self, futures: list[Any]) -> Iterator[Any]:
        return as_completed(futures)

    def stop(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            for process in self._running:
                process.terminate()

    def close(self) -> None:
        self._executor.shutdown(wait=True)


class _DaskPool:
    """The same runs submitted to a Dask distributed scheduler."""

    def __init__(self, address: str) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise PolicyError(
                "--cluster needs Dask distributed", hint="pip install 'adhash[cluster]'"
            ) from None
        try:
            self._client = Client(address, timeout=10)  # type: ignore[no-untyped-call]
        except OSError as error:
            raise IOFailureError(f"cannot reach the Dask scheduler at {address}: {error}") from None

    def submit(self, argv: list[str], timeout: float | None) -> Any:
        return self._client.submit(_execute, argv, timeout, pure=False)

    def as_completed(self, futures: list[Any]) -> Iterator[Any]:
        from distributed import as_completed as dask_as_completed

        return iter(dask_as_completed(futures))  # type: ignore[no-untyped-call]

    def stop(self) -> None:
        self._client.close()  # type: ignore[no-untyped-call]

    def close(self) -> None:
        self._client.close()  # type: ignore[no-untyped-call]


def run_batch(
    spec_path: str | Path,
    *,
    jobs: int | None = None,
    cluster: str | None = None,
    out_dir: str | Path | None = None,
    python: str = sys.executable,
    on_run: Callable[[RunOutcome, int, int], None] | None = None,
) -> BatchResult:
    """Run every job of the suite at ``spec_path``; the result (``partial`` after Ctrl-C).

    ``on_run(outcome, done, total)`` is called as each run finishes. Complexity: the runs.
    """
    path = Path(spec_path)
    spec, expanded = load_spec(path)
    if jobs is not None and jobs < 1:
        raise BadInputError(f"jobs must be >= 1, got {jobs}")
    folder = Path(out_dir) if out_dir is not None else path.parent / spec.suite.out_dir
    result = BatchResult(
        spec_path=path,
        spec=spec,
        jobs=expanded,
        out_dir=folder,
        workloads={},
        started_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        cluster=cluster,
    )
    started = time.perf_counter()
    needed = sorted({job.workload for job in expanded})
    for name in needed:
        result.workloads[name] = _workload(path, spec, name, folder)
    tasks = [(job, repeat) for job in expanded for repeat in range(job.repeats)]
    pool: _LocalPool | _DaskPool = (
        _DaskPool(cluster) if cluster else _LocalPool(jobs or os.cpu_count() or 1)
    )
    pending: dict[Any, tuple[Job, int, Path, Path, float]] = {}
    try:
        for job, repeat in tasks:
            stem = folder / "runs" / f"{job.name}-{repeat + 1}"
            summary_file, metrics_file = (
                stem.with_suffix(".summary.json"),
                stem.with_suffix(".metrics.ndjson"),
            )
            argv = worker_command(
                python,
                result.workloads[job.workload].resolve(),
                summary_file.resolve(),
                metrics_out=metrics_file.resolve(),
                mode=job.mode,
                config=job.config_file.resolve() if job.config_file else None,
                sets=job.sets,
            )
            future = pool.submit(argv, spec.suite.timeout)
            pending[future] = (job, repeat, summary_file, metrics_file, time.perf_counter())
        for future in pool.as_completed(list(pending)):
            job, repeat, summary_file, metrics_file, began = pending.pop(future)
            outcome = _outcome(future, job, repeat, summary_file, metrics_file, began)
            result.outcomes.append(outcome)
            if on_run is not None:
                on_run(outcome, len(result.outcomes), len(tasks))
    except KeyboardInterrupt:
        result.partial = True
        pool.stop()
    else:
        pool.close()
    result.seconds = time.perf_counter() - started
    return result


def _outcome(
    future: Any, job: Job, repeat: int, summary_file: Path, metrics_file: Path, began: float
) -> RunOutcome:
    seconds = time.perf_counter() - began
    try:
        code, stderr = future.result()
    except Exception as error:  # a lost Dask worker, a cancelled future
        return RunOutcome(
            job.name, repeat, False, seconds, summary_file, metrics_file, error=str(error)
        )
    if code != 0:
        lines = stderr.strip().splitlines()
        detail = lines[-1] if lines else f"exit code {code}"
        with contextlib.suppress(orjson.JSONDecodeError, AttributeError):
            detail = orjson.loads(detail).get("detail", detail)
        return RunOutcome(
            job.name, repeat, False, seconds, summary_file, metrics_file, error=detail
        )
    summary = orjson.loads(summary_file.read_bytes())
    return RunOutcome(job.name, repeat, True, seconds, summary_file, metrics_file, summary=summary)


def _workload(spec_path: Path, spec: BatchSpec, name: str, folder: Path) -> Path:
    source = spec.workloads[name]
    if source.csv is not None:
        csv = spec_path.parent / source.csv
        if not csv.is_file():
            raise IOFailureError(f"batch spec {spec_path}: workload {name!r}: no such file {csv}")
        return csv
    target = folder / "workloads" / f"{name}.csv"
    generate(GeneratorSpec.from_params(**(source.generate or {})), target)
    return target
