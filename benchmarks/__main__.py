"""Command line: ``python -m benchmarks [--sizes 10000,100000] [--quick] ...``.

Runs every selected workload for both key types at each size, measures bytes per entry and the
migration pause, writes JSON and Markdown beside each other, and prints the Markdown.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.cli import choose, parse_sizes
from benchmarks.maps import (
    BASELINE,
    CONTENDERS,
    WORKLOADS,
    KeyType,
    Measurement,
    MemoryMeasurement,
    make_keyset,
    measure_memory,
    run_workload,
)
from benchmarks.migration import measure_migration_pause
from benchmarks.report import BenchmarkRun, machine_metadata, write_reports

DEFAULT_SIZES = (10**4, 10**5, 10**6)
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "latest.json"
KEY_TYPES: tuple[KeyType, ...] = ("str", "int")
QUICK_SIZE = 10**4
QUICK_REPEATS = 2
PAUSE_SIZE = 10**5
PAUSE_TRIALS = 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmark the adhash map backends against dict.",
    )
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=list(DEFAULT_SIZES),
        help="comma-separated map sizes N (default: 10000,100000,1000000)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        help="timed repeats after the warm-up (default: 5, and 3 for N >= 1,000,000)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke test: N = {QUICK_SIZE:,} only, {QUICK_REPEATS} repeats, a small pause run",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="JSON output path; the Markdown goes beside it with a .md suffix "
        "(default: benchmarks/results/latest.json)",
    )
    parser.add_argument(
        "--workloads",
        help=f"comma-separated workloads (default: all of {', '.join(w.name for w in WORKLOADS)})",
    )
    parser.add_argument(
        "--contenders",
        help="comma-separated contenders; dict, the baseline, always runs "
        f"(default: all of {', '.join(c.name for c in CONTENDERS)})",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed for keys and operations")
    return parser


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    sizes: list[int] = [QUICK_SIZE] if args.quick else args.sizes
    workloads = WORKLOADS
    if args.workloads:
        chosen = choose(parser, args.workloads, [w.name for w in WORKLOADS], "workloads")
        workloads = tuple(w for w in WORKLOADS if w.name in chosen)
    contenders = CONTENDERS
    if args.contenders:
        chosen = choose(parser, args.contenders, [c.name for c in CONTENDERS], "contenders")
        contenders = tuple(c for c in CONTENDERS if c.name in chosen or c.name == BASELINE)
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be at least 1")

    repeats = {
        n: args.repeats or (QUICK_REPEATS if args.quick else 3 if n >= 10**6 else 5) for n in sizes
    }
    measurements: list[Measurement] = []
    memory: list[MemoryMeasurement] = []
    started = time.monotonic()
    for n in sizes:
        for key_type in KEY_TYPES:
            keyset = make_keyset(key_type, n, args.seed)
            for workload in workloads:
                _progress(
                    f"[{time.monotonic() - started:6.0f}s] {key_type} N={n:,} {workload.name}"
                )
                measurements += run_workload(workload, contenders, keyset, repeats[n])
            memory += measure_memory(contenders, keyset)
    pause_size = QUICK_SIZE if args.quick else PAUSE_SIZE
    _progress(f"[{time.monotonic() - started:6.0f}s] migration pause N={pause_size:,}")
    pause = measure_migration_pause(
        make_keyset("str", pause_size, args.seed), 1 if args.quick else PAUSE_TRIALS
    )
    run = BenchmarkRun(
        metadata=machine_metadata(args.seed, repeats, sys.argv if argv is None else argv),
        measurements=measurements,
        memory=memory,
        migration_pause=pause,
    )
    print(write_reports(run, args.out))
    _progress(f"[{time.monotonic() - started:6.0f}s] wrote {args.out} and its .md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
