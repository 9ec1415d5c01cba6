"""Workload DNA: exact statistics on crafted files, bounded tracking, collision analysis."""

from __future__ import annotations

import math
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from adhash import GuardrailThresholds
from adhash.errors import BadInputError, IOFailureError
from adhash.workload import dna
from adhash.workload.dna import DNAReport, render_dna_text, workload_dna
from adhash.workload.format import WorkloadReader
from adhash.workload.generate import GeneratorSpec, generate

TEXT_ROWS = """op,key,value
put,K1,aa
put,K2,bbbb
get,K1,
get,K1,
del,K3,
get,K4,
put,user,xyz
get,K5,
"""

INT_ROWS = """op,key:int,value
put,1,a
put,2,b
put,3,c
get,3,
get,3,
del,10,
"""


def _write(tmp_path: Path, text: str, name: str = "w.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _generated(tmp_path: Path, name: str, **params: Any) -> Path:
    path = tmp_path / name
    generate(GeneratorSpec.from_params(**params), path)
    return path


def _true_counts(path: Path) -> Counter[Any]:
    with WorkloadReader(path, limits=None) as reader:
        return Counter(key for _, _, key, _ in reader.rows())


# -- exact statistics ----------------------------------------------------------------------


@pytest.fixture
def text_report(tmp_path: Path) -> DNAReport:
    return workload_dna(_write(tmp_path, TEXT_ROWS), top_keys=3)


def test_counts_ops_rows_and_bytes_exactly(text_report: DNAReport, tmp_path: Path) -> None:
    assert text_report.total_rows == 8
    assert text_report.file_size_bytes == len(TEXT_ROWS.encode())
    assert text_report.key_type == "text"
    assert text_report.op_counts == {"put": 3, "get": 4, "del": 1}
    assert text_report.op_mix == {"put": 0.375, "get": 0.5, "del": 0.125}
    assert text_report.mutation_fraction == 0.5


def test_counts_distinct_keys_exactly_under_the_bound(text_report: DNAReport) -> None:
    assert (text_report.unique_keys, text_report.unique_keys_exact) == (6, True)
    assert text_report.key_space_depth == pytest.approx(8 / 6)
    assert (text_report.sampled, text_report.tracked_keys, text_report.count_error_bound) == (
        False,
        6,
        0,
    )


def test_key_and_value_size_statistics_are_exact(text_report: DNAReport) -> None:
    keys, values = text_report.key_length, text_report.value_size
    assert (keys.count, keys.min, keys.max, keys.mean) == (8, 2, 4, 2.25)
    assert keys.stdev == pytest.approx(math.sqrt(0.4375))
    assert (values.count, values.min, values.max, values.mean) == (3, 2, 4, 3.0)
    assert values.stdev == pytest.approx(math.sqrt(2 / 3))


def test_entropy_is_the_shannon_entropy_of_the_key_counts(text_report: DNAReport) -> None:
    bits = -(3 / 8) * math.log2(3 / 8) - 5 * (1 / 8) * math.log2(1 / 8)
    assert text_report.key_entropy_bits == pytest.approx(bits)
    assert text_report.key_entropy_normalised == pytest.approx(bits / math.log2(6))


def test_hot_keys_and_coverage(text_report: DNAReport) -> None:
    hot = [(entry.key, entry.count, entry.share) for entry in text_report.hot_keys]
    assert hot == [("K1", 3, 0.375), ("K2", 1, 0.125), ("K3", 1, 0.125)]
    coverage = text_report.coverage
    assert (coverage.p50, coverage.p80, coverage.p95) == (2, 5, 6)


def test_ordering_patterns(text_report: DNAReport) -> None:
    assert text_report.numeric_key_fraction == 7 / 8
    # K1→K2 and K3→K4 step by one; "user" breaks the numeric run.
    assert text_report.sequential_step_fraction == 2 / 7
    assert text_report.adjacent_duplicate_fraction == 1 / 7


def test_int_keys_are_reported_as_ints(tmp_path: Path) -> None:
    report = workload_dna(_write(tmp_path, INT_ROWS))
    assert report.key_type == "int"
    assert (report.hot_keys[0].key, report.hot_keys[0].count) == (3, 3)
    assert report.unique_keys == 4
    assert report.key_length.mean == pytest.approx(7 / 6)
    assert report.numeric_key_fraction == 1.0
    assert report.sequential_step_fraction == 2 / 5
    assert report.adjacent_duplicate_fraction == 2 / 5
    coverage = report.coverage
    assert (coverage.p50, coverage.p80, coverage.p95) == (1, 3, 4)


def test_a_single_row_has_no_adjacent_pairs(tmp_path: Path) -> None:
    report = workload_dna(_write(tmp_path, "op,key,value\nget,a,\n"))
    assert (report.sequential_step_fraction, report.adjacent_duplicate_fraction) == (0.0, 0.0)
    assert report.key_entropy_normalised == 0.0
    assert report.value_size.count == 0
    assert report.value_size.mean is None


@pytest.mark.parametrize("int_keys", [False, True])
def test_ordering_counts_pairs_across_batch_boundaries(int_keys: bool) -> None:
    keys: list[Any] = [1, 2, 2, 3, 7, 8, 8, 9, 10]
    if not int_keys:
        keys = [f"K{key}" for key in keys]
    whole = dna._Ordering(int_keys)
    whole.add(keys)
    split = dna._Ordering(int_keys)
    for start in range(0, len(keys), 2):
        split.add(keys[start : start + 2])
    assert (split.steps, split.duplicates, split.numeric) == (
        whole.steps,
        whole.duplicates,
        whole.numeric,
    )
    assert (whole.steps, whole.duplicates) == (5, 2)


# -- errors --------------------------------------------------------------------------------


def test_a_workload_without_rows_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="workload contains no data rows"):
        workload_dna(_write(tmp_path, "op,key,value\n"))


