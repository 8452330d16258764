"""Indices against functions whose answers are known, and PRIM against a known box."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.sensitivity.analysis import Target, morris_indices, sobol_indices
from sim.sensitivity.prim import find_boxes, parse_condition
from sim.sensitivity.sampling import design, n_points
from sim.sensitivity.space import Dimension, Space


def ishigami(X, a=7.0, b=0.1):
    return np.sin(X[:, 0]) + a * np.sin(X[:, 1]) ** 2 + b * X[:, 2] ** 4 * np.sin(X[:, 0])


def _space(k, lo=-np.pi, hi=np.pi):
    return Space(tuple(Dimension(f"x{i + 1}", "float", lo, hi) for i in range(k)))


def test_sobol_indices_of_the_ishigami_function():
    space = _space(3)
    d = design(space, "sobol", 1024, seed=3)
    assert d.X.shape == (n_points("sobol", 1024, 3), 3)
    idx = sobol_indices(space.problem(), ishigami(d.X), seed=3, resamples=300)
    # analytic: S1 = 0.314, 0.442, 0; ST = 0.558, 0.442, 0.244
    assert idx.S1.to_numpy() == pytest.approx([0.314, 0.442, 0.0], abs=0.05)
    assert idx.ST.to_numpy() == pytest.approx([0.558, 0.442, 0.244], abs=0.05)
    # the bootstrap intervals cover the analytic values and are not degenerate
    for col, truth in (("S1", [0.314, 0.442, 0.0]), ("ST", [0.558, 0.442, 0.244])):
        half = idx[f"{col}_conf"].to_numpy()
        assert np.all(half > 0) and np.all(np.abs(idx[col].to_numpy() - truth) <= 2 * half + 0.01)


def test_morris_screens_out_an_inert_parameter_and_ranks_the_others():
    space = _space(4, 0.0, 1.0)
    d = design(space, "morris", 20, seed=1, levels=4)
    assert d.X.shape == (20 * 5, 4)
    X = d.X
    y = 10 * X[:, 0] + 2 * X[:, 1] + 5 * X[:, 1] * X[:, 2]  # x4 inert; x2, x3 interact
    idx = morris_indices(space.problem(), X, y, 4, seed=1, resamples=200).set_index("parameter")
    assert idx.loc["x1", "mu_star"] == pytest.approx(10.0)  # linear: every effect is 10
    assert idx.loc["x1", "sigma"] == pytest.approx(0.0, abs=1e-9)
    assert idx.loc["x4", "mu_star"] == pytest.approx(0.0, abs=1e-12)
    assert idx.loc["x2", "sigma"] > 0 and idx.loc["x3", "sigma"] > 0  # the interaction
    assert idx.mu_star.idxmax() == "x1"


def test_the_same_settings_give_the_same_design():
    space = _space(3)
    for method, n in (("lhs", 20), ("morris", 4), ("sobol", 16)):
        a, b = design(space, method, n, seed=7), design(space, method, n, seed=7)
        assert np.array_equal(a.X, b.X) and len(a.values) == n_points(method, n, 3)
        assert not np.array_equal(a.X, design(space, method, n, seed=8).X)


def test_prim_finds_a_known_box():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.uniform(size=(2000, 4)), columns=list("abcd"))
    inside = (X.a > 0.3) & (X.a < 0.8) & (X.b < 0.5)
    y = np.where(inside, rng.uniform(size=2000) < 0.95, rng.uniform(size=2000) < 0.03)
    boxes = find_boxes(X, y, min_density=0.85)
    box = boxes[0]
    lim = box.limits.set_index("parameter")
    assert set(lim.index) == {"a", "b"}  # c and d are not restricted
    assert lim.loc["a", "low"] == pytest.approx(0.3, abs=0.05)
    assert lim.loc["a", "high"] == pytest.approx(0.8, abs=0.05)
    assert lim.loc["b", "high"] == pytest.approx(0.5, abs=0.05)
    assert box.coverage > 0.8 and box.density >= 0.85
    traj = box.trajectory
    assert traj.coverage.iloc[0] == pytest.approx(1.0) and traj.density.is_monotonic_increasing \
        or traj.density.iloc[-1] > traj.density.iloc[0]


def test_conditions_and_targets_parse():
    t, op, thr = parse_condition("silent_hike-baseline:customer_equity < -1e3")
    assert t == Target("silent_hike", "baseline", "customer_equity") and (op, thr) == ("<", -1e3)
    assert Target.parse("baseline:profit_year1").reference is None
    with pytest.raises(ValueError, match="must be target<number"):
        parse_condition("silent_hike:customer_equity = 0")
