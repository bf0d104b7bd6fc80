"""The statistics of "what rises" (docs/reports.md, "Hot issues"): a key's expected count
in a period from its own baseline, and how surprising the observed count is.

Pure functions on counts, so that they can be checked on known numbers.

- The expectation μ is the mean of the previous periods (same-length ones, or for a
  calendar month the months before, each scaled to the month's days), or the same
  period last year when that was higher: a rise that came last year too (heating in
  November) is the season, not news.
- Counts of complaints vary more than a Poisson count when the baseline says so (their
  variance over the previous periods exceeds their mean, dispersion D = s²/m > 1): the
  tail is then a negative binomial's of mean μ and variance μ·D, else a Poisson's of μ.
- A key is hot when it has at least ``min_count`` orders and the upper-tail probability
  P(X ≥ observed) is below ``alpha``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# A key with no orders in its baseline would be expected at 0 and any order would be
# infinitely surprising: half an order per period is the least expected.
MIN_MEAN = 0.5
MIN_COUNT = 5
ALPHA = 0.01
# The tail's sum stops when a term adds less than this share of it.
_PRECISION = 1e-15
_MAX_TERMS = 1_000_000


@dataclass(frozen=True)
class Expectation:
    """A key's expected count in the period and the variance around it."""

    mean: float
    variance: float
    periods: int  # previous periods in the baseline
    last_year: float | None  # the same period last year, when its days were counted


@dataclass(frozen=True)
class Verdict:
    observed: int
    expected: float
    p: float  # P(X ≥ observed) under the expectation
    z: float  # (observed − μ) / σ
    hot: bool


def expect(previous: Sequence[float], last_year: float | None = None) -> Expectation | None:
    """The expectation from the previous periods' counts and last year's same period
    (each scaled to the period's length); None without any of them."""
    if not previous and last_year is None:
        return None
    recent = sum(previous) / len(previous) if previous else 0.0
    dispersion = 1.0
    if len(previous) >= 2 and recent > 0:
        variance = sum((x - recent) ** 2 for x in previous) / (len(previous) - 1)
        dispersion = max(1.0, variance / recent)
    mean = max(recent, float(last_year or 0), MIN_MEAN)
    return Expectation(mean, mean * dispersion, len(previous), last_year)


def poisson_upper_tail(x: int, mean: float) -> float:
    """P(X ≥ x) for X ~ Poisson(mean)."""
    if x <= 0:
        return 1.0

    def log_pmf(k: int) -> float:
        return k * math.log(mean) - mean - math.lgamma(k + 1)

    def ratio(k: int) -> float:  # pmf(k + 1) / pmf(k)
        return mean / (k + 1)

    return _tail(x, mean, log_pmf, ratio)


def negative_binomial_upper_tail(x: int, mean: float, variance: float) -> float:
    """P(X ≥ x) for a negative binomial of this mean and variance (> mean): r = μ²/(σ²−μ)
    failures, success probability q = μ/σ²."""
    if x <= 0:
        return 1.0
    r = mean * mean / (variance - mean)
    q = mean / variance

    def log_pmf(k: int) -> float:
        return (
            math.lgamma(k + r)
            - math.lgamma(r)
            - math.lgamma(k + 1)
            + r * math.log(q)
            + k * math.log1p(-q)
        )

    def ratio(k: int) -> float:
        return (k + r) / (k + 1) * (1 - q)

    return _tail(x, mean, log_pmf, ratio)


def upper_tail(x: int, expectation: Expectation) -> float:
    """P(X ≥ x) under the expectation: negative binomial when overdispersed."""
    if expectation.variance > expectation.mean:
        return negative_binomial_upper_tail(x, expectation.mean, expectation.variance)
    return poisson_upper_tail(x, expectation.mean)


def judge(
    observed: int,
    expectation: Expectation,
    *,
    min_count: int = MIN_COUNT,
    alpha: float = ALPHA,
) -> Verdict:
    p = upper_tail(observed, expectation)
    z = (observed - expectation.mean) / math.sqrt(expectation.variance)
    hot = observed >= min_count and observed > expectation.mean and p < alpha
    return Verdict(observed, expectation.mean, p, z, hot)


def _tail(
    x: int,
    mean: float,
    log_pmf: Callable[[int], float],
    ratio: Callable[[int], float],
) -> float:
    """P(X ≥ x) of a unimodal count distribution, summed from x away from the mode (so
    each term is smaller than the one before it and the sum converges fast): upward
    when x is above the mean, else 1 − the terms below x, downward."""
    if x > mean:
        term = math.exp(log_pmf(x))
        total, k = 0.0, x
        while term > 0 and k - x < _MAX_TERMS:
            total += term
            if term < total * _PRECISION and ratio(k) < 1:
                break
            term *= ratio(k)
            k += 1
        return min(1.0, total)
    below, k = 0.0, x - 1
    term = math.exp(log_pmf(k))
    while k >= 0 and term > 0:
        below += term
        if term < below * _PRECISION:
            break
        k -= 1
        if k >= 0:
            term /= ratio(k)
    return max(0.0, 1.0 - below)
