"""``adhash workload-dna``: the statistics of a workload, and how its keys collide in the maps."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from adhash_cli.output import emit

__all__ = ["workload_dna"]


def workload_dna(
    ctx: typer.Context,
    csv: Annotated[Path, typer.Option("--csv", help="The workload CSV to analyse.")],
    top_keys: Annotated[int, typer.Option(min=1, help="How many hot keys to list.")] = 10,
    max_tracked_keys: Annotated[
        int,
        typer.Option(
            min=1, help="Distinct keys tracked exactly; beyond it, estimates (bounded memory)."
        ),
    ] = 200_000,
    json_out: Annotated[
        Path | None, typer.Option(help="Also write the report as JSON to this file.")
    ] = None,
) -> None:
    """Profile a workload: mix, key popularity, entropy, coverage, and hash collisions."""
    import orjson

    from adhash.atomic import atomic_write_bytes
    from adhash.workload.dna import render_dna_text
    from adhash.workload.dna import workload_dna as analyse

    report = analyse(csv, top_keys=top_keys, max_tracked_keys=max_tracked_keys)
    payload = report.to_json_dict()
    if json_out is not None:
        atomic_write_bytes(json_out, orjson.dumps(payload, option=orjson.OPT_INDENT_2))
    emit(ctx, "workload-dna", {"dna": payload}, render_dna_text(report))
