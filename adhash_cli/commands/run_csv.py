"""``adhash run-csv``: replay a workload on a backend and report throughput and latency."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from adhash_cli.output import emit, is_json
from adhash_cli.progress import ProgressReporter
from adhash_cli.serving import parse_port, start_server
from adhash_cli.settings import ConfigOption, SetOption, resolve_settings, setting_help

if TYPE_CHECKING:
    from adhash.config import Settings
    from adhash.metrics.hub import MetricsHub
    from adhash.metrics.records import RunSummary
    from adhash.metrics.server import MetricsServer
    from adhash.metrics.sinks import Sink
    from adhash.snapshot.container import SnapshotLimits

__all__ = ["run_csv", "warn_about_hash_seed"]

_MODE_HELP = (
    "Backend: adaptive, chaining, robinhood, compact, or dict (the built-in "
    "reference). The original's names fast-insert, fast-lookup and memory-tight are accepted. "
    "With --snapshot-in the snapshot's backend is used instead."
)


def run_csv(
    ctx: typer.Context,
    csv: Annotated[Path, typer.Option("--csv", help="The workload CSV to replay.")],
    mode: Annotated[
        str | None, typer.Option("--mode", help=setting_help("replay.mode", _MODE_HELP))
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Validate the workload and report its size; run nothing."),
    ] = False,
    csv_max_rows: Annotated[
        int | None,
        typer.Option(
            min=0,
            help=setting_help(
                "replay.max_rows", "Refuse workloads with more rows (0 disables the limit)."
            ),
        ),
    ] = None,
    csv_max_bytes: Annotated[
        int | None,
        typer.Option(
            min=0,
            help=setting_help(
                "replay.max_bytes", "Refuse larger workload files (0 disables the limit)."
            ),
        ),
    ] = None,
    latency_sample_every: Annotated[
        int | None,
        typer.Option(
            min=1,
            help=setting_help(
                "replay.latency_sample_every", "Time one operation in this many (1 times all)."
            ),
        ),
    ] = None,
    percentiles: Annotated[
        str | None,
        typer.Option(
            help=setting_help(
                "replay.percentiles", "Latency percentiles to report, comma-separated; max = 100."
            )
        ),
    ] = None,
    warmup_ops: Annotated[
        int | None,
        typer.Option(
            min=0,
            help=setting_help(
                "replay.warmup_ops", "Operations run first and left out of every measurement."
            ),
        ),
    ] = None,
    target_rate: Annotated[
        float | None,
        typer.Option(
            min=0.001,
            help=setting_help(
                "replay.target_rate",
                "Schedule this many operations per second and also measure latency from each "
                "operation's intended start (corrects coordinated omission); none runs as "
                "fast as possible.",
            ),
        ),
    ] = None,
    tick_interval: Annotated[
        float | None,
        typer.Option(
            min=0.01, help=setting_help("replay.tick_interval", "Seconds between metrics ticks.")
        ),
    ] = None,
    metrics_out_dir: Annotated[
        Path | None,
        typer.Option(
            help="Write ticks and events as NDJSON into this folder (a new file per run)."
        ),
    ] = None,
    metrics_append: Annotated[
        bool,
        typer.Option(help="Append to <metrics-out-dir>/metrics.ndjson instead of a new file."),
    ] = False,
    json_summary_out: Annotated[
        Path | None, typer.Option(help="Write the run summary JSON to this file.")
    ] = None,
    verify: Annotated[
        bool,
        typer.Option(help="Replay on a dict alongside; stop at the first difference (exit 3)."),
    ] = False,
    hash_seed: Annotated[
        int | None,
        typer.Option(
            min=0,
            help=setting_help(
                "maps.hash_seed", "Seed the maps' index mixing for a reproducible layout."
            ),
        ),
    ] = None,
    metrics: Annotated[
        bool,
        typer.Option(
            "--metrics/--no-metrics",
            help="Time sampled operations and emit periodic ticks; --no-metrics measures "
            "throughput only (what the measuring costs is the difference).",
        ),
    ] = True,
    progress: Annotated[
        bool | None,
        typer.Option(
            "--progress/--no-progress",
            help="Show a progress bar on stderr (default: when stderr is a terminal).",
        ),
    ] = None,
    snapshot_in: Annotated[
        Path | None,
        typer.Option(
            help="Start from the map in this snapshot (its backend and hash seed are used)."
        ),
    ] = None,
    snapshot_out: Annotated[
        Path | None,
        typer.Option(help="Save the final map to this snapshot file (atomically)."),
    ] = None,
    metrics_port: Annotated[
        str | None,
        typer.Option(
            "--metrics-port",
            help="Serve the live dashboard, JSON API and Prometheus /metrics on this port while "
            "the run executes (auto or 0 picks a free one; the address is printed on stderr). "
            "Default: no server; the setting server.port is used by serve.",
        ),
    ] = None,
    metrics_host: Annotated[
        str | None,
        typer.Option(
            "--metrics-host",
            help=setting_help("server.host", "Address the --metrics-port server listens on."),
        ),
    ] = None,
    metrics_linger: Annotated[
        float,
        typer.Option(
            "--metrics-linger",
            min=0.0,
            help="Keep the --metrics-port server up this many seconds after the run ends "
            "(Ctrl-C stops it early).",
        ),
    ] = 0.0,
    config: ConfigOption = None,
    sets: SetOption = None,
) -> None:
    """Replay a workload CSV on a backend: throughput, latency percentiles, map statistics."""
    from adhash.errors import BadInputError
    from adhash.replay import resolve_mode
    from adhash.workload.format import validate_workload

    settings = resolve_settings(
        config,
        sets,
        {
            "replay.mode": (mode, "--mode"),
            "replay.max_rows": (csv_max_rows, "--csv-max-rows"),
            "replay.max_bytes": (csv_max_bytes, "--csv-max-bytes"),
            "replay.latency_sample_every": (latency_sample_every, "--latency-sample-every"),
            "replay.percentiles": (percentiles, "--percentiles"),
            "replay.warmup_ops": (warmup_ops, "--warmup-ops"),
            "replay.target_rate": (target_rate, "--target-rate"),
            "replay.tick_interval": (tick_interval, "--tick-interval"),
            "maps.hash_seed": (hash_seed, "--hash-seed"),
            "server.host": (metrics_host, "--metrics-host"),
            "server.port": (parse_port(metrics_port, "--metrics-port"), "--metrics-port"),
        },
    ).settings
    limits = settings.workload_limits()
    resolved: str = settings.replay.mode
    seed = settings.maps.hash_seed
    start = None
    if snapshot_in is not None:
        if hash_seed is not None:
            raise BadInputError(
                "--hash-seed applies to a new map; the --snapshot-in map keeps its own seed",
                hint="leave out --hash-seed",
            )
        start = _StartingSnapshot.read(snapshot_in, settings.snapshot_limits())
        resolved = start.mode
        seed = start.hash_seed
    if dry_run:
        info = validate_workload(csv, limits=limits)
        data = {
            "status": "validated",
            "csv": str(csv),
            "mode": resolved,
            "rows": info.rows,
            "size_bytes": info.size_bytes,
            "size_mib": round(info.size_bytes / 2**20, 3),
            "key_type": info.key_type,
            "op_counts": info.op_counts,
        }
        if snapshot_in is not None:
            data["snapshot_in"] = str(snapshot_in)
        emit(
            ctx,
            "run-csv",
            data,
            f"CSV validation successful ({info.rows} rows, {info.size_bytes / 2**20:.2f} MiB, "
            f"{info.key_type} keys): {csv}",
        )
        return
    warn_about_hash_seed(csv)
    options = settings.replay_options(
        mode=resolved, hash_seed=seed, verify=verify, collect_metrics=metrics
    )
    live = _LiveServer.start(settings, quiet=is_json(ctx)) if metrics_port is not None else None
    try:
        summary = _run_with_server(
            live,
            metrics_linger,
            csv,
            options,
            metrics_out_dir=metrics_out_dir,
            metrics_append=metrics_append,
            json_summary_out=json_summary_out,
            show_progress=progress if progress is not None else not is_json(ctx),
            initial_map=start.map if start is not None else None,
            snapshot_out=snapshot_out,
            snapshot_level=settings.snapshot.compression_level,
        )
    finally:
        if live is not None:
            live.server.stop()
    result: dict[str, Any] = {
        "status": "completed",
        **summary.model_dump(mode="json", by_alias=True),
        "summary_file": str(json_summary_out) if json_summary_out else None,
        "snapshot_in": str(snapshot_in) if snapshot_in is not None else None,
        "snapshot_out": str(snapshot_out) if snapshot_out is not None else None,
        "metrics_url": live.server.url if live is not None else None,
    }
    text = render_summary(summary, json_summary_out)
    if start is not None:
        ignored = f"; --mode {mode} ignored" if mode and resolve_mode(mode) != start.mode else ""
        text += f"\nsnapshot in: {snapshot_in} ({start.mode}, {start.entries:,} entries{ignored})"
    if snapshot_out is not None:
        text += f"\nsnapshot out: {snapshot_out} ({summary.final_stats.size:,} entries)"
    emit(ctx, "run-csv", result, text)


def warn_about_hash_seed(csv: Path) -> None:
    """Warn on stderr when ``csv``'s manifest says its text keys collide under another seed."""
    from adhash.workload.adversarial import seed_warning
    from adhash.workload.generate import Manifest

    warning = seed_warning(Manifest.read_for(csv))
    if warning is not None:
        typer.echo(f"adhash: warning: {warning}", err=True)


