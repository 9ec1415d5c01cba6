"""``adhash serve`` and ``run-csv --metrics-port``: envelopes, bad input, and live servers.

The live tests run the CLI in a fresh interpreter, read the dashboard address it prints on stderr,
query it over loopback, and stop it with a signal; every wait has a deadline.
"""

from __future__ import annotations

import http.client
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest

from adhash.metrics.records import MetricsTick, RunSummary
from adhash.metrics.sinks import NDJSONSink
from adhash.replay import ReplayOptions, replay
from adhash.workload.generate import GeneratorSpec, generate
from tests.cli.cli_harness import REPO_ROOT, Outcome, RunCli

DASHBOARD = re.compile(r"Dashboard: http://localhost:(\d+)/")
OPEN_BIND_WARNING = "adhash: warning: serving on 0.0.0.0 without a token"


@pytest.fixture(autouse=True)
def _no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ADHASH_TOKEN", raising=False)


@pytest.fixture(scope="module")
def workload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("serve") / "w.csv"
    generate(GeneratorSpec(ops=3_000, seed=9), path)
    return path


@pytest.fixture(scope="module")
def metrics_file(workload: Path) -> tuple[Path, RunSummary]:
    """A run's NDJSON stream, ending with its summary, and that summary."""
    path = workload.parent / "metrics.ndjson"
    with NDJSONSink(path) as sink:
        summary, _ = replay(workload, ReplayOptions(tick_interval=0.01), sinks=[sink])
        sink.write(summary)
    return path, summary


