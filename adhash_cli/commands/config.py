"""``adhash config show|schema``, ``adhash config-wizard`` and ``adhash config-edit``.

Show the effective settings with the source of each value, print the file format's JSON Schema,
write a configuration file by answering prompts, and edit one with ``--set`` and presets.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from adhash_cli.output import emit, is_json
from adhash_cli.settings import ConfigOption, SetOption, resolve_settings

if TYPE_CHECKING:
    from adhash.config import Settings

__all__ = ["config_app", "config_edit", "config_wizard"]

config_app = typer.Typer(
    name="config",
    help="Show the effective configuration, or the JSON Schema of configuration files.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_FORCE_HINT = "add --force to overwrite it, or choose another --outfile"


@config_app.command("show")
def show(
    ctx: typer.Context,
    config: ConfigOption = None,
    sets: SetOption = None,
    only_changed: Annotated[
        bool,
        typer.Option("--only-changed", help="List only values that are not the default."),
    ] = False,
) -> None:
    """Print every setting's effective value and where it came from (flag, env, file, default)."""
    from adhash.config import fields

    resolved = resolve_settings(config, sets)
    dumped = resolved.settings.model_dump(mode="json")
    rows = []
    for field in fields():
        source = resolved.source_of(field.path)
        if only_changed and source.kind == "default":
            continue
        value = getattr(getattr(resolved.settings, field.section), field.name)
        rows.append((field.path, field.format(value), str(source)))
    file_text = str(resolved.config_file) if resolved.config_file else "none"
    width = max((len(row[0]) for row in rows), default=3)
    value_width = max((len(row[1]) for row in rows), default=5)
    lines = [f"config file: {file_text}"]
    lines += [f"{key:<{width}}  {value:<{value_width}}  {source}" for key, value, source in rows]
    emit(
        ctx,
        "config show",
        {
            "config_file": str(resolved.config_file) if resolved.config_file else None,
            "settings": dumped,
            "sources": {key: str(resolved.source_of(key)) for key, _, _ in rows},
        },
        "\n".join(lines),
    )


@config_app.command("schema")
def schema(ctx: typer.Context) -> None:
    """Print the JSON Schema of configuration files (schema adhash.config.v1)."""
    import orjson

    from adhash.config.model import json_schema

    document = json_schema()
    text = orjson.dumps(document, option=orjson.OPT_INDENT_2).decode()
    emit(ctx, "config schema", {"schema": document}, text)