@dataclass(frozen=True, slots=True)
class _LiveServer:
    """The hub a live run feeds and the server that shows it."""

    hub: MetricsHub
    server: MetricsServer

    @classmethod
    def start(cls, settings: Settings, *, quiet: bool) -> _LiveServer:
        from adhash.metrics.hub import MetricsHub

        hub = MetricsHub(history_limit=settings.server.history_limit, source="live")
        return cls(hub, start_server(hub, settings, quiet=quiet))


def _run_with_server(
    live: _LiveServer | None, linger: float, csv: Path, options: Any, **kwargs: Any
) -> RunSummary:
    """Run with the live server's hub as one more sink; keep serving ``linger`` seconds after."""
    import contextlib
    import time

    summary = execute_run(csv, options, extra_sinks=[live.hub] if live else [], **kwargs)
    if live is not None:
        live.hub.write(summary)
    if live is not None and linger > 0:
        with contextlib.suppress(KeyboardInterrupt):
            time.sleep(linger)
    return summary


@dataclass(frozen=True, slots=True)
class _StartingSnapshot:
    """The map a run starts from, with the mode and hash seed that describe it."""

    mode: str
    hash_seed: int | None
    entries: int
    map: Any

    @classmethod
    def read(cls, path: Path, limits: SnapshotLimits) -> _StartingSnapshot:
        """Load ``path`` (every checksum checked) and read the seed its header records."""
        from adhash.snapshot import inspect, load

        m = load(path, limits=limits)
        seed = inspect(path, limit=0, limits=limits).config.get("hash_seed")
        return cls(
            # AdaptiveMap's backend_name is "adaptive": the mode, whatever it runs on now.
            mode="dict" if isinstance(m, dict) else str(m.backend_name),
            hash_seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
            entries=len(m),
            map=m,
        )


