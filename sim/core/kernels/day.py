"""The customers' day: every customer's morning (and, for most, their evening) in one
parallel pass, and the evenings that waited for the reps and silos."""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from sim.core import layout as L
from sim.core import rng as R
from sim.core.kernels.churn import _churn, _churn_screen, _screen_constants
from sim.core.kernels.pricing import _letter, _renew
from sim.core.kernels.service import _callback_due, _open_issue, _progress_issue
from sim.core.kernels.today import _touch


N_COUNT_CHUNKS = 64  # chunks of customers for parallel passes whose results are order-free


@njit(cache=True, inline="always")
def _day_one(F, I, pv, seed, i, day, p_issue, eta_max, p_max, count_risk, at_risk):
    """Customer ``i``'s morning and, if they have no call or rep contact waiting for the
    reps and silos, their evening too (the evening depends on nothing else). Returns 0 if
    nothing happened to them today (their today's rows stay stale), 1 if something did and
    their day is done, 2 if their evening waits for the reps and silos (``_evening``).
    ``at_risk``: (5, 3) counts by products held and channel preference of the customers
    who could have a new issue today, incremented if ``count_risk`` (``_morning``)."""
    if I[L.I_ACTIVE, i] == 0:
        return 0
    # drift and fading memories (a zero memory stays zero: not written)
    a = F[L.F_ATTITUDE, i]
    a += (F[L.F_ATTITUDE_BASE, i] - a) * (1.0 - pv[L.P_KEEP_ATTITUDE])
    F[L.F_ATTITUDE, i] = a
    x = F[L.F_UNFAIR, i]
    if x != 0.0:
        F[L.F_UNFAIR, i] = x * pv[L.P_KEEP_UNFAIR]
    x = F[L.F_EXPOSURE_SOCIAL, i]
    if x != 0.0:
        F[L.F_EXPOSURE_SOCIAL, i] = x * pv[L.P_KEEP_SOCIAL]
    x = F[L.F_EXPOSURE_FAMILY, i]
    if x != 0.0:
        F[L.F_EXPOSURE_FAMILY, i] = x * pv[L.P_KEEP_FAMILY]
    touched = False
    renewal = False
    if I[L.I_RENEWAL_DOY, i] == day % 365 and I[L.I_DAY_JOINED, i] < day:
        renewal = touched = True
        _renew(F, I, pv, seed, i, day)
    if day == pv[L.P_LETTER_DAY]:
        touched = True
        _letter(F, I, pv, seed, i, day)
    # outreach (no draw without outreach: u < 0 never holds)
    rate = pv[L.P_OUTREACH_RATE]
    if rate > 0.0 and R.uniform(seed, R.OUTREACH, i, day, 0) < rate:
        touched = True
        _touch(F, I, i, day)
        if R.uniform(seed, R.OUTREACH, i, day, 1) < pv[L.P_OUTREACH_RELEVANCE]:
            I[L.I_T_OUTREACH, i] = L.OUTREACH_RELEVANT
            F[L.F_ATTITUDE, i] += pv[L.P_OUTREACH_RELEVANT]
        else:
            I[L.I_T_OUTREACH, i] = L.OUTREACH_OFF_TARGET
            F[L.F_ATTITUDE, i] += pv[L.P_OUTREACH_OFF_TARGET]
    # a new service issue
    if I[L.I_ISSUE_OPEN, i] == 0:
        products = I[L.I_PRODUCTS, i]
        if 1 <= products <= 4:
            p = p_issue[products]
        else:
            p = 1.0 - math.exp(-(pv[L.P_ISSUE_RATE] * products))
        if count_risk and 1 <= products <= 4:
            at_risk[products, I[L.I_CHANNEL_PREF, i]] += 1
        if R.uniform(seed, R.ISSUE, i, day, 0) < p:
            u = R.uniform(seed, R.ISSUE_SILO, i, day, 0)
            silo = L.SILO_RETENTION
            if u < pv[L.P_SILO_CUM_BILLING]:
                silo = L.SILO_BILLING
            elif u < pv[L.P_SILO_CUM_CLAIMS]:
                silo = L.SILO_CLAIMS
            touched = True
            _open_issue(F, I, i, day, silo, L.ISSUE_DRAWN)
    # a booked callback's day: it comes, or they have given up waiting (no silo today)
    if I[L.I_ISSUE_OPEN, i] == 1 and I[L.I_CALLBACK_DAY, i] == day:
        touched = True
        _touch(F, I, i, day)
        I[L.I_T_CALL, i] = _callback_due(F, I, i)
        _progress_issue(F, I, pv, seed, i, day)
    # today's contact
    elif I[L.I_ISSUE_OPEN, i] == 1 and I[L.I_ISSUE_NEXT_DAY, i] == day:
        touched = True
        _touch(F, I, i, day)
        if I[L.I_ISSUE_EFFORT, i] > 0:
            I[L.I_T_ACTION, i] = L.ACTION_PHONE
        elif I[L.I_CHANNEL_PREF, i] == L.PREF_REP:
            I[L.I_T_ACTION, i] = L.ACTION_REP
        elif I[L.I_CHANNEL_PREF, i] == L.PREF_SELF_SERVICE or \
                R.uniform(seed, R.CHANNEL, i, day, 0) < pv[L.P_SELF_SERVICE_PUSH]:
            if R.uniform(seed, R.SELF_SERVICE, i, day, 0) < pv[L.P_SELF_SERVICE_RESOLUTION]:
                I[L.I_T_SS, i] = L.SS_RESOLVED
            else:
                I[L.I_T_SS, i] = L.SS_FAILED
                I[L.I_T_ACTION, i] = L.ACTION_PHONE  # forced from self-service to the phone
        else:
            I[L.I_T_ACTION, i] = L.ACTION_PHONE
        if I[L.I_T_ACTION, i] != L.ACTION_NONE:
            F[L.F_T_SHOCK, i] = a  # the evening turns this into today's change
            return 2
        if I[L.I_T_SS, i] >= 0:
            _progress_issue(F, I, pv, seed, i, day)  # (no rep, no call today)
    # the evening: today's change, told to ties if large enough; stay or go
    if touched:
        shock = F[L.F_ATTITUDE, i] - a
        if abs(shock) < pv[L.P_WOM_THRESHOLD]:
            shock = 0.0
        F[L.F_T_SHOCK, i] = shock
    # (untouched: the attitude did not move, the shock is 0, as the stale row reads)
    if not _churn_screen(F, I, pv, seed, i, day, eta_max, p_max, renewal):
        touched |= _churn(F, I, pv, seed, i, day, renewal)
    return 1 if touched else 0


