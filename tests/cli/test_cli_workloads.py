"""The workload commands end to end: generate-csv, run-csv, profile, workload-dna and demo."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import orjson
import pytest

from adhash.metrics.records import parse_record
from adhash.profiling import CANDIDATES
from adhash.workload.format import Op, WorkloadWriter
from tests.cli.cli_harness import RunCli, error_envelope, run_python, success_envelope


@pytest.fixture(scope="module")
def workload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "w.csv"
    with WorkloadWriter(path) as writer:
        writer.write_many((Op.PUT, f"K{i % 400}", f"v{i}") for i in range(1200))
        writer.write_many((Op.GET, f"K{i % 500}", None) for i in range(1000))
        writer.write_many((Op.DEL, f"K{i}", None) for i in range(300))
    return path


@pytest.fixture
def malformed(tmp_path: Path) -> Path:
    path = tmp_path / "bad.csv"
    path.write_text("op,key,value\nput,a,1\nget,a,\npur,a,1\n")
    return path


# -- generate-csv -----------------------------------------------------------------------------


def test_generate_csv_text_names_rows_file_and_manifest(run_cli: RunCli, tmp_path: Path) -> None:
    outfile = tmp_path / "g.csv"
    outcome = run_cli("generate-csv", "--outfile", str(outfile), "--ops", "500", "--seed", "3")
    assert (outcome.exit_code, outcome.stderr) == (0, "")
    assert outcome.stdout.startswith("wrote 500 rows (")
    assert f"to {outfile}\n" in outcome.stdout
    assert f"manifest: {outfile}.manifest.json (sha256 " in outcome.stdout
    assert outfile.is_file()


def test_generate_csv_json_envelope_describes_the_file(run_cli: RunCli, tmp_path: Path) -> None:
    outfile = tmp_path / "g.csv"
    envelope = success_envelope(
        run_cli("--json", "generate-csv", "--outfile", str(outfile), "--ops", "700")
    )
    assert envelope["command"] == "generate-csv"
    assert envelope["outfile"] == str(outfile)
    assert envelope["rows"] == 700
    assert envelope["size_bytes"] == outfile.stat().st_size
    assert envelope["sha256"] == hashlib.sha256(outfile.read_bytes()).hexdigest()
    manifest = Path(envelope["manifest"])
    assert manifest == Path(f"{outfile}.manifest.json")
    assert orjson.loads(manifest.read_bytes())["sha256"] == envelope["sha256"]
    assert (envelope["ops"], envelope["seed"]) == (700, 1337)


def test_generate_csv_same_seed_gives_identical_bytes(run_cli: RunCli, tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    for outfile in (first, second):
        args = ("generate-csv", "--outfile", str(outfile), "--ops", "800", "--seed", "9")
        assert run_cli(*args, "--distribution", "zipf").exit_code == 0
    assert first.read_bytes() == second.read_bytes()
    other = tmp_path / "c.csv"
    args = ("generate-csv", "--outfile", str(other), "--ops", "800", "--seed", "10")
    assert run_cli(*args, "--distribution", "zipf").exit_code == 0
    assert other.read_bytes() != first.read_bytes()


@pytest.mark.parametrize(
    ("flags", "detail"),
    [
        (("--read-ratio", "2"), "read_ratio"),
        (("--adversarial-ratio", "0.5"), "adversarial_ratio > 0 needs key_type 'int'"),
        (("--ops", "0"), "ops"),
        (("--distribution", "gaussian"), "distribution"),
    ],
    ids=["read-ratio", "adversarial-text-keys", "zero-ops", "unknown-distribution"],
)
def test_generate_csv_bad_value_is_bad_input_and_writes_nothing(
    run_cli: RunCli, tmp_path: Path, flags: tuple[str, ...], detail: str
) -> None:
    outfile = tmp_path / "g.csv"
    outcome = run_cli("--json", "generate-csv", "--outfile", str(outfile), *flags)
    envelope = error_envelope(outcome, 2, "BadInput")
    assert detail in envelope["detail"]
    assert list(tmp_path.iterdir()) == []


def test_generate_csv_in_a_subprocess(tmp_path: Path) -> None:
    outfile = tmp_path / "g.csv"
    outcome = run_python(
        "-m", "adhash_cli", "--json", "generate-csv", "--outfile", str(outfile), "--ops", "300"
    )
    envelope = success_envelope(outcome)
    assert outcome.stderr == ""
    assert (envelope["command"], envelope["rows"]) == ("generate-csv", 300)
    assert hashlib.sha256(outfile.read_bytes()).hexdigest() == envelope["sha256"]


# -- run-csv ----------------------------------------------------------------------------------


def test_run_csv_dry_run_text_reports_validation(run_cli: RunCli, workload: Path) -> None:
    outcome = run_cli("run-csv", "--csv", str(workload), "--dry-run")
    assert (outcome.exit_code, outcome.stderr) == (0, "")
    assert outcome.stdout.startswith("CSV validation successful (2500 rows, ")
    assert outcome.stdout.endswith(f"text keys): {workload}\n")


def test_run_csv_dry_run_json_reports_rows_and_counts(run_cli: RunCli, workload: Path) -> None:
    envelope = success_envelope(run_cli("--json", "run-csv", "--csv", str(workload), "--dry-run"))
    assert envelope == {
        "ok": True,
        "command": "run-csv",
        "status": "validated",
        "csv": str(workload),
        "mode": "adaptive",
        "rows": 2500,
        "size_bytes": workload.stat().st_size,
        "size_mib": round(workload.stat().st_size / 2**20, 3),
        "key_type": "text",
        "op_counts": {"put": 1200, "get": 1000, "del": 300},
    }


def test_run_csv_dry_run_of_a_malformed_file_is_bad_input(run_cli: RunCli, malformed: Path) -> None:
    envelope = error_envelope(
        run_cli("--json", "run-csv", "--csv", str(malformed), "--dry-run"), 2, "BadInput"
    )
    assert envelope["detail"] == "line 4: unknown op 'pur' (expected put, get or del)"


def test_run_csv_writes_summary_and_metrics(
    run_cli: RunCli, workload: Path, tmp_path: Path
) -> None:
    summary_file = tmp_path / "out" / "summary.json"
    metrics_dir = tmp_path / "metrics"
    outcome = run_cli(
        "--json",
        "run-csv",
        "--csv",
        str(workload),
        "--json-summary-out",
        str(summary_file),
        "--metrics-out-dir",
        str(metrics_dir),
    )
    envelope = success_envelope(outcome)
    assert envelope["command"] == "run-csv"
    assert envelope["status"] == "completed"
    assert envelope["total_ops"] == 2500
    assert envelope["op_counts"] == {"put": 1200, "get": 1000, "del": 300}
    assert set(envelope["latency_ns"]) >= {"overall"}
    assert envelope["summary_file"] == str(summary_file)
    summary = orjson.loads(summary_file.read_bytes())
    assert summary["schema"] == "adhash.run_summary.v1"
    assert summary["total_ops"] == 2500
    assert summary["digest"] == envelope["digest"]
    [metrics_file] = list(metrics_dir.iterdir())
    assert re.fullmatch(r"metrics-\d{8}T\d{6}\d*Z\.ndjson", metrics_file.name)
    assert envelope["metrics_file"] == str(metrics_file)
    records = [parse_record(line) for line in metrics_file.read_bytes().splitlines()]
    assert len(records) == envelope["ticks"] + envelope["events"]


def test_run_csv_text_summary(run_cli: RunCli, workload: Path, tmp_path: Path) -> None:
    summary_file = tmp_path / "summary.json"
    outcome = run_cli(
        "run-csv", "--csv", str(workload), "--mode", "dict", "--json-summary-out", str(summary_file)
    )
    assert (outcome.exit_code, outcome.stderr) == (0, "")
    assert "mode dict: dict -> dict\n" in outcome.stdout
    assert "2,500 operations in " in outcome.stdout
    assert "ops: put 1,200, get 1,000, del 300; misses: " in outcome.stdout
    assert outcome.stdout.endswith(f"summary: {summary_file}\n")


def test_run_csv_accepts_the_original_mode_names(run_cli: RunCli, workload: Path) -> None:
    args = ("--json", "run-csv", "--csv", str(workload), "--mode", "fast-lookup")
    envelope = success_envelope(run_cli(*args))
    assert (envelope["mode"], envelope["final_backend"]) == ("robinhood", "robinhood")


def test_run_csv_unknown_mode_is_bad_input(run_cli: RunCli, workload: Path) -> None:
    outcome = run_cli("--json", "run-csv", "--csv", str(workload), "--mode", "btree")
    detail = error_envelope(outcome, 2, "BadInput")["detail"]
    assert "--mode" in detail
    assert "'btree'" in detail
    assert "one of chaining, robinhood, compact, adaptive, dict" in detail


def test_run_csv_percentiles_choose_the_reported_keys(run_cli: RunCli, workload: Path) -> None:
    args = ("--json", "run-csv", "--csv", str(workload), "--percentiles", "p50, 99.9 ,max")
    envelope = success_envelope(run_cli(*args, "--latency-sample-every", "1"))
    assert list(envelope["latency_ns"]["overall"]) == ["p50", "p99.9", "max"]
    assert envelope["latency_sample"]["samples"] == 2500


@pytest.mark.parametrize("percentiles", ["50,abc", "0", "101", ",", "50,-1"])
def test_run_csv_bad_percentiles_are_bad_input(
    run_cli: RunCli, workload: Path, tmp_path: Path, percentiles: str
) -> None:
    summary_file = tmp_path / "summary.json"
    outcome = run_cli(
        "--json",
        "run-csv",
        "--csv",
        str(workload),
        f"--percentiles={percentiles}",
        "--json-summary-out",
        str(summary_file),
    )
    error_envelope(outcome, 2, "BadInput")
    assert not summary_file.exists()


def test_run_csv_missing_file_is_an_io_error(run_cli: RunCli, tmp_path: Path) -> None:
    missing = tmp_path / "absent.csv"
    envelope = error_envelope(run_cli("--json", "run-csv", "--csv", str(missing)), 5, "IO")
    assert envelope == {
        "error": "IO",
        "detail": f"workload file not found: {missing}",
        "hint": "check the path",
    }


def test_run_csv_malformed_file_names_the_line_and_writes_no_summary(
    run_cli: RunCli, malformed: Path, tmp_path: Path
) -> None:
    summary_file = tmp_path / "summary.json"
    outcome = run_cli(
        "--json", "run-csv", "--csv", str(malformed), "--json-summary-out", str(summary_file)
    )
    envelope = error_envelope(outcome, 2, "BadInput")
    assert envelope["detail"] == "line 4: unknown op 'pur' (expected put, get or del)"
    assert envelope["hint"] == "see docs/workload-format.md"
    assert not summary_file.exists()


def test_run_csv_malformed_file_text_error(run_cli: RunCli, malformed: Path) -> None:
    outcome = run_cli("run-csv", "--csv", str(malformed))
    assert (outcome.exit_code, outcome.stdout) == (2, "")
    assert outcome.stderr == (
        "adhash: BadInput error: line 4: unknown op 'pur' (expected put, get or del)\n"
        "hint: see docs/workload-format.md\n"
    )


def test_run_csv_target_rate_reports_response_time(run_cli: RunCli, workload: Path) -> None:
    args = ("--json", "run-csv", "--csv", str(workload), "--mode", "chaining")
    envelope = success_envelope(run_cli(*args, "--target-rate", "50000"))
    assert envelope["target_rate"] == 50_000
    response = envelope["response_latency_ns"]["overall"]
    service = envelope["latency_ns"]["overall"]
    assert all(response[label] >= value for label, value in service.items())


def test_run_csv_verify_passes(run_cli: RunCli, workload: Path) -> None:
    for mode in ("adaptive", "compact"):
        args = ("--json", "run-csv", "--csv", str(workload), "--mode", mode, "--verify")
        envelope = success_envelope(run_cli(*args))
        assert envelope["verified"] is True


def test_run_csv_row_limit_is_bad_input(run_cli: RunCli, workload: Path) -> None:
    outcome = run_cli("--json", "run-csv", "--csv", str(workload), "--csv-max-rows", "100")
    envelope = error_envelope(outcome, 2, "BadInput")
    assert envelope["detail"] == f"workload {workload} has more than 100 rows"


def test_run_csv_missing_file_in_a_subprocess(tmp_path: Path) -> None:
    missing = tmp_path / "absent.csv"
    outcome = run_python("-m", "adhash_cli", "--json", "run-csv", "--csv", str(missing))
    envelope = error_envelope(outcome, 5, "IO")
    assert envelope["detail"] == f"workload file not found: {missing}"


# -- profile ----------------------------------------------------------------------------------


def test_profile_prints_the_recommended_mode(run_cli: RunCli, workload: Path) -> None:
    outcome = run_cli("profile", "--csv", str(workload), "--sample-rows", "800", "--repeats", "1")
    assert (outcome.exit_code, outcome.stderr) == (0, "")
    match = re.search(r"^recommended mode: (\w+)$", outcome.stdout, re.MULTILINE)
    assert match is not None
    assert match.group(1) in CANDIDATES
    for mode in ("dict", *CANDIDATES):
        assert re.search(rf"^{mode} ", outcome.stdout, re.MULTILINE), mode


def test_profile_json_has_the_result(run_cli: RunCli, workload: Path) -> None:
    args = ("--json", "profile", "--csv", str(workload), "--sample-rows", "500", "--repeats", "2")
    envelope = success_envelope(run_cli(*args))
    assert envelope["command"] == "profile"
    assert envelope["result"] == envelope["recommended_mode"]
    assert envelope["result"] in CANDIDATES
    assert (envelope["sample_rows"], envelope["repeats"]) == (500, 2)
    assert [timing["mode"] for timing in envelope["timings"]] == ["dict", *CANDIDATES]


def test_profile_then_runs_run_csv_with_the_recommended_mode(
    run_cli: RunCli, workload: Path, tmp_path: Path
) -> None:
    summary_file = tmp_path / "summary.json"
    outcome = run_cli(
        "profile",
        "--csv",
        str(workload),
        "--sample-rows",
        "500",
        "--repeats",
        "1",
        "--then",
        f"run-csv --csv '{workload}' --json-summary-out '{summary_file}'",
    )
    assert outcome.exit_code == 0, outcome.stderr
    match = re.search(r"^recommended mode: (\w+)$", outcome.stderr, re.MULTILINE)
    assert match is not None
    recommended = match.group(1)
    assert f"mode {recommended}: " in outcome.stdout
    assert "2,500 operations in " in outcome.stdout
    assert orjson.loads(summary_file.read_bytes())["mode"] == recommended


def test_profile_then_json_prints_the_run_csvsuccess_envelope(
    run_cli: RunCli, workload: Path
) -> None:
    outcome = run_cli(
        "--json",
        "profile",
        "--csv",
        str(workload),
        "--sample-rows",
        "300",
        "--repeats",
        "1",
        "--then",
        f"run-csv --csv {workload}",
    )
    envelope = success_envelope(outcome)
    match = re.search(r"^recommended mode: (\w+)$", outcome.stderr, re.MULTILINE)
    assert match is not None
    assert (envelope["command"], envelope["status"]) == ("run-csv", "completed")
    assert envelope["mode"] == match.group(1)


def test_profile_then_failure_gives_the_command_s_exit_code(
    run_cli: RunCli, workload: Path, tmp_path: Path
) -> None:
    outcome = run_cli(
        "--json",
        "profile",
        "--csv",
        str(workload),
        "--sample-rows",
        "100",
        "--repeats",
        "1",
        "--then",
        f"run-csv --csv {tmp_path / 'absent.csv'}",
    )
    assert outcome.exit_code == 5
    assert outcome.stdout == ""


@pytest.mark.parametrize("then", ["", "run-csv --csv 'unterminated"])
def test_profile_bad_then_is_bad_input(run_cli: RunCli, workload: Path, then: str) -> None:
    outcome = run_cli(
        "--json", "profile", "--csv", str(workload), "--sample-rows", "50", "--then", then
    )
    assert "--then" in error_envelope(outcome, 2, "BadInput")["detail"]


def test_profile_of_a_header_only_file_is_bad_input(run_cli: RunCli, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("op,key,value\n")
    envelope = error_envelope(run_cli("--json", "profile", "--csv", str(empty)), 2, "BadInput")
    assert "contains no data rows" in envelope["detail"]


# -- workload-dna -----------------------------------------------------------------------------


def test_workload_dna_text(run_cli: RunCli, workload: Path) -> None:
    outcome = run_cli("workload-dna", "--csv", str(workload))
    assert (outcome.exit_code, outcome.stderr) == (0, "")
    assert outcome.stdout.startswith(f"Workload DNA for {workload} — 2,500 rows")


def test_workload_dna_json_and_json_out(run_cli: RunCli, workload: Path, tmp_path: Path) -> None:
    json_out = tmp_path / "reports" / "dna.json"
    args = ("--json", "workload-dna", "--csv", str(workload), "--json-out", str(json_out))
    envelope = success_envelope(run_cli(*args, "--top-keys", "3"))
    assert set(envelope) == {"ok", "command", "dna"}
    dna = envelope["dna"]
    assert dna["schema"] == "adhash.workload_dna.v1"
    assert dna["total_rows"] == 2500
    assert dna["op_counts"] == {"put": 1200, "get": 1000, "del": 300}
    assert orjson.loads(json_out.read_bytes()) == dna


def test_workload_dna_of_a_malformed_file_is_bad_input(run_cli: RunCli, malformed: Path) -> None:
    outcome = run_cli("--json", "workload-dna", "--csv", str(malformed))
    assert error_envelope(outcome, 2, "BadInput")["detail"].startswith("line 4: ")


# -- demo -------------------------------------------------------------------------------------

_DEMO_MODES = ["dict", "adaptive", "chaining", "robinhood", "compact"]


def test_demo_writes_a_self_contained_report_and_every_summary(
    run_cli: RunCli, tmp_path: Path
) -> None:
    out_dir = tmp_path / "demo"
    outcome = run_cli(
        "demo", "--out-dir", str(out_dir), "--ops", "3000", "--key-space", "500", "--seed", "5"
    )
    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.stderr.splitlines() == [f"replaying on {mode} ..." for mode in _DEMO_MODES]
    assert f"report:    {out_dir / 'report.html'} (and report.md)" in outcome.stdout
    html = (out_dir / "report.html").read_text()
    assert "<script src" not in html
    assert "<link" not in html
    assert "url(" not in html
    # Inline SVG carries its namespace name, an identifier that is never fetched.
    assert "http" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    for mode in _DEMO_MODES:
        summary = orjson.loads((out_dir / "summaries" / f"{mode}.json").read_bytes())
        assert (summary["mode"], summary["total_ops"]) == (mode, 3000)
        assert (out_dir / "metrics" / f"{mode}.ndjson").is_file()
        assert f'href="summaries/{mode}.json"' in html
    digests = {
        orjson.loads((out_dir / "summaries" / f"{mode}.json").read_bytes())["digest"]
        for mode in _DEMO_MODES
    }
    assert len(digests) == 1
    assert (out_dir / "workload.csv").is_file()
    assert (out_dir / "report.md").read_text().startswith("# adhash demo\n")


def test_demo_json_lists_five_results(run_cli: RunCli, tmp_path: Path) -> None:
    out_dir = tmp_path / "demo"
    args = ("--json", "demo", "--out-dir", str(out_dir), "--ops", "3000", "--key-space", "500")
    outcome = run_cli(*args)
    envelope = success_envelope(outcome)
    assert outcome.stderr == ""
    assert envelope["command"] == "demo"
    assert envelope["rows"] == 3000
    assert envelope["report_html"] == str(out_dir / "report.html")
    results = envelope["results"]
    assert [result["mode"] for result in results] == _DEMO_MODES
    assert results[0]["slowdown_vs_dict"] == pytest.approx(1.0)
    for result in results:
        assert Path(result["summary_file"]).is_file()
        assert Path(result["metrics_file"]).is_file()
        assert result["ops_per_second"] > 0


def test_demo_bad_read_ratio_is_bad_input(run_cli: RunCli, tmp_path: Path) -> None:
    out_dir = tmp_path / "demo"
    outcome = run_cli("--json", "demo", "--out-dir", str(out_dir), "--read-ratio", "1.5")
    error_envelope(outcome, 2, "BadInput")
    assert not out_dir.exists()
