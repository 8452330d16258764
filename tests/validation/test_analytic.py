"""The queueing and CLV references themselves are right: ``sim.validation.analytic`` against
hand-computed textbook cases and independent formulas (direct Erlang C sum, the generator
matrix of the M/M/c+M chain, limits of Erlang A)."""

import math
from fractions import Fraction

import numpy as np
import pytest

from sim.validation import analytic as A


# -- Erlang C ------------------------------------------------------------------------------
def erlang_c_direct(a: float, c: int) -> float:
    """Erlang's C formula as printed in textbooks, in exact rational arithmetic (small c)."""
    a = Fraction(a)
    top = a**c / math.factorial(c) * Fraction(c) / (c - a)
    return float(top / (sum(a**k / math.factorial(k) for k in range(c)) + top))


def test_erlang_c_hand_computed_cases():
    # M/M/1: P(wait) = rho, E[W] = rho / (mu - lambda)
    out = A.erlang_c(0.5, 1.0, 1)
    assert out["p_wait"] == pytest.approx(0.5, rel=1e-12)
    assert out["mean_wait"] == pytest.approx(1.0, rel=1e-12)
    # one call a minute, 3-minute calls, 5 agents (a = 3 Erlangs): sum_{k<5} 3^k/k! = 131/8,
    # 3^5/5! * 5/2 = 81/16, so C = (81/16) / (131/8 + 81/16) = 81/343 and
    # E[W] = C / (c mu - lambda) = (81/343) / (5/3 - 1) = 243/686 minutes.
    out = A.erlang_c(1.0, 3.0, 5)
    assert out["p_wait"] == pytest.approx(81 / 343, rel=1e-12)
    assert out["mean_wait"] == pytest.approx(243 / 686, rel=1e-12)
    assert out["utilisation"] == pytest.approx(0.6)
    # 120 customers an hour, 3 minutes each, 10 assistants (a = 6): the textbook answer read
    # off the Erlang C curve is "about 0.10"
    assert A.erlang_c(2.0, 3.0, 10)["p_wait"] == pytest.approx(0.10, abs=0.005)


@pytest.mark.parametrize("c", [1, 2, 3, 7, 15, 30, 60])
@pytest.mark.parametrize("rho", [0.1, 0.5, 0.8, 0.95, 0.999])
def test_erlang_b_recursion_equals_direct_sum(c, rho):
    a = round(rho * c, 6)
    assert A.erlang_c(a, 1.0, c)["p_wait"] == pytest.approx(erlang_c_direct(a, c), rel=1e-10)


def test_erlang_c_thousands_of_agents():
    # a = 4900 Erlangs on 5000 agents: factorials would overflow; the recursion does not
    out = A.erlang_c(4900.0, 1.0, 5000)
    assert 0.0 < out["p_wait"] < 1.0 and math.isfinite(out["mean_wait"])
    # square-root staffing (Halfin & Whitt 1981): c = a + beta sqrt(a) keeps P(wait) at
    # the same level whatever the size; beta = 1 gives P(wait) near 0.22
    for a in (100.0, 2500.0, 10_000.0):
        c = int(a + math.sqrt(a))
        assert A.erlang_c(a, 1.0, c)["p_wait"] == pytest.approx(0.22, abs=0.03)


@pytest.mark.parametrize("args", [(10.0, 1.0, 10), (11.0, 1.0, 10), (0.0, 1.0, 1),
                                  (-1.0, 1.0, 2), (1.0, 0.0, 2), (1.0, math.inf, 2),
                                  (1.0, 1.0, 0), (1.0, 1.0, 2.5), (math.nan, 1.0, 2),
                                  (1.0, 1.0, True), ("1", 1.0, 2)])
def test_erlang_c_rejects_bad_input(args):
    with pytest.raises(ValueError):
        A.erlang_c(*args)


def test_erlang_c_unstable_message_is_clear():
    with pytest.raises(ValueError, match="no steady state"):
        A.erlang_c(2.0, 5.0, 10)


# -- Erlang A ------------------------------------------------------------------------------
def erlang_a_generator(lam, h, c, patience, n_max):
    """Independent solution: the stationary vector of the truncated generator matrix."""
    mu, theta = 1.0 / h, 1.0 / patience
    size = n_max + 1
    G = np.zeros((size, size))
    for n in range(size):
        if n < n_max:
            G[n, n + 1] = lam
        if n > 0:
            G[n, n - 1] = min(n, c) * mu + max(n - c, 0) * theta
        G[n, n] = -G[n].sum()
    M = np.vstack([G.T, np.ones(size)])
    rhs = np.zeros(size + 1)
    rhs[-1] = 1.0
    p = np.linalg.lstsq(M, rhs, rcond=None)[0]
    queue = np.maximum(np.arange(size) - c, 0)
    return {"p_wait": p[c:].sum(), "mean_queue": p @ queue}


@pytest.mark.parametrize("lam,h,c,patience", [(1.6, 5.0, 10, 10.0), (2.0, 5.0, 10, 10.0),
                                              (2.6, 5.0, 10, 10.0), (0.9, 1.0, 1, 3.0),
                                              (5.0, 2.0, 4, 0.5)])