def test_a_malformed_row_is_reported_with_its_line(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="line 3"):
        workload_dna(_write(tmp_path, "op,key,value\nget,a,\nfly,a,\n"))


def test_a_missing_file_is_an_io_failure(tmp_path: Path) -> None:
    with pytest.raises(IOFailureError):
        workload_dna(tmp_path / "absent.csv")


@pytest.mark.parametrize(
    ("params", "message"),
    [({"top_keys": -1}, "top_keys"), ({"max_tracked_keys": 0}, "max_tracked_keys")],
)
def test_bad_arguments_are_bad_input(tmp_path: Path, params: dict[str, Any], message: str) -> None:
    with pytest.raises(BadInputError, match=message):
        workload_dna(_write(tmp_path, TEXT_ROWS), **params)


# -- bounded tracking ----------------------------------------------------------------------


def test_past_the_bound_distinct_keys_are_estimated(tmp_path: Path) -> None:
    path = _generated(
        tmp_path,
        "seq.csv",
        ops=30_000,
        key_space=30_000,
        distribution="sequential",
        read_ratio=1.0,
    )
    report = workload_dna(path, max_tracked_keys=1000)
    assert (report.unique_keys_exact, report.sampled) == (False, True)
    assert report.tracked_keys <= 1000
    assert report.unique_keys == pytest.approx(30_000, rel=0.08)
    assert report.coverage.p95 is None


def test_past_the_bound_hot_keys_are_found_within_the_error_bound(tmp_path: Path) -> None:
    path = _generated(tmp_path, "zipf.csv", ops=40_000, key_space=40_000, key_skew=1.1)
    report = workload_dna(path, max_tracked_keys=300, top_keys=3)
    truth = _true_counts(path)
    assert report.sampled
    assert [entry.key for entry in report.hot_keys] == ["K0", "K1", "K2"]
    for entry in report.hot_keys:
        assert truth[entry.key] - report.count_error_bound <= entry.count <= truth[entry.key]


def test_tracking_stays_within_the_bound_in_a_stream_of_new_keys() -> None:
    counter = dna._KeyCounter(50)
    for start in range(0, 5000, 100):
        counter.add([f"k{index}" for index in range(start, start + 100)])
        assert len(counter.counts) <= 50
    assert counter.unique() == pytest.approx(5000, rel=0.1)


# -- collision analysis --------------------------------------------------------------------


