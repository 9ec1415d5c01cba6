"""The A/B statistics against SciPy's reference implementation and their own definitions."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import mannwhitneyu

from adhash.analysis.stats import (
    bootstrap_change_ci,
    cliffs_delta,
    compare_samples,
    mann_whitney_u,
)
from adhash.errors import BadInputError

# Small integers make ties common, which is where rank tests go wrong.
values = st.integers(min_value=1, max_value=20).map(float)


@given(st.lists(values, min_size=2, max_size=30), st.lists(values, min_size=2, max_size=30))
def test_u_statistic_matches_scipy(a: list[float], b: list[float]) -> None:
    u, _, _ = mann_whitney_u(a, b)
    assert u == mannwhitneyu(a, b).statistic


@given(
    st.lists(st.floats(0, 1e6), min_size=2, max_size=8, unique=True),
    st.lists(st.floats(0, 1e6), min_size=2, max_size=8, unique=True),
)
def test_exact_p_value_matches_scipy_without_ties(a: list[float], b: list[float]) -> None:
    if set(a) & set(b):
        return
    _, p, method = mann_whitney_u(a, b)
    assert method == "exact"
    assert p == pytest.approx(mannwhitneyu(a, b, method="exact").pvalue, rel=1e-9)


@given(st.lists(values, min_size=25, max_size=40), st.lists(values, min_size=25, max_size=40))
def test_large_samples_use_the_normal_approximation_of_scipy(
    a: list[float], b: list[float]
) -> None:
    _, p, method = mann_whitney_u(a, b)
    assert method == "normal"
    expected = mannwhitneyu(a, b, method="asymptotic", use_continuity=True).pvalue
    assert p == pytest.approx(expected, rel=1e-6, abs=1e-12)


def test_exact_p_value_of_two_fully_separated_samples_of_five_is_two_in_252() -> None:
    _, p, _ = mann_whitney_u([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])
    assert p == pytest.approx(2 / math.comb(10, 5))


@given(st.lists(values, min_size=1, max_size=15), st.lists(values, min_size=1, max_size=15))
def test_cliffs_delta_equals_one_minus_twice_the_normalised_u(
    a: list[float], b: list[float]
) -> None:
    u, _, _ = mann_whitney_u(a, b)
    assert cliffs_delta(a, b) == pytest.approx(1 - 2 * u / (len(a) * len(b)))


def test_bootstrap_interval_is_reproducible_with_a_seed() -> None:
    a, b = [100, 103, 98, 101, 99], [110, 108, 112, 109, 111]
    assert bootstrap_change_ci(a, b, seed=7) == bootstrap_change_ci(a, b, seed=7)


def test_bootstrap_interval_holds_the_observed_change_of_clearly_different_samples() -> None:
    low, high = bootstrap_change_ci([100, 101, 99, 100, 100], [120, 121, 119, 120, 120])
    assert low <= 20.0 <= high
    assert low > 0


def test_bootstrap_refuses_a_baseline_that_is_not_positive() -> None:
    with pytest.raises(BadInputError, match="positive"):
        bootstrap_change_ci([0, 1], [1, 2])


def test_higher_throughput_that_is_significant_is_better() -> None:
    result = compare_samples(
        "t", [100, 101, 99, 100, 102], [110, 111, 109, 112, 110], better="higher"
    )
    assert result.verdict == "better"
    assert result.regression_pct < 0


def test_higher_latency_that_is_significant_is_worse() -> None:
    result = compare_samples(
        "p99", [100, 101, 99, 100, 102], [110, 111, 109, 112, 110], better="lower"
    )
    assert result.verdict == "worse"
    assert result.regression_pct == pytest.approx(result.change_pct)


def test_overlapping_samples_are_no_significant_difference() -> None:
    result = compare_samples("t", [100, 110, 90, 105, 95], [101, 109, 91, 104, 96], better="higher")
    assert result.verdict == "no significant difference"


def test_three_runs_per_side_can_never_be_significant_at_five_percent() -> None:
    # The smallest exact two-sided p-value for 3 + 3 runs is 2 / 20 = 0.1.
    result = compare_samples("t", [1, 2, 3], [10, 11, 12], better="higher")
    assert result.p_value == pytest.approx(0.1)
    assert result.verdict == "no significant difference"


@pytest.mark.parametrize("bad", [[], [1.0, math.nan], [math.inf, 1.0]])
def test_empty_or_non_finite_samples_are_refused(bad: list[float]) -> None:
    with pytest.raises(BadInputError):
        mann_whitney_u(bad, [1.0, 2.0])
