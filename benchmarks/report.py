"""Benchmark results: the run's record, the issue's targets, and the JSON and Markdown reports.

The JSON holds every measurement with the machine it ran on; the Markdown is the same run as
tables of operations per second and ratios to ``dict``, for people and for the docs.
"""

from __future__ import annotations

import json
import platform
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from adhash import __version__
from benchmarks.maps import BASELINE, Measurement, MemoryMeasurement
from benchmarks.migration import MigrationPause, OpTimes

__all__ = [
    "TARGETS",
    "BenchmarkRun",
    "Target",
    "TargetResult",
    "check_targets",
    "machine_metadata",
    "render_markdown",
    "write_reports",
]

TARGET_KEY_TYPE = "str"
TARGET_N = 100_000
_MEMORY = "memory"


@dataclass(frozen=True, slots=True)
class Target:
    """``contender`` must cost at most ``limit`` times ``baseline`` on ``metric``.

    ``metric`` is a workload (median time per operation) or ``"memory"`` (bytes per entry).
    """

    metric: str
    contender: str
    limit: float
    baseline: str = BASELINE

    @property
    def label(self) -> str:
        """A one-line statement of the target."""
        return f"{self.metric}: {self.contender} ≤ {self.limit:g}× {self.baseline}"


def _issue_targets() -> tuple[Target, ...]:
    backends = ("chaining", "robinhood", "compact")
    targets = [
        Target(lookup, name, 5.0 if name == "compact" else 4.0)
        for lookup in ("lookup_hit", "lookup_miss")
        for name in backends
    ]
    for workload, limit in (
        ("mix_80_20", 3.5),
        ("delete", 6.0),
        ("insert", 12.0),
        ("insert_reserved", 5.0),
    ):
        targets += [Target(workload, name, limit) for name in backends]
    targets += [
        Target(workload, "adaptive(robinhood)", 1.2, baseline="robinhood")
        for workload in (
            "insert",
            "insert_reserved",
            "lookup_hit",
            "lookup_miss",
            "delete",
            "mix_80_20",
            "iterate",
        )
    ]
    targets += [
        Target(_MEMORY, "compact", 1.0),
        Target(_MEMORY, "robinhood", 1.5),
        Target(_MEMORY, "chaining", 3.0),
    ]
    return tuple(targets)


TARGETS = _issue_targets()
"""The issue's targets, checked at N = 100,000 random ``str`` keys."""


@dataclass(frozen=True, slots=True)
class TargetResult:
    """A target with the measured ratio; ``None`` and ``"n/a"`` when it was not measured."""

    label: str
    ratio: float | None
    limit: float
    status: Literal["PASS", "MISS", "n/a"]


@dataclass(frozen=True, slots=True)
class BenchmarkRun:
    """Everything one run measured."""

    metadata: dict[str, Any]
    measurements: list[Measurement]
    memory: list[MemoryMeasurement]
    migration_pause: MigrationPause | None

    def targets(self) -> list[TargetResult]:
        """The issue's targets checked against this run."""
        return check_targets(self, TARGETS)


def check_targets(run: BenchmarkRun, targets: Iterable[Target]) -> list[TargetResult]:
    """Compare each target's ratio at N = 100,000 ``str`` keys with its limit."""
    costs: dict[tuple[str, str], float] = {
        (m.workload, m.contender): m.median_ns
        for m in run.measurements
        if m.key_type == TARGET_KEY_TYPE and m.n == TARGET_N
    }
    costs.update(
        ((_MEMORY, m.contender), m.bytes_per_entry)
        for m in run.memory
        if m.key_type == TARGET_KEY_TYPE and m.n == TARGET_N
    )
    results = []
    for target in targets:
        cost = costs.get((target.metric, target.contender))
        base = costs.get((target.metric, target.baseline))
        if cost is None or base is None:
            results.append(TargetResult(target.label, None, target.limit, "n/a"))
            continue
        ratio = cost / base
        status: Literal["PASS", "MISS"] = "PASS" if ratio <= target.limit else "MISS"
        results.append(TargetResult(target.label, ratio, target.limit, status))
    return results


def _cpu_model() -> str | None:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        name, _, value = line.partition(":")
        if name.strip() == "model name":
            return value.strip()
    return None


def machine_metadata(seed: int, repeats: dict[int, int], argv: Sequence[str]) -> dict[str, Any]:
    """Where and how the run happened: interpreter, platform, CPU, adhash version, settings."""
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "python_build": sys.version,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": _cpu_model(),
        "adhash": __version__,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": seed,
        "repeats": {str(n): count for n, count in repeats.items()},
        "argv": list(argv),
    }


# -- rendering -----------------------------------------------------------------------------


def _rate(ops_per_s: float) -> str:
    if ops_per_s >= 1e6:
        return f"{ops_per_s / 1e6:.2f} M/s"
    return f"{ops_per_s / 1e3:.0f} k/s"


