"""Snapshot benchmark: ``adhash.snapshot.save`` and ``load`` of a 10⁶-entry map, next to pickle.

Every backend and ``dict`` hold the same entries (keys: 12 random ASCII letters; values: 6
digits). In the same run, ``pickle.dumps`` / ``pickle.loads`` (protocol 5) of a ``dict`` with
those entries, and ``gzip`` of that pickle, give the yardstick the targets are stated against.
Run with ``python -m benchmarks.snapshot``.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import pickle
import random
import statistics
import string
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from adhash import AdaptiveMap, ChainingMap, CompactMap, RobinHoodMap
from adhash.snapshot import load, save
from benchmarks.report import machine_metadata, write_suite_results

RESULTS = Path(__file__).resolve().parent / "results"
CONTENDERS: dict[str, Callable[[dict[str, str]], Any]] = {
    "robinhood": RobinHoodMap,
    "adaptive": AdaptiveMap,
    "compact": CompactMap,
    "chaining": ChainingMap,
    "dict": dict,
}
TARGET_LOAD_SHARE = 1 / 3
TARGET_SIZE_RATIO = 1.2
KEY_LETTERS = 12
VALUE_DIGITS = 6


def make_entries(n: int, seed: int) -> dict[str, str]:
    """``n`` distinct random 12-letter keys, each with a random 6-digit value."""
    rng = random.Random(seed)
    entries: dict[str, str] = {}
    letters = string.ascii_letters
    while len(entries) < n:
        key = "".join(rng.choices(letters, k=KEY_LETTERS))
        entries[key] = f"{rng.randrange(10**VALUE_DIGITS):0{VALUE_DIGITS}d}"
    return entries


def _build(name: str, entries: dict[str, str]) -> Any:
    m = CONTENDERS[name](entries)
    if isinstance(m, AdaptiveMap) and m.is_migrating:
        m.finish_migration()
    return m


def _load_gzip_pickle(packed: bytes) -> Any:
    return pickle.loads(gzip.decompress(packed))


def _timed(action: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds one call of ``action`` takes (collector run before, off during), and its result."""
    gc.collect()
    gc.disable()
    try:
        started = time.perf_counter()
        result = action()
        return time.perf_counter() - started, result
    finally:
        gc.enable()


def _row(name: str, n: int, size: int, save_s: list[float], load_s: list[float]) -> dict[str, Any]:
    save_median, load_median = statistics.median(save_s), statistics.median(load_s)
    return {
        "contender": name,
        "file_bytes": size,
        "bytes_per_entry": size / n,
        "save_seconds": save_median,
        "load_seconds": load_median,
        "save_entries_per_second": n / save_median,
        "load_entries_per_second": n / load_median,
        "save_mb_per_second": size / save_median / 1e6,
        "load_mb_per_second": size / load_median / 1e6,
        "save_spread": [min(save_s), max(save_s)],
        "load_spread": [min(load_s), max(load_s)],
    }


def run(n: int, repeats: int, seed: int, workdir: Path) -> dict[str, Any]:
    """Build every contender once, then time save, load and pickle, interleaved per repeat."""
    entries = make_entries(n, seed)
    print(f"building {len(CONTENDERS)} maps of {n:,} entries", file=sys.stderr)
    maps = {name: _build(name, entries) for name in CONTENDERS}
    save_times: dict[str, list[float]] = {name: [] for name in CONTENDERS}
    load_times: dict[str, list[float]] = {name: [] for name in CONTENDERS}
    sizes: dict[str, int] = {}
    pickle_times: dict[str, list[float]] = {"dumps": [], "loads": [], "gzip": [], "gunzip": []}
    pickled = packed = b""
    for repeat in range(repeats):
        print(f"repeat {repeat + 1}/{repeats}", file=sys.stderr)
        for name, m in maps.items():
            path = workdir / f"snapshot-{name}.adh"
            seconds, sizes[name] = _timed(partial(save, m, path, key=None))
            save_times[name].append(seconds)
            seconds, loaded = _timed(partial(load, path, key=None))
            load_times[name].append(seconds)
            if len(loaded) != n or type(loaded) is not type(m):
                raise AssertionError(f"{name}: the loaded map differs from the saved one")
            del loaded
        seconds, pickled = _timed(partial(pickle.dumps, entries, protocol=5))
        pickle_times["dumps"].append(seconds)
        seconds, unpickled = _timed(partial(pickle.loads, pickled))
        pickle_times["loads"].append(seconds)
        if unpickled != entries:
            raise AssertionError("pickle round trip differs")
        del unpickled
        seconds, packed = _timed(partial(gzip.compress, pickled))
        pickle_times["gzip"].append(seconds)
        seconds, _ = _timed(partial(_load_gzip_pickle, packed))
        pickle_times["gunzip"].append(seconds)
    for name in CONTENDERS:
        (workdir / f"snapshot-{name}.adh").unlink(missing_ok=True)
    pickle_row = _row(
        "pickle (dict)", n, len(pickled), pickle_times["dumps"], pickle_times["loads"]
    )
    gzip_row = _row(
        "pickle + gzip (dict)",
        n,
        len(packed),
        [d + g for d, g in zip(pickle_times["dumps"], pickle_times["gzip"], strict=True)],
        pickle_times["gunzip"],
    )
    rows = [_row(name, n, sizes[name], save_times[name], load_times[name]) for name in CONTENDERS]
    return {
        "schema": "adhash.bench.snapshot.v1",
        "metadata": machine_metadata(seed, {n: repeats}, sys.argv),
        "entries": n,
        "keys": f"str, {KEY_LETTERS} random ASCII letters",
        "values": f"str, {VALUE_DIGITS} random digits",
        "rows": rows,
        "pickle": pickle_row,
        "pickle_gzip": gzip_row,
    }


