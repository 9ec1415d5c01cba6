"""Statistics for comparing two small samples of measurements (A/B runs).

Repeated benchmark runs are few (5 to 20), skewed by noise and rarely normal, so everything here
is distribution-free: the Mann-Whitney U test (exact by enumerating every split of the pooled
ranks when that is affordable, else the normal approximation with tie and continuity
corrections), Cliff's delta as the effect size, and a percentile bootstrap confidence interval of
the relative change of the medians.
"""

from __future__ import annotations

import itertools
import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from adhash.errors import BadInputError

__all__ = [
    "Better",
    "Comparison",
    "Verdict",
    "bootstrap_change_ci",
    "cliffs_delta",
    "compare_samples",
    "mann_whitney_u",
]

Better = Literal["higher", "lower"]
Verdict = Literal["better", "worse", "no significant difference"]

_EXACT_LIMIT = 200_000
"""Largest number of rank splits the exact test enumerates (C(20, 10) = 184,756)."""


def _check(sample: Sequence[float], name: str) -> list[float]:
    values = [float(v) for v in sample]
    if not values:
        raise BadInputError(f"{name} is empty")
    if not all(math.isfinite(v) for v in values):
        raise BadInputError(f"{name} holds a value that is not finite")
    return values


def _ranks(values: Sequence[float]) -> list[float]:
    """Ranks 1..n, ties sharing their average rank."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        average = (start + end) / 2 + 1
        for position in range(start, end + 1):
            ranks[order[position]] = average
        start = end + 1
    return ranks


def mann_whitney_u(a: Sequence[float], b: Sequence[float]) -> tuple[float, float, str]:
    """Two-sided Mann-Whitney U test: ``(U of a, p-value, "exact" or "normal")``.

    Exact (a permutation test over every split of the pooled ranks, ties included) when there
    are at most 200,000 splits; the normal approximation with tie and continuity corrections
    otherwise. Complexity: O(C(n, len(a)) × len(a)) exact, O(n log n) approximate.

    >>> u, p, method = mann_whitney_u([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])
    >>> u, round(p, 4), method
    (0.0, 0.0079, 'exact')
    """
    xs, ys = _check(a, "sample a"), _check(b, "sample b")
    n1, n2 = len(xs), len(ys)
    ranks = _ranks(xs + ys)
    rank_sum = sum(ranks[:n1])
    u1 = rank_sum - n1 * (n1 + 1) / 2
    mean_u = n1 * n2 / 2
    if math.comb(n1 + n2, n1) <= _EXACT_LIMIT:
        observed = abs(u1 - mean_u)
        extreme = total = 0
        offset = n1 * (n1 + 1) / 2
        for chosen in itertools.combinations(ranks, n1):
            total += 1
            # A tiny tolerance: rank sums are multiples of 0.5, so this only absorbs rounding.
            if abs(sum(chosen) - offset - mean_u) >= observed - 1e-9:
                extreme += 1
        return u1, extreme / total, "exact"
    n = n1 + n2
    tie_term = 0.0
    for _, group in itertools.groupby(sorted(ranks)):
        size = len(list(group))
        tie_term += size**3 - size
    variance = n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1)))
    if variance <= 0:
        return u1, 1.0, "normal"
    z = (abs(u1 - mean_u) - 0.5) / math.sqrt(variance)
    p = math.erfc(max(z, 0.0) / math.sqrt(2))
    return u1, min(p, 1.0), "normal"


def cliffs_delta(a: Sequence[float], b: Sequence[float]) -> float:
    """P(b > a) - P(b < a) over all pairs, in [-1, 1]: how far b's values sit above a's.

    |δ| < 0.147 is negligible, < 0.33 small, < 0.474 medium, else large (Romano et al.).
    Complexity: O(len(a) × len(b)).

    >>> cliffs_delta([1, 2, 3], [4, 5, 6]), cliffs_delta([1, 2], [1, 2])
    (1.0, 0.0)
    """
    xs, ys = _check(a, "sample a"), _check(b, "sample b")
    above = sum(1 for x in xs for y in ys if y > x)
    below = sum(1 for x in xs for y in ys if y < x)
    return (above - below) / (len(xs) * len(ys))


def bootstrap_change_ci(
    a: Sequence[float],
    b: Sequence[float],
    *,
    confidence: float = 0.95,
    iterations: int = 10_000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``median(b) / median(a) - 1``, in percent.

    Each iteration resamples both samples with replacement. Seeded, so a report is
    reproducible. Complexity: O(iterations × n log n).

    >>> low, high = bootstrap_change_ci([100, 101, 99, 100, 102], [110, 111, 109, 112, 110])
    >>> 5 < low < high < 15
    True
    """
    xs, ys = _check(a, "sample a"), _check(b, "sample b")
    if not 0 < confidence < 1:
        raise BadInputError(f"confidence must be in (0, 1), got {confidence}")
    if min(xs) <= 0:
        raise BadInputError("the baseline sample must be positive to express a relative change")
    rng = random.Random(seed)
    median = statistics.median
    changes = []
    for _ in range(iterations):
        base = median(rng.choices(xs, k=len(xs)))
        cand = median(rng.choices(ys, k=len(ys)))
        changes.append((cand / base - 1) * 100)
    changes.sort()
    tail = (1 - confidence) / 2
    low = changes[math.floor(tail * (iterations - 1))]
    high = changes[math.ceil((1 - tail) * (iterations - 1))]
    return low, high