def _times(ratio: float | None) -> str:
    return "n/a" if ratio is None else f"{ratio:.2f}×"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|---" + "|---:" * (len(header) - 1) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _speed_tables(measurements: list[Measurement], contenders: list[str]) -> list[str]:
    lines: list[str] = []
    groups = sorted({(m.key_type, m.n) for m in measurements}, key=lambda g: (g[1], g[0] != "str"))
    for key_type, n in groups:
        cells = {
            (m.workload, m.contender): m
            for m in measurements
            if m.key_type == key_type and m.n == n
        }
        workloads = list(dict.fromkeys(m.workload for m in measurements))
        rows = []
        for workload in workloads:
            row = [workload]
            for name in contenders:
                cell = cells.get((workload, name))
                if cell is None:
                    row.append("n/a")
                elif name == BASELINE:
                    row.append(_rate(cell.ops_per_s))
                else:
                    row.append(f"{_rate(cell.ops_per_s)} ({_times(cell.ratio_to_dict)})")
            rows.append(row)
        lines += [f"### `{key_type}` keys, N = {n:,}", ""]
        lines += _table(["workload", *contenders], rows)
        lines.append("")
    return lines


def _memory_table(memory: list[MemoryMeasurement], contenders: list[str]) -> list[str]:
    cells = {(m.key_type, m.n, m.contender): m for m in memory}
    groups = sorted({(m.key_type, m.n) for m in memory}, key=lambda g: (g[1], g[0] != "str"))
    rows = []
    for key_type, n in groups:
        row = [f"`{key_type}`, {n:,}"]
        for name in contenders:
            cell = cells.get((key_type, n, name))
            if cell is None:
                row.append("n/a")
            elif name == BASELINE:
                row.append(f"{cell.bytes_per_entry:.1f}")
            else:
                row.append(f"{cell.bytes_per_entry:.1f} ({_times(cell.ratio_to_dict)})")
        rows.append(row)
    return _table(["keys, N", *contenders], rows)


def _pause_table(pause: MigrationPause) -> list[str]:
    def row(label: str, times: OpTimes) -> list[str]:
        return [
            label,
            f"{times.ops:,}",
            f"{times.median_ns / 1e3:.2f}",
            f"{times.p99_ns / 1e3:.2f}",
            f"{times.max_ns / 1e3:.1f}",
        ]

    lines = [
        f"AdaptiveMap with {pause.n:,} `str` keys on chaining, forced to migrate to Robin Hood "
        f"(`migrate_to`); 80% `m[k]` and 20% `m[k] = v` on present keys, each operation timed "
        f"alone, pooled over {pause.trials} trial(s). `migration_batch` = {pause.migration_batch}; "
        f"measured {pause.moved_per_op:.1f} entries moved per operation, "
        f"{pause.ops_to_finish:,} operations to finish; the `migrate_to` call itself took "
        f"{pause.start_ns / 1e6:.2f} ms and all the operations during the migration together "
        f"{pause.migration_ns / 1e6:.1f} ms (medians): the pause one operation would take if "
        "the migration were done at once.",
        "",
    ]
    return lines + _table(
        ["phase", "ops", "median µs", "p99 µs", "max µs"],
        [
            row("before (chaining)", pause.before),
            row("during migration", pause.during),
            row("after (robinhood)", pause.after),
        ],
    )


def render_markdown(run: BenchmarkRun) -> str:
    """The run as Markdown: speed tables, bytes per entry, targets and the migration pause."""
    meta = run.metadata
    contenders = list(dict.fromkeys(m.contender for m in run.measurements))
    contenders += [m.contender for m in run.memory if m.contender not in contenders]
    repeats = ", ".join(f"{int(n):,}: {count}" for n, count in meta["repeats"].items())
    lines = [
        "# adhash benchmarks",
        "",
        f"{meta['implementation']} {meta['python']} on {meta['platform']}, "
        f"CPU {meta['cpu'] or 'unknown'}; adhash {meta['adhash']}; {meta['date']}; "
        f"seed {meta['seed']}; repeats by N: {repeats}.",
        "",
        "## Operations per second",
        "",
        "Median of the repeats (after a warm-up), and in brackets the median time per operation "
        "as a multiple of `dict`'s in the same run (lower is better).",
        "",
        *_speed_tables(run.measurements, contenders),
        "## Bytes per entry",
        "",
        "Allocated by the map itself (keys and values excluded), after growing by inserts.",
        "",
        *_memory_table(run.memory, contenders),
        "",
        f"## Targets (`{TARGET_KEY_TYPE}` keys, N = {TARGET_N:,})",
        "",
        *_table(
            ["target", "measured", "result"],
            [[t.label, _times(t.ratio), t.status] for t in run.targets()],
        ),
        "",
    ]
    if run.migration_pause is not None:
        lines += ["## Migration pause", "", *_pause_table(run.migration_pause), ""]
    return "\n".join(lines)


def write_reports(run: BenchmarkRun, json_path: Path) -> str:
    """Write the JSON to ``json_path`` and the Markdown beside it; return the Markdown."""
    json_path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "metadata": run.metadata,
        "measurements": [asdict(m) for m in run.measurements],
        "memory": [asdict(m) for m in run.memory],
        "migration_pause": None if run.migration_pause is None else asdict(run.migration_pause),
        "targets": [asdict(t) for t in run.targets()],
    }
    json_path.write_text(json.dumps(document, indent=2) + "\n")
    markdown = render_markdown(run)
    json_path.with_suffix(".md").write_text(markdown)
    return markdown


def write_suite_results(result: dict[str, Any], markdown: str, out: Path) -> None:
    """Write a suite's JSON to ``out`` and its Markdown beside it, and print the Markdown."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    out.with_suffix(".md").write_text(markdown, encoding="utf-8")
    print(markdown)
