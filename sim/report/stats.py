"""Confidence intervals across replications, and paired by seed.

Replications of one scenario are independent (different root seeds), so the mean of a summary
number across them has the t-interval mean +- t(1 - alpha/2, n - 1) * sd / sqrt(n). Two
scenarios run with the same seed share every random number (common random numbers), so
their difference is taken seed by seed first and the interval is the t-interval of those
differences (a paired t-interval): much narrower than comparing two independent means.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

LEVEL = 0.95


def sem(values) -> float:
    """Standard error of the mean of ``values`` (sample sd / sqrt(n))."""
    x = np.asarray(values, dtype=float)
    return float(x.std(ddof=1) / np.sqrt(x.size))


def t_half_width(sd, n, level: float = LEVEL):
    """Half-width of the t-interval of a mean of ``n`` values with sample sd ``sd`` (arrays
    broadcast); NaN where ``n < 2``."""
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = stats.t.ppf(0.5 + level / 2, np.where(n >= 2, n - 1, np.nan))
        return q * np.asarray(sd, dtype=float) / np.sqrt(n)


def mean_ci(values, level: float = LEVEL) -> tuple[float, float, float]:
    """Mean and its t-based confidence interval (lower, upper) over independent
    replications; the interval is NaN with fewer than two values (NaN values are dropped)."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return float("nan"), float("nan"), float("nan")
    m = float(x.mean())
    half = float(t_half_width(x.std(ddof=1) if x.size > 1 else np.nan, x.size, level))
    return m, m - half, m + half


def paired_ci(treated, reference, level: float = LEVEL) -> tuple[float, float, float]:
    """Mean difference ``treated - reference`` and its paired t-interval; the two inputs are
    aligned replication by replication (same seed)."""
    a, b = np.asarray(treated, dtype=float), np.asarray(reference, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired values differ in shape: {a.shape} and {b.shape}")
    return mean_ci(a - b, level)