def test_erlang_a_equals_generator_matrix(lam, h, c, patience):
    out = A.erlang_a(lam, h, c, patience)
    ref = erlang_a_generator(lam, h, c, patience, n_max=400)
    assert out["p_wait"] == pytest.approx(ref["p_wait"], rel=1e-8)
    assert out["mean_queue"] == pytest.approx(ref["mean_queue"], rel=1e-8)
    assert out["mean_wait"] == pytest.approx(ref["mean_queue"] / lam, rel=1e-8)


def test_erlang_a_when_patience_equals_handling_is_poisson():
    # theta = mu: every one of the n callers in the system leaves at rate mu, as in M/M/inf,
    # so n ~ Poisson(a) and P(wait) = P(n >= c), E[Q] = E[(n - c)+]
    a, c = 7.0, 8
    pmf = [math.exp(-a) * a**k / math.factorial(k) for k in range(80)]
    p_wait = sum(pmf[c:])
    mean_queue = sum((k - c) * pmf[k] for k in range(c, 80))
    out = A.erlang_a(a / 4.0, 4.0, c, 4.0)
    assert out["p_wait"] == pytest.approx(p_wait, rel=1e-10)
    assert out["mean_queue"] == pytest.approx(mean_queue, rel=1e-10)
    assert out["p_abandon"] == pytest.approx(0.25 * mean_queue / (a / 4.0), rel=1e-10)


@pytest.mark.parametrize("rho", [0.5, 0.9, 0.99])
def test_erlang_a_tends_to_erlang_c_as_patience_grows(rho):
    c, h = 10, 5.0
    lam = rho * c / h
    ref = A.erlang_c(lam, h, c)
    gaps = []
    for patience in (1e5, 1e7):
        out = A.erlang_a(lam, h, c, patience)
        gaps.append(abs(out["mean_wait"] / ref["mean_wait"] - 1))
    # the gap closes like 1/patience (100x longer patience, about 100x smaller gap)
    assert gaps[1] < gaps[0] / 50 and gaps[1] < 2e-3
    assert out["p_wait"] == pytest.approx(ref["p_wait"], rel=2e-3)
    inf = A.erlang_a(lam, h, c, math.inf)
    assert inf["p_wait"] == ref["p_wait"] and inf["p_abandon"] == 0.0


def test_erlang_a_impatient_limit_is_erlang_b():
    # patience -> 0: callers who find every agent busy leave at once (M/M/c/c loss system)
    out = A.erlang_a(1.6, 5.0, 10, 1e-7)
    assert out["p_abandon"] == pytest.approx(A.erlang_b(8.0, 10), rel=1e-5)
    assert out["p_wait"] == pytest.approx(A.erlang_b(8.0, 10), rel=1e-5)


@pytest.mark.parametrize("lam,c", [(1.0, 10), (2.0, 10), (3.0, 10), (2000.0, 9000), (60.0, 10)])
def test_erlang_a_identity_and_overload(lam, c):
    patience, h = 10.0, 5.0
    out = A.erlang_a(lam, h, c, patience)
    assert out["p_abandon"] == pytest.approx(out["mean_wait"] / patience, rel=1e-12)
    assert 0.0 <= out["p_abandon"] < 1.0 and 0.0 <= out["p_wait"] <= 1.0
    # flow balance: served calls = lambda (1 - P(abandon)) = mu E[busy agents]
    assert lam * (1 - out["p_abandon"]) == pytest.approx(
        out["utilisation"] * c / h, rel=1e-9)
    if lam * h > 2 * c:  # deep overload: almost everyone above capacity abandons
        assert out["p_abandon"] == pytest.approx(1 - c / (lam * h), rel=0.02)


def test_erlang_a_rejects_bad_input():
    for bad in (0.0, -1.0, math.nan, None):
        with pytest.raises(ValueError):
            A.erlang_a(1.0, 1.0, 2, bad)
    with pytest.raises(ValueError, match="no steady state"):
        A.erlang_a(3.0, 1.0, 2, math.inf)  # no abandonment, overloaded


# -- CLV -----------------------------------------------------------------------------------
def test_clv_hand_computed():
    # m = 100, r = 0.8, i = 0.1: 100 * 0.8 / 0.3 = 266.67
    assert A.clv(100.0, 0.8, 0.10) == pytest.approx(800 / 3, rel=1e-12)
    # margin multiples r / (1 + i - r) at i = 12%: 0.6/0.52, 0.8/0.32 = 2.5, 0.9/0.22
    assert A.clv(1.0, 0.8, 0.12) == pytest.approx(2.5, rel=1e-12)
    assert A.clv(1.0, 0.6, 0.12) == pytest.approx(1.1538, abs=1e-4)
    assert A.clv(1.0, 0.9, 0.12) == pytest.approx(4.0909, abs=1e-4)
    # the formula is the discounted sum of expected margins, first paid after one period
    series = sum(50.0 * (0.9 / 1.12) ** t for t in range(1, 2000))
    assert A.clv(50.0, 0.9, 0.12) == pytest.approx(series, rel=1e-12)
    assert A.clv(100.0, 0.0, 0.1) == 0.0 and A.clv(-10.0, 0.5, 0.0) == -10.0


@pytest.mark.parametrize("args", [(100.0, 1.0, 0.0), (100.0, 1.2, 0.1), (100.0, -0.1, 0.1),
                                  (100.0, 0.8, -0.05), (math.inf, 0.8, 0.1),
                                  (100.0, math.nan, 0.1), ("100", 0.8, 0.1)])
def test_clv_rejects_bad_input(args):
    with pytest.raises(ValueError):
        A.clv(*args)