def execute_run(
    csv: Path,
    options: Any,
    *,
    metrics_out_dir: Path | None = None,
    metrics_append: bool = False,
    json_summary_out: Path | None = None,
    show_progress: bool = False,
    initial_map: Any = None,
    snapshot_out: Path | None = None,
    snapshot_level: int = 3,
    extra_sinks: Sequence[Sink] = (),
) -> RunSummary:
    """Run one replay with its sinks, progress bar and summary file; return the summary.

    ``initial_map`` starts the replay from an existing map; ``snapshot_out`` saves the final map.
    """
    import contextlib

    from adhash.atomic import atomic_write_bytes
    from adhash.metrics.records import dump
    from adhash.metrics.sinks import NDJSONSink
    from adhash.replay import replay

    sinks: list[Sink] = list(extra_sinks)
    created_folders: list[Path] = []
    metrics_file: str | None = None
    metrics_start = 0
    if metrics_out_dir is not None:
        from datetime import UTC, datetime

        name = (
            "metrics.ndjson"
            if metrics_append
            else f"metrics-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%fZ')}.ndjson"
        )
        target = metrics_out_dir / name
        metrics_start = target.stat().st_size if metrics_append and target.exists() else 0
        created_folders = _missing_folders(metrics_out_dir)
        stream = NDJSONSink(target, append=metrics_append)
        sinks.append(stream)
        metrics_file = str(stream.path)
    try:
        with ProgressReporter(csv, enabled=show_progress) as reporter:
            summary, final_map = replay(
                csv,
                options,
                sinks=sinks,
                on_progress=reporter.update,
                initial_map=initial_map,
                metrics_file=metrics_file,
            )
    except BaseException:
        for sink in sinks:
            sink.close()
        # A failed run leaves no half stream behind: its own file goes, an appended one is
        # cut back to where the run began.
        if metrics_file is not None:
            _discard_run_records(Path(metrics_file), metrics_append, metrics_start)
            for folder in created_folders:
                with contextlib.suppress(OSError):
                    folder.rmdir()  # only if empty: a folder the run made and filled stays
        raise
    for sink in sinks:
        sink.close()
    if snapshot_out is not None:
        from adhash.snapshot import save

        save(final_map, snapshot_out, level=snapshot_level)
    if json_summary_out is not None:
        atomic_write_bytes(json_summary_out, dump(summary, pretty=True))
    return summary


