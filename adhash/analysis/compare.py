"""A/B comparison: a baseline and a candidate on one workload, with statistics and reports.

Each side is a mode and/or a configuration. The runs alternate, each in a fresh process
(:mod:`adhash.analysis.worker`), in ABBA order (A B, then B A, …) so a slow drift of the machine
falls on both sides alike. Throughput and each latency percentile are compared with
:func:`~adhash.analysis.stats.compare_samples`; the result is a JSON document (schema
``adhash.compare.v1``), a Markdown summary and a self-contained HTML page.
"""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal

import orjson

from adhash._version import __version__
from adhash.analysis.stats import Comparison, compare_samples
from adhash.analysis.worker import side_settings, worker_command
from adhash.errors import AdhashError, BadInputError, IOFailureError
from adhash.workload.format import validate_workload

__all__ = [
    "COMPARE_SCHEMA",
    "CompareResult",
    "RunResult",
    "Side",
    "default_stem",
    "read_timeline",
    "render_html",
    "render_markdown",
    "run_ab",
    "write_reports",
]

COMPARE_SCHEMA: Final = "adhash.compare.v1"
_PERCENTILES: Final = ("p50", "p90", "p99", "p99.9")
SideName = Literal["baseline", "candidate"]


@dataclass(frozen=True, slots=True)
class Side:
    """One side of a comparison: a label, a mode and/or a configuration file, extra settings."""

    label: str
    mode: str | None = None
    config: Path | None = None
    sets: tuple[str, ...] = ()

    def describe(self) -> dict[str, Any]:
        """The side as JSON-ready data."""
        return {
            "label": self.label,
            "mode": self.mode,
            "config": str(self.config) if self.config else None,
            "sets": list(self.sets),
        }


@dataclass(frozen=True, slots=True)
class RunResult:
    """One measured run: which side, when, where its artifacts are, and its headline numbers."""

    side: SideName
    round: int
    position: int
    summary_file: Path
    metrics_file: Path
    summary: dict[str, Any]

    @property
    def ops_per_second(self) -> float:
        """Throughput of the run."""
        return float(self.summary.get("ops_per_second") or 0.0)

    def latency(self, percentile: str) -> float | None:
        """An overall latency percentile in ns, or None when the run timed nothing."""
        value = self.summary.get("latency_ns", {}).get("overall", {}).get(percentile)
        return float(value) if value is not None else None


@dataclass(frozen=True, slots=True)
class CompareResult:
    """Everything an A/B comparison found; :meth:`as_dict` is the ``adhash.compare.v1`` JSON."""

    csv: Path
    workload_sha256: str
    baseline: Side
    candidate: Side
    repeats: int
    alpha: float
    confidence: float
    runs: tuple[RunResult, ...]
    metrics: tuple[Comparison, ...]
    out_dir: Path
    created_at: str
    timelines: dict[str, list[dict[str, float]]] = field(default_factory=dict)

    @property
    def throughput(self) -> Comparison:
        """The throughput comparison (the headline)."""
        return self.metrics[0]

    def as_dict(self) -> dict[str, Any]:
        """The comparison as JSON-ready data (schema ``adhash.compare.v1``)."""
        return {
            "schema": COMPARE_SCHEMA,
            "created_at": self.created_at,
            "workload": {"csv": str(self.csv), "sha256": self.workload_sha256},
            "repeats": self.repeats,
            "order": "ABBA",
            "alpha": self.alpha,
            "confidence": self.confidence,
            "baseline": self.baseline.describe(),
            "candidate": self.candidate.describe(),
            "verdict": self.throughput.verdict,
            "metrics": [metric.as_dict() for metric in self.metrics],
            "runs": [
                {
                    "side": run.side,
                    "round": run.round,
                    "position": run.position,
                    "summary_file": str(run.summary_file),
                    "metrics_file": str(run.metrics_file),
                    "ops_per_second": run.ops_per_second,
                    "elapsed_seconds": run.summary.get("elapsed_seconds"),
                    "final_backend": run.summary.get("final_backend"),
                    "migrations": run.summary.get("migrations_triggered"),
                    "compactions": run.summary.get("compactions_triggered"),
                    "latency_ns": run.summary.get("latency_ns", {}).get("overall", {}),
                }
                for run in self.runs
            ],
            "timelines": self.timelines,
            "environment": {
                "python": platform.python_version(),
                "implementation": platform.python_implementation(),
                "platform": platform.platform(),
                "cpu_count": os.cpu_count(),
                "adhash": __version__,
            },
            "out_dir": str(self.out_dir),
        }


