"""One measured run in a process of its own: ``python -m adhash.analysis.worker``.

A/B comparisons and batch suites start every run here, in a fresh interpreter, so that one run
cannot warm caches, the allocator or the garbage collector for the next. The run's settings come
from ``--config``, ``--set`` and the environment as for ``adhash run-csv``; the summary is written
atomically to ``--summary-out`` and the ticks to ``--metrics-out``. A failure prints the error
envelope as one JSON line on stderr and exits with its code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from adhash.errors import AdhashError

if TYPE_CHECKING:
    from adhash.config import Settings

__all__ = ["main", "side_settings", "worker_command"]


def worker_command(
    python: str,
    csv: Path,
    summary_out: Path,
    *,
    metrics_out: Path | None = None,
    mode: str | None = None,
    config: Path | None = None,
    sets: Sequence[str] = (),
) -> list[str]:
    """The command line that runs one measured replay in a fresh interpreter."""
    argv = [python, "-m", "adhash.analysis.worker", "--csv", str(csv), "--summary-out"]
    argv.append(str(summary_out))
    if metrics_out is not None:
        argv += ["--metrics-out", str(metrics_out)]
    if mode is not None:
        argv += ["--mode", mode]
    if config is not None:
        argv += ["--config", str(config)]
    for text in sets:
        argv += ["--set", text]
    return argv


def main(argv: Sequence[str] | None = None) -> int:
    """Run one replay as the arguments say; 0, or the error's exit code."""
    parser = argparse.ArgumentParser(prog="python -m adhash.analysis.worker", description=__doc__)
    parser.add_argument("--csv", type=Path, required=True)
    parser.add_argument("--summary-out", type=Path, required=True)
    parser.add_argument("--metrics-out", type=Path)
    parser.add_argument("--mode")
    parser.add_argument("--config", type=Path)
    parser.add_argument("--set", dest="sets", action="append", default=[])
    args = parser.parse_args(argv)
    try:
        _run(args)
    except AdhashError as error:
        sys.stderr.write(orjson.dumps(error.envelope()).decode() + "\n")
        return error.exit_code
    return 0


def _run(args: argparse.Namespace) -> None:
    from adhash.atomic import atomic_write_bytes
    from adhash.metrics.records import dump
    from adhash.metrics.sinks import NDJSONSink
    from adhash.replay import replay

    settings = side_settings(args.mode, args.config, args.sets)
    options = settings.replay_options()
    if args.metrics_out is None:
        summary, _ = replay(args.csv, options)
    else:
        try:
            with NDJSONSink(args.metrics_out) as sink:
                summary, _ = replay(
                    args.csv, options, sinks=[sink], metrics_file=str(args.metrics_out)
                )
        except BaseException:
            args.metrics_out.unlink(missing_ok=True)  # no half stream of a failed run
            raise
    atomic_write_bytes(args.summary_out, dump(summary, pretty=True))


def side_settings(mode: str | None, config: Path | None, sets: Sequence[str]) -> Settings:
    """The settings a run with this mode, configuration file and ``--set`` list uses."""
    from adhash.config import resolve
    from adhash.config.layers import Source, parse_assignment

    flags: dict[str, tuple[object, str]] = {}
    for text in sets:
        key, value = parse_assignment(text, Source("flag", "--set"))
        flags[key] = (value, f"--set {key}")
    if mode is not None:
        flags["replay.mode"] = (mode, "--mode")
    return resolve(config, flags=flags).settings


if __name__ == "__main__":
    sys.exit(main())
