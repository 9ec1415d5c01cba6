"""``python -m adhash.batch --spec suite.toml [--jobs N] [--cluster ADDRESS] [--list]``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import orjson

from adhash.errors import AdhashError

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def main(argv: Sequence[str] | None = None) -> int:
    """Run a suite and write its reports; 0, 3 when runs failed, or the error's exit code."""
    parser = argparse.ArgumentParser(prog="python -m adhash.batch", description=__doc__)
    parser.add_argument("--spec", type=Path)
    parser.add_argument("--jobs", type=int)
    parser.add_argument("--cluster")
    parser.add_argument("--out-dir", type=Path)
    parser.add_argument("--list", action="store_true", help="list the example suites")
    args = parser.parse_args(argv)
    if args.list:
        for path in sorted(EXAMPLES.glob("*.toml")):
            print(path)
        return 0
    if args.spec is None:
        parser.error("--spec is required (or --list)")
    from adhash.batch.report import write_reports
    from adhash.batch.runner import run_batch

    try:
        result = run_batch(
            args.spec,
            jobs=args.jobs,
            cluster=args.cluster,
            out_dir=args.out_dir,
            on_run=lambda o, done, total: print(
                f"[{done}/{total}] {o.job} #{o.repeat + 1}: "
                + ("ok" if o.ok else f"FAILED: {o.error}"),
                file=sys.stderr,
            ),
        )
        paths = write_reports(result)
    except AdhashError as error:
        sys.stderr.write(orjson.dumps(error.envelope()).decode() + "\n")
        return error.exit_code
    print("\n".join(f"{name}: {path}" for name, path in paths.items()))
    if result.partial:
        return 130
    return 3 if result.failed else 0


if __name__ == "__main__":
    sys.exit(main())
