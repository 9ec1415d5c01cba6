"""Whole-process replay benchmark: ``adhash run-csv`` on a 10⁶-operation workload per backend.

Each backend replays the same uniform workload (80 % reads) in a fresh ``adhash run-csv``
process, with the default metrics on and with ``--no-metrics``, interleaved over the repeats. In
the same run a bare Python loop applies the same operations to a ``dict`` (rows already in
memory, nothing else), the floor no replay can beat. Run with ``python -m benchmarks.replay``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from adhash.workload.format import WorkloadReader
from adhash.workload.generate import GeneratorSpec, generate
from benchmarks.report import machine_metadata, write_suite_results

MODES = ("dict", "chaining", "robinhood", "compact", "adaptive")
RESULTS = Path(__file__).resolve().parent / "results"
TARGET_ADAPTIVE_OPS = 300_000
TARGET_METRICS_SHARE = 0.75


def _bare_dict_loop(path: Path) -> float:
    """Operations per second of a plain loop over in-memory rows against a dict."""
    ops: list[int] = []
    keys: list[Any] = []
    values: list[Any] = []
    with WorkloadReader(path) as reader:
        for batch in reader.batches():
            ops += batch.ops
            keys += batch.keys
            values += batch.values
    target: dict[Any, Any] = {}
    get = target.get
    pop = target.pop
    started = time.perf_counter()
    for op, key, value in zip(ops, keys, values, strict=True):
        if op == 1:
            get(key)
        elif op == 0:
            target[key] = value
        else:
            pop(key, None)
    return len(ops) / (time.perf_counter() - started)


def _run_csv(path: Path, mode: str, metrics: bool) -> tuple[float, float]:
    """(ops/s from the run summary, wall-clock seconds of the whole process)."""
    command = [
        sys.executable,
        "-m",
        "adhash_cli",
        "--json",
        "run-csv",
        "--csv",
        str(path),
        "--mode",
        mode,
        "--metrics" if metrics else "--no-metrics",
        "--no-progress",
    ]
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    summary = json.loads(completed.stdout)
    return float(summary["ops_per_second"]), wall


def run(ops: int, repeats: int, seed: int, workdir: Path) -> dict[str, Any]:
    """Generate the workload (once per parameters) and measure every mode."""
    workload = workdir / f"replay-uniform-{ops}-{seed}.csv"
    if not workload.exists():
        generate(
            GeneratorSpec.from_params(ops=ops, key_space=100_000, read_ratio=0.8, seed=seed),
            workload,
        )
    bare: list[float] = []
    samples: dict[tuple[str, bool], list[tuple[float, float]]] = {
        (mode, metrics): [] for mode in MODES for metrics in (True, False)
    }
    for repeat in range(repeats):
        bare.append(_bare_dict_loop(workload))
        for mode in MODES:
            for metrics in (True, False):
                print(f"repeat {repeat + 1}/{repeats}: {mode} metrics={metrics}", file=sys.stderr)
                samples[(mode, metrics)].append(_run_csv(workload, mode, metrics))
    rows = []
    for mode in MODES:
        on = [rate for rate, _wall in samples[(mode, True)]]
        off = [rate for rate, _wall in samples[(mode, False)]]
        rows.append(
            {
                "mode": mode,
                "ops_per_second_metrics_on": statistics.median(on),
                "ops_per_second_metrics_off": statistics.median(off),
                "metrics_on_share": statistics.median(on) / statistics.median(off),
                "wall_seconds_metrics_on": statistics.median(w for _r, w in samples[(mode, True)]),
                "spread_metrics_on": [min(on), max(on)],
            }
        )
    return {
        "schema": "adhash.bench.replay.v1",
        "metadata": machine_metadata(seed, {ops: repeats}, sys.argv),
        "workload": {"ops": ops, "key_space": 100_000, "read_ratio": 0.8, "seed": seed},
        "bare_dict_loop_ops_per_second": statistics.median(bare),
        "rows": rows,
    }


def render_markdown(result: dict[str, Any]) -> str:
    """The result as a Markdown table with the targets checked."""
    bare = result["bare_dict_loop_ops_per_second"]
    lines = [
        "# Whole-process replay",
        "",
        f"`adhash run-csv` on {result['workload']['ops']:,} uniform operations (80 % reads, "
        f"100,000 keys), median of the repeats. Bare `dict` loop over the same rows in memory: "
        f"**{bare:,.0f} ops/s**.",
        "",
        "| mode | ops/s, metrics on | ops/s, metrics off | on / off | × bare dict loop time |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in result["rows"]:
        lines.append(
            f"| {row['mode']} | {row['ops_per_second_metrics_on']:,.0f} | "
            f"{row['ops_per_second_metrics_off']:,.0f} | {row['metrics_on_share']:.0%} | "
            f"{bare / row['ops_per_second_metrics_on']:.2f}× |"
        )
    adaptive = next(row for row in result["rows"] if row["mode"] == "adaptive")
    fast = adaptive["ops_per_second_metrics_on"] >= TARGET_ADAPTIVE_OPS
    cheap = all(row["metrics_on_share"] >= TARGET_METRICS_SHARE for row in result["rows"])
    lines += [
        "",
        "## Targets",
        "",
        f"- adaptive ≥ {TARGET_ADAPTIVE_OPS:,} ops/s with metrics on: "
        f"**{'PASS' if fast else 'MISS'}** ({adaptive['ops_per_second_metrics_on']:,.0f})",
        f"- metrics on keeps ≥ {TARGET_METRICS_SHARE:.0%} of metrics-off throughput: "
        f"**{'PASS' if cheap else 'MISS'}** (lowest "
        f"{min(row['metrics_on_share'] for row in result['rows']):.0%})",
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the replay benchmark and write its JSON and Markdown."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.replay", description=__doc__)
    parser.add_argument("--ops", type=int, default=1_000_000, help="operations (default 10**6)")
    parser.add_argument("--repeats", type=int, default=3, help="repeats per mode (default 3)")
    parser.add_argument("--seed", type=int, default=1, help="workload seed")
    parser.add_argument(
        "--out", type=Path, default=RESULTS / "replay-latest.json", help="JSON output path"
    )
    args = parser.parse_args(argv)
    if args.ops < 1 or args.repeats < 1:
        parser.error("--ops and --repeats must be at least 1")
    workdir = RESULTS / "scratch"
    workdir.mkdir(parents=True, exist_ok=True)
    result = run(args.ops, args.repeats, args.seed, workdir)
    write_suite_results(result, render_markdown(result), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
