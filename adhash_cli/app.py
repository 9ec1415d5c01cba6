"""The ``adhash`` Typer application: its global options and the registry of its commands.

A command is a module of :mod:`adhash_cli.commands` holding one function, registered in
:func:`create_app`. Command modules import heavy parts of the core inside the function, so that
``adhash --help`` stays fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from adhash._version import __version__
from adhash_cli.commands import (
    ab_compare,
    batch,
    compact_snapshot,
    config,
    demo,
    generate_csv,
    info,
    inspect_snapshot,
    probe_visualize,
    profile,
    run_csv,
    serve,
    store,
    verify_snapshot,
    workload_dna,
)
from adhash_cli.output import GlobalOptions

__all__ = ["create_app"]


def create_app() -> typer.Typer:
    """Build the ``adhash`` app with its global options and every command."""
    app = typer.Typer(
        name="adhash",
        help="adhash: a laboratory for hash-map design.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    app.callback()(_global_options)
    app.command("info")(info.info)
    app.command("generate-csv")(generate_csv.generate_csv)
    app.command("run-csv")(run_csv.run_csv)
    app.command("profile")(profile.profile)
    app.command("workload-dna")(workload_dna.workload_dna)
    app.command("demo")(demo.demo)
    app.command("inspect-snapshot")(inspect_snapshot.inspect_snapshot)
    app.command("verify-snapshot")(verify_snapshot.verify_snapshot)
    app.command("compact-snapshot")(compact_snapshot.compact_snapshot)
    app.command("serve")(serve.serve)
    app.command("ab-compare")(ab_compare.ab_compare)
    app.command("batch")(batch.batch)
    app.command("probe-visualize")(probe_visualize.probe_visualize)
    app.command("put")(store.put)
    app.command("get")(store.get)
    app.command("del")(store.delete)
    app.command("items")(store.items)
    app.add_typer(config.config_app)
    app.command("config-wizard")(config.config_wizard)
    app.command("config-edit")(config.config_edit)
    return app


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"adhash {__version__}")
        raise typer.Exit


def _global_options(
    ctx: typer.Context,
    json_output: Annotated[
        bool,
        typer.Option("--json", help="Print results and errors as one line of JSON each."),
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    ctx.obj = GlobalOptions(json=json_output)