def test_a_uniform_int_workload_has_no_full_hash_collisions(tmp_path: Path) -> None:
    path = _generated(tmp_path, "uniform.csv", ops=3000, key_space=1000, key_type="int")
    collisions = workload_dna(path).collisions
    assert (collisions.groups, collisions.largest_group, collisions.keys_in_groups) == (0, 1, 0)
    assert collisions.hash_reproducible
    assert collisions.chaining.chain_length_max is not None
    assert collisions.chaining.chain_length_max < 16  # random keys at a load near 1
    assert collisions.robinhood.probe_length_mean is not None
    assert collisions.robinhood.probe_length_mean < 3


def test_an_adversarial_workload_shows_a_big_group_and_long_chains(tmp_path: Path) -> None:
    path = _generated(
        tmp_path,
        "adv.csv",
        ops=3000,
        key_space=1000,
        key_type="int",
        adversarial_ratio=0.5,
        adversarial_keys=400,
    )
    report = workload_dna(path)
    collisions = report.collisions
    thresholds = GuardrailThresholds()
    assert collisions.groups == 1
    assert collisions.largest_group > 350
    assert collisions.group_cap is None
    assert collisions.map_keys == collisions.keys_analysed == report.unique_keys
    chain_max = collisions.chaining.chain_length_max
    probe_max = collisions.robinhood.probe_length_max
    probe_mean = collisions.robinhood.probe_length_mean
    assert collisions.chain_length_floor == collisions.largest_group
    assert chain_max is not None
    assert chain_max >= collisions.chain_length_floor  # other keys may share the chain
    assert probe_max is not None
    assert probe_max >= collisions.probe_length_floor
    assert probe_mean is not None
    assert probe_mean > (thresholds.probe_length_mean or 0)
    assert "Hash collisions: 1 group of keys with identical hash()" in render_dna_text(report)


def test_huge_groups_are_capped_in_the_maps_but_not_in_the_floors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dna, "_PROBE_WORK_BUDGET", 5000)
    path = _generated(
        tmp_path,
        "adv.csv",
        ops=2000,
        key_space=400,
        key_type="int",
        adversarial_ratio=1.0,
        adversarial_keys=400,
    )
    collisions = workload_dna(path).collisions
    assert collisions.group_cap == 100  # 100² / 2 = 5000
    assert collisions.map_keys == 100
    assert collisions.chaining.chain_length_max == 100
    assert collisions.chain_length_floor == collisions.largest_group > 390
    assert collisions.probe_length_floor == collisions.largest_group - 1


def test_text_hashes_are_reproducible_only_with_a_fixed_hash_seed(
    text_report: DNAReport,
) -> None:
    # The test process may run with a fixed PYTHONHASHSEED; the flag follows it.
    fixed = os.environ.get("PYTHONHASHSEED", "random").isdigit()
    assert text_report.collisions.hash_reproducible is fixed
    assert text_report.collisions.keys_analysed == 6


# -- output --------------------------------------------------------------------------------


def test_the_report_round_trips_through_json(text_report: DNAReport, tmp_path: Path) -> None:
    payload = text_report.to_json_dict()
    assert payload["schema"] == "adhash.workload_dna.v1"
    assert DNAReport.model_validate(payload) == text_report
    int_report = workload_dna(_write(tmp_path, INT_ROWS, "i.csv"))
    assert DNAReport.model_validate(int_report.to_json_dict()).hot_keys[0].key == 3


def test_the_text_summary_has_a_line_per_statistic(text_report: DNAReport) -> None:
    lines = render_dna_text(text_report).splitlines()
    assert lines[0].startswith("Workload DNA for ")
    assert "8 rows" in lines[0]
    assert "Mix: put 37.5%, get 50.0%, del 12.5%" in lines
    assert "Unique keys = 6 (avg touches 1.33)" in lines
    assert "Coverage: p50→2, p80→5, p95→6 keys" in lines
    assert "  - K1: 3 (37.5%)" in lines
    assert any(line.startswith("Key length: mean 2.25") for line in lines)
    assert any(line.startswith("  chaining: 6 keys") for line in lines)


def test_the_text_summary_says_when_it_sampled(tmp_path: Path) -> None:
    path = _generated(tmp_path, "s.csv", ops=2000, key_space=2000, distribution="sequential")
    text = render_dna_text(workload_dna(path, max_tracked_keys=100))
    assert "Sampled: " in text
    assert "Unique keys ≈ " in text
    assert "p95→?" in text