def run_ab(
    csv: str | os.PathLike[str],
    baseline: Side,
    candidate: Side,
    *,
    out_dir: str | os.PathLike[str],
    repeats: int = 5,
    alpha: float = 0.05,
    confidence: float = 0.95,
    seed: int = 0,
    python: str = sys.executable,
    timeout: float | None = None,
    on_run: Callable[[SideName, int, int], None] | None = None,
) -> CompareResult:
    """Run both sides ``repeats`` times each, alternating, each run in a fresh process.

    ``on_run(side, round, position)`` is called before each run. Per-run summaries and metrics
    go to ``out_dir/runs``. Complexity: 2 × repeats runs of the workload.
    """
    workload = Path(csv)
    if repeats < 2:
        raise BadInputError(f"repeats must be >= 2 to compare distributions, got {repeats}")
    if not workload.is_file():
        raise IOFailureError(f"workload not found: {workload}")
    # Check both sides and the workload before any run, so a mistake costs no run and no file.
    for side in (baseline, candidate):
        try:
            settings = side_settings(side.mode, side.config, side.sets)
        except AdhashError as error:
            raise type(error)(f"{side.label}: {error.detail}", hint=error.hint) from None
    validate_workload(workload, limits=settings.workload_limits())
    folder = Path(out_dir)
    runs_dir = folder / "runs"
    sides: dict[SideName, Side] = {"baseline": baseline, "candidate": candidate}
    results: list[RunResult] = []
    position = 0
    for round_index in range(repeats):
        order: tuple[SideName, SideName] = (
            ("baseline", "candidate") if round_index % 2 == 0 else ("candidate", "baseline")
        )
        for name in order:
            if on_run is not None:
                on_run(name, round_index, position)
            results.append(
                _one_run(
                    python, workload, sides[name], name, round_index, position, runs_dir, timeout
                )
            )
            position += 1
    by_side = {
        name: [run for run in results if run.side == name] for name in ("baseline", "candidate")
    }
    metrics = [
        compare_samples(
            "throughput",
            [run.ops_per_second for run in by_side["baseline"]],
            [run.ops_per_second for run in by_side["candidate"]],
            better="higher",
            unit="ops/s",
            alpha=alpha,
            confidence=confidence,
            seed=seed,
        )
    ]
    for percentile in _PERCENTILES:
        base = [run.latency(percentile) for run in by_side["baseline"]]
        cand = [run.latency(percentile) for run in by_side["candidate"]]
        if None in base or None in cand or not all(base):
            continue
        metrics.append(
            compare_samples(
                f"latency {percentile}",
                [v for v in base if v is not None],
                [v for v in cand if v is not None],
                better="lower",
                unit="ns",
                alpha=alpha,
                confidence=confidence,
                seed=seed,
            )
        )
    return CompareResult(
        csv=workload,
        workload_sha256=_sha256(workload),
        baseline=baseline,
        candidate=candidate,
        repeats=repeats,
        alpha=alpha,
        confidence=confidence,
        runs=tuple(results),
        metrics=tuple(metrics),
        out_dir=folder,
        created_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        timelines={name: read_timeline(runs[0].metrics_file) for name, runs in by_side.items()},
    )


def _one_run(
    python: str,
    workload: Path,
    side: Side,
    name: SideName,
    round_index: int,
    position: int,
    runs_dir: Path,
    timeout: float | None,
) -> RunResult:
    stem = f"{position:03d}-{name}-{round_index + 1}"
    summary_file = runs_dir / f"{stem}.summary.json"
    metrics_file = runs_dir / f"{stem}.metrics.ndjson"
    argv = worker_command(
        python,
        workload,
        summary_file,
        metrics_out=metrics_file,
        mode=side.mode,
        config=side.config,
        sets=side.sets,
    )
    try:
        completed = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise IOFailureError(f"{name} run {round_index + 1} took longer than {timeout} s") from None
    if completed.returncode != 0:
        raise _worker_failure(name, round_index, completed.returncode, completed.stderr)
    summary = orjson.loads(summary_file.read_bytes())
    return RunResult(name, round_index, position, summary_file, metrics_file, summary)


