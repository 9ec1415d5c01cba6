"""Self-contained HTML and Markdown reports of replay runs side by side.

The HTML page needs nothing from the network: styles are inline and the charts are inline SVG,
so a report can be mailed, archived or opened offline.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["ComparisonRow", "render_comparison_html", "render_comparison_markdown"]


@dataclass(frozen=True, slots=True)
class ComparisonRow:
    """One run in a comparison: a mode on a workload, and what it measured."""

    mode: str
    final_backend: str
    ops_per_second: float
    slowdown_vs_dict: float | None
    p50_ns: int | None
    p99_ns: int | None
    p999_ns: int | None
    migrations: int
    compactions: int
    final_size: int
    load_factor: float
    summary_file: str | None = None
    metrics_file: str | None = None


def _fmt_ns(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}×"


def render_comparison_markdown(rows: Sequence[ComparisonRow]) -> str:
    """A Markdown table of the rows.

    >>> row = ComparisonRow("dict", "dict", 1e6, 1.0, 50, 90, 120, 0, 0, 10, 0.0)
    >>> print(render_comparison_markdown([row]).splitlines()[2])
    | dict | dict | 1,000,000 | 1.00× | 50 | 90 | 120 | 0 | 0 | 10 | 0.000 |
    """
    lines = [
        "| mode | final backend | ops/s | time vs dict | p50 ns | p99 ns | p99.9 ns "
        "| migrations | compactions | final size | load factor |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row.mode} | {row.final_backend} | {row.ops_per_second:,.0f} | "
            f"{_fmt_ratio(row.slowdown_vs_dict)} | {_fmt_ns(row.p50_ns)} | {_fmt_ns(row.p99_ns)} | "
            f"{_fmt_ns(row.p999_ns)} | {row.migrations} | {row.compactions} | "
            f"{row.final_size:,} | {row.load_factor:.3f} |"
        )
    return "\n".join(lines) + "\n"


def _bar_chart(title: str, labels: Sequence[str], values: Sequence[float], unit: str) -> str:
    width, bar_height, gap, label_width = 640, 22, 8, 110
    top = 30
    height = top + len(values) * (bar_height + gap) + 10
    peak = max(values) if values and max(values) > 0 else 1.0
    parts = [
        f'<svg role="img" aria-label="{html.escape(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="0" y="18" class="chart-title">{html.escape(title)}</text>',
    ]
    span = width - label_width - 120
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + index * (bar_height + gap)
        length = max(1.0, span * value / peak)
        parts.append(
            f'<text x="0" y="{y + 16}" class="bar-label">{html.escape(label)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar_height}" '
            f'class="bar"><title>{html.escape(label)}: {value:,.0f} {unit}</title></rect>'
            f'<text x="{label_width + length + 6:.1f}" y="{y + 16}" class="bar-value">'
            f"{value:,.0f} {html.escape(unit)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1b1f24; max-width: 72rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #d0d7de; padding: 0.3rem 0.6rem; text-align: right; }
th:first-child, td:first-child, td:nth-child(2) { text-align: left; }
th { background: #f6f8fa; }
.meta { color: #57606a; font-size: 0.9rem; }
.chart-title { font-weight: 600; font-size: 14px; }
.bar-label, .bar-value { font-size: 12px; fill: #1b1f24; }
.bar { fill: #0969da; }
"""


def render_comparison_html(
    title: str, rows: Sequence[ComparisonRow], metadata: dict[str, str]
) -> str:
    """A self-contained HTML page: metadata, the comparison table, and two bar charts."""
    meta = "".join(
        f"<li><b>{html.escape(key)}</b>: {html.escape(value)}</li>"
        for key, value in metadata.items()
    )
    header = (
        "<tr><th>mode</th><th>final backend</th><th>ops/s</th><th>time vs dict</th>"
        "<th>p50 ns</th><th>p99 ns</th><th>p99.9 ns</th><th>migrations</th><th>compactions</th>"
        "<th>final size</th><th>load factor</th><th>artifacts</th></tr>"
    )
    body = []
    for row in rows:
        links = " ".join(
            f'<a href="{html.escape(path)}">{name}</a>'
            for name, path in (("summary", row.summary_file), ("metrics", row.metrics_file))
            if path
        )
        body.append(
            f"<tr><td>{html.escape(row.mode)}</td><td>{html.escape(row.final_backend)}</td>"
            f"<td>{row.ops_per_second:,.0f}</td><td>{_fmt_ratio(row.slowdown_vs_dict)}</td>"
            f"<td>{_fmt_ns(row.p50_ns)}</td><td>{_fmt_ns(row.p99_ns)}</td>"
            f"<td>{_fmt_ns(row.p999_ns)}</td><td>{row.migrations}</td><td>{row.compactions}</td>"
            f"<td>{row.final_size:,}</td><td>{row.load_factor:.3f}</td><td>{links}</td></tr>"
        )
    labels = [row.mode for row in rows]
    charts = _bar_chart(
        "Throughput (operations per second)", labels, [row.ops_per_second for row in rows], "ops/s"
    ) + _bar_chart(
        "p99 latency of a timed operation (ns)",
        labels,
        [float(row.p99_ns or 0) for row in rows],
        "ns",
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><ul class='meta'>{meta}</ul>"
        f"<h2>Results</h2><table>{header}{''.join(body)}</table>"
        f"<h2>Charts</h2>{charts}</body></html>\n"
    )
