"""Today's rows and their day stamps (``sim.core.layout``): a customer's first event of a day
resets their ``t_*`` rows to "nothing happened" and stamps the day (``_touch``); a customer
with a stale stamp had nothing happen today."""

from __future__ import annotations

from numba import njit, prange

from sim.core import layout as L


@njit(cache=True, inline="always")
def _reset_today(F, I, i):
    """Today's rows (``t_*``) to their "nothing happened" values (``layout.T_NOTHING``:
    0, except -1 for t_announced, t_ss, t_rep, t_call, t_unfair and t_outreach)."""
    F[L.F_T_PRICE_CHANGE, i] = 0.0
    F[L.F_T_HOLD, i] = 0.0
    F[L.F_T_ANNOUNCED, i] = -1.0
    F[L.F_T_CALLBACK_WAIT, i] = 0.0
    F[L.F_T_SHOCK, i] = 0.0
    I[L.I_T_ACTION, i] = 0
    I[L.I_T_ISSUE_NEW, i] = 0
    I[L.I_T_SS, i] = -1
    I[L.I_T_REP, i] = -1
    I[L.I_T_CALL, i] = -1
    I[L.I_T_CLOSED, i] = 0
    I[L.I_T_RENEWAL, i] = 0
    I[L.I_T_UNFAIR, i] = -1
    I[L.I_T_OUTREACH, i] = -1
    I[L.I_T_CHURN, i] = 0
    I[L.I_T_SAVED, i] = 0
    I[L.I_T_ACQUIRED, i] = 0


@njit(cache=True, inline="always")
def _touch(F, I, i, day):
    """Before writing one of customer ``i``'s rows for ``day``: if they are stale (stamped
    another day), reset them to "nothing happened" and stamp ``day``."""
    if I[L.I_TODAY, i] != day:
        _reset_today(F, I, i)
        I[L.I_TODAY, i] = day


@njit(cache=True, parallel=True)
def _settle(F, I, n, day):
    """Reset the stale today's rows of customers [0, n) and stamp them ``day``: afterwards
    every row reads as the reference's mornings leave it. Changes no result."""
    for i in prange(n):
        _touch(F, I, i, day)


@njit(cache=True)
def _settle_idx(F, I, idx, day):
    """``_settle`` for the customers ``idx``."""
    for i in idx:
        _touch(F, I, i, day)