def _worker_failure(name: str, round_index: int, code: int, stderr: str) -> AdhashError:
    """The worker's own error (its envelope is the last stderr line), naming the side."""
    lines = stderr.strip().splitlines()
    try:
        envelope = orjson.loads(lines[-1]) if lines else {}
    except orjson.JSONDecodeError:
        envelope = {}
    detail = envelope.get("detail") or (lines[-1] if lines else f"exit code {code}")
    error_types = {cls.kind: cls for cls in AdhashError.__subclasses__()}
    error_type = error_types.get(envelope.get("error", ""), IOFailureError)
    return error_type(
        f"the {name} run {round_index + 1} failed: {detail}", hint=envelope.get("hint")
    )


def read_timeline(metrics_file: Path) -> list[dict[str, float]]:
    """The ticks of one run's NDJSON file as points: t, load factor, probe mean, throughput.

    An unreadable file gives no points (a report then draws an empty chart).
    """
    points: list[dict[str, float]] = []
    try:
        lines = metrics_file.read_bytes().splitlines()
    except OSError:
        return points
    for line in lines:
        record = orjson.loads(line)
        if record.get("schema") != "metrics.v1":
            continue
        shape = record["map"]
        probe = shape.get("probe_length_mean")
        if probe is None:
            probe = shape.get("chain_length_mean")
        points.append(
            {
                "t": record["t"],
                "load_factor": shape["load_factor"],
                "probe_length_mean": probe or 0.0,
                "ops_per_second": record["throughput"]["instant"],
            }
        )
    return points


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fmt(value: float, unit: str) -> str:
    return f"{value:,.0f} {unit}".rstrip()


