"""The day's counts and sums into named slots (``sim.core.metrics.COUNTS``), and today's calls."""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.core import layout as L
from sim.core import metrics as M
from sim.core import queue as Q


@njit(cache=True)
def _day_sums(F, I, n, promoter, detractor, out):
    """Today's counts and sums over customers [0, n) into ``out`` (slots
    ``sim.core.metrics.C_*``), every customer's today's rows read as they stand (stamp them
    first: ``_settle``). The model counts today's events from the stamped customers only
    (``_morning``'s touched); this is its specification."""
    _today_counts(I, np.arange(n), out)
    _state_sums(F, I, n, promoter, detractor, out)


@njit(cache=True)
def _today_counts(I, touched, out):
    """The slots of ``out`` that count today's events, from the customers ``touched``
    (everyone whose today's rows are stamped today); every other slot is zeroed, for
    ``_state_sums`` to fill."""
    out[:] = 0.0
    for i in touched:
        if I[L.I_T_CHURN, i] == 1:
            out[M.C_CHURNED] += 1.0
            out[M.C_CHURNED_PRICE + I[L.I_REASON, i]] += 1.0
            out[M.C_PRODUCTS_LOST] += I[L.I_PRODUCTS, i]
            out[M.C_CHURNED_1_PRODUCTS - 1 + I[L.I_PRODUCTS, i]] += 1.0
        if I[L.I_T_SS, i] != L.SS_NONE:
            out[M.C_CONTACTS_SELF_SERVICE] += 1.0
        if I[L.I_T_REP, i] != L.REP_NONE:
            out[M.C_CONTACTS_REP] += 1.0
        if I[L.I_T_ISSUE_NEW, i] != L.ISSUE_NONE:
            out[M.C_ISSUES_OPENED] += 1.0
        if I[L.I_T_CLOSED, i] == L.CLOSED_RESOLVED:
            out[M.C_ISSUES_RESOLVED] += 1.0
        elif I[L.I_T_CLOSED, i] == L.CLOSED_UNRESOLVED:
            out[M.C_ISSUES_UNRESOLVED] += 1.0
        if I[L.I_T_RENEWAL, i] == 1:
            out[M.C_RENEWALS] += 1.0
        if I[L.I_T_UNFAIR, i] != L.UNFAIR_NONE:
            out[M.C_PRICE_RISES] += 1.0
        if I[L.I_ACTIVE, i] == 0:
            continue
        out[M.C_SAVED] += I[L.I_T_SAVED, i]
        if I[L.I_T_OUTREACH, i] != L.OUTREACH_NONE:
            out[M.C_OUTREACH] += 1.0


@njit(cache=True)
def _calls_today(F, I, served, fixed, hist, hist_max):
    """Today's calls of the customers ``served`` (every silo's callers, silo by silo):
    (holds, abandoned, callbacks, broken). ``holds``: the minutes on hold of those served
    or abandoned, in the order of ``served``; each also counts into ``hist`` (int64,
    bins of whole minutes, the last ``hist_max`` for longer holds). ``broken``: held
    longer than a fixed promise (``fixed``), or booked a callback that comes (or is given
    up on) later than it (counted on the day it is booked, when its time is known), else
    0."""
    m = served.shape[0]
    holds = np.empty(m)
    held = abandoned = callbacks = broken = 0
    for i in served:
        outcome = I[L.I_T_CALL, i]
        if outcome == Q.SERVED or outcome == Q.ABANDONED:
            hold = F[L.F_T_HOLD, i]
            holds[held] = hold
            held += 1
            hist[min(np.int64(hold), hist_max)] += 1
            if fixed and hold > F[L.F_T_ANNOUNCED, i]:
                broken += 1
        if outcome == Q.ABANDONED or outcome == Q.BALKED:
            abandoned += 1
        elif outcome == Q.CALLBACK:
            callbacks += 1
            if fixed and F[L.F_CALLBACK_WAIT, i] > F[L.F_T_ANNOUNCED, i]:  # (its promise)
                broken += 1
    return holds[:held], abandoned, callbacks, broken


@njit(cache=True)
def _state_sums(F, I, n, promoter, detractor, out):
    """The slots of ``out`` that sum every active customer's state (``active`` to
    ``detractors``, ``active_<k>_products``), in one sequential pass (the float sums in
    customer order)."""
    active = products = unfair = promoters = detractors = waiting = 0
    tier = np.zeros(5, np.int64)
    premium = risk = attitude = 0.0
    for i in range(n):
        if I[L.I_ACTIVE, i] == 0:
            continue
        active += 1
        held = I[L.I_PRODUCTS, i]
        products += held
        tier[held] += 1
        unfair += I[L.I_UNFAIR_LAST, i]
        waiting += I[L.I_CALLBACK_DAY, i] >= 0 and I[L.I_ISSUE_OPEN, i] == 1
        a = F[L.F_ATTITUDE, i]
        promoters += a > promoter
        detractors += (a <= promoter) & (a < detractor)
        premium += F[L.F_PREMIUM, i]
        risk += F[L.F_RISK_COST, i]
        attitude += a
    out[M.C_ACTIVE], out[M.C_ACTIVE_PRODUCTS] = active, products
    out[M.C_UNFAIR_LAST], out[M.C_PROMOTERS], out[M.C_DETRACTORS] = unfair, promoters, detractors
    out[M.C_CALLBACKS_WAITING] = waiting
    out[M.C_PREMIUM], out[M.C_RISK_COST], out[M.C_ATTITUDE] = premium, risk, attitude
    for k in range(1, 5):
        out[M.C_ACTIVE_1_PRODUCTS - 1 + k] = tier[k]
