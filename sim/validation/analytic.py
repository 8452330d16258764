"""Exact references the simulation is validated against: Erlang C, Erlang A and constant-
retention customer lifetime value.

Units: rates are per minute, times are in minutes, ``staff`` is a whole number of agents.
All three queueing results assume a stationary system: Poisson arrivals (rate lambda),
exponential handling (mean 1/mu), and for Erlang A exponential patience (mean 1/theta),
first-come-first-served with ``staff`` = c identical agents and an unlimited waiting room.

Sources:
- Erlang C (M/M/c): A. K. Erlang (1917), "Solution of some problems in the theory of
  probabilities of significance in automatic telephone exchanges"; computed through the
  Erlang B recursion B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1)), which stays in [0, 1] for any
  number of agents (no factorials, no overflow), and C = c B / (c - a (1 - B)).
- Erlang A (M/M/c+M): C. Palm (1943/1957) introduced exponential patience; Garnett,
  Mandelbaum & Reiman (2002), "Designing a call center with impatient customers",
  Manufacturing & Service Operations Management 4(3):208-227. Here it is solved exactly as the
  birth-death chain on the number in system n: birth rate lambda, death rate
  min(n, c) mu + max(n - c, 0) theta. By PASTA an arrival finds the stationary distribution,
  so P(wait > 0) = P(n >= c); by Little's law on the queue E[W] = E[Q] / lambda (W = time on
  hold, counting abandoners up to the moment they hang up); every caller in queue leaves by
  abandonment at rate theta, so P(abandon) = theta E[Q] / lambda = theta E[W].
- Customer lifetime value: Gupta, Lehmann & Stuart (2004), "Valuing customers", Journal of
  Marketing Research 41(1):7-18: CLV = m r / (1 + i - r).

Only numpy and math are imported here.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

# Erlang A: the chain is truncated where the stationary probability has fallen below
# exp(-_LOG_TAIL) of its maximum (about 1e-20): far below any quantity reported here.
_LOG_TAIL = 46.0
# Erlang A: refuse chains larger than this (only reached with patience so long, relative to
# the overload, that hundreds of millions of callers would be queueing).
_MAX_STATES = 10_000_000


def require_positive(name: str, value, allow_inf: bool = False) -> float:
    """``value`` as a float if it is a positive real number (inf only if ``allow_inf``);
    otherwise ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    x = float(value)
    if math.isnan(x) or x <= 0.0 or (math.isinf(x) and not allow_inf):
        kind = "positive (inf allowed)" if allow_inf else "positive and finite"
        raise ValueError(f"{name} must be {kind}, got {value!r}")
    return x


