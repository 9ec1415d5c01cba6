"""Batch reports: JSON (schema ``adhash.batch_result.v1``), Markdown, and a self-contained HTML
page with a sortable results table and charts (no CDN, no network)."""

from __future__ import annotations

import hashlib
import html
import os
import platform
from pathlib import Path
from typing import Any

import orjson

from adhash._version import __version__
from adhash.analysis.charts import grouped_bars, line_chart, page, strip_chart
from adhash.analysis.compare import read_timeline
from adhash.batch.runner import BatchResult

__all__ = ["RESULT_SCHEMA", "result_document", "write_reports"]

RESULT_SCHEMA = "adhash.batch_result.v1"

_SORTABLE = """
document.querySelectorAll("table.sortable th").forEach((th, column) => {
  th.classList.add("sortable");
  th.addEventListener("click", () => {
    const body = th.closest("table").tBodies[0];
    const rows = Array.from(body.rows);
    const ascending = th.dataset.order !== "asc";
    th.dataset.order = ascending ? "asc" : "desc";
    const key = (row) => {
      const cell = row.cells[column];
      const number = parseFloat(cell.dataset.sort ?? cell.textContent.replace(/,/g, ""));
      return Number.isNaN(number) ? cell.textContent : number;
    };
    rows.sort((a, b) => (key(a) > key(b) ? 1 : key(a) < key(b) ? -1 : 0) * (ascending ? 1 : -1));
    rows.forEach((row) => body.appendChild(row));
  });
});
"""


def _environment(result: BatchResult) -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "adhash": __version__,
        "spec": str(result.spec_path),
        "spec_sha256": hashlib.sha256(result.spec_path.read_bytes()).hexdigest(),
        "cluster": result.cluster,
        "seeds": {
            name: (source.generate or {}).get("seed")
            for name, source in result.spec.workloads.items()
            if source.generate is not None
        },
    }


def result_document(result: BatchResult) -> dict[str, Any]:
    """The JSON-ready result."""
    return {
        "schema": RESULT_SCHEMA,
        "suite": result.spec.suite.name,
        "description": result.spec.suite.description,
        "started_at": result.started_at,
        "seconds": result.seconds,
        "partial": result.partial,
        "runs_total": sum(job.repeats for job in result.jobs),
        "runs_completed": sum(1 for o in result.outcomes if o.ok),
        "runs_failed": len(result.failed),
        "workloads": {name: str(path) for name, path in result.workloads.items()},
        "jobs": result.job_rows(),
        "environment": _environment(result),
    }


