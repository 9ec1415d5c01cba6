"""LatencyHistogram: a mergeable log-linear latency histogram (HdrHistogram-style), in pure Python.

Values are integer nanoseconds. Every power of two is split into ``2**sub_bucket_bits`` linear
sub-buckets, so a bucket is never wider than ``1 / 2**sub_bucket_bits`` of the values it holds
(0.78 % with the default 7 bits: HdrHistogram's "2 significant digits") over the whole range, in
one flat list of counts (about 4,000 with the defaults). Values below ``2**(sub_bucket_bits + 1)``
(256 ns by default) are kept exactly.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from fractions import Fraction
from itertools import accumulate, compress
from operator import add
from typing import Any

from adhash.errors import BadInputError

__all__ = ["HISTOGRAM_SCHEMA", "LatencyHistogram", "percentile_label"]

HISTOGRAM_SCHEMA = "adhash.latency_histogram.v1"

_MAX_SUB_BUCKET_BITS = 16


def percentile_label(p: float) -> str:
    """The key a percentile is reported under: ``"p50"``, ``"p99.9"``; 0 is min and 100 is max.

    Complexity: O(1).

    >>> [percentile_label(p) for p in (0, 50, 99.9, 99.99, 100)]
    ['min', 'p50', 'p99.9', 'p99.99', 'max']
    """
    level = _check_percentile(p)
    if level == 0:
        return "min"
    if level == 100:
        return "max"
    text = repr(level)
    return "p" + (text[:-2] if text.endswith(".0") else text)


def _check_percentile(p: float) -> float:
    if isinstance(p, bool) or not isinstance(p, int | float) or not 0 <= p <= 100:
        raise BadInputError(f"a percentile must be a number in [0, 100], got {p!r}")
    return float(p)


def _rank(p: float, count: int) -> int:
    """The 1-based nearest rank of percentile ``p`` among ``count`` values: ceil(p/100 · count).

    ``p`` is read as the decimal it was written as (99.9 is 999/10, not the nearest binary
    fraction), so ``p99.9`` of 1,000 values is the 999th and not the 1,000th.
    """
    return max(1, math.ceil(Fraction(repr(p)) * count / 100))


class LatencyHistogram:
    """A log-linear histogram of integer nanoseconds: O(1) record, mergeable, ≤ 0.78 % error.

    ``record`` clamps negative values to 0 and values above ``highest_ns`` (default 100 s) to
    ``highest_ns``. ``count``, ``min``, ``max``, ``total`` and ``mean`` are exact (over the clamped
    values); a percentile is the upper bound of the bucket holding the nearest-rank value, clamped
    to ``[min, max]``, so it is never below the true value and at most ``1 / 2**sub_bucket_bits``
    above it. An empty histogram reports 0 everywhere.

    >>> h = LatencyHistogram()
    >>> for ns in (120, 250, 1_000, 1_500, 40_000):
    ...     h.record(ns)
    >>> (h.count, h.min, h.max, h.total, h.mean)
    (5, 120, 40000, 42870, 8574.0)
    >>> h.percentiles([50, 90, 100])
    {'p50': 1003, 'p90': 40000, 'max': 40000}
    """

    __slots__ = (
        "_count",
        "_counts",
        "_exact_bits",
        "_highest",
        "_max",
        "_min",
        "_sub_bits",
        "_total",
    )

    def __init__(self, *, sub_bucket_bits: int = 7, highest_ns: int = 100 * 10**9) -> None:
        if (
            isinstance(sub_bucket_bits, bool)
            or not isinstance(sub_bucket_bits, int)
            or not 1 <= sub_bucket_bits <= _MAX_SUB_BUCKET_BITS
        ):
            raise BadInputError(
                f"sub_bucket_bits must be an integer in [1, {_MAX_SUB_BUCKET_BITS}], "
                f"got {sub_bucket_bits!r}"
            )
        if isinstance(highest_ns, bool) or not isinstance(highest_ns, int) or highest_ns < 1:
            raise BadInputError(f"highest_ns must be a positive integer, got {highest_ns!r}")
        self._sub_bits = sub_bucket_bits
        self._exact_bits = sub_bucket_bits + 1
        self._highest = highest_ns
        self._counts = [0] * (self._index(highest_ns) + 1)
        self._count = 0
        self._total = 0
        self._min = highest_ns + 1
        self._max = -1

    # -- layout ---------------------------------------------------------------------------------

    def _index(self, value: int) -> int:
        """The bucket of ``value`` (0 <= value <= highest_ns); the same arithmetic as ``record``."""
        shift = value.bit_length() - self._exact_bits
        return value if shift <= 0 else (shift << self._sub_bits) + (value >> shift)

    def _lower(self, index: int) -> int:
        """The smallest value bucket ``index`` holds."""
        shift = (index >> self._sub_bits) - 1
        if shift <= 0:
            return index
        return (index - (shift << self._sub_bits)) << shift

    def _upper(self, index: int) -> int:
        """The largest value bucket ``index`` holds (its inclusive upper bound)."""
        shift = (index >> self._sub_bits) - 1
        if shift <= 0:
            return index
        return ((index - (shift << self._sub_bits) + 1) << shift) - 1

    # -- recording ------------------------------------------------------------------------------

    def record(self, value_ns: int, count: int = 1) -> None:
        """Add ``count`` occurrences of ``value_ns`` (clamped to ``[0, highest_ns]``).

        Complexity: O(1): a ``bit_length``, a shift and a list increment; about 0.25-0.3 µs a
        call on CPython 3.11+, the cost of four ``perf_counter_ns`` calls, so time a sample of
        operations rather than every one. ``count < 1`` is a BadInputError.

        >>> h = LatencyHistogram(highest_ns=1_000)
        >>> h.record(-5); h.record(7, count=2); h.record(10**6)
        >>> (h.count, h.min, h.max)
        (4, 0, 1000)
        """
        if value_ns > self._highest:
            value_ns = self._highest
        elif value_ns < 0:
            value_ns = 0
        if count < 1:
            raise BadInputError(f"a record count must be at least 1, got {count!r}")
        shift = value_ns.bit_length() - self._exact_bits
        if shift > 0:
            self._counts[(shift << self._sub_bits) + (value_ns >> shift)] += count
        else:
            self._counts[value_ns] += count
        self._count += count
        self._total += value_ns * count
        if value_ns < self._min:
            self._min = value_ns
        if value_ns > self._max:
            self._max = value_ns

    def merge(self, other: LatencyHistogram) -> None:
        """Add every value recorded in ``other`` (same configuration, else BadInputError).

        Complexity: O(buckets), element-wise in C.

        >>> a, b = LatencyHistogram(), LatencyHistogram()
        >>> a.record(100); b.record(3_000); b.record(5)
        >>> a.merge(b)
        >>> (a.count, a.min, a.max, a.total)
        (3, 5, 3000, 3105)
        """
        if not isinstance(other, LatencyHistogram):
            raise BadInputError(f"can only merge a LatencyHistogram, got {type(other).__name__}")
        if (other._sub_bits, other._highest) != (self._sub_bits, self._highest):
            raise BadInputError(
                "cannot merge histograms of different configurations: "
                f"{self._config_text()} and {other._config_text()}"
            )
        if not other._count:
            return
        self._counts = list(map(add, self._counts, other._counts))
        self._count += other._count
        self._total += other._total
        self._min = min(self._min, other._min)
        self._max = max(self._max, other._max)

    def copy(self) -> LatencyHistogram:
        """An independent histogram with the same configuration and counts.

        Complexity: O(buckets).

        >>> h = LatencyHistogram(); h.record(42)
        >>> c = h.copy(); c.record(43)
        >>> (h.count, c.count)
        (1, 2)
        """
        clone = LatencyHistogram(sub_bucket_bits=self._sub_bits, highest_ns=self._highest)
        clone._counts = self._counts.copy()
        clone._count, clone._total = self._count, self._total
        clone._min, clone._max = self._min, self._max
        return clone

    def clear(self) -> None:
        """Forget every recorded value; the configuration stays.

        Complexity: O(buckets).

        >>> h = LatencyHistogram(); h.record(42); h.clear()
        >>> (h.count, h.max, h.percentile(50))
        (0, 0, 0)
        """
        self._counts = [0] * len(self._counts)
        self._count = self._total = 0
        self._min = self._highest + 1
        self._max = -1

    # -- summary --------------------------------------------------------------------------------

    @property
    def sub_bucket_bits(self) -> int:
        """Linear sub-buckets per power of two, as a number of bits (precision 2**-bits)."""
        return self._sub_bits

    @property
    def highest_ns(self) -> int:
        """The largest value kept; larger ones are recorded as this."""
        return self._highest

    @property
    def count(self) -> int:
        """How many values were recorded. Complexity: O(1)."""
        return self._count

    @property
    def total(self) -> int:
        """The exact sum of the recorded (clamped) values, in ns. Complexity: O(1)."""
        return self._total

    @property
    def min(self) -> int:
        """The smallest recorded value, exact (0 when empty). Complexity: O(1)."""
        return self._min if self._count else 0

    @property
    def max(self) -> int:
        """The largest recorded value, exact (0 when empty). Complexity: O(1)."""
        return self._max if self._count else 0

    @property
    def mean(self) -> float:
        """The exact mean of the recorded values (0.0 when empty). Complexity: O(1)."""
        return self._total / self._count if self._count else 0.0

    def percentile(self, p: float) -> int:
        """The value at percentile ``p`` in [0, 100] (nearest rank); 0 is min, 100 is max.

        Complexity: O(buckets), a C-level running sum and a binary search.

        >>> h = LatencyHistogram()
        >>> for ns in range(1, 1_001):
        ...     h.record(ns * 1_000)
        >>> h.percentile(50), h.percentile(99.9), h.percentile(100)
        (501759, 999423, 1000000)
        """
        return self.percentiles([p]).popitem()[1]

    def percentiles(self, ps: Iterable[float]) -> dict[str, int]:
        """Several percentiles in one pass, keyed by :func:`percentile_label`.

        Complexity: O(buckets + len(ps) · log(buckets)).

        >>> h = LatencyHistogram(); h.record(10); h.record(20)
        >>> h.percentiles([0, 50, 99, 100])
        {'min': 10, 'p50': 10, 'p99': 20, 'max': 20}
        """
        levels = [_check_percentile(p) for p in ps]
        if not self._count:
            return {percentile_label(level): 0 for level in levels}
        running = list(accumulate(self._counts))
        low, high, upper = self._min, self._max, self._upper
        result: dict[str, int] = {}
        for level in levels:
            if level == 0:
                value = low
            else:
                index = bisect_left(running, _rank(level, self._count))
                value = min(max(upper(index), low), high)
            result[percentile_label(level)] = value
        return result

    def buckets(self) -> list[tuple[int, int]]:
        """The non-empty buckets as ``(inclusive upper bound in ns, count)``, ascending.

        Complexity: O(buckets).

        >>> h = LatencyHistogram(); h.record(3); h.record(3); h.record(1_000)
        >>> h.buckets()
        [(3, 2), (1003, 1)]
        """
        counts, upper = self._counts, self._upper
        return [(upper(i), counts[i]) for i in compress(range(len(counts)), counts)]

    def cumulative(self, bounds_ns: Sequence[int]) -> list[int]:
        """For each bound, how many values are known to be ``<= bound`` (Prometheus ``le``).

        A bucket counts when its upper bound is ``<= bound``, so a bound inside a bucket leaves
        that bucket out (bounds below 256 ns, or on a bucket edge, are exact).
        Complexity: O(buckets + len(bounds_ns)).

        >>> h = LatencyHistogram(); h.record(50); h.record(200); h.record(5_000)
        >>> h.cumulative([0, 100, 1_000, 10**12])
        [0, 1, 2, 3]
        """
        running = list(accumulate(self._counts))
        result: list[int] = []
        for bound in bounds_ns:
            if bound < 0:
                result.append(0)
            elif bound >= self._highest:
                result.append(self._count)
            else:
                index = self._index(bound)
                if self._upper(index) != bound:
                    index -= 1
                result.append(running[index] if index >= 0 else 0)
        return result

    # -- serialization --------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A sparse, JSON-ready form; :meth:`from_dict` restores it exactly.

        Complexity: O(buckets).

        >>> h = LatencyHistogram(); h.record(7); h.record(300)
        >>> h.to_dict()  # doctest: +NORMALIZE_WHITESPACE
        {'schema': 'adhash.latency_histogram.v1', 'sub_bucket_bits': 7,
         'highest_ns': 100000000000, 'count': 2, 'min': 7, 'max': 300, 'total': 307,
         'buckets': [[7, 1], [301, 1]]}
        """
        return {
            "schema": HISTOGRAM_SCHEMA,
            "sub_bucket_bits": self._sub_bits,
            "highest_ns": self._highest,
            "count": self._count,
            "min": self.min,
            "max": self.max,
            "total": self._total,
            "buckets": [[bound, n] for bound, n in self.buckets()],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LatencyHistogram:
        """Rebuild a histogram from :meth:`to_dict`; BadInputError if anything is inconsistent.

        Complexity: O(buckets).

        >>> h = LatencyHistogram(); h.record(7); h.record(300)
        >>> LatencyHistogram.from_dict(h.to_dict()).buckets() == h.buckets()
        True
        >>> LatencyHistogram.from_dict({"schema": "other"})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        adhash.errors.BadInputError: not a latency histogram: schema 'other', expected ...
        """
        if not isinstance(data, dict):
            raise BadInputError(f"a latency histogram must be an object, got {type(data).__name__}")
        schema = data.get("schema")
        if schema != HISTOGRAM_SCHEMA:
            raise BadInputError(
                f"not a latency histogram: schema {schema!r}, expected {HISTOGRAM_SCHEMA!r}"
            )
        integers = ("sub_bucket_bits", "highest_ns", "count", "min", "max", "total")
        fields = {"schema", "buckets", *integers}
        missing, unknown = sorted(fields - data.keys()), sorted(data.keys() - fields)
        if missing or unknown:
            raise BadInputError(f"latency histogram: missing {missing}, unknown {unknown}")
        for key in integers:
            if isinstance(data[key], bool) or not isinstance(data[key], int) or data[key] < 0:
                raise BadInputError(f"latency histogram: {key} must be a non-negative integer")
        histogram = cls(sub_bucket_bits=data["sub_bucket_bits"], highest_ns=data["highest_ns"])
        histogram._load(data)
        return histogram

    def _load(self, data: dict[str, Any]) -> None:
        """Fill an empty histogram from a validated :meth:`to_dict` payload."""
        pairs = data["buckets"]
        if not isinstance(pairs, list):
            raise BadInputError("latency histogram: buckets must be a list of [upper_ns, count]")
        counts, previous = self._counts, -1
        low_sum = high_sum = 0
        for pair in pairs:
            if (
                not isinstance(pair, list | tuple)
                or len(pair) != 2
                or not all(isinstance(x, int) and not isinstance(x, bool) for x in pair)
            ):
                raise BadInputError(f"latency histogram: bad bucket {pair!r}")
            bound, n = pair
            if (
                not 0 <= bound <= self._upper(len(counts) - 1)
                or self._upper(index := self._index(bound)) != bound
            ):
                raise BadInputError(f"latency histogram: {bound} is not a bucket upper bound")
            if index <= previous or n < 1:
                raise BadInputError("latency histogram: buckets must ascend with counts >= 1")
            counts[index], previous = n, index
            low_sum += self._lower(index) * n
            high_sum += min(bound, self._highest) * n
        count, low, high, total = data["count"], data["min"], data["max"], data["total"]
        if sum(counts) != count:
            raise BadInputError(
                f"latency histogram: bucket counts sum to {sum(counts)}, not {count}"
            )
        if count and not (
            low <= high <= self._highest
            and self._index(low) == counts.index(next(filter(None, counts)))
            and self._index(high) == previous
            and low_sum <= total <= high_sum
        ):
            raise BadInputError("latency histogram: min, max or total disagree with the buckets")
        if not count and (low or high or total):
            raise BadInputError("latency histogram: an empty histogram has min = max = total = 0")
        self._count, self._total = count, total
        if count:
            self._min, self._max = low, high

    def to_hgrm(self, *, unit_ns: int = 1_000) -> str:
        """HdrHistogram's percentile-distribution text (``.hgrm``), values in ``unit_ns`` units.

        The default unit is the microsecond; HdrHistogram's plotter reads the file as is.
        Complexity: O(buckets + lines), about 10 lines per halving of ``1 - percentile``.

        >>> h = LatencyHistogram(); h.record(1_000); h.record(2_000)
        >>> print(h.to_hgrm(), end="")  # doctest: +NORMALIZE_WHITESPACE
               Value     Percentile TotalCount 1/(1-Percentile)
        <BLANKLINE>
               1.003 0.000000000000          1           1.00
               1.003 0.100000000000          1           1.11
               1.003 0.200000000000          1           1.25
               1.003 0.300000000000          1           1.43
               1.003 0.400000000000          1           1.67
               1.003 0.500000000000          1           2.00
               2.000 0.550000000000          2           2.22
               2.000 1.000000000000          2
        #[Mean    =        1.500, StdDeviation   =        0.501]
        #[Max     =        2.000, Total count    =            2]
        #[Buckets =           30, SubBuckets     =          256]
        """
        if isinstance(unit_ns, bool) or not isinstance(unit_ns, int) or unit_ns < 1:
            raise BadInputError(f"unit_ns must be a positive integer, got {unit_ns!r}")
        lines = [
            f"{'Value':>12} {'Percentile':>14} {'TotalCount':>10} {'1/(1-Percentile)':>14}",
            "",
        ]
        total = self._count
        level, running, last_bound = 0.0, 0, 0
        for bound, n in self.buckets():
            running += n
            last_bound = min(bound, self._max)
            while 100 * running / total >= level:
                ratio = 1 / (1 - level / 100)
                lines.append(
                    f"{last_bound / unit_ns:12.3f} {level / 100:2.12f} {running:10d} {ratio:14.2f}"
                )
                # HdrHistogram's schedule: 5 ticks per halving of the distance to 100 %.
                ticks = 5 * 2 ** (int(math.log2(100 / (100 - level))) + 1)
                level += 100 / ticks
                if running == total:
                    break
        if total:
            lines.append(f"{last_bound / unit_ns:12.3f} {1:2.12f} {total:10d}")
        lines.append(
            f"#[Mean    = {self.mean / unit_ns:12.3f}, "
            f"StdDeviation   = {self._stddev() / unit_ns:12.3f}]"
        )
        lines.append(f"#[Max     = {self.max / unit_ns:12.3f}, Total count    = {total:12d}]")
        magnitudes = (len(self._counts) - 1) >> self._sub_bits
        lines.append(f"#[Buckets = {magnitudes:12d}, SubBuckets     = {1 << self._exact_bits:12d}]")
        return "\n".join(lines) + "\n"

    def _stddev(self) -> float:
        """Standard deviation estimated from bucket midpoints (as HdrHistogram does)."""
        if not self._count:
            return 0.0
        mean, counts = self.mean, self._counts
        square_sum = sum(
            counts[i] * ((self._lower(i) + self._upper(i)) / 2 - mean) ** 2
            for i in compress(range(len(counts)), counts)
        )
        return math.sqrt(square_sum / self._count)

    # -- checks ---------------------------------------------------------------------------------

    def _check(self) -> None:
        """Raise AssertionError unless the counters agree with the buckets (for the tests)."""
        counts = self._counts
        assert len(counts) == self._index(self._highest) + 1
        assert sum(counts) == self._count
        assert all(n >= 0 for n in counts)
        if self._count:
            first = counts.index(next(filter(None, counts)))
            last = len(counts) - 1 - counts[::-1].index(next(filter(None, reversed(counts))))
            assert self._index(self._min) == first
            assert self._index(self._max) == last
            assert self._min * self._count <= self._total <= self._max * self._count
        else:
            assert self._total == 0
            assert (self._min, self._max) == (self._highest + 1, -1)

    def _config_text(self) -> str:
        return f"sub_bucket_bits={self._sub_bits}, highest_ns={self._highest}"

    def __repr__(self) -> str:
        return (
            f"LatencyHistogram({self._config_text()}, count={self._count}, "
            f"min={self.min}, max={self.max})"
        )