def require_staff(value) -> int:
    """``value`` as an int if it is a whole number of agents >= 1; otherwise ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"staff must be a whole number of agents, got {value!r}")
    if not math.isfinite(float(value)) or float(value) != int(value) or int(value) < 1:
        raise ValueError(f"staff must be a whole number >= 1, got {value!r}")
    return int(value)


def erlang_b(load: float, staff: int) -> float:
    """Blocking probability of M/M/c/c (Erlang B) for offered load ``load`` = lambda/mu
    (Erlangs), by the recursion B(k) = a B(k-1) / (k + a B(k-1)); stable for any c."""
    a = require_positive("load", load)
    c = require_staff(staff)
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(arrival_rate: float, handle_minutes: float, staff: int) -> dict:
    """Erlang C (M/M/c, no abandonment): the steady state of a call centre whose callers
    never hang up.

    Parameters: ``arrival_rate`` lambda (calls per minute), ``handle_minutes`` 1/mu (mean
    handling time, minutes), ``staff`` c (agents).

    Returns a dict with ``p_wait`` (probability an arriving caller waits, Erlang's C formula),
    ``mean_wait`` (mean minutes on hold over all callers, C / (c mu - lambda)),
    ``mean_wait_if_waiting`` (1 / (c mu - lambda)), ``utilisation`` (lambda / (c mu)),
    ``load`` (offered load a = lambda / mu, Erlangs) and ``mean_queue`` (lambda E[W]).

    Raises ValueError when the inputs are not positive or the system is unstable
    (a >= c: the queue grows without bound, there is no steady state).
    """
    lam = require_positive("arrival_rate", arrival_rate)
    h = require_positive("handle_minutes", handle_minutes)
    c = require_staff(staff)
    a = lam * h
    if a >= c:
        raise ValueError(
            f"Erlang C has no steady state: offered load {a:.4g} Erlangs (arrival_rate * "
            f"handle_minutes) >= staff {c}; without abandonment the queue grows without bound "
            "(use erlang_a with a finite patience for overload)")
    b = erlang_b(a, c)
    p_wait = c * b / (c - a * (1.0 - b))
    mu = 1.0 / h
    excess = c * mu - lam  # minutes^-1
    mean_wait = p_wait / excess
    return {
        "p_wait": p_wait,
        "mean_wait": mean_wait,
        "mean_wait_if_waiting": 1.0 / excess,
        "utilisation": a / c,
        "load": a,
        "mean_queue": lam * mean_wait,
    }


def erlang_a(arrival_rate: float, handle_minutes: float, staff: int,
             patience_minutes: float) -> dict:
    """Erlang A (M/M/c+M, Palm; Garnett, Mandelbaum & Reiman 2002): callers hang up after an
    exponential patience of mean ``patience_minutes`` (1/theta) if not yet served.

    Solved exactly from the birth-death chain on n = number in system (birth lambda, death
    min(n, c) mu + max(n - c, 0) theta), normalised in log space and truncated where the
    tail is below about 1e-20 of the peak, so it is stable for thousands of agents and in
    overload (lambda > c mu is fine: abandonment keeps the chain positive recurrent).

    Returns a dict with ``p_wait`` (P(an arriving caller finds all agents busy), by PASTA),
    ``mean_wait`` (E[W], mean minutes on hold over *all* callers, abandoners counted until
    they hang up; = E[Q] / lambda), ``p_abandon`` (theta E[Q] / lambda), ``mean_queue``
    (E[Q], callers on hold), ``utilisation`` (E[busy agents] / c = lambda (1 - P(abandon))
    / (c mu)) and ``load`` (lambda / mu, Erlangs).

    ``patience_minutes = inf`` (theta = 0) falls back to :func:`erlang_c` (and raises its
    ValueError when that system is unstable), with ``p_abandon = 0``.
    """
    lam = require_positive("arrival_rate", arrival_rate)
    h = require_positive("handle_minutes", handle_minutes)
    c = require_staff(staff)
    patience = require_positive("patience_minutes", patience_minutes, allow_inf=True)
    if math.isinf(patience):
        out = erlang_c(lam, h, c)
        return {"p_wait": out["p_wait"], "mean_wait": out["mean_wait"], "p_abandon": 0.0,
                "mean_queue": out["mean_queue"], "utilisation": out["utilisation"],
                "load": out["load"]}
    mu, theta = 1.0 / h, 1.0 / patience

    # log pi_n - log pi_0 = sum_{k=1}^{n} log(lambda / death_k). The terms decrease in k, so
    # the log-probabilities rise to a single peak (near the n where death_n = lambda) and then
    # fall ever faster: grow the truncation point until the last state is negligible.
    peak = c if lam <= c * mu else c + (lam - c * mu) / theta
    n_max = int(peak + 20.0 * math.sqrt(peak + 1.0) + 50.0)
    while True:
        if n_max > _MAX_STATES:
            raise ValueError(
                f"Erlang A chain needs more than {_MAX_STATES} states (arrival_rate={lam}, "
                f"handle_minutes={h}, staff={c}, patience_minutes={patience}): the patience is "
                "too long for this overload")
        n = np.arange(1, n_max + 1, dtype=np.float64)
        death = np.minimum(n, c) * mu + np.maximum(n - c, 0.0) * theta
        log_p = np.concatenate(([0.0], np.cumsum(np.log(lam) - np.log(death))))
        top = log_p.max()
        if log_p[-1] < top - _LOG_TAIL:
            break
        n_max *= 2
    p = np.exp(log_p - top)
    p /= p.sum()
    states = np.arange(n_max + 1, dtype=np.float64)
    queue = np.maximum(states - c, 0.0)
    mean_queue = float(np.dot(p, queue))
    p_wait = float(p[c:].sum())
    mean_wait = mean_queue / lam
    p_abandon = theta * mean_queue / lam
    busy = float(np.dot(p, np.minimum(states, c)))
    return {
        "p_wait": p_wait,
        "mean_wait": mean_wait,
        "p_abandon": p_abandon,
        "mean_queue": mean_queue,
        "utilisation": busy / c,
        "load": lam * h,
    }


def clv(margin: float, retention: float, discount: float) -> float:
    """Customer lifetime value with constant margin and retention (Gupta, Lehmann & Stuart
    2004, JMR 41:7): CLV = m r / (1 + i - r) = sum_{t >= 1} m r^t / (1 + i)^t.

    Convention (theirs): the margin ``margin`` m of period t is received at the end of period
    t, only if the customer is still there (retained t times, probability r^t), and is
    discounted t periods at rate ``discount`` i per period. ``retention`` r is the per-period
    retention probability in [0, 1]; ``discount`` must be >= 0; r = 1 with i = 0 has no finite
    value and raises ValueError. A negative margin (a loss-making customer) is allowed.
    """
    for name, value in (("margin", margin), ("retention", retention), ("discount", discount)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) \
                or not math.isfinite(float(value)):
            raise ValueError(f"{name} must be a finite real number, got {value!r}")
    m, r, i = float(margin), float(retention), float(discount)
    if not 0.0 <= r <= 1.0:
        raise ValueError(f"retention must be a probability in [0, 1], got {retention!r}")
    if i < 0.0:
        raise ValueError(f"discount must be >= 0 (a rate per period), got {discount!r}")
    if 1.0 + i - r <= 0.0:
        raise ValueError("CLV is infinite with retention 1 and discount 0")
    return m * r / (1.0 + i - r)