def render_markdown(result: dict[str, Any]) -> str:
    """The result as a Markdown table with the targets checked."""
    n = result["entries"]
    pickle_row, gzip_row = result["pickle"], result["pickle_gzip"]
    lines = [
        "# Snapshots",
        "",
        f"`adhash.snapshot.save` / `load` of {n:,} entries ({result['keys']} keys, "
        f"{result['values']} values), median of {result['metadata']['repeats'][str(n)]} "
        "repeats, unkeyed, zstd level 3; pickle protocol 5 of a `dict` with the same entries, "
        "and gzip (level 9) of that pickle, in the same run. MB/s is file bytes (10⁶) per "
        "second.",
        "",
        "| format | file MB | bytes/entry | save s | save MB/s | load s | load MB/s "
        "| load entries/s | load vs pickle | size vs gzip pickle |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in [*result["rows"], pickle_row, gzip_row]:
        lines.append(
            f"| {row['contender']} | {row['file_bytes'] / 1e6:.1f} | "
            f"{row['bytes_per_entry']:.1f} | {row['save_seconds']:.2f} | "
            f"{row['save_mb_per_second']:.1f} | {row['load_seconds']:.2f} | "
            f"{row['load_mb_per_second']:.1f} | {row['load_entries_per_second']:,.0f} | "
            f"{row['load_entries_per_second'] / pickle_row['load_entries_per_second']:.2f}× | "
            f"{row['file_bytes'] / gzip_row['file_bytes']:.2f}× |"
        )
    slowest = min(result["rows"], key=lambda row: row["load_entries_per_second"])
    largest = max(result["rows"], key=lambda row: row["file_bytes"])
    load_share = slowest["load_entries_per_second"] / pickle_row["load_entries_per_second"]
    size_ratio = largest["file_bytes"] / gzip_row["file_bytes"]
    lines += [
        "",
        "## Targets",
        "",
        f"- load ≥ 1/3 of `pickle.loads` speed (entries/s), every contender: "
        f"**{'PASS' if load_share >= TARGET_LOAD_SHARE else 'MISS'}** (slowest: "
        f"{slowest['contender']} at {load_share:.2f}×)",
        f"- file ≤ {TARGET_SIZE_RATIO}× the gzip-compressed pickle, every contender: "
        f"**{'PASS' if size_ratio <= TARGET_SIZE_RATIO else 'MISS'}** (largest: "
        f"{largest['contender']} at {size_ratio:.2f}×)",
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the snapshot benchmark and write its JSON and Markdown."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.snapshot", description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000, help="entries (default 10**6)")
    parser.add_argument("--repeats", type=int, default=3, help="repeats (default 3)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the keys and values")
    parser.add_argument(
        "--out", type=Path, default=RESULTS / "snapshot-latest.json", help="JSON output path"
    )
    args = parser.parse_args(argv)
    if args.entries < 1 or args.repeats < 1:
        parser.error("--entries and --repeats must be at least 1")
    workdir = RESULTS / "scratch"
    workdir.mkdir(parents=True, exist_ok=True)
    result = run(args.entries, args.repeats, args.seed, workdir)
    write_suite_results(result, render_markdown(result), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
