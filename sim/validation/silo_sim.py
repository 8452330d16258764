"""One service silo simulated in isolation with the model's own queue kernel, fed the
assumptions of Erlang C / Erlang A, so it can be checked against ``sim.validation.analytic``.

What is the same as in the model (``sim.core.model.ServiceSilo`` + ``sim.core.kernels._silo_day``):
the FCFS kernel ``sim.core.queue._serve_fcfs``; the servers' next-free times as a min-heap built by
``sim.core.queue.heapify`` that persists from one day to the next (a backlog carries over); the
business-minute clock, day d covering [60 H d, 60 H (d + 1)) for a silo open H hours; callers
told nothing (``ANNOUNCE_NONE``), no callbacks; all draws from counter-based streams.

What is different, on purpose (these are Erlang's assumptions, not the model's):
- arrivals are a Poisson process of fixed rate in business time: exponential gaps, restarted
  at each opening (memorylessness makes the restart exact), instead of the model's customers
  calling when an issue arises;
- handling and patience are exponential with fixed means; ``patience_minutes=None`` means
  callers never hang up (Erlang C); no captive callers, no position announcements;
- callers may hold past closing (the model cuts them off at closing), so the queue runs in
  continuous business time as Erlang's steady state assumes.

Random numbers: stream ``sim.core.rng.SILO_ALONE``, keyed (seed, SILO_ALONE, caller j of the day,
day, k) with k = 0 for the gap before caller j, 1 for their handling time, 2 for their
patience. A draw is a pure function of its key, so the same seed gives the identical result.

Estimates: the first ``warmup_days`` days start from an empty silo and are discarded.
Every statistic is a ratio over callers, so the standard errors are by batch means: the kept
days are cut into ``batches`` consecutive groups, the ratio is computed per group, and
SE = sd(group ratios) / sqrt(groups). This assumes groups are long compared with the queue's
relaxation time (many hours here; check ``days`` / ``batches`` when you change the rates).
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from numba import njit

from sim.core import queue as Q
from sim.validation.analytic import require_positive, require_staff
from sim.report.stats import sem
from sim.core import rng as R

K_GAP, K_HANDLE, K_PATIENCE = 0, 1, 2


@njit(cache=True)
def _day_draws(seed, day, day_start, day_minutes, mean_gap, handle_mean, patience_mean):
    """Callers of one day: returns (arrival, handle, patience), float64 arrays of shape (n,)
    sorted by arrival (business minutes, in [day_start, day_start + day_minutes)).
    ``patience_mean`` inf gives infinite patience."""
    cap = int(day_minutes / mean_gap + 10.0 * math.sqrt(day_minutes / mean_gap) + 16.0)
    arrival = np.empty(cap)
    end = day_start + day_minutes
    t = day_start
    n = 0
    while True:
        t += R.exponential(seed, R.SILO_ALONE, n, day, K_GAP, mean_gap)
        if t >= end:
            break
        if n == cap:  # rare: grow
            cap *= 2
            bigger = np.empty(cap)
            bigger[:n] = arrival[:n]
            arrival = bigger
        arrival[n] = t
        n += 1
    arrival = arrival[:n].copy()
    handle = np.empty(n)
    patience = np.empty(n)
    for j in range(n):
        handle[j] = R.exponential(seed, R.SILO_ALONE, j, day, K_HANDLE, handle_mean)
        if math.isinf(patience_mean):
            patience[j] = np.inf
        else:
            patience[j] = R.exponential(seed, R.SILO_ALONE, j, day, K_PATIENCE, patience_mean)
    return arrival, handle, patience


@njit(cache=True)
def _simulate_days(seed, days, day_minutes, mean_gap, handle_mean, patience_mean, free_at,
                   part, out_calls, out_waited, out_abandoned, out_hold):
    """Run ``days`` days against the persistent server heap ``free_at`` (shape (c,), updated
    in place). Writes per-day totals (shape (days,)): calls, callers who waited > 0, callers
    who abandoned, and minutes on hold (abandoners counted until they hung up). ``part``:
    the queue's part-time agent (``sim.core.queue.no_part_time``: none)."""
    for day in range(days):
        day_start = day * day_minutes
        arrival, handle, patience = _day_draws(seed, day, day_start, day_minutes, mean_gap,
                                               handle_mean, patience_mean)
        n = arrival.shape[0]
        accepts = np.zeros(n, np.bool_)
        outcome = np.empty(n, np.int8)
        hold = np.empty(n)
        told = np.empty(n)
        start = np.empty(n)
        Q._serve_fcfs(arrival, handle, patience, accepts, np.full(n, np.inf),
                      Q.ANNOUNCE_NONE, -1.0, False, 0.0, np.inf, free_at, part, outcome, hold,
                      told, start)
        waited = 0
        abandoned = 0
        total = 0.0
        for j in range(n):
            if hold[j] > 0.0:
                waited += 1
            if outcome[j] == Q.ABANDONED:
                abandoned += 1
            total += hold[j]
        out_calls[day] = n
        out_waited[day] = waited
        out_abandoned[day] = abandoned
        out_hold[day] = total