@pytest.fixture(scope="module")
def comparison(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("compare") / "result.json"
    path.write_bytes(orjson.dumps({"schema": "adhash.compare.v1", "verdict": "no difference"}))
    return path


def envelope(outcome: Outcome) -> dict[str, Any]:
    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.stdout.count("\n") == 1, outcome.stdout
    document: dict[str, Any] = orjson.loads(outcome.stdout)
    assert document["ok"] is True
    return document


def get_json(port: int, path: str, timeout: float = 5.0) -> dict[str, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        assert response.status == 200, (path, response.status, body[:200])
    finally:
        conn.close()
    document: dict[str, Any] = orjson.loads(body)
    return document


def wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


# -- a CLI process running in the background -----------------------------------------------------


class Background:
    """``python -m adhash_cli ARGS`` with stderr read as it comes."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "adhash_cli", *args],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stderr_lines: list[str] = []
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr_lines.append(line)

    def port(self, timeout: float = 30.0) -> int:
        """The port of the ``Dashboard:`` line on stderr (fails if the process ends first)."""

        def found() -> bool:
            return self._port() is not None or self.process.poll() is not None

        wait_until(found, timeout)
        port = self._port()
        assert port is not None, "".join(self.stderr_lines)
        return port

    def _port(self) -> int | None:
        for line in list(self.stderr_lines):
            match = DASHBOARD.search(line)
            if match:
                return int(match.group(1))
        return None

    def stop(self, signum: int | None, timeout: float = 15.0) -> Outcome:
        """Send ``signum`` (if still running), wait for the exit and collect the output."""
        if signum is not None and self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            code = self.process.wait(timeout=timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        assert self.process.stdout is not None
        stdout = self.process.stdout.read()
        self.process.stdout.close()
        self._reader.join(timeout=5)
        assert self.process.stderr is not None
        self.process.stderr.close()
        return Outcome(code, stdout, "".join(self.stderr_lines))


# -- serve in-process ----------------------------------------------------------------------------


def test_serve_json_envelope_has_url_port_and_status(
    run_cli: RunCli, metrics_file: tuple[Path, RunSummary]
) -> None:
    path, _ = metrics_file
    outcome = run_cli("--json", "serve", "--source", str(path), "--duration", "0.5", "--port", "0")
    document = envelope(outcome)
    assert document["command"] == "serve"
    assert document["status"] == "serving"
    assert isinstance(document["port"], int)
    assert document["port"] > 0
    assert document["url"] == f"http://localhost:{document['port']}/"
    assert document["host"] == "127.0.0.1"


def test_serve_prints_the_dashboard_address_and_the_stop_on_stderr(
    run_cli: RunCli, metrics_file: tuple[Path, RunSummary]
) -> None:
    path, _ = metrics_file
    outcome = run_cli("serve", "--source", str(path), "--duration", "0", "--port", "0")
    assert outcome.exit_code == 0, outcome.stderr
    match = DASHBOARD.search(outcome.stderr)
    assert match is not None, outcome.stderr
    assert outcome.stderr.rstrip().endswith("adhash: server stopped")
    assert f"serving {path} at http://localhost:{match.group(1)}/" in outcome.stdout


def test_serve_a_comparison_alone(run_cli: RunCli, comparison: Path) -> None:
    outcome = run_cli("--json", "serve", "--compare", str(comparison), "--duration", "0")
    assert envelope(outcome)["status"] == "serving"


def test_serve_port_auto_picks_a_free_port(
    run_cli: RunCli, metrics_file: tuple[Path, RunSummary]
) -> None:
    path, _ = metrics_file
    outcome = run_cli("--json", "serve", "--source", str(path), "--duration", "0", "--port", "auto")
    assert envelope(outcome)["port"] > 0


def test_serve_without_source_or_compare_is_bad_input(run_cli: RunCli) -> None:
    outcome = run_cli("serve", "--duration", "0", "--port", "0")
    assert outcome.exit_code == 2
    assert "nothing to serve" in outcome.stderr


def test_serve_follow_without_source_is_bad_input(run_cli: RunCli, comparison: Path) -> None:
    outcome = run_cli("serve", "--follow", "--compare", str(comparison), "--duration", "0")
    assert outcome.exit_code == 2
    assert "--follow needs --source" in outcome.stderr


def test_serve_follow_alone_is_bad_input(run_cli: RunCli) -> None:
    assert run_cli("serve", "--follow", "--duration", "0").exit_code == 2


def test_serve_a_missing_source_is_an_io_failure(run_cli: RunCli, tmp_path: Path) -> None:
    missing = tmp_path / "missing.ndjson"
    outcome = run_cli("serve", "--source", str(missing), "--duration", "0", "--port", "0")
    assert outcome.exit_code == 5
    assert str(missing) in outcome.stderr


def test_serve_a_folder_as_source_is_an_io_failure(run_cli: RunCli, tmp_path: Path) -> None:
    outcome = run_cli("serve", "--source", str(tmp_path), "--duration", "0", "--port", "0")
    assert outcome.exit_code == 5
    assert "is a directory" in outcome.stderr


def test_serve_failure_under_json_is_one_error_envelope(run_cli: RunCli, tmp_path: Path) -> None:
    outcome = run_cli("--json", "serve", "--source", str(tmp_path / "m.ndjson"), "--port", "0")
    assert (outcome.exit_code, outcome.stdout) == (5, "")
    assert outcome.stderr.count("\n") == 1
    assert orjson.loads(outcome.stderr)["error"] == "IO"


@pytest.mark.parametrize("port", ["x", "70000", "-1", "80.5", ""])
def test_serve_a_bad_port_is_bad_input(
    run_cli: RunCli, metrics_file: tuple[Path, RunSummary], port: str
) -> None:
    path, _ = metrics_file
    outcome = run_cli("serve", "--source", str(path), "--duration", "0", "--port", port)
    assert outcome.exit_code == 2
    assert "--port" in outcome.stderr


def test_serve_a_history_limit_of_zero_is_bad_input(
    run_cli: RunCli, metrics_file: tuple[Path, RunSummary]
) -> None:
    path, _ = metrics_file
    outcome = run_cli("serve", "--source", str(path), "--history-limit", "0", "--duration", "0")
    assert outcome.exit_code == 2


def test_serve_compare_that_is_not_json_is_bad_input(run_cli: RunCli, tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_text("<html>not json</html>")
    outcome = run_cli("serve", "--compare", str(path), "--duration", "0", "--port", "0")
    assert outcome.exit_code == 2
    assert "is not JSON" in outcome.stderr


@pytest.mark.parametrize(
    "document",
    [{"verdict": "faster"}, {"schema": "adhash.run_summary.v1"}, [1, 2]],
    ids=["no-schema", "other-schema", "array"],
)
def test_serve_compare_without_a_compare_schema_is_bad_input(
    run_cli: RunCli, tmp_path: Path, document: Any
) -> None:
    path = tmp_path / "result.json"
    path.write_bytes(orjson.dumps(document))
    outcome = run_cli("serve", "--compare", str(path), "--duration", "0", "--port", "0")
    assert outcome.exit_code == 2


def test_serve_a_missing_compare_file_is_an_io_failure(run_cli: RunCli, tmp_path: Path) -> None:
    outcome = run_cli("serve", "--compare", str(tmp_path / "none.json"), "--duration", "0")
    assert outcome.exit_code == 5


# -- serve in a subprocess -----------------------------------------------------------------------


@dataclass
class Served:
    """What a background ``serve --source`` answered, and how it ended on SIGTERM."""

    summary: dict[str, Any]
    history: dict[str, Any]
    events: dict[str, Any]
    health: dict[str, Any]
    outcome: Outcome


@pytest.fixture(scope="module")
def served(metrics_file: tuple[Path, RunSummary]) -> Served:
    path, _ = metrics_file
    background = Background("serve", "--source", str(path), "--port", "0")
    try:
        port = background.port()
        summary, history = get_json(port, "/api/metrics"), get_json(port, "/api/metrics/history")
        events, health = get_json(port, "/api/events"), get_json(port, "/healthz")
    finally:
        outcome = background.stop(signal.SIGTERM)
    return Served(summary, history, events, health, outcome)


def test_serve_subprocess_answers_the_files_totals(
    served: Served, metrics_file: tuple[Path, RunSummary]
) -> None:
    _, summary = metrics_file
    assert served.summary["state"] == "completed"
    assert served.summary["run_id"] == summary.run_id
    assert served.summary["totals"]["ops"] == summary.total_ops
    assert served.summary["source"] == "file"


def test_serve_subprocess_history_holds_the_files_ticks(
    served: Served, metrics_file: tuple[Path, RunSummary]
) -> None:
    path, summary = metrics_file
    lines = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    ticks = [MetricsTick.model_validate(r) for r in lines if r["schema"] == "metrics.v1"]
    assert [item["seq"] for item in served.history["items"]] == [t.seq for t in ticks]
    assert served.history["total_ticks"] == summary.ticks


def test_serve_subprocess_events_hold_start_and_complete(served: Served) -> None:
    kinds = [item["type"] for item in served.events["items"]]
    assert kinds[0] == "start"
    assert kinds[-1] == "complete"


def test_serve_subprocess_health_check_is_ok(served: Served) -> None:
    assert (served.health["status"], served.health["state"]) == ("ok", "completed")


def test_serve_subprocess_stops_on_sigterm_with_exit_0(served: Served) -> None:
    assert served.outcome.exit_code == 0, served.outcome.stderr
    assert "adhash: server stopped" in served.outcome.stderr
    assert "Traceback" not in served.outcome.stderr


# -- run-csv --metrics-port in-process -----------------------------------------------------------


def test_run_csv_with_a_metrics_port_reports_the_metrics_url(
    run_cli: RunCli, workload: Path
) -> None:
    outcome = run_cli(
        "--json", "run-csv", "--csv", str(workload), "--metrics-port", "0", "--metrics-linger", "0"
    )
    document = envelope(outcome)
    assert document["status"] == "completed"
    assert re.fullmatch(r"http://localhost:\d+/", document["metrics_url"])
    assert document["metrics_url"] != "http://localhost:0/"


def test_run_csv_without_a_metrics_port_has_no_metrics_url(run_cli: RunCli, workload: Path) -> None:
    document = envelope(run_cli("--json", "run-csv", "--csv", str(workload)))
    assert document["metrics_url"] is None


def test_run_csv_prints_the_dashboard_address_without_json(run_cli: RunCli, workload: Path) -> None:
    outcome = run_cli("run-csv", "--csv", str(workload), "--metrics-port", "0", "--no-progress")
    assert outcome.exit_code == 0, outcome.stderr
    assert DASHBOARD.search(outcome.stderr), outcome.stderr


@pytest.mark.parametrize("port", ["x", "70000"])
def test_run_csv_a_bad_metrics_port_is_bad_input(
    run_cli: RunCli, workload: Path, port: str
) -> None:
    outcome = run_cli("run-csv", "--csv", str(workload), "--metrics-port", port)
    assert outcome.exit_code == 2
    assert "--metrics-port" in outcome.stderr


def test_run_csv_on_all_interfaces_without_a_token_warns(run_cli: RunCli, workload: Path) -> None:
    outcome = run_cli(
        "--json",
        "run-csv",
        "--csv",
        str(workload),
        "--metrics-port",
        "0",
        "--metrics-host",
        "0.0.0.0",
    )
    assert outcome.exit_code == 0, outcome.stderr
    assert OPEN_BIND_WARNING in outcome.stderr
    assert "ADHASH_TOKEN" in outcome.stderr


def test_run_csv_on_all_interfaces_with_a_token_does_not_warn(
    run_cli: RunCli, workload: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADHASH_TOKEN", "t0ken-abc")
    outcome = run_cli(
        "--json",
        "run-csv",
        "--csv",
        str(workload),
        "--metrics-port",
        "0",
        "--metrics-host",
        "0.0.0.0",
    )
    assert outcome.exit_code == 0, outcome.stderr
    assert "warning" not in outcome.stderr
    assert "t0ken-abc" not in outcome.stdout + outcome.stderr


def test_run_csv_on_loopback_without_a_token_does_not_warn(run_cli: RunCli, workload: Path) -> None:
    outcome = run_cli("--json", "run-csv", "--csv", str(workload), "--metrics-port", "0")
    assert outcome.exit_code == 0, outcome.stderr
    assert "warning" not in outcome.stderr


# -- run-csv --metrics-port live -----------------------------------------------------------------


@dataclass
class LiveRun:
    """What a live run-csv's server answered while the run went and after it ended."""

    states: list[str] = field(default_factory=list)
    ops: list[int] = field(default_factory=list)
    final_summary: dict[str, Any] = field(default_factory=dict)
    events: dict[str, Any] = field(default_factory=dict)
    outcome: Outcome = field(default_factory=lambda: Outcome(-1, "", ""))


def _event_types(events: dict[str, Any]) -> list[str]:
    return [item["type"] for item in events.get("items", [])]


@pytest.fixture(scope="module")
def live_run(tmp_path_factory: pytest.TempPathFactory) -> LiveRun:
    """run-csv of a ~2 s run (a target rate paces it) with a lingering metrics server."""
    workload = tmp_path_factory.mktemp("live") / "w.csv"
    generate(GeneratorSpec(ops=40_000, seed=4), workload)
    background = Background(
        "run-csv",
        "--csv",
        str(workload),
        "--target-rate",
        "20000",
        "--tick-interval",
        "0.1",
        "--metrics-port",
        "0",
        "--metrics-linger",
        "5",
        "--no-progress",
    )
    seen = LiveRun()
    try:
        port = background.port()

        def poll() -> bool:
            summary = get_json(port, "/api/metrics")
            seen.states.append(summary["state"])
            seen.ops.append(summary["totals"]["ops"])
            seen.final_summary = summary
            seen.events = get_json(port, "/api/events")
            return "complete" in _event_types(seen.events)

        wait_until(poll, timeout=30.0)
        # The run has ended: its summary, written right after, should show within a moment.
        wait_until(lambda: poll() and seen.final_summary["state"] == "completed", timeout=1.0)
    finally:
        # Ctrl-C ends the linger early (docs/cli.md); the run's result is still printed.
        seen.outcome = background.stop(signal.SIGINT)
    return seen


def test_live_run_csv_serves_the_run_while_it_executes(live_run: LiveRun) -> None:
    assert "running" in live_run.states
    assert min(live_run.ops) < live_run.final_summary["totals"]["ops"]


def test_live_run_csv_events_hold_start_and_complete(live_run: LiveRun) -> None:
    kinds = _event_types(live_run.events)
    assert kinds[0] == "start"
    assert kinds[-1] == "complete"
    assert live_run.events["total_events"] == len(kinds)


def test_live_run_csv_shows_the_run_completed_after_it_ends(live_run: LiveRun) -> None:
    assert live_run.final_summary["state"] == "completed"
    assert live_run.final_summary["run_summary"] is not None


def test_live_run_csv_counts_every_operation(live_run: LiveRun) -> None:
    assert live_run.final_summary["totals"]["ops"] == 40_000


def test_live_run_csv_linger_ends_on_ctrl_c_with_exit_0(live_run: LiveRun) -> None:
    assert live_run.outcome.exit_code == 0, live_run.outcome.stderr
    assert "40,000 operations" in live_run.outcome.stdout
    assert "Traceback" not in live_run.outcome.stderr