def config_wizard(
    ctx: typer.Context,
    outfile: Annotated[
        Path, typer.Option("--outfile", help="The configuration file to write.")
    ] = Path("adhash.toml"),
    defaults: Annotated[
        bool, typer.Option("--defaults", help="Write the defaults (or --from) without asking.")
    ] = False,
    start_from: Annotated[
        Path | None,
        typer.Option("--from", help="Start from this configuration file instead of the defaults."),
    ] = None,
    section: Annotated[
        list[str] | None,
        typer.Option(
            "--section",
            help="Ask only about this section (maps, adaptive, guardrails, replay, server, "
            "snapshot); repeatable. Default: every section.",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite --outfile if it exists.")
    ] = False,
) -> None:
    """Write a configuration file by answering one prompt per setting (Enter keeps the value).

    Prompts go to stderr and answers are read from stdin, so answers can be piped in.
    """
    from adhash.config import Settings, load_settings, write_settings
    from adhash.config.catalog import sections
    from adhash.config.wizard import run_wizard
    from adhash.errors import BadInputError, PolicyError

    known = [name for name, _ in sections()]
    for name in section or []:
        if name not in known:
            raise BadInputError(
                f"--section: unknown section {name!r}", hint=f"choose from {', '.join(known)}"
            )
    if outfile.exists() and not force:
        raise PolicyError(f"{outfile} already exists", hint=_FORCE_HINT)
    settings = load_settings(start_from) if start_from is not None else Settings()
    if not defaults:
        typer.echo("adhash configuration wizard: Enter keeps the value in brackets.", err=True)
        settings = run_wizard(settings, ask=_ask, say=_say, sections=section)
    path = write_settings(settings, outfile)
    _report_written(ctx, "config-wizard", path, settings, {"defaults": defaults})


def config_edit(
    ctx: typer.Context,
    infile: Annotated[
        Path | None,
        typer.Option(
            "--infile",
            help="The configuration file to edit; a missing file starts from the defaults.",
        ),
    ] = None,
    outfile: Annotated[
        Path | None,
        typer.Option("--outfile", help="Where to write the result. Default: --infile."),
    ] = None,
    sets: SetOption = None,
    apply_preset: Annotated[
        str | None,
        typer.Option(
            "--apply-preset",
            metavar="NAME",
            help="Apply the keys a preset sets (a preset name, or a path to a .toml file), "
            "before any --set.",
        ),
    ] = None,
    save_preset: Annotated[
        str | None,
        typer.Option("--save-preset", metavar="NAME", help="Also save the result as a preset."),
    ] = None,
    list_presets: Annotated[
        bool, typer.Option("--list-presets", help="List the presets and do nothing else.")
    ] = False,
    presets_dir: Annotated[
        Path | None,
        typer.Option(
            "--presets-dir",
            help="The presets folder. Default: ADHASH_PRESETS_DIR, else 'presets' in the "
            "user's configuration folder.",
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Overwrite an existing preset, or an --outfile other than --infile."
        ),
    ] = False,
) -> None:
    """Edit a configuration file with --set and presets; without them, prompt for each setting."""
    from adhash.config import Settings, load_settings, write_settings
    from adhash.config.layers import Source, apply_assignments, parse_assignment
    from adhash.config.presets import default_presets_dir, preset_layer
    from adhash.config.presets import save_preset as save
    from adhash.config.wizard import run_wizard
    from adhash.errors import BadInputError, PolicyError

    folder = presets_dir if presets_dir is not None else default_presets_dir()
    if list_presets:
        if infile or outfile or sets or apply_preset or save_preset:
            raise BadInputError("--list-presets takes no other action", hint="run it on its own")
        _list_presets(ctx, folder)
        return
    target = outfile if outfile is not None else infile
    if target is None and save_preset is None:
        raise BadInputError(
            "nothing to write", hint="give --infile (edited in place), --outfile or --save-preset"
        )
    if target is not None and target != infile and target.exists() and not force:
        raise PolicyError(f"{target} already exists", hint=_FORCE_HINT)
    base = "defaults"
    settings = Settings()
    if infile is not None and infile.exists():
        settings = load_settings(infile)
        base = str(infile)
    elif infile is not None and not is_json(ctx):
        typer.echo(f"no configuration at {infile}; starting from the defaults", err=True)
    start = settings
    if apply_preset is not None:
        settings = apply_assignments(settings, preset_layer(apply_preset, folder))
    assignments = dict(parse_assignment(text, Source("flag", "--set")) for text in sets or [])
    if assignments:
        settings = apply_assignments(
            settings,
            {key: (value, Source("flag", f"--set {key}")) for key, value in assignments.items()},
        )
    if apply_preset is None and not assignments and save_preset is None:
        typer.echo("adhash configuration editor: Enter keeps the value in brackets.", err=True)
        settings = run_wizard(settings, ask=_ask, say=_say)
    extra: dict[str, Any] = {
        "base": base,
        "apply_preset": apply_preset,
        "changed": _changed_keys(start, settings),
        "presets_dir": str(folder),
    }
    saved = save(settings, save_preset, folder, force=force) if save_preset else None
    extra["saved_preset"] = str(saved) if saved else None
    path = write_settings(settings, target) if target is not None else None
    _report_written(ctx, "config-edit", path, settings, extra)


def _changed_keys(before: Settings, after: Settings) -> list[str]:
    from adhash.config import fields

    old, new = before.model_dump(), after.model_dump()
    return [f.path for f in fields() if old[f.section][f.name] != new[f.section][f.name]]


def _list_presets(ctx: typer.Context, folder: Path) -> None:
    from adhash.config.presets import list_presets

    presets = list_presets(folder)
    lines = [f"presets (user presets in {folder}):"]
    for preset in presets:
        origin = "built-in" if preset.builtin else str(preset.path)
        lines.append(f"  {preset.name:<20} {preset.description}  [{origin}]")
    emit(
        ctx,
        "config-edit",
        {
            "action": "list-presets",
            "presets_dir": str(folder),
            "presets": [
                {
                    "name": p.name,
                    "builtin": p.builtin,
                    "path": str(p.path) if p.path else None,
                    "description": p.description,
                }
                for p in presets
            ],
        },
        "\n".join(lines),
    )


def _report_written(
    ctx: typer.Context,
    command: str,
    path: Path | None,
    settings: Settings,
    extra: dict[str, Any],
) -> None:
    lines = []
    if path is not None:
        lines += [
            f"configuration written to {path.resolve()}",
            f"use it with --config {path} or ADHASH_CONFIG={path}",
        ]
    if extra.get("saved_preset"):
        lines.append(f"preset saved to {extra['saved_preset']}")
    if "changed" in extra:
        changed = extra["changed"]
        lines.append("changed: " + (", ".join(changed) if changed else "nothing"))
    emit(
        ctx,
        command,
        {
            "outfile": str(path) if path is not None else None,
            **extra,
            "settings": settings.model_dump(mode="json"),
        },
        "\n".join(lines),
    )


def _ask(prompt: str) -> str | None:
    typer.echo(prompt, err=True, nl=False)
    line = sys.stdin.readline()
    if not line:
        typer.echo("", err=True)
        return None
    answer = line.rstrip("\r\n")
    if not sys.stdin.isatty():
        # Piped answers are not echoed by a terminal; show them so the transcript reads well.
        typer.echo(answer, err=True)
    return answer


def _say(line: str) -> None:
    typer.echo(line, err=True)
