"""The main job: generate a workload, replay it on every backend, and report the comparison.

``run_demo(out_dir)`` writes into ``out_dir``: the workload and its manifest, one run summary and
one metrics NDJSON file per mode, and ``report.html`` / ``report.md`` comparing the modes, with
``dict`` as the reference every backend is measured against.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from adhash._version import __version__
from adhash.atomic import atomic_write_bytes, atomic_write_text
from adhash.metrics.records import RunSummary, dump
from adhash.metrics.sinks import NDJSONSink
from adhash.replay import MODES, ReplayOptions, python_description, replay
from adhash.reporting import ComparisonRow, render_comparison_html, render_comparison_markdown
from adhash.workload.generate import GeneratorSpec, Manifest, generate

__all__ = ["DemoResult", "run_demo"]


@dataclass(frozen=True, slots=True)
class DemoResult:
    """Where everything went, and the comparison rows."""

    out_dir: Path
    workload: Path
    manifest: Manifest
    rows: tuple[ComparisonRow, ...]
    report_html: Path
    report_markdown: Path


def run_demo(
    out_dir: str | os.PathLike[str],
    *,
    ops: int = 200_000,
    key_space: int = 20_000,
    read_ratio: float = 0.8,
    seed: int = 42,
    modes: Sequence[str] = MODES,
    on_mode: Callable[[str], None] | None = None,
    options: ReplayOptions | None = None,
) -> DemoResult:
    """Generate a uniform workload into ``out_dir`` and replay it on every mode.

    ``options`` (from the configuration) sets everything but the mode of each run; its hash seed
    defaults to ``seed``.

    Complexity: O(ops × modes).
    """
    folder = Path(out_dir)
    spec = GeneratorSpec.from_params(ops=ops, key_space=key_space, read_ratio=read_ratio, seed=seed)
    workload = folder / "workload.csv"
    manifest = generate(spec, workload)
    summaries: list[tuple[RunSummary, Path, Path]] = []
    ordered = ["dict", *[mode for mode in modes if mode != "dict"]]
    base = options if options is not None else ReplayOptions(hash_seed=seed)
    if base.hash_seed is None:
        base = replace(base, hash_seed=seed)
    for mode in ordered:
        if on_mode is not None:
            on_mode(mode)
        metrics_path = folder / "metrics" / f"{mode}.ndjson"
        summary_path = folder / "summaries" / f"{mode}.json"
        with NDJSONSink(metrics_path) as sink:
            summary, _final = replay(
                workload,
                replace(base, mode=mode),
                sinks=[sink],
                metrics_file=str(metrics_path),
            )
        atomic_write_bytes(summary_path, dump(summary))
        summaries.append((summary, summary_path, metrics_path))
    reference = summaries[0][0].ops_per_second
    rows = tuple(
        ComparisonRow(
            mode=summary.mode,
            final_backend=summary.final_backend,
            ops_per_second=summary.ops_per_second or 0.0,
            slowdown_vs_dict=(
                reference / summary.ops_per_second if reference and summary.ops_per_second else None
            ),
            p50_ns=summary.latency_ns.get("overall", {}).get("p50"),
            p99_ns=summary.latency_ns.get("overall", {}).get("p99"),
            p999_ns=summary.latency_ns.get("overall", {}).get("p99.9"),
            migrations=summary.migrations_triggered,
            compactions=summary.compactions_triggered,
            final_size=summary.final_stats.size,
            load_factor=summary.final_stats.load_factor,
            summary_file=str(summary_path.relative_to(folder)),
            metrics_file=str(metrics_path.relative_to(folder)),
        )
        for summary, summary_path, metrics_path in summaries
    )
    metadata = {
        "workload": f"{workload.name}: {manifest.rows:,} rows, uniform keys over {key_space:,}, "
        f"{read_ratio:.0%} reads, seed {seed}, sha256 {manifest.sha256[:16]}…",
        "python": python_description(),
        "adhash": __version__,
    }
    report_html = folder / "report.html"
    report_markdown = folder / "report.md"
    atomic_write_text(
        report_html,
        render_comparison_html("adhash demo: every backend on one workload", rows, metadata),
    )
    atomic_write_text(
        report_markdown,
        "# adhash demo\n\n"
        + "".join(f"- {key}: {value}\n" for key, value in metadata.items())
        + "\n"
        + render_comparison_markdown(rows),
    )
    return DemoResult(folder, workload, manifest, rows, report_html, report_markdown)
