"""LatencyHistogram against exact answers computed from the sorted list of recorded values."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from adhash.errors import BadInputError
from adhash.metrics.histogram import LatencyHistogram, percentile_label

HIGHEST = 100 * 10**9
latencies = st.integers(min_value=10, max_value=HIGHEST)
samples = st.lists(latencies, min_size=1, max_size=300)
levels = st.one_of(
    st.sampled_from([0, 1, 25, 50, 90, 99, 99.9, 99.99, 99.999, 100]),
    st.floats(min_value=0, max_value=100, allow_nan=False),
)


def exact_percentile(values: list[int], p: float) -> int:
    """Nearest rank over the sorted values: the smallest v with at least p % of values <= v."""
    ordered = sorted(values)
    if p == 0:
        return ordered[0]
    rank = max(1, math.ceil(Fraction(repr(float(p))) * len(ordered) / 100))
    return ordered[rank - 1]


def recorded(values: list[int], **config: int) -> LatencyHistogram:
    histogram = LatencyHistogram(**config)
    for value in values:
        histogram.record(value)
    histogram._check()
    return histogram


@given(samples, levels)
@example([10, 100 * 10**9], 50)
@example(list(range(1_000, 1_000_001, 1_000)), 99.9)
def test_percentile_is_within_one_percent_of_the_exact_percentile(
    values: list[int], p: float
) -> None:
    exact = exact_percentile(values, p)
    reported = recorded(values).percentile(p)
    assert exact <= reported <= exact * 1.01


@given(samples, st.integers(min_value=1, max_value=12))
def test_precision_bound_holds_for_every_configuration(values: list[int], bits: int) -> None:
    histogram = recorded(values, sub_bucket_bits=bits)
    for p in (1, 50, 99, 99.9):
        exact = exact_percentile(values, p)
        assert exact <= histogram.percentile(p) <= exact * (1 + 2**-bits)


@given(samples)
def test_count_total_mean_min_max_are_exact(values: list[int]) -> None:
    histogram = recorded(values)
    assert histogram.count == len(values)
    assert histogram.total == sum(values)
    assert histogram.mean == sum(values) / len(values)
    assert (histogram.min, histogram.max) == (min(values), max(values))


@given(samples, samples)
def test_merge_equals_recording_everything_into_one(first: list[int], second: list[int]) -> None:
    merged = recorded(first)
    merged.merge(recorded(second))
    merged._check()
    assert merged.to_dict() == recorded(first + second).to_dict()


@given(st.lists(latencies, max_size=300))
def test_to_dict_from_dict_round_trips(values: list[int]) -> None:
    histogram = recorded(values)
    restored = LatencyHistogram.from_dict(histogram.to_dict())
    restored._check()
    assert restored.to_dict() == histogram.to_dict()
    assert restored.percentiles([50, 99, 100]) == histogram.percentiles([50, 99, 100])


@given(samples)
@settings(max_examples=50)
def test_buckets_and_cumulative_agree_with_the_values(values: list[int]) -> None:
    histogram = recorded(values)
    bounds = [bound for bound, _ in histogram.buckets()]
    assert bounds == sorted(set(bounds))
    assert sum(n for _, n in histogram.buckets()) == len(values)
    assert histogram.cumulative(bounds) == [sum(v <= b for v in values) for b in bounds]


def test_values_below_256_ns_are_exact() -> None:
    histogram = recorded(list(range(256)))
    assert histogram.buckets() == [(v, 1) for v in range(256)]


def test_out_of_range_values_are_clamped() -> None:
    histogram = recorded([-7, HIGHEST * 5])
    assert (histogram.min, histogram.max, histogram.total) == (0, HIGHEST, HIGHEST)


def test_empty_histogram_reports_zero() -> None:
    histogram = LatencyHistogram()
    assert (histogram.count, histogram.min, histogram.max, histogram.mean) == (0, 0, 0, 0.0)
    assert histogram.percentiles([50, 100]) == {"p50": 0, "max": 0}
    assert histogram.buckets() == []
    assert "Total count    =            0" in histogram.to_hgrm()


def test_record_with_count_adds_that_many() -> None:
    histogram = LatencyHistogram()
    histogram.record(500, count=3)
    histogram._check()
    assert (histogram.count, histogram.total) == (3, 1500)


def test_record_rejects_a_count_below_one() -> None:
    with pytest.raises(BadInputError, match="at least 1"):
        LatencyHistogram().record(5, count=0)


@pytest.mark.parametrize("p", [-0.1, 100.5, math.nan, True, "50"])
def test_percentile_rejects_levels_outside_0_to_100(p: object) -> None:
    with pytest.raises(BadInputError, match=r"\[0, 100\]"):
        LatencyHistogram().percentile(p)  # type: ignore[arg-type]


def test_merge_rejects_a_different_configuration() -> None:
    with pytest.raises(BadInputError, match="different configurations"):
        LatencyHistogram().merge(LatencyHistogram(sub_bucket_bits=8))


def test_merge_of_a_histogram_into_itself_doubles_it() -> None:
    histogram = recorded([5, 5_000])
    histogram.merge(histogram)
    histogram._check()
    assert (histogram.count, histogram.total) == (4, 10_010)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"schema": "adhash.latency_histogram.v2"}, "not a latency histogram"),
        ({"count": 3}, "sum to 2"),
        ({"buckets": [[301, 1], [7, 1]]}, "ascend"),
        ({"buckets": [[8, 1], [301, 1]]}, "disagree"),
        ({"buckets": [[7, 1], [300, 1]]}, "not a bucket upper bound"),
        ({"buckets": [[7, 0], [301, 2]]}, "counts >= 1"),
        ({"total": 10**9}, "disagree"),
        ({"min": 100}, "disagree"),
        ({"sub_bucket_bits": 99}, "sub_bucket_bits"),
        ({"extra": 1}, "unknown"),
        ({"count": -1}, "non-negative"),
    ],
)
def test_from_dict_rejects_inconsistent_payloads(change: dict[str, object], message: str) -> None:
    payload = recorded([7, 300]).to_dict() | change
    with pytest.raises(BadInputError, match=message):
        LatencyHistogram.from_dict(payload)


def test_copy_is_independent_and_clear_empties() -> None:
    histogram = recorded([10, 20])
    clone = histogram.copy()
    histogram.clear()
    histogram._check()
    assert (histogram.count, clone.count, clone.max) == (0, 2, 20)


@pytest.mark.parametrize(
    ("p", "label"),
    [(0, "min"), (50, "p50"), (90.0, "p90"), (99.9, "p99.9"), (99.99, "p99.99"), (100, "max")],
)
def test_percentile_label(p: float, label: str) -> None:
    assert percentile_label(p) == label


def test_hgrm_ends_at_the_maximum_with_the_total_count() -> None:
    histogram = recorded([1_000 * i for i in range(1, 1_001)])
    lines = histogram.to_hgrm().splitlines()
    assert lines[0].split() == ["Value", "Percentile", "TotalCount", "1/(1-Percentile)"]
    last_row = lines[-4].split()
    assert (float(last_row[0]), float(last_row[1]), int(last_row[2])) == (1000.0, 1.0, 1000)
    percentiles = [float(line.split()[1]) for line in lines[2:-3]]
    assert percentiles == sorted(percentiles)


@pytest.mark.parametrize(
    "config", [{"sub_bucket_bits": 0}, {"sub_bucket_bits": 17}, {"highest_ns": 0}]
)
def test_constructor_rejects_bad_configurations(config: dict[str, int]) -> None:
    with pytest.raises(BadInputError):
        LatencyHistogram(**config)
