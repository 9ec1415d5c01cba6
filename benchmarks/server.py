"""What dashboards cost a live run: replay throughput with and without ten polling dashboards.

A replay feeds a :class:`~adhash.metrics.hub.MetricsHub` served by a running
:class:`~adhash.metrics.server.MetricsServer`, as ``adhash run-csv --metrics-port`` does. Before
each run the hub holds 360 real-sized ticks (its default history), as after minutes of a live
run. In one condition nobody polls; in the other, ten dashboards (threads of a separate process,
as browsers would be) each fetch what the page polls (one bundled request) once per second over a
keep-alive connection. The conditions alternate over the repeats; the target is that the polled
run keeps at least 95 % of the unpolled throughput. Run with ``python -m benchmarks.server``.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import statistics
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from adhash.metrics.hub import MetricsHub
from adhash.metrics.server import MetricsServer
from adhash.replay import ReplayOptions, replay
from adhash.workload.generate import GeneratorSpec, generate
from benchmarks.report import machine_metadata, write_suite_results

RESULTS = Path(__file__).resolve().parent / "results"
DASHBOARD_PATHS = ("/api/dashboard?since=-1",)
"""What the page fetches each poll: one bundle of summary, timeline, events, histograms, heatmap."""
TARGET_SHARE = 0.95


def _dashboard(host: str, port: int, stop: Any, counts: Any, index: int) -> None:
    """One dashboard: every endpoint once per second on one keep-alive connection."""
    connection = http.client.HTTPConnection(host, port, timeout=10)
    while not stop.is_set():
        started = time.monotonic()
        for path in DASHBOARD_PATHS:
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except OSError:
                connection.close()
                connection = http.client.HTTPConnection(host, port, timeout=10)
                ok = False
            counts[2 * index + (0 if ok else 1)] += 1
        stop.wait(max(0.0, 1.0 - (time.monotonic() - started)))
    connection.close()


def _dashboards(url: str, clients: int, stop: Any, counts: Any) -> None:
    """The polling process: ``clients`` dashboard threads until ``stop`` is set."""
    parts = urlsplit(url)
    threads = [
        threading.Thread(
            target=_dashboard, args=(parts.hostname, parts.port, stop, counts, index), daemon=True
        )
        for index in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _history(workload: Path, ticks: int) -> list[Any]:
    """``ticks`` real-sized ticks (copies of a real one) to fill a hub's history before a run."""
    from adhash.metrics.sinks import RingSink

    ring = RingSink()
    replay(workload, ReplayOptions(mode="adaptive", tick_interval=0.05), sinks=[ring])
    last = ring.ticks()[-1]
    return [last.model_copy(update={"run_id": "earlier", "seq": i}) for i in range(ticks)]


def _one_run(workload: Path, clients: int, history: list[Any]) -> tuple[float, int, int]:
    """(ops/s of the replay, requests answered 200, failed requests)."""
    hub = MetricsHub()
    for tick in history:
        hub.write(tick)
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    counts = context.Array("q", 2 * max(clients, 1))
    with MetricsServer(hub, port=0) as server:
        poller = None
        if clients:
            poller = context.Process(target=_dashboards, args=(server.url, clients, stop, counts))
            poller.start()
            deadline = time.monotonic() + 30
            while sum(counts[0::2]) < clients and time.monotonic() < deadline:
                time.sleep(0.05)  # every dashboard has made its first poll
        summary, _ = replay(workload, ReplayOptions(mode="adaptive"), sinks=[hub])
        if poller is not None:
            stop.set()
            poller.join(timeout=30)
    return float(summary.ops_per_second or 0.0), sum(counts[0::2]), sum(counts[1::2])


def run(ops: int, repeats: int, clients: int, seed: int, workdir: Path) -> dict[str, Any]:
    """Alternate unpolled and polled runs; medians, the ratio, requests and errors."""
    workload = workdir / f"server-uniform-{ops}-{seed}.csv"
    if not workload.exists():
        generate(
            GeneratorSpec.from_params(ops=ops, key_space=100_000, read_ratio=0.8, seed=seed),
            workload,
        )
    history = _history(workload, 360)
    alone: list[float] = []
    polled: list[float] = []
    requests = errors = 0
    for repeat in range(repeats):
        for polling in (False, True) if repeat % 2 == 0 else (True, False):
            print(f"repeat {repeat + 1}/{repeats}: dashboards={polling}", file=sys.stderr)
            rate, answered, failed = _one_run(workload, clients if polling else 0, history)
            (polled if polling else alone).append(rate)
            requests += answered
            errors += failed
    return {
        "schema": "adhash.bench.server.v1",
        "metadata": machine_metadata(seed, {ops: repeats}, sys.argv),
        "workload": {"ops": ops, "key_space": 100_000, "read_ratio": 0.8, "seed": seed},
        "dashboards": clients,
        "endpoints_per_poll": list(DASHBOARD_PATHS),
        "ops_per_second_alone": statistics.median(alone),
        "ops_per_second_polled": statistics.median(polled),
        "share": statistics.median(polled) / statistics.median(alone),
        "samples_alone": alone,
        "samples_polled": polled,
        "requests_answered": requests,
        "requests_failed": errors,
    }


def render_markdown(result: dict[str, Any]) -> str:
    """The result as Markdown with the target checked."""
    share = result["share"]
    return (
        "\n".join(
            [
                "# Dashboards polling a live run",
                "",
                f"Adaptive replay of {result['workload']['ops']:,} operations feeding a metrics "
                f"server; {result['dashboards']} dashboards (threads of another process) each "
                f"fetch {len(result['endpoints_per_poll'])} endpoints once per second. Median of "
                f"{len(result['samples_alone'])} runs per condition, alternated.",
                "",
                "| condition | ops/s |",
                "|---|---:|",
                f"| no dashboards | {result['ops_per_second_alone']:,.0f} |",
                f"| {result['dashboards']} dashboards | {result['ops_per_second_polled']:,.0f} |",
                "",
                f"Requests answered: {result['requests_answered']:,}; failed: "
                f"{result['requests_failed']:,}.",
                "",
                "## Target",
                "",
                f"- {result['dashboards']} dashboards cost the run less than 5 %: "
                f"**{'PASS' if share >= TARGET_SHARE else 'MISS'}** (kept {share:.1%})",
            ]
        )
        + "\n"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and write its JSON and Markdown."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.server", description=__doc__)
    parser.add_argument("--ops", type=int, default=2_000_000, help="operations (default 2·10**6)")
    parser.add_argument("--repeats", type=int, default=5, help="runs per condition (default 5)")
    parser.add_argument("--clients", type=int, default=10, help="dashboards (default 10)")
    parser.add_argument("--seed", type=int, default=1, help="workload seed")
    parser.add_argument(
        "--out", type=Path, default=RESULTS / "server-latest.json", help="JSON output path"
    )
    args = parser.parse_args(argv)
    if args.ops < 1 or args.repeats < 1 or args.clients < 1:
        parser.error("--ops, --repeats and --clients must be at least 1")
    workdir = RESULTS / "scratch"
    workdir.mkdir(parents=True, exist_ok=True)
    result = run(args.ops, args.repeats, args.clients, args.seed, workdir)
    write_suite_results(result, render_markdown(result), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
