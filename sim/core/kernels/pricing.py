"""Prices: the renewal (cost trend, moving region, the policy's price change, price walking),
the price-change letter, and the fairness judgment of a noticed rise (dual entitlement)."""

from __future__ import annotations

import math

from numba import njit

from sim.core import layout as L
from sim.core import rng as R
from sim.core.kernels.service import _open_issue
from sim.core.kernels.today import _touch


@njit(cache=True)
def _logistic(x):
    return 1.0 / (1.0 + math.exp(-x))


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
    F[L.F_PREMIUM, i] = max(new, L.MIN_PREMIUM)  # (never zero: the next renewal divides by it)
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
    F[L.F_PREMIUM, i] = max(F[L.F_PREMIUM, i] * step, L.MIN_PREMIUM)
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
        _open_issue(F, I, i, day, L.SILO_BILLING, L.ISSUE_QUERY)