def _missing_folders(folder: Path) -> list[Path]:
    """The folders that writing into ``folder`` would create, deepest first."""
    missing = []
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            break
        missing.append(candidate)
    return missing


def _discard_run_records(path: Path, appended: bool, start: int) -> None:
    import contextlib
    import os

    with contextlib.suppress(OSError):
        if appended:
            os.truncate(path, start)
        else:
            path.unlink()


def render_summary(summary: RunSummary, summary_file: Path | None) -> str:
    """The run summary as a few readable lines."""
    rate = f"{summary.ops_per_second:,.0f} ops/s" if summary.ops_per_second else "n/a"
    lines = [
        f"run {summary.run_id}: {summary.csv}",
        f"mode {summary.mode}: {summary.backend_start} -> {summary.final_backend}",
        f"{summary.total_ops:,} operations in {summary.elapsed_seconds:.3f} s ({rate})"
        + (f", {summary.warmup_ops:,} warm-up" if summary.warmup_ops else ""),
        "ops: "
        + ", ".join(f"{name} {count:,}" for name, count in summary.op_counts.items())
        + f"; misses: get {summary.misses['get']:,}, del {summary.misses['del']:,}",
        f"migrations {summary.migrations_triggered}, compactions "
        f"{summary.compactions_triggered}, alerts {summary.alerts_fired}",
        f"final map: size {summary.final_stats.size:,}, load factor "
        f"{summary.final_stats.load_factor:.3f}",
    ]
    sample = summary.latency_sample
    lines.append(
        f"latency (ns, 1 op in {sample.every_n} timed, timer overhead "
        f"{sample.timer_overhead_ns} ns subtracted):"
    )
    for name, values in summary.latency_ns.items():
        lines.append(
            f"  {name:<8}" + "  ".join(f"{label} {value:,}" for label, value in values.items())
        )
    if summary.response_latency_ns:
        lines.append("response time from the intended start (ns):")
        for name, values in summary.response_latency_ns.items():
            lines.append(
                f"  {name:<8}" + "  ".join(f"{label} {value:,}" for label, value in values.items())
            )
    if summary.metrics_file:
        lines.append(f"metrics: {summary.metrics_file}")
    if summary_file is not None:
        lines.append(f"summary: {summary_file}")
    return "\n".join(lines)
