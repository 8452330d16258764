"""Numba kernels: every customer's decisions for one simulated day, over arrays.

Arrays and parameters in, arrays out, nothing else: no Mesa, no Hydra, no file I/O. State is
``F`` (float64, NF x slots) and ``I`` (int32, NI x slots), rows named in ``sim.core.layout``;
``pv`` is the parameter vector (``sim.core.layout.P_*``). Every random number is a counter-based
draw keyed by (seed, stream, customer, day, k) (``sim.core.rng``), so a customer's luck does not
depend on thread count, processing order or what other customers did.

Day stamps: today's rows (``t_*``) are valid only where ``I[today]`` holds the day
(``sim.core.layout``). ``_morning`` runs every customer's morning in parallel chunks and, for the
customers whose evening waits for no rep or silo (most of them), their evening too; a
customer nothing happens to reads and writes no today's row at all. It returns the day's
lists in customer order: the customers something happened to (``touched``, stamped), and
those whose contact goes to a rep or a silo (``deferred``). Reps, silos, the deferred
evenings (``_evening``), word of mouth (``_spread``) and today's counts iterate these lists
instead of every customer. Phases that couple customers (reps' limited time, the silo
queues, word of mouth and contagion along ties, the day's float sums) are sequential in
customer order, so their floating-point sums are reproducible.

Speed (``cxsim-bench --phases``): the per-customer bodies are inlined (a call to a
non-inlined helper from a ``prange`` loop costs several ns), zero memories are not
rewritten, and a quiet customer's churn draw is settled against a bound without log/exp
(``_churn_screen``); none of this changes a result (``tests/test_bench.py``,
``tests/test_core.py``).

``sim.core.reference`` is the slow, readable specification of ``_morning`` and ``_evening``; the
tests hold the two to bit-identical results.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from sim.core import layout as L
from sim.core import metrics as M
from sim.core import queue as Q
from sim.core import rng as R

N_COUNT_CHUNKS = 64  # chunks of customers for parallel passes whose results are order-free


@njit(cache=True)
def _logistic(x):
    return 1.0 / (1.0 + math.exp(-x))


# ---------------------------------------------------------------------------------------
@njit(cache=True)
def _init_one(F, I, pv, seed, i, day, initial):
    """Draw customer slot ``i`` as a customer joining on ``day``; ``initial`` customers
    were already there on day 0, with a tenure drawn from the past. Every draw is keyed by
    the slot only, so a slot's traits do not depend on when it joins. Today's rows start at
    "nothing happened", stamped ``day - 1``: a customer who joins in the evening made no
    contact that day."""
    _reset_today(F, I, i)
    I[L.I_TODAY, i] = day - 1
    u = R.uniform(seed, R.INIT, i, 0, 0)
    products = 1
    if u > pv[L.P_MIX1]:
        products = 2
    if u > pv[L.P_MIX2]:
        products = 3
    if u > pv[L.P_MIX3]:
        products = 4
    sd = pv[L.P_PREMIUM_SD_LOG]
    z = R.normal(seed, R.INIT, i, 0, 1)
    risk = pv[L.P_PREMIUM_PER_PRODUCT] / (1.0 + pv[L.P_BASE_MARGIN]) * products \
        * math.exp(sd * z - 0.5 * sd * sd)
    F[L.F_RISK_COST, i] = risk
    F[L.F_PREMIUM, i] = risk * (1.0 + pv[L.P_BASE_MARGIN])
    F[L.F_LOADING, i] = 1.0
    base = pv[L.P_ATTITUDE_MEAN] + pv[L.P_ATTITUDE_SD] * R.normal(seed, R.INIT, i, 0, 3)
    F[L.F_ATTITUDE, i] = base
    F[L.F_ATTITUDE_BASE, i] = base
    F[L.F_UNFAIR, i] = 0.0
    F[L.F_EXPECTED_WAIT, i] = pv[L.P_EXPECTED_WAIT_MINUTES]
    F[L.F_EXPOSURE_SOCIAL, i] = 0.0
    F[L.F_EXPOSURE_FAMILY, i] = 0.0
    F[L.F_LAST_CHANGE, i] = 0.0
    I[L.I_ACTIVE, i] = 1
    I[L.I_PRODUCTS, i] = products
    I[L.I_REGION, i] = int(R.uniform(seed, R.INIT, i, 0, 5) * pv[L.P_REGIONS])
    u = R.uniform(seed, R.INIT, i, 0, 6)
    pref = 1
    if u < pv[L.P_SELF_SERVICE_FIRST_SHARE]:
        pref = 0
    elif u < pv[L.P_SELF_SERVICE_FIRST_SHARE] + pv[L.P_REP_FIRST_SHARE]:
        pref = 2
    I[L.I_CHANNEL_PREF, i] = pref
    I[L.I_REP, i] = int(R.uniform(seed, R.INIT, i, 0, 7) * pv[L.P_N_REPS])
    if initial:
        tenure = int(R.exponential(seed, R.INIT, i, 0, 8, pv[L.P_TENURE_MEAN_DAYS]))
        I[L.I_DAY_JOINED, i] = -tenure
        I[L.I_RENEWAL_DOY, i] = int(R.uniform(seed, R.INIT, i, 0, 9) * 365.0)
    else:
        I[L.I_DAY_JOINED, i] = day
        I[L.I_RENEWAL_DOY, i] = day % 365
    I[L.I_DAY_LEFT, i] = -1
    I[L.I_REASON, i] = -1
    I[L.I_ISSUE_OPEN, i] = 0
    I[L.I_ISSUE_SILO, i] = -1
    I[L.I_ISSUE_EFFORT, i] = 0
    I[L.I_ISSUE_NEXT_DAY, i] = -1
    I[L.I_OPENING_DAY, i] = -1
    I[L.I_EXIT_DAY, i] = -1
    I[L.I_UNFAIR_LAST, i] = 0


@njit(cache=True, parallel=True)
def _init_customers(F, I, pv, seed, start, stop, day, initial):
    """Initialise slots [start, stop) as customers joining on ``day`` (``_init_one``).
    (``_init_few``: the same, without starting threads for a few.)"""
    for i in prange(start, stop):
        _init_one(F, I, pv, seed, i, day, initial)


@njit(cache=True)
def _init_few(F, I, pv, seed, start, stop, day, initial):
    for i in range(start, stop):
        _init_one(F, I, pv, seed, i, day, initial)


# ---------------------------------------------------------------------------------------
@njit(cache=True)
def _renew(F, I, pv, seed, i, day):
    """Renewal: moving region, cost trend, price policy, the fairness judgment, a billing
    query. The churn decision at renewal happens in the evening."""
    _touch(F, I, i, day)
    I[L.I_T_RENEWAL, i] = 1
    moved = False
    if R.uniform(seed, R.MOVE, i, day, 0) < pv[L.P_ANNUAL_MOVE_RATE]:
        moved = True
        I[L.I_REGION, i] = int(R.uniform(seed, R.MOVE, i, day, 1) * pv[L.P_REGIONS])
        F[L.F_RISK_COST, i] *= math.exp(pv[L.P_REGION_COST_SD_LOG] * R.normal(seed, R.MOVE, i, day, 2))
    F[L.F_RISK_COST, i] *= 1.0 + pv[L.P_ANNUAL_COST_INFLATION]
    tenure_years = (day - I[L.I_DAY_JOINED, i]) / 365.0
    if pv[L.P_PRICE_WALKING_PER_YEAR] > 0.0 and tenure_years >= 1.0:
        F[L.F_LOADING, i] *= 1.0 + pv[L.P_PRICE_WALKING_PER_YEAR]
    target = int(pv[L.P_PRICE_TARGET])
    hiked = pv[L.P_PRICE_CHANGE_ACTIVE] > 0.0 and (
        target == L.TARGET_ALL or (target == L.TARGET_MOVERS and moved))
    reviewed = hiked and pv[L.P_REVIEW_CALL] > 0.0
    # a hike lands on one of the customer's products (the car policy of seed 001): the
    # whole premium rises by rise / products, the customer sees that product's rise
    rise = 0.0
    if hiked:
        rise = min(pv[L.P_PRICE_CHANGE], pv[L.P_PRICE_CAP])
        if reviewed:
            rise = rise * (1.0 - pv[L.P_REVIEW_DISCOUNT])
        F[L.F_LOADING, i] *= 1.0 + rise / I[L.I_PRODUCTS, i]
    old = F[L.F_PREMIUM, i]
    new = F[L.F_RISK_COST, i] * (1.0 + pv[L.P_BASE_MARGIN]) * F[L.F_LOADING, i]
    change = new / old - 1.0
    if change > pv[L.P_PRICE_CAP]:
        change = pv[L.P_PRICE_CAP]
        new = old * (1.0 + change)
    F[L.F_PREMIUM, i] = new
    F[L.F_LAST_CHANGE, i] = change
    seen = change + rise * (1.0 - 1.0 / I[L.I_PRODUCTS, i])
    F[L.F_T_PRICE_CHANGE, i] = seen
    if reviewed:
        F[L.F_ATTITUDE, i] += pv[L.P_REVIEW_CALL_ATTITUDE]
    # the targeted customers hear the policy's explanation, everyone else the routine one
    explanation = int(pv[L.P_EXPLANATION] if hiked else pv[L.P_ROUTINE_EXPLANATION])
    _judge(F, I, pv, seed, i, day, seen, pv[L.P_EXPECTED_RISE], explanation, reviewed, 0)


@njit(cache=True)
def _letter(F, I, pv, seed, i, day):
    """A price-change letter (``policy.price_change_by=letter``): the policy's rise lands
    on one of the customer's products now, mid-term, and is judged at once (against no
    expected rise: the usual cost trend comes at renewal)."""
    _touch(F, I, i, day)
    rise = min(pv[L.P_PRICE_CHANGE], pv[L.P_PRICE_CAP])
    reviewed = pv[L.P_REVIEW_CALL] > 0.0
    if reviewed:
        rise = rise * (1.0 - pv[L.P_REVIEW_DISCOUNT])
        F[L.F_ATTITUDE, i] += pv[L.P_REVIEW_CALL_ATTITUDE]
    step = 1.0 + rise / I[L.I_PRODUCTS, i]
    F[L.F_LOADING, i] *= step
    F[L.F_PREMIUM, i] *= step
    F[L.F_T_PRICE_CHANGE, i] = rise
    _judge(F, I, pv, seed, i, day, rise, 0.0, int(pv[L.P_EXPLANATION]), reviewed, 1)


@njit(cache=True)
def _judge(F, I, pv, seed, i, day, seen, expected, explanation, reviewed, slot):
    """A price change the customer sees (``seen``, explained by ``explanation``, a
    ``layout.MOTIVE_*`` code): if noticed beyond the rise they ``expected``, judged fair or
    unfair (dual entitlement), and it may prompt a billing query. ``slot``: the draws'
    counter slot (0 renewal, 1 letter)."""
    judged = (1.0 + seen) / (1.0 + expected) - 1.0
    if judged <= pv[L.P_NOTICED_ABOVE]:
        return
    if explanation == L.MOTIVE_COST:
        a = pv[L.P_FAIR_A_COST]
    elif explanation == L.MOTIVE_LOCK_IN:
        a = pv[L.P_FAIR_A_LOCK_IN]
    else:
        a = pv[L.P_FAIR_A_UNEXPLAINED]
    if reviewed:
        a -= pv[L.P_REVIEW_FAIRNESS_SHIFT]
    p_unfair = _logistic(a + pv[L.P_FAIRNESS_SLOPE] * math.log(judged / pv[L.P_FAIRNESS_REFERENCE_RISE]))
    if R.uniform(seed, R.FAIRNESS, i, day, slot) < p_unfair:
        # its weight: 1 (a fresh memory), or growing with the rise up to 1 at unfair_full_rise
        full = pv[L.P_UNFAIR_FULL_RISE]
        weight = 1.0 if full <= 0.0 else min(1.0, judged / full)
        F[L.F_UNFAIR, i] = max(F[L.F_UNFAIR, i], weight)
        F[L.F_ATTITUDE, i] += weight * pv[L.P_UNFAIR_ATTITUDE]
        I[L.I_UNFAIR_LAST, i] = 1
        I[L.I_T_UNFAIR, i] = L.UNFAIR_YES
        if pv[L.P_UNFAIR_EXIT_NEXT_RENEWAL] > 0.0 and \
                R.uniform(seed, R.FAIRNESS, i, day, slot + 2) < pv[L.P_UNFAIR_EXIT_NEXT_RENEWAL]:
            # leave at the next renewal after today
            ahead = (I[L.I_RENEWAL_DOY, i] - day % 365) % 365
            I[L.I_EXIT_DAY, i] = day + (ahead if ahead > 0 else 365)
    else:
        I[L.I_UNFAIR_LAST, i] = 0
        I[L.I_T_UNFAIR, i] = L.UNFAIR_NO
    if explanation == L.MOTIVE_COST or reviewed:
        q = pv[L.P_PRICE_QUERY_PROB_EXPLAINED]
    else:
        q = pv[L.P_PRICE_QUERY_PROB_UNEXPLAINED]
    if I[L.I_ISSUE_OPEN, i] == 0 and R.uniform(seed, R.PRICE_QUERY, i, day, slot) < q:
        _open_issue(F, I, i, day, L.SILO_BILLING)


@njit(cache=True)
def _open_issue(F, I, i, day, silo):
    _touch(F, I, i, day)
    I[L.I_ISSUE_OPEN, i] = 1
    I[L.I_ISSUE_SILO, i] = silo
    I[L.I_ISSUE_EFFORT, i] = 0
    I[L.I_ISSUE_NEXT_DAY, i] = day
    I[L.I_T_ISSUE_NEW, i] = 1


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


@njit(cache=True, inline="always")
def _day_one(F, I, pv, seed, i, day, p_issue, eta_max, p_max):
    """Customer ``i``'s morning and, if they have no call or rep contact waiting for the
    reps and silos, their evening too (the evening depends on nothing else). Returns 0 if
    nothing happened to them today (their today's rows stay stale), 1 if something did and
    their day is done, 2 if their evening waits for the reps and silos (``_evening``)."""
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
        if R.uniform(seed, R.ISSUE, i, day, 0) < p:
            u = R.uniform(seed, R.ISSUE_SILO, i, day, 0)
            silo = L.SILO_RETENTION
            if u < pv[L.P_SILO_CUM_BILLING]:
                silo = L.SILO_BILLING
            elif u < pv[L.P_SILO_CUM_CLAIMS]:
                silo = L.SILO_CLAIMS
            touched = True
            _open_issue(F, I, i, day, silo)
    # today's contact
    if I[L.I_ISSUE_OPEN, i] == 1 and I[L.I_ISSUE_NEXT_DAY, i] == day:
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
def _morning(F, I, pv, seed, day, n, buf):
    """Every customer's morning in [0, n), and the evening of those who wait for no rep or
    silo (``_day_one``), in parallel chunks. ``buf``: (>= n,) int32 scratch. Returns
    (touched, deferred), in customer order: the customers something happened to today
    (everyone else's today's rows are stale) and those of them whose evening waits for the
    reps and silos (``_evening``)."""
    p_issue = np.zeros(5)  # chance of a new issue today by products held
    for products in range(1, 5):
        p_issue[products] = 1.0 - math.exp(-(pv[L.P_ISSUE_RATE] * products))
    eta_max, p_max = _screen_constants(pv)
    chunks = N_COUNT_CHUNKS
    step = (n + chunks - 1) // chunks
    count = np.zeros(chunks + 1, np.int64)
    waiting = np.zeros(chunks + 1, np.int64)
    for c in prange(chunks):
        k = c * step
        w = 0
        for i in range(c * step, min(n, (c + 1) * step)):
            r = _day_one(F, I, pv, seed, i, day, p_issue, eta_max, p_max)
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
    return touched, deferred


# ---------------------------------------------------------------------------------------
@njit(cache=True)
def _reps(F, I, pv, seed, day, idx, minutes_left, minutes_per_issue):
    """Sales reps handle the service issues brought to them by the customers ``idx`` (in
    customer order; stamped today), while their service time lasts (minutes_left:
    (n_reps,) float64, consumed). A rep helps (resolving with rep_fcr), hands off to the
    silo (a transfer: the call goes to the queue today) or ignores; a rep out of time
    ignores."""
    for i in idx:
        if I[L.I_T_ACTION, i] != L.ACTION_REP:
            continue
        rep = I[L.I_REP, i]
        if minutes_left[rep] < minutes_per_issue:
            I[L.I_T_REP, i] = L.REP_IGNORED
            I[L.I_T_ACTION, i] = L.ACTION_NONE
            continue
        minutes_left[rep] -= minutes_per_issue
        u = R.uniform(seed, R.REP, i, day, 0)
        if u < pv[L.P_REP_HELP]:
            if R.uniform(seed, R.REP, i, day, 1) < pv[L.P_REP_FCR]:
                I[L.I_T_REP, i] = L.REP_RESOLVED
            else:
                I[L.I_T_REP, i] = L.REP_HELPED
            I[L.I_T_ACTION, i] = L.ACTION_NONE
        elif u < pv[L.P_REP_HELP] + pv[L.P_REP_HANDOFF]:
            I[L.I_T_REP, i] = L.REP_HANDED_OFF
            I[L.I_T_ACTION, i] = L.ACTION_PHONE
        else:
            I[L.I_T_REP, i] = L.REP_IGNORED
            I[L.I_T_ACTION, i] = L.ACTION_NONE


@njit(cache=True)
def _callers(I, n, silo, day):
    """Indices of today's (``day``) callers to ``silo``, in customer order."""
    count = 0
    for i in range(n):
        if I[L.I_T_ACTION, i] == L.ACTION_PHONE and I[L.I_TODAY, i] == day \
                and I[L.I_ISSUE_SILO, i] == silo:
            count += 1
    out = np.empty(count, np.int64)
    count = 0
    for i in range(n):
        if I[L.I_T_ACTION, i] == L.ACTION_PHONE and I[L.I_TODAY, i] == day \
                and I[L.I_ISSUE_SILO, i] == silo:
            out[count] = i
            count += 1
    return out


@njit(cache=True)
def _callers_by_silo(I, deferred, n_silos):
    """Today's callers of every silo among ``deferred`` (stamped today, in customer order):
    (start, idx), the callers of silo s being ``idx[start[s]:start[s + 1]]`` in customer
    order (the same as ``_callers``)."""
    buf = np.empty(deferred.shape[0], np.int64)
    m = 0
    for i in deferred:
        if I[L.I_T_ACTION, i] == L.ACTION_PHONE:
            buf[m] = i
            m += 1
    start = np.zeros(n_silos + 1, np.int64)
    for k in range(m):
        s = I[L.I_ISSUE_SILO, buf[k]]
        if 0 <= s < n_silos:
            start[s + 1] += 1
    for s in range(n_silos):
        start[s + 1] += start[s]
    idx = np.empty(start[n_silos], np.int64)
    fill = start[:n_silos].copy()
    for k in range(m):
        s = I[L.I_ISSUE_SILO, buf[k]]
        if 0 <= s < n_silos:
            idx[fill[s]] = buf[k]
            fill[s] += 1
    return start, idx


@njit(cache=True)
def _call_draws(I, idx, seed, day, day_start, open_minutes, opening_minutes, handle_mean,
                patience_mean, patience_mult, captive_share, callback_accept):
    """Arrival minute, handling time, patience and callback acceptance for each caller,
    sorted by arrival: through the day, or within ``opening_minutes`` of opening for a
    caller whose last call the closing cut off. Returns (order, arrival, handle, patience,
    accepts)."""
    m = idx.shape[0]
    arrival = np.empty(m)
    handle = np.empty(m)
    patience = np.empty(m)
    accepts = np.empty(m, np.bool_)
    for k in range(m):
        i = idx[k]
        window = open_minutes
        if I[L.I_OPENING_DAY, i] == day:
            window = min(opening_minutes, open_minutes)
        arrival[k] = day_start + R.uniform(seed, R.ARRIVAL, i, day, 0) * window
        handle[k] = R.exponential(seed, R.HANDLE, i, day, 0, handle_mean)
        if R.uniform(seed, R.PATIENCE, i, day, 0) < captive_share:
            patience[k] = np.inf
        else:
            patience[k] = R.exponential(seed, R.PATIENCE, i, day, 1, patience_mean) * patience_mult
        accepts[k] = R.uniform(seed, R.CALLBACK, i, day, 0) < callback_accept
    order = np.argsort(arrival, kind="mergesort")
    return order, arrival[order], handle[order], patience[order], accepts[order]


@njit(cache=True)
def _silo_day(F, I, idx, seed, day, free_at, open_minutes, opening_minutes, handle_mean,
              patience_mean, patience_mult, captive_share, callback_accept, announce_mode,
              promised, callback_offered, callback_min_wait):
    """Serve one silo's callers for one day and write each caller's outcome into their
    columns. Nobody holds past closing: a caller's patience is at most the time left until
    the line closes, so a caller still waiting then (captive ones too) is cut off, as an
    abandoned call, and may call again the next day, within ``opening_minutes`` of opening
    (``opening_day``). Agents finish the calls they started after closing, and callbacks
    keep their place. Returns the backlog: the callers the closing sent away (cut off, or
    told a wait beyond it) and the callbacks not started by closing."""
    day_start = day * open_minutes
    closing = day_start + open_minutes
    order, arrival, handle, patience, accepts = _call_draws(
        I, idx, seed, day, day_start, open_minutes, opening_minutes, handle_mean,
        patience_mean, patience_mult, captive_share, callback_accept)
    m = idx.shape[0]
    closed_on = np.zeros(m, np.bool_)  # their patience outlasts the line
    for k in range(m):
        left = closing - arrival[k]
        if patience[k] > left:
            patience[k] = left
            closed_on[k] = True
    outcome = np.empty(m, np.int8)
    hold = np.empty(m)
    told = np.empty(m)
    start = np.empty(m)
    Q._serve_fcfs(arrival, handle, patience, accepts, announce_mode, promised,
                  callback_offered, callback_min_wait, free_at, outcome, hold, told, start)
    backlog = 0
    for k in range(m):
        i = idx[order[k]]
        I[L.I_T_CALL, i] = outcome[k]
        F[L.F_T_HOLD, i] = hold[k]
        F[L.F_T_ANNOUNCED, i] = told[k]
        if outcome[k] == Q.CALLBACK:
            F[L.F_T_CALLBACK_WAIT, i] = start[k] - arrival[k]
        sent_away = closed_on[k] and (outcome[k] == Q.ABANDONED or outcome[k] == Q.BALKED)
        if sent_away:
            I[L.I_OPENING_DAY, i] = day + 1
        if start[k] > closing or sent_away:
            backlog += 1
    return backlog


# ---------------------------------------------------------------------------------------
@njit(cache=True)
def _experience_call(F, I, pv, i):
    """Attitude and expectation after a call: the wait against what was expected (what was
    announced, else the learned expectation), scaled down for a callback; a caller who hung
    up on hearing the wait experienced none."""
    outcome = I[L.I_T_CALL, i]
    if outcome == Q.BALKED:
        return
    told = F[L.F_T_ANNOUNCED, i]
    weight = 1.0
    if outcome == Q.CALLBACK:
        actual = F[L.F_T_CALLBACK_WAIT, i]
        weight = pv[L.P_CALLBACK_WAIT_WEIGHT]
    else:
        actual = F[L.F_T_HOLD, i]
    expected = F[L.F_EXPECTED_WAIT, i]
    if told >= 0.0:
        expected = told
    gap = weight * (actual - expected) / 60.0
    if gap > 0.0:
        F[L.F_ATTITUDE, i] -= pv[L.P_LOSS_AVERSION] * pv[L.P_DISCONFIRMATION_PER_HOUR] * gap
    else:
        F[L.F_ATTITUDE, i] -= pv[L.P_DISCONFIRMATION_PER_HOUR] * gap
    F[L.F_ATTITUDE, i] -= pv[L.P_WAIT_PAIN_PER_HOUR] * weight * actual / 60.0
    if pv[L.P_PROMISE] == L.PROMISE_FIXED and told >= 0.0 and outcome != Q.CALLBACK \
            and actual > told:
        F[L.F_ATTITUDE, i] -= pv[L.P_BROKEN_PROMISE_PENALTY]
    F[L.F_EXPECTED_WAIT, i] += pv[L.P_EXPECTATION_LEARNING] * (actual - F[L.F_EXPECTED_WAIT, i])


@njit(cache=True)
def _progress_issue(F, I, pv, seed, i, day):
    """Effort, resolution and the next step of an issue contacted today."""
    ss, rep, call = I[L.I_T_SS, i], I[L.I_T_REP, i], I[L.I_T_CALL, i]
    if ss < 0 and rep < 0 and call < 0:
        return
    effort = I[L.I_ISSUE_EFFORT, i]
    resolved = False
    if ss == L.SS_RESOLVED:
        effort += 1
        resolved = True
    elif ss == L.SS_FAILED:
        effort += 2  # the failed attempt and the switch to the phone
        F[L.F_ATTITUDE, i] += pv[L.P_FORCED_CHANNEL_SWITCH]
    if rep >= 0:
        effort += 1
        if rep == L.REP_RESOLVED:
            resolved = True
        elif rep == L.REP_HANDED_OFF:
            effort += 1
            F[L.F_ATTITUDE, i] += pv[L.P_TRANSFER_PENALTY]
    if call >= 0:
        effort += 1
        _experience_call(F, I, pv, i)
        if call == Q.SERVED or call == Q.CALLBACK:
            fcr = pv[L.P_FCR_BILLING + I[L.I_ISSUE_SILO, i]]  # fcr_<silo> in silo order
            resolved = R.uniform(seed, R.RESOLVE, i, day, 0) < fcr
    I[L.I_ISSUE_EFFORT, i] = effort
    if resolved:
        I[L.I_T_CLOSED, i] = L.CLOSED_RESOLVED
        I[L.I_ISSUE_OPEN, i] = 0
        if effort <= pv[L.P_LOW_EFFORT_MAX]:
            F[L.F_ATTITUDE, i] += pv[L.P_RESOLVED_LOW_EFFORT]
        else:
            F[L.F_ATTITUDE, i] += pv[L.P_RESOLVED_HIGH_EFFORT]
        return
    p_retry = pv[L.P_RETRY_AFTER_UNRESOLVED]
    if call == Q.ABANDONED or call == Q.BALKED:
        p_retry = pv[L.P_RETRY_AFTER_ABANDON]
    if effort < pv[L.P_MAX_CONTACTS] and R.uniform(seed, R.RETRY, i, day, 0) < p_retry:
        I[L.I_ISSUE_NEXT_DAY, i] = day + 1
    else:
        I[L.I_T_CLOSED, i] = L.CLOSED_UNRESOLVED
        I[L.I_ISSUE_OPEN, i] = 0
        F[L.F_ATTITUDE, i] += pv[L.P_UNRESOLVED]


@njit(cache=True)
def _churn(F, I, pv, seed, i, day, renewal):
    """The stay-or-go decision: a proportional hazard whose largest term names the reason
    (``renewal``: today is the customer's renewal). Returns True if the customer left or
    was saved (today's rows written)."""
    tenure_years = (day - I[L.I_DAY_JOINED, i]) / 365.0
    attitude = F[L.F_ATTITUDE, i]
    quote = pv[L.P_COMPETITOR_PRICE_RATIO] * F[L.F_RISK_COST, i] * (1.0 + pv[L.P_BASE_MARGIN])
    log_products = math.log(I[L.I_PRODUCTS, i])
    unfair = F[L.F_UNFAIR, i]
    price = pv[L.P_BETA_PRICE] * math.log(F[L.F_PREMIUM, i] / quote) \
        + (pv[L.P_BETA_UNFAIR] + pv[L.P_PRODUCTS_EXPONENT] * pv[L.P_UNFAIR_BUNDLE_RELEASE]
           * log_products) * unfair
    service = pv[L.P_BETA_ATTITUDE] * (F[L.F_ATTITUDE_BASE, i] - attitude)
    social = pv[L.P_LOG_HR_SOCIAL] * F[L.F_EXPOSURE_SOCIAL, i]
    if tenure_years >= pv[L.P_LOYAL_YEARS]:
        social *= pv[L.P_CONTAGION_LOYAL_DAMPING]
    family = pv[L.P_LOG_HR_FAMILY] * F[L.F_EXPOSURE_FAMILY, i]
    eta = -pv[L.P_PRODUCTS_EXPONENT] * log_products \
        - pv[L.P_BETA_ATTITUDE] * (attitude - pv[L.P_ATTITUDE_MEAN]) + price \
        - pv[L.P_BETA_TENURE] * (math.log(1.0 + tenure_years) - pv[L.P_LOG_TENURE_REF]) \
        + social + family
    h = pv[L.P_H_DAY]
    if renewal:
        h += pv[L.P_H_RENEWAL]
    p_leave = 1.0 - math.exp(-h * math.exp(eta))
    planned = renewal and I[L.I_EXIT_DAY, i] == day  # decided at an unfair change
    if not planned and R.uniform(seed, R.CHURN, i, day, 0) >= p_leave:
        return False
    _touch(F, I, i, day)
    I[L.I_EXIT_DAY, i] = -1
    if pv[L.P_RETENTION_SAVE] > 0.0 and \
            R.uniform(seed, R.RETENTION, i, day, 0) < pv[L.P_RETENTION_SAVE]:
        I[L.I_T_SAVED, i] = 1
        F[L.F_PREMIUM, i] *= 1.0 - pv[L.P_RETENTION_DISCOUNT]
        F[L.F_LOADING, i] *= 1.0 - pv[L.P_RETENTION_DISCOUNT]
        return True
    reason = M.REASON_OTHER
    best = pv[L.P_REASON_MIN_LOG_HAZARD]
    if price > best:
        reason, best = M.REASON_PRICE, price
    if service > best:
        reason, best = M.REASON_SERVICE, service
    if social > best:
        reason, best = M.REASON_CONTAGION, social
    if family > best:
        reason, best = M.REASON_CASCADE, family
    if planned:
        reason = M.REASON_PRICE  # the price change they judged unfair
    I[L.I_ACTIVE, i] = 0
    I[L.I_DAY_LEFT, i] = day
    I[L.I_REASON, i] = reason
    I[L.I_ISSUE_OPEN, i] = 0
    I[L.I_T_CHURN, i] = 1
    return True


# A quiet customer's churn draw is settled without a logarithm or an exponential whenever
# the draw clears a bound on their probability of leaving (``_churn_screen``). The bound only
# decides *when* the exact computation in ``_churn`` is needed, never its outcome.
SCREEN_P = 0.01    # customers whose leave probability may be this high are always computed
SCREEN_TOL = 1e-9  # slack on the screen, far above any rounding in eta and p_leave


@njit(cache=True)
def _screen_constants(pv):
    """(eta_max, p_max): for eta <= eta_max the computed p_leave on a day that is not a
    renewal day is below p_max (1 - exp(-h e^eta) rises with eta; p_max adds slack)."""
    h = pv[L.P_H_DAY]
    eta_max = 0.0
    if h > 0.0 and h < SCREEN_P:
        eta_max = math.log(SCREEN_P / h)
    p_max = 1.0 - math.exp(-h * math.exp(eta_max)) + SCREEN_TOL
    return eta_max, p_max


@njit(cache=True, inline="always")
def _churn_screen(F, I, pv, seed, i, day, eta_max, p_max, renewal):
    """True if customer ``i`` certainly stays today by ``_churn``'s own rule
    (``u >= p_leave``): not a renewal day (``renewal``), their churn draw ``u >= p_max``,
    and an upper bound on eta (``log r <= r - 1``, ``log(1 + x) >= x / (1 + x)``) is below
    ``eta_max``. Draws nothing but the churn draw, writes nothing."""
    if renewal:
        return False
    if R.uniform(seed, R.CHURN, i, day, 0) < p_max:
        return False
    products = I[L.I_PRODUCTS, i]
    if products < 1:
        return False
    quote = pv[L.P_COMPETITOR_PRICE_RATIO] * F[L.F_RISK_COST, i] * (1.0 + pv[L.P_BASE_MARGIN])
    r = F[L.F_PREMIUM, i] / quote
    x = (day - I[L.I_DAY_JOINED, i]) / 365.0
    if not (r > 0.0 and x > -1.0):
        return False
    beta_price, beta_tenure = pv[L.P_BETA_PRICE], pv[L.P_BETA_TENURE]
    log_r = r - 1.0 if beta_price >= 0.0 else 1.0 - 1.0 / r
    log_x = x / (1.0 + x) if beta_tenure >= 0.0 else x
    log_p = 0.0
    if pv[L.P_PRODUCTS_EXPONENT] < 0.0:
        log_p = products - 1.0  # log p <= p - 1; else log p >= 0
    attitude = F[L.F_ATTITUDE, i]
    social = pv[L.P_LOG_HR_SOCIAL] * F[L.F_EXPOSURE_SOCIAL, i]
    if x >= pv[L.P_LOYAL_YEARS]:
        social *= pv[L.P_CONTAGION_LOYAL_DAMPING]
    t1 = -pv[L.P_PRODUCTS_EXPONENT] * log_p
    t2 = -pv[L.P_BETA_ATTITUDE] * (attitude - pv[L.P_ATTITUDE_MEAN])
    t3 = beta_price * log_r
    # the bundle release, products_exponent * release * log(products) * unfair, is at most
    # its value with log p <= p - 1 when it is positive, and at most 0 otherwise
    release = pv[L.P_PRODUCTS_EXPONENT] * pv[L.P_UNFAIR_BUNDLE_RELEASE]
    t4 = (pv[L.P_BETA_UNFAIR] + max(release, 0.0) * (products - 1.0)) * F[L.F_UNFAIR, i]
    t5 = -beta_tenure * (log_x - pv[L.P_LOG_TENURE_REF])
    t6 = pv[L.P_LOG_HR_FAMILY] * F[L.F_EXPOSURE_FAMILY, i]
    eta = t1 + t2 + t3 + t4 + t5 + social + t6
    size = abs(t1) + abs(t2) + abs(t3) + abs(t4) + abs(t5) + abs(social) + abs(t6)
    return eta + SCREEN_TOL * (1.0 + size) <= eta_max


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


# ---------------------------------------------------------------------------------------
@njit(cache=True)
def _spread(F, I, touched, n, indptr, nbr, family, wom_weight, wom_negative_multiplier):
    """Push today's departures and attitude shocks along ties, in customer order, from the
    customers ``touched`` (everyone whose today's rows are stamped today, in order).

    indptr: (slots+1,) int64, nbr: (edges,) int32, family: (edges,) int8 (CSR of ties)."""
    for i in touched:
        left = I[L.I_T_CHURN, i] == 1
        shock = F[L.F_T_SHOCK, i]
        if not left and shock == 0.0:
            continue
        told = wom_weight * shock
        if shock < 0.0:
            told *= wom_negative_multiplier
        for e in range(indptr[i], indptr[i + 1]):
            j = nbr[e]
            if j >= n or I[L.I_ACTIVE, j] == 0:
                continue
            if left:
                if family[e] == 1:
                    F[L.F_EXPOSURE_FAMILY, j] += 1.0
                else:
                    F[L.F_EXPOSURE_SOCIAL, j] += 1.0
            if shock != 0.0:
                F[L.F_ATTITUDE, j] += told


# ---------------------------------------------------------------------------------------
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
        if I[L.I_T_ISSUE_NEW, i] == 1:
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
    longer than a fixed promise (``fixed``), else 0."""
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
    return holds[:held], abandoned, callbacks, broken


@njit(cache=True)
def _state_sums(F, I, n, promoter, detractor, out):
    """The slots of ``out`` that sum every active customer's state (``active`` to
    ``detractors``, ``active_<k>_products``), in one sequential pass (the float sums in
    customer order)."""
    active = products = unfair = promoters = detractors = 0
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
        a = F[L.F_ATTITUDE, i]
        promoters += a > promoter
        detractors += (a <= promoter) & (a < detractor)
        premium += F[L.F_PREMIUM, i]
        risk += F[L.F_RISK_COST, i]
        attitude += a
    out[M.C_ACTIVE], out[M.C_ACTIVE_PRODUCTS] = active, products
    out[M.C_UNFAIR_LAST], out[M.C_PROMOTERS], out[M.C_DETRACTORS] = unfair, promoters, detractors
    out[M.C_PREMIUM], out[M.C_RISK_COST], out[M.C_ATTITUDE] = premium, risk, attitude
    for k in range(1, 5):
        out[M.C_ACTIVE_1_PRODUCTS - 1 + k] = tier[k]


# ---------------------------------------------------------------------------------------
@njit(cache=True)
def _build_ties(seed, slots, region, ties_mean, locality, household_mean, regions):
    """Social ties (random, mostly within region) and household ties (consecutive slots
    grouped into households). Returns CSR (indptr, nbr, family), undirected, sorted."""
    # households: consecutive slots, size 1 + Poisson(household_mean - 1)
    household = np.empty(slots, np.int64)
    h = 0
    i = 0
    while i < slots:
        size = 1 + R.poisson(seed, R.NETWORK, h, 0, 0, household_mean - 1.0)
        for j in range(i, min(slots, i + size)):
            household[j] = h
        i += size
        h += 1
    # slots by region, for local ties
    counts = np.zeros(regions + 1, np.int64)
    for i in range(slots):
        counts[region[i] + 1] += 1
    for r in range(regions):
        counts[r + 1] += counts[r]
    by_region = np.empty(slots, np.int64)
    fill = counts[:-1].copy()
    for i in range(slots):
        by_region[fill[region[i]]] = i
        fill[region[i]] += 1
    # directed edge list: each slot proposes Poisson(ties_mean / 2) social ties
    n_prop = np.empty(slots, np.int64)
    total = 0
    for i in range(slots):
        n_prop[i] = R.poisson(seed, R.NETWORK, i, 1, 0, ties_mean / 2.0)
        total += n_prop[i]
    first = 0
    for i in range(1, slots):
        if household[i] != household[i - 1]:
            first = i
        total += i - first
    src = np.empty(2 * total, np.int64)
    dst = np.empty(2 * total, np.int64)
    fam = np.empty(2 * total, np.int8)
    e = 0
    for i in range(slots):
        for k in range(n_prop[i]):
            if R.uniform(seed, R.NETWORK, i, 2, 2 * k) < locality:
                r = region[i]
                size = counts[r + 1] - counts[r]
                j = by_region[counts[r] + int(R.uniform(seed, R.NETWORK, i, 3, 2 * k) * size)]
            else:
                j = int(R.uniform(seed, R.NETWORK, i, 3, 2 * k + 1) * slots)
            if j == i:
                continue
            src[e], dst[e], fam[e] = i, j, 0
            src[e + 1], dst[e + 1], fam[e + 1] = j, i, 0
            e += 2
        j = i - 1
        while j >= 0 and household[j] == household[i]:  # every earlier household member
            src[e], dst[e], fam[e] = i, j, 1
            src[e + 1], dst[e + 1], fam[e + 1] = j, i, 1
            e += 2
            j -= 1
    # sort by (source, target), then drop repeated pairs (a household tie wins)
    # (a stable sort by the key source * slots + target: a counting sort by source, then
    # a stable insertion sort of each source's few targets)
    first_edge = np.zeros(slots + 1, np.int64)
    for k in range(e):
        first_edge[src[k] + 1] += 1
    for i in range(slots):
        first_edge[i + 1] += first_edge[i]
    order = np.empty(e, np.int64)
    fill = first_edge[:slots].copy()
    for k in range(e):
        order[fill[src[k]]] = k
        fill[src[k]] += 1
    for i in range(slots):
        lo = first_edge[i]
        for a in range(lo + 1, first_edge[i + 1]):
            o = order[a]
            b = a - 1
            while b >= lo and dst[order[b]] > dst[o]:
                order[b + 1] = order[b]
                b -= 1
            order[b + 1] = o
    m = 0
    for k in range(e):
        o = order[k]
        if m > 0 and src[o] == src[order[m - 1]] and dst[o] == dst[order[m - 1]]:
            if fam[o] == 1:
                order[m - 1] = o
            continue
        order[m] = o
        m += 1
    order = order[:m]
    src, dst, fam = src[order], dst[order], fam[order]
    indptr = np.zeros(slots + 1, np.int64)
    for k in range(m):
        indptr[src[k] + 1] += 1
    for i in range(slots):
        indptr[i + 1] += indptr[i]
    return indptr, dst.astype(np.int32), fam, household
