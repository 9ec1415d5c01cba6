"""Inline SVG charts and a page shell for self-contained HTML reports (no scripts, no network).

Each function returns one ``<svg>`` element as text; :func:`page` wraps sections in a document
with its own styles, so a report opens offline, mailed or archived.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

__all__ = ["PALETTE", "grouped_bars", "line_chart", "page", "strip_chart"]

PALETTE = ("#0969da", "#cf222e", "#1a7f37", "#8250df", "#bc4c00", "#57606a")

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1b1f24; max-width: 76rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 0.5rem 0; }
th, td { border: 1px solid #d0d7de; padding: 0.3rem 0.6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f6f8fa; }
th.sortable { cursor: pointer; } th.sortable::after { content: " \\2195"; color: #8c959f; }
.meta { color: #57606a; font-size: 0.9rem; }
.better { color: #1a7f37; font-weight: 600; } .worse { color: #cf222e; font-weight: 600; }
.failed { color: #cf222e; }
svg { display: block; margin: 0.75rem 0; }
svg text { font-size: 12px; fill: #1b1f24; }
svg .title { font-weight: 600; font-size: 14px; }
svg .axis { stroke: #8c959f; stroke-width: 1; }
svg .grid { stroke: #eaeef2; stroke-width: 1; }
"""


def page(title: str, sections: Sequence[str], *, script: str = "") -> str:
    """A complete HTML document with ``sections`` in order (each already HTML)."""
    tail = f"<script>{script}</script>" if script else ""
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>{''.join(sections)}{tail}</body></html>\n"
    )


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)


def _label(value: float) -> str:
    if abs(value) >= 1e6:
        return f"{value / 1e6:.3g}M"
    if abs(value) >= 1e3:
        return f"{value / 1e3:.3g}k"
    return f"{value:.3g}"


def _frame(title: str, width: int, height: int) -> list[str]:
    return [
        f'<svg role="img" aria-label="{html.escape(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="0" y="16" class="title">{html.escape(title)}</text>',
    ]


def strip_chart(title: str, groups: Sequence[tuple[str, Sequence[float]]], unit: str) -> str:
    """Every value of each group as a dot on its own row, with the group's median as a bar.

    >>> "<circle" in strip_chart("t", [("a", [1.0, 2.0])], "ops/s")
    True
    """
    width, row, left, top = 640, 36, 110, 34
    height = top + row * len(groups) + 24
    peak = _nice_max(max((max(v) for _, v in groups if v), default=1.0))
    span = width - left - 20
    parts = _frame(title, width, height)
    for tick in range(5):
        x = left + span * tick / 4
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{height - 20}" class="grid"/>'
            f'<text x="{x:.1f}" y="{height - 6}" text-anchor="middle">'
            f"{_label(peak * tick / 4)}</text>"
        )
    for index, (name, values) in enumerate(groups):
        y = top + index * row + row / 2
        color = PALETTE[index % len(PALETTE)]
        parts.append(f'<text x="0" y="{y + 4:.1f}">{html.escape(name)}</text>')
        for value in values:
            x = left + span * value / peak
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{color}" fill-opacity="0.6">'
                f"<title>{value:,.0f} {html.escape(unit)}</title></circle>"
            )
        if values:
            ordered = sorted(values)
            middle = len(ordered) // 2
            median = (
                ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
            )
            x = left + span * median / peak
            parts.append(
                f'<line x1="{x:.1f}" y1="{y - 11:.1f}" x2="{x:.1f}" y2="{y + 11:.1f}" '
                f'stroke="{color}" stroke-width="3"><title>median {median:,.0f}</title></line>'
            )
    parts.append("</svg>")
    return "".join(parts)


def grouped_bars(
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    unit: str,
) -> str:
    """Bars per category, one per series, side by side, with a legend.

    >>> grouped_bars("t", ["p50"], [("a", [1.0]), ("b", [2.0])], "ns").count("<rect")
    4
    """
    width, height, left, top, bottom = 640, 260, 60, 40, 40
    peak = _nice_max(max((max(v) for _, v in series if v), default=1.0))
    plot_h = height - top - bottom
    group_w = (width - left - 10) / max(len(categories), 1)
    bar_w = group_w * 0.8 / max(len(series), 1)
    parts = _frame(title, width, height)
    for tick in range(5):
        y = top + plot_h * (1 - tick / 4)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_label(peak * tick / 4)}</text>"
        )
    for c, category in enumerate(categories):
        x0 = left + c * group_w + group_w * 0.1
        parts.append(
            f'<text x="{left + c * group_w + group_w / 2:.1f}" y="{height - bottom + 16}" '
            f'text-anchor="middle">{html.escape(category)}</text>'
        )
        for s, (name, values) in enumerate(series):
            value = values[c] if c < len(values) else 0.0
            bar_h = plot_h * value / peak
            parts.append(
                f'<rect x="{x0 + s * bar_w:.1f}" y="{top + plot_h - bar_h:.1f}" '
                f'width="{bar_w * 0.92:.1f}" height="{bar_h:.1f}" '
                f'fill="{PALETTE[s % len(PALETTE)]}"><title>{html.escape(name)} '
                f"{html.escape(category)}: {value:,.0f} {html.escape(unit)}</title></rect>"
            )
    for s, (name, _) in enumerate(series):
        x = left + s * 150
        parts.append(
            f'<rect x="{x}" y="{height - 14}" width="10" height="10" '
            f'fill="{PALETTE[s % len(PALETTE)]}"/>'
            f'<text x="{x + 14}" y="{height - 5}">{html.escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def line_chart(
    title: str,
    series: Sequence[tuple[str, Sequence[tuple[float, float]]]],
    *,
    x_label: str,
    y_label: str,
) -> str:
    """One polyline per series over a shared x axis, with a legend.

    >>> "<polyline" in line_chart("t", [("a", [(0, 1), (1, 2)])], x_label="s", y_label="lf")
    True
    """
    width, height, left, top, bottom = 640, 240, 60, 34, 44
    points = [p for _, pts in series for p in pts]
    x_max = _nice_max(max((p[0] for p in points), default=1.0))
    y_max = _nice_max(max((p[1] for p in points), default=1.0))
    plot_w, plot_h = width - left - 10, height - top - bottom
    parts = _frame(title, width, height)
    for tick in range(5):
        y = top + plot_h * (1 - tick / 4)
        x = left + plot_w * tick / 4
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_label(y_max * tick / 4)}</text>"
            f'<text x="{x:.1f}" y="{top + plot_h + 14}" text-anchor="middle">'
            f"{_label(x_max * tick / 4)}</text>"
        )
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 18}" text-anchor="middle">'
        f"{html.escape(x_label)}</text>"
        f'<text x="0" y="{top - 6}">{html.escape(y_label)}</text>'
    )
    for s, (name, pts) in enumerate(series):
        color = PALETTE[s % len(PALETTE)]
        coords = " ".join(
            f"{left + plot_w * x / x_max:.1f},{top + plot_h * (1 - y / y_max):.1f}" for x, y in pts
        )
        if coords:
            parts.append(
                f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="2">'
                f"<title>{html.escape(name)}</title></polyline>"
            )
        x = left + s * 150
        parts.append(
            f'<rect x="{x}" y="{height - 12}" width="10" height="10" fill="{color}"/>'
            f'<text x="{x + 14}" y="{height - 3}">{html.escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
