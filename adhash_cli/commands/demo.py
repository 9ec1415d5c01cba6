"""``adhash demo``: the main job — generate a workload, replay it on every backend, report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from adhash_cli.output import emit, is_json
from adhash_cli.settings import ConfigOption, SetOption, resolve_settings

__all__ = ["demo"]


def demo(
    ctx: typer.Context,
    out_dir: Annotated[
        Path, typer.Option(help="Folder for the workload, summaries, metrics and reports.")
    ] = Path("adhash-demo"),
    ops: Annotated[
        int, typer.Option(min=1, help="Operations in the generated workload.")
    ] = 200_000,
    key_space: Annotated[int, typer.Option(min=1, help="Distinct keys.")] = 20_000,
    read_ratio: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of operations that are gets.")
    ] = 0.8,
    seed: Annotated[
        int,
        typer.Option(
            help="Seed of the workload, and of the maps' layout unless maps.hash_seed is set."
        ),
    ] = 42,
    config: ConfigOption = None,
    sets: SetOption = None,
) -> None:
    """Generate a workload, replay it on dict and every backend, and write a comparison report."""
    from adhash.demo import run_demo
    from adhash.reporting import render_comparison_markdown

    quiet = is_json(ctx)
    settings = resolve_settings(config, sets).settings
    result = run_demo(
        out_dir,
        ops=ops,
        key_space=key_space,
        read_ratio=read_ratio,
        seed=seed,
        options=settings.replay_options(),
        on_mode=None if quiet else lambda mode: typer.echo(f"replaying on {mode} ...", err=True),
    )
    data = {
        "out_dir": str(result.out_dir),
        "workload": str(result.workload),
        "rows": result.manifest.rows,
        "report_html": str(result.report_html),
        "report_markdown": str(result.report_markdown),
        "results": [
            {
                "mode": row.mode,
                "final_backend": row.final_backend,
                "ops_per_second": row.ops_per_second,
                "slowdown_vs_dict": row.slowdown_vs_dict,
                "p50_ns": row.p50_ns,
                "p99_ns": row.p99_ns,
                "migrations": row.migrations,
                "summary_file": str(result.out_dir / row.summary_file)
                if row.summary_file
                else None,
                "metrics_file": str(result.out_dir / row.metrics_file)
                if row.metrics_file
                else None,
            }
            for row in result.rows
        ],
    }
    text = "\n".join(
        [
            f"workload: {result.workload} ({result.manifest.rows:,} rows)",
            "",
            render_comparison_markdown(result.rows).rstrip(),
            "",
            f"summaries: {result.out_dir / 'summaries'}",
            f"metrics:   {result.out_dir / 'metrics'}",
            f"report:    {result.report_html} (and {result.report_markdown.name})",
        ]
    )
    emit(ctx, "demo", data, text)
