"""``adhash ab-compare``: a baseline against a candidate on one workload, with statistics."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from adhash_cli.output import emit, is_json

__all__ = ["ab_compare"]


def ab_compare(
    ctx: typer.Context,
    csv: Annotated[Path, typer.Option("--csv", help="The workload CSV both sides replay.")],
    baseline_mode: Annotated[
        str | None,
        typer.Option(help="Baseline backend (adaptive, chaining, robinhood, compact, dict)."),
    ] = None,
    baseline_config: Annotated[
        Path | None, typer.Option(help="Baseline configuration file (TOML).")
    ] = None,
    baseline_set: Annotated[
        list[str] | None,
        typer.Option(
            metavar="KEY=VALUE",
            help="A baseline setting, e.g. adaptive.migration_batch=128; repeatable.",
        ),
    ] = None,
    baseline_label: Annotated[
        str, typer.Option(help="Name of the baseline in reports.")
    ] = "baseline",
    candidate_mode: Annotated[
        str | None, typer.Option(help="Candidate backend (as --baseline-mode).")
    ] = None,
    candidate_config: Annotated[
        Path | None, typer.Option(help="Candidate configuration file (TOML).")
    ] = None,
    candidate_set: Annotated[
        list[str] | None,
        typer.Option(metavar="KEY=VALUE", help="A candidate setting; repeatable."),
    ] = None,
    candidate_label: Annotated[
        str, typer.Option(help="Name of the candidate in reports.")
    ] = "candidate",
    repeats: Annotated[
        int,
        typer.Option(min=2, max=1000, help="Runs per side, interleaved, each in a fresh process."),
    ] = 5,
    out_dir: Annotated[
        Path, typer.Option(help="Folder for the reports and every run's summary and metrics.")
    ] = Path("ab-results"),
    alpha: Annotated[
        float,
        typer.Option(min=0.0001, max=0.5, help="Significance level of the Mann-Whitney U test."),
    ] = 0.05,
    confidence: Annotated[
        float,
        typer.Option(min=0.5, max=0.999, help="Level of the bootstrap confidence intervals."),
    ] = 0.95,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap resampling.")] = 0,
    fail_if_slower: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            metavar="PCT",
            help="Exit 3 when the candidate's throughput is significantly worse by more than "
            "PCT percent (a CI gate). Default: never fail.",
        ),
    ] = None,
    timeout: Annotated[
        float | None, typer.Option(min=1.0, help="Seconds one run may take (default: no limit).")
    ] = None,
) -> None:
    """Compare a baseline and a candidate (modes and/or configs) with repeats and significance.

    Runs alternate A B, B A, ... each in a fresh process; reports medians, the change with a
    bootstrap confidence interval, a Mann-Whitney U p-value, Cliff's delta and a verdict for
    throughput and each latency percentile. Writes JSON (adhash.compare.v1), Markdown and HTML.
    """
    from adhash.analysis.compare import Side, default_stem, run_ab, write_reports
    from adhash.errors import BadInputError, InvariantError

    baseline = Side(baseline_label, baseline_mode, baseline_config, tuple(baseline_set or ()))
    candidate = Side(candidate_label, candidate_mode, candidate_config, tuple(candidate_set or ()))
    if (
        baseline.mode == candidate.mode
        and baseline.config == candidate.config
        and baseline.sets == candidate.sets
    ):
        raise BadInputError(
            "the baseline and the candidate are the same",
            hint="give them different --*-mode, --*-config or --*-set",
        )
    quiet = is_json(ctx)

    def announce(side: str, round_index: int, position: int) -> None:
        if not quiet:
            typer.echo(
                f"run {position + 1}/{2 * repeats}: {side} (round {round_index + 1})", err=True
            )

    result = run_ab(
        csv,
        baseline,
        candidate,
        out_dir=out_dir,
        repeats=repeats,
        alpha=alpha,
        confidence=confidence,
        seed=seed,
        timeout=timeout,
        on_run=announce,
    )
    paths = write_reports(result, default_stem(csv, baseline, candidate))
    from adhash.analysis.compare import render_markdown

    data = {
        **result.as_dict(),
        "reports": {name: str(path) for name, path in paths.items()},
    }
    text = (
        render_markdown(result)
        + "\n"
        + "\n".join(f"{name}: {path}" for name, path in paths.items())
    )
    throughput = result.throughput
    if (
        fail_if_slower is not None
        and throughput.verdict == "worse"
        and throughput.regression_pct > fail_if_slower
    ):
        if not quiet:
            typer.echo(text)
        raise InvariantError(
            f"{candidate_label} is {throughput.regression_pct:.1f} % slower than "
            f"{baseline_label} (p = {throughput.p_value:.4f}), over the --fail-if-slower limit "
            f"of {fail_if_slower} %",
            hint=f"reports: {paths['markdown']}",
        )
    emit(ctx, "ab-compare", data, text)