def render_markdown(result: CompareResult) -> str:
    """The comparison as Markdown: the verdict, a table of every metric, the runs."""
    base, cand = result.baseline.label, result.candidate.label
    lines = [
        f"# A/B comparison: {base} vs {cand}",
        "",
        f"- workload: `{result.csv}` (sha256 {result.workload_sha256[:16]}…)",
        f"- {result.repeats} runs per side, interleaved ABBA, each in a fresh process",
        f"- verdict on throughput: **{result.throughput.verdict}** "
        f"({result.throughput.change_pct:+.1f} %)",
        f"- significance: Mann-Whitney U, alpha = {result.alpha}; "
        f"{result.confidence:.0%} bootstrap interval of the change of the medians",
        "",
        f"| metric | {base} (median) | {cand} (median) | change | {result.confidence:.0%} CI "
        "| p-value | Cliff's δ | verdict |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for metric in result.metrics:
        lines.append(
            f"| {metric.name} | {_fmt(metric.baseline_median, metric.unit)} | "
            f"{_fmt(metric.candidate_median, metric.unit)} | {metric.change_pct:+.1f} % | "
            f"{metric.ci_low_pct:+.1f} … {metric.ci_high_pct:+.1f} % | {metric.p_value:.4f} | "
            f"{metric.effect_size:+.2f} | {metric.verdict} |"
        )
    lines += ["", "## Runs", "", "| # | side | round | ops/s | final backend | summary |"]
    lines.append("|---:|---|---:|---:|---|---|")
    for run in result.runs:
        label = base if run.side == "baseline" else cand
        lines.append(
            f"| {run.position} | {label} | {run.round + 1} | {run.ops_per_second:,.0f} | "
            f"{run.summary.get('final_backend')} | `{run.summary_file}` |"
        )
    return "\n".join(lines) + "\n"


def render_html(result: CompareResult) -> str:
    """A self-contained HTML page: verdict, metric table, and charts of both sides."""
    import html

    from adhash.analysis.charts import grouped_bars, line_chart, page, strip_chart

    base, cand = result.baseline.label, result.candidate.label
    rows = []
    for metric in result.metrics:
        css = {"better": "better", "worse": "worse"}.get(metric.verdict, "")
        rows.append(
            f"<tr><td>{html.escape(metric.name)}</td>"
            f"<td>{_fmt(metric.baseline_median, metric.unit)}</td>"
            f"<td>{_fmt(metric.candidate_median, metric.unit)}</td>"
            f"<td>{metric.change_pct:+.1f} %</td>"
            f"<td>{metric.ci_low_pct:+.1f} … {metric.ci_high_pct:+.1f} %</td>"
            f"<td>{metric.p_value:.4f}</td><td>{metric.effect_size:+.2f}</td>"
            f"<td class='{css}'>{html.escape(metric.verdict)}</td></tr>"
        )
    table = (
        f"<table><tr><th>metric</th><th>{html.escape(base)}</th><th>{html.escape(cand)}</th>"
        f"<th>change</th><th>{result.confidence:.0%} CI</th><th>p-value</th><th>Cliff's δ</th>"
        f"<th>verdict</th></tr>{''.join(rows)}</table>"
    )
    throughput = result.throughput
    latency = [m for m in result.metrics if m.name.startswith("latency")]
    charts = [
        strip_chart(
            "Throughput of every run (ops/s; bar = median)",
            [(base, throughput.baseline), (cand, throughput.candidate)],
            "ops/s",
        )
    ]
    if latency:
        charts.append(
            grouped_bars(
                "Latency percentiles, median over runs (ns)",
                [m.name.removeprefix("latency ") for m in latency],
                [
                    (base, [m.baseline_median for m in latency]),
                    (cand, [m.candidate_median for m in latency]),
                ],
                "ns",
            )
        )
    for key, title in (
        ("load_factor", "Load factor over time (first run of each side)"),
        ("probe_length_mean", "Mean probe (or chain) length over time"),
        ("ops_per_second", "Throughput over time (ops/s)"),
    ):
        charts.append(
            line_chart(
                title,
                [
                    (label, [(p["t"], p[key]) for p in result.timelines.get(side, [])])
                    for side, label in (("baseline", base), ("candidate", cand))
                ],
                x_label="seconds",
                y_label=key,
            )
        )
    css = {"better": "better", "worse": "worse"}.get(throughput.verdict, "")
    verdict = (
        f"<p>Throughput: <b class='{css}'>{html.escape(throughput.verdict)}</b> "
        f"({throughput.change_pct:+.1f} %, p = "
        f"{throughput.p_value:.4f}), {result.repeats} runs per side, interleaved ABBA, each in "
        "a fresh process.</p>"
    )
    meta = (
        f"<ul class='meta'><li>workload: {html.escape(str(result.csv))}</li>"
        f"<li>created: {html.escape(result.created_at)}</li>"
        f"<li>{html.escape(base)}: {html.escape(str(result.baseline.describe()))}</li>"
        f"<li>{html.escape(cand)}: {html.escape(str(result.candidate.describe()))}</li></ul>"
    )
    runs = "".join(
        f"<li>{run.position}: {html.escape(base if run.side == 'baseline' else cand)} "
        f"round {run.round + 1}, {run.ops_per_second:,.0f} ops/s: "
        f"<a href='{_link(run.summary_file, result.out_dir)}'>summary</a>, "
        f"<a href='{_link(run.metrics_file, result.out_dir)}'>metrics</a></li>"
        for run in result.runs
    )
    return page(
        f"A/B comparison: {base} vs {cand}",
        [
            meta,
            verdict,
            "<h2>Metrics</h2>",
            table,
            "<h2>Charts</h2>",
            *charts,
            f"<h2>Runs</h2><ol start='0'>{runs}</ol>",
        ],
    )


def _link(path: Path, folder: Path) -> str:
    import html

    return html.escape(os.path.relpath(path, folder))


def default_stem(csv: Path, baseline: Side, candidate: Side) -> str:
    """``<workload>_<baseline>_vs_<candidate>`` with spaces and slashes made safe."""
    raw = f"{csv.stem}_{baseline.label}_vs_{candidate.label}"
    return "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in raw)


def write_reports(result: CompareResult, stem: str) -> dict[str, Path]:
    """Write the JSON, Markdown and HTML reports into the result's folder (atomically)."""
    from adhash.atomic import atomic_write_bytes, atomic_write_text

    paths = {
        "json": result.out_dir / f"{stem}.json",
        "markdown": result.out_dir / f"{stem}.md",
        "html": result.out_dir / f"{stem}.html",
    }
    atomic_write_bytes(
        paths["json"],
        orjson.dumps(result.as_dict(), option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE),
    )
    atomic_write_text(paths["markdown"], render_markdown(result))
    atomic_write_text(paths["html"], render_html(result))
    return paths
