"""``adhash verify-snapshot``: check every checksum and record of a snapshot; optionally repair it.

A file that fails verification is an ``Invariant`` error (exit 3) like any other: nothing on
stdout, the standard envelope on stderr, with the full report added under ``report`` so that a
script learns every problem, not only the first.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from adhash.errors import InvariantError
from adhash_cli.output import emit, is_json
from adhash_cli.settings import ConfigOption, SetOption, resolve_settings

if TYPE_CHECKING:
    from adhash.snapshot import RepairReport, VerifyReport

__all__ = ["SnapshotVerificationError", "verify_snapshot"]


class SnapshotVerificationError(InvariantError):
    """A snapshot failed verification; its envelope carries the whole report."""

    def __init__(self, report: VerifyReport, *, hint: str | None) -> None:
        first = report.problems[0] if report.problems else "unknown problem"
        super().__init__(f"snapshot verification failed: {first}", hint=hint)
        self.report = report

    def envelope(self) -> dict[str, Any]:
        """The standard envelope plus ``report``, the verification report."""
        return {**super().envelope(), "report": self.report.as_dict()}


def verify_snapshot(
    ctx: typer.Context,
    source: Annotated[Path, typer.Option("--in", help="The snapshot file to verify.")],
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Also print what was checked, chunk by chunk.")
    ] = False,
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="Write the entries of every intact chunk to --out, then verify that file.",
        ),
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Where --repair writes (never the --in file)."),
    ] = None,
    config: ConfigOption = None,
    sets: SetOption = None,
) -> None:
    """Verify a snapshot: checksums, records, entry count, duplicate keys, map invariants.

    Exit 3 when it fails. With --repair --out G, salvage the intact chunks into G, report what
    was lost, and exit 0 when G verifies.
    """
    from adhash.errors import AdhashError, BadInputError, IOFailureError
    from adhash.snapshot import inspect, verify
    from adhash.snapshot import repair as repair_snapshot

    if repair != (out is not None):
        raise BadInputError(
            "--repair and --out go together", hint="e.g. --repair --out repaired.adh"
        )
    if out is not None and _same_file(source, out):
        raise BadInputError(
            "--out must differ from --in: repair never overwrites the file it reads",
            hint="write to a new file, check it, then replace the original yourself",
        )
    limits = resolve_settings(config, sets).settings.snapshot_limits()
    # A file that cannot be opened is an IO error (exit 5), not a failed verification.
    try:
        inspect(source, limit=0, limits=limits)
    except IOFailureError:
        raise
    except AdhashError:
        pass  # anything else about the file is a problem verify() reports
    report = verify(source, limits=limits)
    repair_hint = (
        f"`adhash verify-snapshot --in {source} --repair --out REPAIRED` salvages the intact chunks"
    )
    if out is None:
        if not report.ok:
            _print_failure(ctx, report, verbose)
            raise SnapshotVerificationError(report, hint=repair_hint)
        data = {"verified": True, "report": report.as_dict(), "repair": None, "repaired": None}
        emit(ctx, "verify-snapshot", data, "\n".join(_report_lines(report, verbose)))
        return
    salvage = repair_snapshot(source, out, limits=limits)
    repaired = verify(out, limits=limits)
    if not repaired.ok:
        _print_failure(ctx, repaired, verbose)
        raise SnapshotVerificationError(repaired, hint="the repaired file failed: please report")
    data = {
        "verified": report.ok,
        "report": report.as_dict(),
        "repair": salvage.as_dict(),
        "repaired": repaired.as_dict(),
    }
    lines = [
        *_report_lines(report, verbose),
        *_repair_lines(salvage),
        *_report_lines(repaired, verbose),
    ]
    emit(ctx, "verify-snapshot", data, "\n".join(lines))


def _same_file(first: Path, second: Path) -> bool:
    try:
        return first.samefile(second)
    except OSError:
        return first.resolve() == second.resolve()


def _report_lines(report: VerifyReport, verbose: bool) -> list[str]:
    if report.ok:
        lines = [
            f"OK: snapshot verified: {report.path} ({report.backend}, entries "
            f"{report.entries:,}, chunks {report.chunks:,})"
        ]
    else:
        count = len(report.problems)
        lines = [f"FAIL: {report.path}: {count} problem{'s' if count != 1 else ''}"]
        lines += [f"  - {problem}" for problem in report.problems]
    if verbose:
        lines += [f"  {detail}" for detail in report.details]
    return lines


def _repair_lines(salvage: RepairReport) -> list[str]:
    lines = [
        f"repaired: {salvage.source} -> {salvage.out}",
        f"recovered {salvage.recovered_entries:,} entries, lost {salvage.lost_entries:,}, "
        f"dropped {salvage.duplicates_dropped:,} duplicate keys",
    ]
    if salvage.lost_chunks:
        lines += [
            f"  lost chunk {chunk.index}"
            + (f" ({chunk.entries:,} entries)" if chunk.entries >= 0 else "")
            + f": {chunk.reason}"
            for chunk in salvage.lost_chunks
        ]
    else:
        lines.append("no chunk lost")
    return lines


def _print_failure(ctx: typer.Context, report: VerifyReport, verbose: bool) -> None:
    """The readable report of a failure, on stderr (stdout stays empty on failure)."""
    if not is_json(ctx):
        typer.echo("\n".join(_report_lines(report, verbose)), err=True)