def _whole(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral | float) \
            or not math.isfinite(value) or int(value) != value or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return int(value)


def simulate_silo(arrival_rate: float, handle_minutes: float, staff: int,
                  patience_minutes: float | None = None, days: int = 60,
                  open_hours: float = 24.0, seed: int = 0, warmup_days: int = 1,
                  batches: int = 30) -> dict:
    """Simulate one silo with ``staff`` agents for ``warmup_days + days`` days of
    ``open_hours`` business hours; statistics over the last ``days`` days.

    ``arrival_rate``: calls per business minute (Poisson); ``handle_minutes``: mean handling
    time (exponential); ``patience_minutes``: mean patience (exponential; None or inf: callers
    never hang up).

    Returns a dict: ``p_wait`` (share of callers who waited > 0, abandoners included),
    ``mean_wait`` (mean minutes on hold over all callers, abandoners counted up to their
    patience), ``p_abandon``, ``calls`` (callers in the kept days), ``calls_per_day``, each
    with ``<name>_se`` (batch means over days; ``calls_se`` is the SE of the total), plus
    ``days``, ``batches`` and ``backlog_end`` (agents still committed past the last
    closing, i.e. work carried over).
    """
    lam = require_positive("arrival_rate", arrival_rate)
    h = require_positive("handle_minutes", handle_minutes)
    if patience_minutes is None:
        patience = math.inf
    else:
        patience = require_positive("patience_minutes", patience_minutes, allow_inf=True)
    staff = require_staff(staff)
    hours = require_positive("open_hours", open_hours)
    if hours > 24.0:
        raise ValueError(f"open_hours must be at most 24, got {open_hours!r}")
    days = _whole("days", days, 2)  # two days at least, for a standard error
    warmup_days = _whole("warmup_days", warmup_days, 0)
    seed = _whole("seed", seed, 0)
    batches = min(_whole("batches", batches, 2), days)
    day_minutes = 60.0 * hours

    total_days = warmup_days + days
    calls = np.zeros(total_days, np.int64)
    waited = np.zeros(total_days, np.int64)
    abandoned = np.zeros(total_days, np.int64)
    hold = np.zeros(total_days, np.float64)
    free_at = np.zeros(staff, np.float64)  # all agents free at the first opening
    Q.heapify(free_at)
    _simulate_days(seed, total_days, day_minutes, 1.0 / lam, h, patience, free_at,
                   Q.no_part_time(), calls, waited, abandoned, hold)
    keep = slice(warmup_days, total_days)
    calls, waited, abandoned, hold = calls[keep], waited[keep], abandoned[keep], hold[keep]
    n = int(calls.sum())
    if n == 0:
        raise ValueError("no calls arrived: raise arrival_rate or days")

    # batch means: consecutive groups of days (sizes differ by at most one day)
    groups = np.array_split(np.arange(days), batches)

    def per_batch(num):
        return np.array([num[g].sum() / max(calls[g].sum(), 1) for g in groups])

    b_calls = np.array([calls[g].sum() for g in groups], dtype=float)
    b_days = np.array([g.size for g in groups], dtype=float)
    last_close = total_days * day_minutes
    return {
        "p_wait": waited.sum() / n,
        "p_wait_se": sem(per_batch(waited)),
        "mean_wait": hold.sum() / n,
        "mean_wait_se": sem(per_batch(hold)),
        "p_abandon": abandoned.sum() / n,
        "p_abandon_se": sem(per_batch(abandoned)),
        "calls": n,
        "calls_se": sem(b_calls) * batches,
        "calls_per_day": n / days,
        "calls_per_day_se": sem(b_calls / b_days),
        "days": days,
        "batches": batches,
        "backlog_end": int(np.sum(free_at > last_close)),
    }
