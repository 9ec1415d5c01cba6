"""Batch suites: spec validation and expansion, parallel runs, failures, interruption, Dask."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from adhash.batch import load_spec, run_batch
from adhash.batch.report import write_reports
from adhash.batch.runner import RunOutcome
from adhash.errors import BadInputError, IOFailureError

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"

SUITE = """
schema = "adhash.batch_spec.v1"

[suite]
name = "tiny"
repeats = 2

[workloads.w]
generate = { ops = 3000, key_space = 300, seed = 7 }

[configs.small]
sets = ["adaptive.migration_batch=8"]

[configs.broken]
sets = ["adaptive.migration_batch=0"]

[[jobs]]
name = "explicit"
workload = "w"
mode = "compact"

[matrix]
modes = ["robinhood", "adaptive"]
workloads = ["w"]
configs = ["default", "small"]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "suite.toml"
    path.write_text(text)
    return path


def test_matrix_expands_to_every_mode_workload_and_config(tmp_path: Path) -> None:
    _, jobs = load_spec(_write(tmp_path, SUITE))
    assert [job.name for job in jobs] == [
        "explicit",
        "w-robinhood-default",
        "w-robinhood-small",
        "w-adaptive-default",
        "w-adaptive-small",
    ]
    assert jobs[2].sets == ("adaptive.migration_batch=8",)
    assert all(job.repeats == 2 for job in jobs)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[suite]\nnmae = 'x'\n", "suite.nmae: unknown key; did you mean name?"),
        ("[[jobs]]\nname = 'a'\nworkload = 'nope'\n", "no workload named 'nope'"),
        (
            "[workloads.w]\ncsv = 'w.csv'\n[[jobs]]\nname = 'a'\nworkload = 'w'\nconfig = 'fast'\n",
            "no config named 'fast'",
        ),
        ("[workloads.w]\n[[jobs]]\nname = 'a'\nworkload = 'w'\n", "exactly one of csv or generate"),
        ("[workloads.w]\ngenerate = { ops = 0 }\n", "ops=0 is out of range"),
        (
            "[workloads.w]\ncsv = 'w.csv'\n[[jobs]]\nname = 'a'\nworkload = 'w'\nmode = 'btree'\n",
            "unknown mode 'btree'",
        ),
        ("[workloads.w]\ncsv = 'w.csv'\n", "no jobs"),
        ("[suite\n", "invalid TOML"),
        (
            "[workloads.w]\ncsv = 'w.csv'\n[[jobs]]\nname = 'a'\nworkload = 'w'\n"
            "[[jobs]]\nname = 'a'\nworkload = 'w'\n",
            "job names repeat: a",
        ),
        ("schema = 'adhash.batch_spec.v9'\n", "is not 'adhash.batch_spec.v1'"),
    ],
)
def test_bad_specs_are_refused_naming_the_file_and_the_problem(
    tmp_path: Path, text: str, message: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(BadInputError) as raised:
        load_spec(path)
    assert str(path) in raised.value.detail
    assert message in raised.value.detail


def test_a_missing_spec_is_an_io_error(tmp_path: Path) -> None:
    with pytest.raises(IOFailureError):
        load_spec(tmp_path / "none.toml")


def test_every_example_suite_validates() -> None:
    examples = sorted(EXAMPLES.glob("*.toml"))
    assert {path.stem for path in examples} >= {
        "baseline",
        "compaction",
        "load-factor-sweep",
        "ycsb",
    }
    for path in examples:
        _, jobs = load_spec(path)
        assert jobs


def test_a_suite_runs_in_parallel_and_reports_every_job(tmp_path: Path) -> None:
    seen: list[RunOutcome] = []
    result = run_batch(
        _write(tmp_path, SUITE), jobs=2, on_run=lambda outcome, done, total: seen.append(outcome)
    )
    assert len(seen) == len(result.outcomes) == 10
    assert not result.failed
    assert not result.partial
    rows = {row["job"]: row for row in result.job_rows()}
    assert rows["explicit"]["final_backend"] == "compact"
    assert rows["w-robinhood-small"]["status"] == "ok"
    assert all(len(row["ops_per_second"]) == 2 for row in rows.values())
    for outcome in result.outcomes:
        assert outcome.summary_file.is_file()
        assert outcome.metrics_file.stat().st_size > 0


def test_one_failing_job_is_reported_and_the_others_complete(tmp_path: Path) -> None:
    text = SUITE.replace('configs = ["default", "small"]', 'configs = ["small", "broken"]')
    result = run_batch(_write(tmp_path, text), jobs=2)
    rows = {row["job"]: row for row in result.job_rows()}
    assert rows["w-adaptive-broken"]["status"] == "failed"
    assert "adaptive.migration_batch" in rows["w-adaptive-broken"]["errors"][0]
    assert rows["w-adaptive-small"]["status"] == "ok"
    assert rows["explicit"]["status"] == "ok"


def test_reports_are_self_contained_and_sortable(tmp_path: Path) -> None:
    result = run_batch(_write(tmp_path, SUITE), jobs=2)
    paths = write_reports(result)
    document = orjson.loads(paths["json"].read_bytes())
    assert document["schema"] == "adhash.batch_result.v1"
    assert document["runs_completed"] == 10
    page = paths["html"].read_text()
    assert "table.sortable" in page
    assert page.count("<svg") == 3
    assert "https://" not in page
    assert "src=" not in page
    assert "runs/explicit-1.summary.json" in page
    assert "| explicit |" in paths["markdown"].read_text()


def test_ctrl_c_stops_the_suite_and_keeps_what_finished(tmp_path: Path) -> None:
    def interrupt(outcome: RunOutcome, done: int, total: int) -> None:
        if done == 2:
            raise KeyboardInterrupt

    result = run_batch(_write(tmp_path, SUITE), jobs=1, on_run=interrupt)
    assert result.partial
    assert 2 <= len(result.outcomes) < 10
    paths = write_reports(result)
    assert orjson.loads(paths["json"].read_bytes())["partial"] is True
    assert "partial" in paths["markdown"].read_text()


def test_the_same_suite_runs_on_a_dask_cluster(tmp_path: Path) -> None:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        result = run_batch(_write(tmp_path, SUITE), cluster=cluster.scheduler_address)
    assert not result.failed
    assert len(result.outcomes) == 10
    assert result.cluster == cluster.scheduler_address
