"""``adhash batch`` end to end: exit codes, the JSON envelope, the example list."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.cli_harness import RunCli, error_envelope, success_envelope

SUITE = """
[suite]
name = "cli"
[workloads.w]
generate = { ops = 2000, key_space = 200, seed = 1 }
[configs.broken]
sets = ["adaptive.migration_batch=0"]
[matrix]
modes = ["chaining", "adaptive"]
workloads = ["w"]
"""


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "suite.toml"
    path.write_text(SUITE)
    return path


def test_a_passing_suite_exits_0_with_its_reports(run_cli: RunCli, spec: Path) -> None:
    envelope = success_envelope(
        run_cli("--json", "batch", "--spec", str(spec), "--jobs", "2"), "batch"
    )
    assert envelope["schema"] == "adhash.batch_result.v1"
    assert envelope["runs_completed"] == 2
    for path in envelope["reports"].values():
        assert Path(path).is_file()


def test_a_suite_with_a_failing_job_exits_3_and_still_writes_reports(
    run_cli: RunCli, spec: Path
) -> None:
    spec.write_text(
        SUITE.replace('workloads = ["w"]', 'workloads = ["w"]\nconfigs = ["default", "broken"]')
    )
    envelope = error_envelope(run_cli("--json", "batch", "--spec", str(spec)), 3, "Invariant")
    assert "2 of 4 runs failed" in envelope["detail"]
    assert (spec.parent / "batch-results" / "report.md").is_file()


def test_list_shows_the_example_suites(run_cli: RunCli) -> None:
    envelope = success_envelope(run_cli("--json", "batch", "--list"), "batch")
    assert {Path(p).stem for p in envelope["examples"]} >= {"baseline", "ycsb"}


def test_the_module_entry_point_runs_a_suite(spec: Path) -> None:
    from adhash.batch.__main__ import main

    assert main(["--spec", str(spec), "--out-dir", str(spec.parent / "out")]) == 0
    assert (spec.parent / "out" / "report.html").is_file()
