"""``adhash batch``: run a suite of jobs from a TOML spec in parallel, with reports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from adhash_cli.output import emit, is_json

__all__ = ["batch"]


def batch(
    ctx: typer.Context,
    spec: Annotated[
        Path | None, typer.Option("--spec", help="The suite spec (TOML); see docs/batch.md.")
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", min=1, help="Runs at once on this machine (default: CPU count)."),
    ] = None,
    cluster: Annotated[
        str | None,
        typer.Option(
            "--cluster",
            metavar="ADDRESS",
            help="Submit the runs to this Dask scheduler (needs the 'cluster' extra) instead.",
        ),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(help="Folder for the reports and artifacts (default: the suite's out_dir)."),
    ] = None,
    list_examples: Annotated[
        bool, typer.Option("--list", help="List the example suites shipped in docs/examples.")
    ] = False,
) -> None:
    """Run every job of a suite (each repeat in a fresh process) and write Markdown/HTML reports.

    A failing run is reported and the others go on (exit 3 when any failed); Ctrl-C stops the
    runs and still writes a partial report (exit 130).
    """
    from adhash.batch.__main__ import EXAMPLES
    from adhash.batch.report import result_document, write_reports
    from adhash.batch.runner import RunOutcome, run_batch
    from adhash.errors import BadInputError, InvariantError

    if list_examples:
        examples = sorted(str(path) for path in EXAMPLES.glob("*.toml"))
        emit(ctx, "batch", {"examples": examples}, "\n".join(examples))
        return
    if spec is None:
        raise BadInputError("--spec is required", hint="e.g. adhash batch --spec suite.toml")
    quiet = is_json(ctx)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    console = Console(stderr=True)
    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=quiet or not console.is_terminal,
    )
    task = bar.add_task("runs", total=None)

    def announce(outcome: RunOutcome, done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)
        if quiet:
            return
        status = "ok" if outcome.ok else f"FAILED: {outcome.error}"
        bar.console.print(
            f"[{done}/{total}] {outcome.job} #{outcome.repeat + 1}: {status}",
            markup=False,
            highlight=False,
        )

    with bar:
        result = run_batch(spec, jobs=jobs, cluster=cluster, out_dir=out_dir, on_run=announce)
    paths = write_reports(result)
    document = result_document(result)
    data = {**document, "reports": {name: str(path) for name, path in paths.items()}}
    text = (
        f"{document['runs_completed']} of {document['runs_total']} runs completed, "
        f"{document['runs_failed']} failed\n"
        + "\n".join(f"{name}: {path}" for name, path in paths.items())
    )
    if result.partial:
        typer.echo(text, err=True)
        raise KeyboardInterrupt
    if result.failed:
        if not quiet:
            typer.echo(text)
        raise InvariantError(
            f"{len(result.failed)} of {document['runs_total']} runs failed",
            hint=f"see {paths['markdown']}",
        )
    emit(ctx, "batch", data, text)
