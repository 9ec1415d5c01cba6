"""Backend recommendation: every backend is timed against dict and one of them is recommended."""

from __future__ import annotations

from pathlib import Path

import pytest

from adhash.errors import BadInputError, IOFailureError
from adhash.profiling import CANDIDATES, profile_workload
from adhash.workload.format import Op, WorkloadWriter


@pytest.fixture(scope="module")
def workload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("profile") / "w.csv"
    with WorkloadWriter(path, key_type="int") as writer:
        writer.write_many((Op.PUT, i % 500, f"v{i}") for i in range(1500))
        writer.write_many((Op.GET, i % 700, None) for i in range(1500))
        writer.write_many((Op.DEL, i, None) for i in range(200))
    return path


def test_profile_times_dict_and_the_four_backends(workload: Path) -> None:
    report = profile_workload(workload, sample_rows=2000, repeats=2)
    assert [timing.mode for timing in report.timings] == ["dict", *CANDIDATES]
    assert set(CANDIDATES) == {"adaptive", "chaining", "robinhood", "compact"}
    for timing in report.timings:
        assert 0 < timing.min_ops_per_second <= timing.median_ops_per_second
        assert timing.median_ops_per_second <= timing.max_ops_per_second
        assert timing.ratio_to_dict is not None
        assert timing.ratio_to_dict > 0
    dict_timing = report.timings[0]
    assert (dict_timing.ratio_to_dict, dict_timing.final_backend) == (1.0, "dict")
    assert report.repeats == 2
    assert report.csv == str(workload)


def test_profile_recommends_the_fastest_backend_never_dict(workload: Path) -> None:
    report = profile_workload(workload, sample_rows=1000, repeats=1)
    assert report.recommended_mode in CANDIDATES
    fastest = max(
        (timing for timing in report.timings if timing.mode != "dict"),
        key=lambda timing: timing.median_ops_per_second,
    )
    assert report.recommended_mode == fastest.mode


def test_ratio_to_dict_is_dict_median_over_backend_median(workload: Path) -> None:
    report = profile_workload(workload, sample_rows=500, repeats=1)
    dict_median = report.timings[0].median_ops_per_second
    for timing in report.timings[1:]:
        assert timing.ratio_to_dict == pytest.approx(dict_median / timing.median_ops_per_second)


def test_final_backends_name_what_each_mode_ended_on(workload: Path) -> None:
    report = profile_workload(workload, sample_rows=3200, repeats=1)
    finals = {timing.mode: timing.final_backend for timing in report.timings}
    assert finals["chaining"] == "chaining"
    assert finals["robinhood"] == "robinhood"
    assert finals["compact"] == "compact"
    assert finals["adaptive"] in {"chaining", "robinhood", "compact"}


@pytest.mark.parametrize(("sample_rows", "expected"), [(1, 1), (7, 7), (2999, 2999), (10**6, 3200)])
def test_sample_rows_caps_the_rows_replayed(
    workload: Path, sample_rows: int, expected: int
) -> None:
    report = profile_workload(workload, sample_rows=sample_rows, repeats=1)
    assert report.sample_rows == expected


def test_report_as_dict_is_json_ready(workload: Path) -> None:
    report = profile_workload(workload, sample_rows=100, repeats=1)
    data = report.as_dict()
    assert data["schema"] == "adhash.profile.v1"
    assert data["recommended_mode"] == report.recommended_mode
    assert data["sample_rows"] == 100
    assert [timing["mode"] for timing in data["timings"]] == ["dict", *CANDIDATES]
    assert set(data["timings"][0]) == {
        "mode",
        "median_ops_per_second",
        "min_ops_per_second",
        "max_ops_per_second",
        "ratio_to_dict",
        "final_backend",
    }


def test_profile_of_a_workload_without_rows_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("op,key,value\n")
    with pytest.raises(BadInputError, match="contains no data rows"):
        profile_workload(path, repeats=1)


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"sample_rows": 0}, "sample_rows must be >= 1"),
        ({"sample_rows": -3}, "sample_rows must be >= 1"),
        ({"repeats": 0}, "repeats must be >= 1"),
    ],
)
def test_profile_refuses_bad_parameters(
    workload: Path, parameters: dict[str, int], message: str
) -> None:
    with pytest.raises(BadInputError, match=message):
        profile_workload(workload, **parameters)


def test_profile_refuses_an_unknown_candidate(workload: Path) -> None:
    with pytest.raises(BadInputError, match="candidates must be"):
        profile_workload(workload, sample_rows=10, repeats=1, candidates=("btree",))


def test_profile_refuses_an_empty_candidate_list(workload: Path) -> None:
    with pytest.raises(BadInputError):
        profile_workload(workload, sample_rows=10, repeats=1, candidates=())


def test_profile_of_a_missing_file_is_an_io_error(tmp_path: Path) -> None:
    with pytest.raises(IOFailureError):
        profile_workload(tmp_path / "absent.csv")


def test_profile_of_a_malformed_sample_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("op,key,value\nput,a,1\nput,b,\n")
    with pytest.raises(BadInputError, match=r"^line 3: put without a value"):
        profile_workload(path, repeats=1)
