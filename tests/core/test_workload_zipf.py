"""The rejection-inversion Zipf sampler: exact probabilities, determinism, O(1) setup."""

from __future__ import annotations

import contextlib
import math
import random
import time

import pytest

from adhash.errors import BadInputError
from adhash.workload.zipf import ZipfSampler

THETAS = [0.5, 1.0, 1.2, 2.5]


def _pmf(n: int, theta: float) -> list[float]:
    weights = [(rank + 1) ** -theta for rank in range(n)]
    total = math.fsum(weights)
    return [weight / total for weight in weights]


class _RejectedError(Exception):
    """Raised when the sampler asks for a second uniform: its first trial was rejected."""


class _OneUniform:
    """A stand-in for ``random.Random`` that yields one chosen uniform, then refuses."""

    def __init__(self, u: float) -> None:
        self._u: float | None = u

    def random(self) -> float:
        if self._u is None:
            raise _RejectedError
        u, self._u = self._u, None
        return u


@pytest.mark.parametrize("theta", THETAS)
def test_one_trial_accepts_each_rank_in_proportion_to_its_weight(theta: float) -> None:
    # Sweep the uniform over a fine grid: the share of the grid accepted as rank r must be
    # (r + 1) ** -theta / (area of the hat), up to one grid cell per interval boundary.
    n, cells = 12, 60_000
    sampler = ZipfSampler(n, theta)
    accepted = [0] * n
    for cell in range(cells):
        with contextlib.suppress(_RejectedError):
            accepted[sampler.sample(_OneUniform((cell + 0.5) / cells))] += 1  # type: ignore[arg-type]
    hat_area = sampler._h_integral_n - sampler._h_integral_x1
    for rank in range(n):
        expected = (rank + 1) ** -theta / hat_area * cells
        assert abs(accepted[rank] - expected) <= 2, (rank, accepted[rank], expected)


@pytest.mark.parametrize("theta", THETAS)
def test_draw_frequencies_pass_a_chi_square_test_against_the_exact_pmf(theta: float) -> None:
    n, draws = 10, 40_000
    sampler = ZipfSampler(n, theta)
    rng = random.Random(2024)
    observed = [0] * n
    for _ in range(draws):
        observed[sampler.sample(rng)] += 1
    chi_square = sum(
        (count - draws * p) ** 2 / (draws * p)
        for count, p in zip(observed, _pmf(n, theta), strict=True)
    )
    # The 0.999 quantile of chi-square with 9 degrees of freedom.
    assert chi_square < 27.88


@pytest.mark.parametrize(("theta", "n"), [(0.5, 1000), (1.0, 10**6), (2.5, 10**9)])
def test_rank_ratios_follow_the_power_law_on_a_large_key_space(theta: float, n: int) -> None:
    sampler = ZipfSampler(n, theta)
    rng = random.Random(5)
    counts = [0, 0, 0]
    for _ in range(60_000):
        rank = sampler.sample(rng)
        if rank < 3:
            counts[rank] += 1
    assert counts[0] / counts[1] == pytest.approx(2**theta, rel=0.15)
    assert counts[0] / counts[2] == pytest.approx(3**theta, rel=0.2)


@pytest.mark.parametrize("theta", [0.05, 0.5, 0.99, 1.0, 1.01, 1.2, 2.5, 8.0])
def test_the_squeeze_only_accepts_draws_the_exact_test_accepts(theta: float) -> None:
    sampler = ZipfSampler(10**6, theta)
    for k in range(2, 3000):
        top = sampler._h_integral(k + 0.5)
        if sampler._h(k) < 1e-12 * top:
            break  # below double precision the exact test itself cannot resolve the area
        threshold = sampler._h_integral_inverse(top - sampler._h(k))
        assert k - sampler._squeeze >= threshold - 1e-9, k


def test_the_same_seed_gives_the_same_draws() -> None:
    sampler = ZipfSampler(1000, 1.2)
    first = [sampler.sample(random.Random(9)) for _ in range(3)]
    rng_a, rng_b = random.Random(42), random.Random(42)
    assert [sampler.sample(rng_a) for _ in range(500)] == [
        ZipfSampler(1000, 1.2).sample(rng_b) for _ in range(500)
    ]
    assert first == [first[0]] * 3


def test_setup_cost_does_not_grow_with_the_key_space() -> None:
    start = time.perf_counter()
    for _ in range(200):
        ZipfSampler(10**9, 0.99)
        ZipfSampler(10**18, 1.0)
    assert time.perf_counter() - start < 0.5
    rng = random.Random(1)
    sampler = ZipfSampler(10**9, 1.0)
    assert all(0 <= sampler.sample(rng) < 10**9 for _ in range(1000))


def test_a_single_rank_is_always_drawn() -> None:
    sampler = ZipfSampler(1, 0.7)
    rng = random.Random(3)
    assert {sampler.sample(rng) for _ in range(100)} == {0}


def test_a_huge_theta_puts_almost_everything_on_rank_zero() -> None:
    sampler = ZipfSampler(100, 60.0)
    rng = random.Random(3)
    assert {sampler.sample(rng) for _ in range(1000)} == {0}


@pytest.mark.parametrize(
    ("n", "theta"),
    [(0, 1.0), (-3, 1.0), (True, 1.0), (2.0, 1.0), (10, 0.0), (10, -1.0), (10, math.nan)],
)
def test_rejects_an_empty_key_space_or_a_non_positive_theta(n: object, theta: float) -> None:
    with pytest.raises(BadInputError):
        ZipfSampler(n, theta)  # type: ignore[arg-type]


def test_rejects_an_infinite_theta() -> None:
    with pytest.raises(BadInputError, match="theta"):
        ZipfSampler(10, math.inf)
