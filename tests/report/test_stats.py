"""Confidence intervals (``sim.report.stats``) against known answers."""

import numpy as np
import pytest
from scipy import stats as scipy_stats

from sim.report.stats import mean_ci, paired_ci, t_half_width


def test_t_interval_of_a_hand_computed_case():
    # 1..5: mean 3, sd sqrt(2.5); t(0.975, 4) = 2.7764451051977987
    m, lo, hi = mean_ci([1, 2, 3, 4, 5])
    half = 2.7764451051977987 * np.sqrt(2.5) / np.sqrt(5)
    assert m == 3 and lo == pytest.approx(3 - half, rel=1e-12)
    assert hi == pytest.approx(3 + half, rel=1e-12)


@pytest.mark.parametrize("n,level", [(2, 0.95), (7, 0.95), (30, 0.9), (200, 0.99)])
def test_t_interval_equals_scipy(n, level):
    x = np.random.default_rng(n).normal(10.0, 3.0, n)
    m, lo, hi = mean_ci(x, level)
    ref = scipy_stats.t.interval(level, n - 1, loc=x.mean(), scale=scipy_stats.sem(x))
    assert (lo, hi) == pytest.approx(ref, rel=1e-12)


def test_t_interval_covers_the_true_mean_95_percent_of_the_time():
    rng = np.random.default_rng(1)
    samples = rng.normal(5.0, 2.0, (4000, 5))
    half = t_half_width(samples.std(axis=1, ddof=1), 5)
    covered = np.abs(samples.mean(axis=1) - 5.0) <= half
    assert covered.mean() == pytest.approx(0.95, abs=0.012)  # 3.5 standard errors


def test_paired_interval_is_the_interval_of_the_differences():
    a, b = np.array([10.0, 12.0, 9.0, 14.0]), np.array([8.0, 11.0, 8.5, 11.0])
    assert paired_ci(a, b) == mean_ci(a - b)
    # common random numbers: a constant shift is known exactly, with no width
    assert paired_ci(b + 3.0, b) == (3.0, 3.0, 3.0)
    with pytest.raises(ValueError, match="shape"):
        paired_ci(a, b[:3])


def test_one_value_has_no_interval():
    m, lo, hi = mean_ci([4.0])
    assert m == 4.0 and np.isnan(lo) and np.isnan(hi)
