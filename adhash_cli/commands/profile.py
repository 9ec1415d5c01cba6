"""``adhash profile``: recommend a backend for a workload, with the evidence."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer

from adhash_cli.commands.run_csv import warn_about_hash_seed
from adhash_cli.output import emit, is_json
from adhash_cli.settings import ConfigOption, SetOption, resolve_settings

__all__ = ["profile"]


def profile(
    ctx: typer.Context,
    csv: Annotated[Path, typer.Option("--csv", help="The workload CSV to profile.")],
    sample_rows: Annotated[
        int, typer.Option(min=1, help="Rows from the start of the workload to replay.")
    ] = 20_000,
    repeats: Annotated[
        int, typer.Option(min=1, help="Replays per backend (interleaved); the median decides.")
    ] = 5,
    then: Annotated[
        str | None,
        typer.Option(
            "--then",
            help="Another adhash command line to run with --mode <recommended> added, quoted, "
            "e.g. --then 'run-csv --csv w.csv --json-summary-out s.json'. It gets this "
            "command's --config and --set too.",
        ),
    ] = None,
    config: ConfigOption = None,
    sets: SetOption = None,
) -> None:
    """Replay a sample on every backend and recommend the fastest (adaptive included)."""
    from adhash.errors import BadInputError
    from adhash.profiling import profile_workload

    settings = resolve_settings(config, sets).settings
    warn_about_hash_seed(csv)
    report = profile_workload(
        csv,
        sample_rows=sample_rows,
        repeats=repeats,
        limits=settings.workload_limits(),
        policy=settings.policy(),
        hash_seed=settings.maps.hash_seed,
    )
    lines = [
        f"profile of {csv}: {report.sample_rows:,} rows × {report.repeats} repeats per backend",
        f"{'mode':<10} {'median ops/s':>14} {'min':>12} {'max':>12} {'× dict time':>12}",
    ]
    for timing in report.timings:
        ratio = f"{timing.ratio_to_dict:.2f}" if timing.ratio_to_dict is not None else "-"
        lines.append(
            f"{timing.mode:<10} {timing.median_ops_per_second:>14,.0f} "
            f"{timing.min_ops_per_second:>12,.0f} {timing.max_ops_per_second:>12,.0f} {ratio:>12}"
        )
    lines.append(f"recommended mode: {report.recommended_mode}")
    data = report.as_dict()
    data["result"] = report.recommended_mode
    if then is None:
        emit(ctx, "profile", data, "\n".join(lines))
        return
    try:
        words = shlex.split(then)
    except ValueError as exc:
        raise BadInputError(f"--then: {exc}", hint="quote the command line once") from None
    if not words:
        raise BadInputError(
            "--then needs a command to run", hint="e.g. --then 'run-csv --csv w.csv'"
        )
    typer.echo("\n".join(lines), err=True)
    from adhash_cli.app import create_app

    argv = ["--json"] if is_json(ctx) else []
    argv += [*words, "--mode", report.recommended_mode]
    if config is not None:
        argv += ["--config", str(config)]
    for text in sets or []:
        argv += ["--set", text]
    create_app()(argv, standalone_mode=False, prog_name="adhash")