def _fmt(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def render_markdown(result: BatchResult) -> str:
    """The result as Markdown."""
    document = result_document(result)
    lines = [
        f"# Batch suite: {document['suite']}"
        + (" (partial: interrupted)" if result.partial else ""),
        "",
        f"{document['runs_completed']} of {document['runs_total']} runs completed, "
        f"{document['runs_failed']} failed, in {result.seconds:.1f} s.",
        "",
        "| job | workload | mode | config | median ops/s | min - max | p50 ns | p99 ns "
        "| backend | status |",
        "|---|---|---|---|---:|---:|---:|---:|---|---|",
    ]
    for row in document["jobs"]:
        lines.append(
            f"| {row['job']} | {row['workload']} | {row['mode'] or 'config'} | {row['config']} | "
            f"{_fmt(row['ops_per_second_median'])} | {_fmt(row['ops_per_second_min'])} - "
            f"{_fmt(row['ops_per_second_max'])} | {_fmt(row['p50_ns'])} | {_fmt(row['p99_ns'])} | "
            f"{row['final_backend'] or '-'} | {row['status']} |"
        )
    failures = [(row["job"], error) for row in document["jobs"] for error in row["errors"]]
    if failures:
        lines += ["", "## Failures", ""] + [f"- {job}: {error}" for job, error in failures]
    environment = document["environment"]
    lines += ["", "## Environment", ""] + [
        f"- {key}: {value}" for key, value in environment.items()
    ]
    return "\n".join(lines) + "\n"


def render_html(result: BatchResult, folder: Path) -> str:
    """A self-contained page: sortable table, charts, environment, links to artifacts."""
    document = result_document(result)
    rows = []
    for row in document["jobs"]:
        links = " ".join(
            f"<a href='{html.escape(os.path.relpath(a['summary'], folder))}'>summary {i + 1}</a> "
            f"<a href='{html.escape(os.path.relpath(a['metrics'], folder))}'>metrics {i + 1}</a>"
            for i, a in enumerate(row["artifacts"])
        )
        css = "" if row["status"] == "ok" else " class='failed'"
        rows.append(
            f"<tr{css}><td>{html.escape(row['job'])}</td><td>{html.escape(row['workload'])}</td>"
            f"<td>{html.escape(row['mode'] or 'config')}</td><td>{html.escape(row['config'])}</td>"
            f"<td data-sort='{row['ops_per_second_median'] or 0}'>"
            f"{_fmt(row['ops_per_second_median'])}</td>"
            f"<td>{_fmt(row['ops_per_second_min'])} - {_fmt(row['ops_per_second_max'])}</td>"
            f"<td data-sort='{row['p50_ns'] or 0}'>{_fmt(row['p50_ns'])}</td>"
            f"<td data-sort='{row['p99_ns'] or 0}'>{_fmt(row['p99_ns'])}</td>"
            f"<td>{html.escape(row['final_backend'] or '-')}</td>"
            f"<td>{html.escape(row['status'])}</td><td>{links}</td></tr>"
        )
    table = (
        "<table class='sortable'><thead><tr><th>job</th><th>workload</th><th>mode</th>"
        "<th>config</th><th>median ops/s</th><th>spread</th><th>p50 ns</th><th>p99 ns</th>"
        "<th>backend</th><th>status</th><th>artifacts</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
    good = [row for row in document["jobs"] if row["ops_per_second"]]
    charts = [
        strip_chart(
            "Throughput per job (every repeat; bar = median)",
            [(row["job"], row["ops_per_second"]) for row in good],
            "ops/s",
        ),
        grouped_bars(
            "Latency percentiles per job (median over repeats, ns)",
            [row["job"] for row in good],
            [
                ("p50", [row["p50_ns"] or 0.0 for row in good]),
                ("p99", [row["p99_ns"] or 0.0 for row in good]),
            ],
            "ns",
        ),
        line_chart(
            "Load factor over time (first repeat of each job)",
            [
                (row["job"], _load_factors(Path(row["artifacts"][0]["metrics"])))
                for row in good
                if row["artifacts"]
            ],
            x_label="seconds",
            y_label="load factor",
        ),
    ]
    failures = "".join(
        f"<li>{html.escape(row['job'])}: {html.escape(error)}</li>"
        for row in document["jobs"]
        for error in row["errors"]
    )
    environment = "".join(
        f"<li><b>{html.escape(key)}</b>: {html.escape(str(value))}</li>"
        for key, value in document["environment"].items()
    )
    summary = (
        f"<p class='meta'>{document['runs_completed']} of {document['runs_total']} runs completed, "
        f"{document['runs_failed']} failed, in {result.seconds:.1f} s"
        + (" — <b>partial: interrupted</b>" if result.partial else "")
        + f". {html.escape(document['description'])}</p>"
    )
    sections = [summary, "<h2>Results</h2>", table, "<h2>Charts</h2>", *charts]
    if failures:
        sections += ["<h2>Failures</h2>", f"<ul>{failures}</ul>"]
    sections += ["<h2>Environment</h2>", f"<ul class='meta'>{environment}</ul>"]
    return page(f"Batch suite: {document['suite']}", sections, script=_SORTABLE)


def _load_factors(metrics_file: Path) -> list[tuple[float, float]]:
    return [(point["t"], point["load_factor"]) for point in read_timeline(metrics_file)]


def write_reports(result: BatchResult) -> dict[str, Path]:
    """Write ``report.json``, ``report.md`` and ``report.html`` into the suite's folder."""
    from adhash.atomic import atomic_write_bytes, atomic_write_text

    folder = result.out_dir
    paths = {
        "json": folder / "report.json",
        "markdown": folder / "report.md",
        "html": folder / "report.html",
    }
    atomic_write_bytes(
        paths["json"],
        orjson.dumps(
            result_document(result), option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE
        ),
    )
    atomic_write_text(paths["markdown"], render_markdown(result))
    atomic_write_text(paths["html"], render_html(result, folder))
    return paths