@njit(cache=True, parallel=True)
def _morning(F, I, pv, seed, day, n, buf, count_risk):
    """Every customer's morning in [0, n), and the evening of those who wait for no rep or
    silo (``_day_one``), in parallel chunks. ``buf``: (>= n,) int32 scratch. Returns
    (touched, deferred, at_risk): in customer order, the customers something happened to
    today (everyone else's today's rows are stale) and those of them whose evening waits
    for the reps and silos (``_evening``); and, if ``count_risk``, the customers who could
    have had a new issue today by products held (1-4) and channel preference, (5, 3)
    (zeros otherwise)."""
    p_issue = np.zeros(5)  # chance of a new issue today by products held
    for products in range(1, 5):
        p_issue[products] = 1.0 - math.exp(-(pv[L.P_ISSUE_RATE] * products))
    eta_max, p_max = _screen_constants(pv)
    chunks = N_COUNT_CHUNKS
    step = (n + chunks - 1) // chunks
    count = np.zeros(chunks + 1, np.int64)
    waiting = np.zeros(chunks + 1, np.int64)
    risk = np.zeros((chunks, 5, 3), np.int64)
    for c in prange(chunks):
        k = c * step
        w = 0
        at_risk = risk[c]
        for i in range(c * step, min(n, (c + 1) * step)):
            r = _day_one(F, I, pv, seed, i, day, p_issue, eta_max, p_max, count_risk, at_risk)
            if r != 0:
                buf[k] = i
                k += 1
                w += r == 2
        count[c + 1] = k - c * step
        waiting[c + 1] = w
    for c in range(chunks):
        count[c + 1] += count[c]
        waiting[c + 1] += waiting[c]
    touched = np.empty(count[chunks], np.int64)
    deferred = np.empty(waiting[chunks], np.int64)
    k = w = 0
    for c in range(chunks):
        for j in range(c * step, c * step + count[c + 1] - count[c]):
            i = buf[j]
            touched[k] = i
            k += 1
            if I[L.I_T_ACTION, i] != L.ACTION_NONE:
                deferred[w] = i
                w += 1
    at_risk = np.zeros((5, 3), np.int64)
    for c in range(chunks):
        at_risk += risk[c]
    return touched, deferred, at_risk


@njit(cache=True, parallel=True)
def _evening(F, I, pv, seed, day, idx):
    """The evening of the customers ``idx`` whose contact waited for the reps and silos
    (``_morning``'s deferred): experience, issue progress, word-of-mouth signal and the
    churn decision. Each customer writes only their own column."""
    eta_max, p_max = _screen_constants(pv)
    for k in prange(idx.shape[0]):
        i = idx[k]
        if I[L.I_ACTIVE, i] == 0:
            continue
        if I[L.I_T_SS, i] >= 0 or I[L.I_T_REP, i] >= 0 or I[L.I_T_CALL, i] >= 0:
            _progress_issue(F, I, pv, seed, i, day)
        shock = F[L.F_ATTITUDE, i] - F[L.F_T_SHOCK, i]
        if abs(shock) < pv[L.P_WOM_THRESHOLD]:
            shock = 0.0
        F[L.F_T_SHOCK, i] = shock
        renewal = I[L.I_T_RENEWAL, i] == 1
        if _churn_screen(F, I, pv, seed, i, day, eta_max, p_max, renewal):
            continue
        _churn(F, I, pv, seed, i, day, renewal)
