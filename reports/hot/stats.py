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
  P(X ≥ observed) is below ``alpha``. The tails are the distributions' closed forms
  (incomplete gamma and beta functions), as fast for a count of ten thousand as of ten:
  a sum of the terms took as many steps as the count's spread.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy.special import betainc, gammainc

# A key with no orders in its baseline would be expected at 0 and any order would be
# infinitely surprising: half an order per period is the least expected.
MIN_MEAN = 0.5
MIN_COUNT = 5
ALPHA = 0.01


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
    """P(X ≥ x) for X ~ Poisson(mean): the regularized lower incomplete gamma P(x, mean)."""
    if x <= 0:
        return 1.0
    return float(gammainc(x, mean))


def negative_binomial_upper_tail(x: int, mean: float, variance: float) -> float:
    """P(X ≥ x) for a negative binomial of this mean and variance (> mean): r = μ²/(σ²−μ)
    failures, success probability q = μ/σ²; the regularized incomplete beta I₁₋q(x, r)."""
    if x <= 0:
        return 1.0
    r = mean * mean / (variance - mean)
    q = mean / variance
    return float(betainc(x, r, 1 - q))


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