@dataclass(frozen=True, slots=True)
class Comparison:
    """Baseline against candidate for one measurement, with the evidence and a verdict."""

    name: str
    unit: str
    better: Better
    baseline: tuple[float, ...]
    candidate: tuple[float, ...]
    baseline_median: float
    candidate_median: float
    change_pct: float
    ci_low_pct: float
    ci_high_pct: float
    confidence: float
    u_statistic: float
    p_value: float
    test: str
    effect_size: float
    verdict: Verdict

    @property
    def regression_pct(self) -> float:
        """How much worse the candidate is, in percent (negative when it is better)."""
        return -self.change_pct if self.better == "higher" else self.change_pct

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "name": self.name,
            "unit": self.unit,
            "better": self.better,
            "baseline": list(self.baseline),
            "candidate": list(self.candidate),
            "baseline_median": self.baseline_median,
            "candidate_median": self.candidate_median,
            "change_pct": self.change_pct,
            "ci_low_pct": self.ci_low_pct,
            "ci_high_pct": self.ci_high_pct,
            "confidence": self.confidence,
            "u_statistic": self.u_statistic,
            "p_value": self.p_value,
            "test": self.test,
            "effect_size": self.effect_size,
            "verdict": self.verdict,
        }


def compare_samples(
    name: str,
    baseline: Sequence[float],
    candidate: Sequence[float],
    *,
    better: Better,
    unit: str = "",
    alpha: float = 0.05,
    confidence: float = 0.95,
    seed: int = 0,
) -> Comparison:
    """Compare two samples: medians, change with a bootstrap CI, U test, Cliff's delta, verdict.

    The candidate is ``better`` or ``worse`` only when the U test's p-value is below ``alpha``
    *and* the confidence interval of the change excludes zero; otherwise there is no significant
    difference. Complexity: as :func:`mann_whitney_u` plus :func:`bootstrap_change_ci`.

    >>> c = compare_samples("ops/s", [100, 101, 99, 100, 102], [90, 91, 89, 92, 90],
    ...                     better="higher")
    >>> c.verdict, round(c.change_pct, 1)
    ('worse', -10.0)
    """
    xs, ys = _check(baseline, f"{name} baseline"), _check(candidate, f"{name} candidate")
    base_median, cand_median = statistics.median(xs), statistics.median(ys)
    change = (cand_median / base_median - 1) * 100 if base_median else math.inf
    low, high = bootstrap_change_ci(xs, ys, confidence=confidence, seed=seed)
    u, p, test = mann_whitney_u(xs, ys)
    verdict: Verdict = "no significant difference"
    if p < alpha and (low > 0 or high < 0):
        went_up = cand_median > base_median
        verdict = "better" if went_up == (better == "higher") else "worse"
    return Comparison(
        name=name,
        unit=unit,
        better=better,
        baseline=tuple(xs),
        candidate=tuple(ys),
        baseline_median=base_median,
        candidate_median=cand_median,
        change_pct=change,
        ci_low_pct=low,
        ci_high_pct=high,
        confidence=confidence,
        u_statistic=u,
        p_value=p,
        test=test,
        effect_size=cliffs_delta(xs, ys),
        verdict=verdict,
    )
