"""The counter-based random streams: compiled and plain-Python draws agree, and look uniform."""

import numpy as np

from sim.core import rng as R


def test_compiled_and_python_streams_agree():
    for key in [(0, 1, 2, 3, 4), (2**40, 21, 10**9, 50_000, 255), (7, 10, 0, 0, 0)]:
        assert R.uniform(*key) == R.uniform_py(*key)
        assert R.normal(*key) == R.normal_py(*key)
    draws = np.array([R.uniform(1, R.CHURN, i, 5, 0) for i in range(20_000)])
    assert 0.0 < draws.min() and draws.max() < 1.0
    assert abs(draws.mean() - 0.5) < 0.01 and abs(draws.var() - 1 / 12) < 0.002
