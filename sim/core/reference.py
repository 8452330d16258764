"""The specification of a customer's daily decisions: slow, readable, one customer at a time.

``morning`` and ``evening`` do for one ``Customer`` agent what ``sim.core.kernels._morning`` and
``sim.core.kernels._evening`` do for every customer at once, and ``spread`` what
``sim.core.kernels._spread`` does for the day's word of mouth and contagion. They read and write the agent's
named attributes and draw from the same counter-based streams, in plain Python, so the
kernel can be tested against them for bit-identical results (``tests/core/test_reference.py``).
Derived parameters (decay factors, fairness intercepts, hazards) are read by name from the
model's kernel parameter vector, so both sides use the very same numbers.
"""

from __future__ import annotations

import math

from sim.core import layout as L
from sim.core import metrics as M
from sim.core import queue as Q
from sim.core.rng import (CALLBACK, CHANNEL, CHURN, FAIRNESS, ISSUE, ISSUE_SILO, MOVE,  # noqa: F401
                     OUTREACH, PRICE_QUERY, RESOLVE, RETENTION, RETRY, SELF_SERVICE,
                     normal_py, uniform_py)

class _Named:
    """Read a kernel parameter vector by name: ``k.keep_attitude``."""

    def __init__(self, pv):
        self._pv = pv

    def __getattr__(self, name):
        return float(self._pv[getattr(L, "P_" + name.upper())])


def _draw(c, stream, day, k=0):
    return uniform_py(c.model.day_seed, stream, c.idx, day, k)


def _exp(x):
    """exp(x), inf beyond the largest float, as the compiled kernels' exp gives (Python's
    raises OverflowError: an eta above 709 is reached in range, e.g. by a long hold with
    beta_attitude, loss_aversion and disconfirmation_per_hour near their tops)."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _logistic(x):
    """1 / (1 + exp(-x)), the kernels' formula: 0 where exp(-x) overflows (x below about
    -709, reached in range with a steep fairness_slope and a judged rise far below
    fairness_reference_rise)."""
    return 1.0 / (1.0 + _exp(-x))


# ---------------------------------------------------------------------------------------
def morning(c, day):
    """Forget yesterday, drift, renew, get outreach, maybe have a new issue, pick a channel.
    Returns (products, channel_pref) if the customer could have had a new issue today, else
    None (the kernel's ``at_risk`` counts)."""
    k = _Named(c.model.pv)
    for name in L.F_FIELDS:
        if name.startswith("t_"):
            setattr(c, name, 0.0)
    for name in L.I_FIELDS:
        if name.startswith("t_"):
            setattr(c, name, -1)
    c.t_announced = -1.0
    c.t_action = L.ACTION_NONE
    c.t_issue_new = c.t_closed = c.t_renewal = c.t_churn = c.t_saved = c.t_acquired = 0
    if not c.active:
        return None
    # attitude drifts back to the customer's own baseline; memories fade
    c.attitude = c.attitude + (c.attitude_base - c.attitude) * (1.0 - k.keep_attitude)
    c.unfair = c.unfair * k.keep_unfair
    c.exposure_social = c.exposure_social * k.keep_social
    c.exposure_family = c.exposure_family * k.keep_family
    c.t_shock = c.attitude
    if c.renewal_doy == day % 365 and c.day_joined < day:
        renew(c, day, k)
    if day == k.letter_day:
        letter(c, day, k)
    if _draw(c, OUTREACH, day, 0) < k.outreach_rate:
        if _draw(c, OUTREACH, day, 1) < k.outreach_relevance:
            c.t_outreach = L.OUTREACH_RELEVANT
            c.attitude = c.attitude + k.outreach_relevant
        else:
            c.t_outreach = L.OUTREACH_OFF_TARGET
            c.attitude = c.attitude + k.outreach_off_target
    at_risk = None
    if not c.issue_open:
        at_risk = (c.products, c.channel_pref)
        rate = k.issue_rate * c.products
        if _draw(c, ISSUE, day) < 1.0 - math.exp(-rate):
            u = _draw(c, ISSUE_SILO, day)
            silo = L.SILO_BILLING if u < k.silo_cum_billing else \
                L.SILO_CLAIMS if u < k.silo_cum_claims else L.SILO_RETENTION
            open_issue(c, day, silo, L.ISSUE_DRAWN)
    if c.issue_open and c.callback_day == day:
        c.t_call = callback_due(c)  # a booked callback comes, or they gave up on it
    elif c.issue_open and c.issue_next_day == day:
        choose_channel(c, day, k)
    return at_risk


def renew(c, day, k):
    """At renewal the premium follows cost, policy and walking; a noticed rise is judged
    fair or unfair (dual entitlement) and may prompt a billing query."""
    c.t_renewal = 1
    moved = False
    if _draw(c, MOVE, day, 0) < k.annual_move_rate:
        moved = True
        c.region = int(_draw(c, MOVE, day, 1) * k.regions)
        c.risk_cost = c.risk_cost * math.exp(
            k.region_cost_sd_log * normal_py(c.model.day_seed, MOVE, c.idx, day, 2))
    c.risk_cost = c.risk_cost * (1.0 + k.annual_cost_inflation)
    tenure_years = (day - c.day_joined) / 365.0
    if k.price_walking_per_year > 0.0 and tenure_years >= 1.0:
        c.loading = c.loading * (1.0 + k.price_walking_per_year)
    target = int(k.price_target)
    hiked = k.price_change_active > 0.0 and (
        target == L.TARGET_ALL or (target == L.TARGET_MOVERS and moved))
    reviewed = hiked and k.review_call > 0.0
    # the hike lands on one product: the whole premium rises by rise / products, while
    # the customer sees (and judges) that product's own rise
    rise = 0.0
    if hiked:
        rise = min(k.price_change, k.price_cap)
        if reviewed:
            rise = rise * (1.0 - k.review_discount)
        c.loading = c.loading * (1.0 + rise / c.products)
    old = c.premium
    new = c.risk_cost * (1.0 + k.base_margin) * c.loading
    change = new / old - 1.0
    if change > k.price_cap:
        change = k.price_cap
        new = old * (1.0 + change)
    c.premium = max(new, L.MIN_PREMIUM)  # never zero: the next renewal divides by it
    c.last_change = change
    seen = change + rise * (1.0 - 1.0 / c.products)
    c.t_price_change = seen
    if reviewed:
        c.attitude = c.attitude + k.review_call_attitude
    # the policy's explanation for the targeted customers, the routine one (the yearly
    # letter) for everyone else
    judge(c, day, k, seen, k.expected_rise,
          int(k.explanation if hiked else k.routine_explanation), reviewed, 0)


def letter(c, day, k):
    """A price-change letter (policy.price_change_by=letter): the policy's rise lands on
    one of the customer's products now, mid-term, and is judged at once (against no
    expected rise: the usual cost trend comes at renewal)."""
    rise = min(k.price_change, k.price_cap)
    reviewed = k.review_call > 0.0
    if reviewed:
        rise = rise * (1.0 - k.review_discount)
        c.attitude = c.attitude + k.review_call_attitude
    step = 1.0 + rise / c.products
    c.loading = c.loading * step
    c.premium = max(c.premium * step, L.MIN_PREMIUM)
    c.t_price_change = rise
    judge(c, day, k, rise, 0.0, int(k.explanation), reviewed, 1)


def judge(c, day, k, seen, expected, explanation, reviewed, slot):
    """A price change the customer sees: if noticed beyond the rise they ``expected``,
    judged fair or unfair (dual entitlement) by its size and explanation; it may prompt a
    billing query. ``slot``: the draws' counter slot (0 renewal, 1 letter)."""
    judged = (1.0 + seen) / (1.0 + expected) - 1.0
    if judged <= k.noticed_above:
        return
    a = {L.MOTIVE_COST: k.fair_a_cost, L.MOTIVE_LOCK_IN: k.fair_a_lock_in}.get(
        explanation, k.fair_a_unexplained)
    if reviewed:
        a = a - k.review_fairness_shift
    p_unfair = _logistic(a + k.fairness_slope * math.log(judged / k.fairness_reference_rise))
    unfair = _draw(c, FAIRNESS, day, slot) < p_unfair
    if unfair:
        full = k.unfair_full_rise  # weight 1 (fresh), or growing with the rise up to full
        weight = 1.0 if full <= 0.0 else min(1.0, judged / full)
        c.unfair = max(c.unfair, weight)
        c.attitude = c.attitude + weight * k.unfair_attitude
    c.unfair_last = c.t_unfair = int(unfair)
    if unfair and k.unfair_exit_next_renewal > 0.0 and _draw(c, FAIRNESS, day, slot + 2) < k.unfair_exit_next_renewal:
        ahead = (c.renewal_doy - day % 365) % 365  # leave at the next renewal after today
        c.exit_day = day + (ahead if ahead > 0 else 365)
    explained = explanation == L.MOTIVE_COST or reviewed
    q = k.price_query_prob_explained if explained else k.price_query_prob_unexplained
    if not c.issue_open and _draw(c, PRICE_QUERY, day, slot) < q:
        open_issue(c, day, L.SILO_BILLING, L.ISSUE_QUERY)


def open_issue(c, day, silo, how):
    c.issue_open = 1
    c.issue_silo = silo
    c.issue_effort = 0
    c.issue_next_day = day
    c.t_issue_new = how


def choose_channel(c, day, k):
    """First attempt by preference (rep, self-service, phone; the push deflects phone
    callers to self-service); every later attempt is a call."""
    if c.issue_effort > 0:
        c.t_action = L.ACTION_PHONE
    elif c.channel_pref == L.PREF_REP:
        c.t_action = L.ACTION_REP
    elif c.channel_pref == L.PREF_SELF_SERVICE or _draw(c, CHANNEL, day) < k.self_service_push:
        if _draw(c, SELF_SERVICE, day) < k.self_service_resolution:
            c.t_ss = L.SS_RESOLVED
        else:
            c.t_ss = L.SS_FAILED
            c.t_action = L.ACTION_PHONE  # forced from self-service to the phone
    else:
        c.t_action = L.ACTION_PHONE


# ---------------------------------------------------------------------------------------
def evening(c, day):
    """After reps and silos: live with today's service, tell ties, decide to stay or go."""
    if not c.active:
        return
    k = _Named(c.model.pv)
    progress_issue(c, day, k)
    shock = c.attitude - c.t_shock
    c.t_shock = shock if abs(shock) >= k.wom_threshold else 0.0
    decide_churn(c, day, k)


def callback_due(c):
    """A booked callback's day: it comes, or the caller has given up waiting; today's rows
    get its wait and promise."""
    c.t_callback_wait = c.callback_wait
    c.t_announced = c.callback_told
    c.callback_day = -1
    return Q.CALLBACK_GAVE_UP if c.callback_gave_up == 1 else Q.CALLED_BACK


def experience_call(c, k, outcome):
    """Experience against expectation (Oliver 1980): a wait longer than expected hurts
    twice as much as a shorter one pleases; a callback's delay counts for less; a wait
    beyond a fixed promise (a hold or a callback) hurts on top. A caller who hung up on
    hearing the wait experienced none; one who gave up on a callback gets no credit for
    giving up before the time announced."""
    if outcome == Q.BALKED:
        return
    if outcome in (Q.CALLED_BACK, Q.CALLBACK_GAVE_UP):
        actual, weight = c.t_callback_wait, k.callback_wait_weight
    else:
        actual, weight = c.t_hold, 1.0
    expected = c.t_announced if c.t_announced >= 0.0 else c.expected_wait
    gap_hours = weight * (actual - expected) / 60.0
    if gap_hours > 0.0:
        c.attitude = c.attitude - k.loss_aversion * k.disconfirmation_per_hour * gap_hours
    elif outcome != Q.CALLBACK_GAVE_UP:
        c.attitude = c.attitude - k.disconfirmation_per_hour * gap_hours
    c.attitude = c.attitude - k.wait_pain_per_hour * weight * actual / 60.0
    if k.promise == L.PROMISE_FIXED and c.t_announced >= 0.0 and actual > c.t_announced:
        c.attitude = c.attitude - k.broken_promise_penalty
    c.expected_wait = c.expected_wait + k.expectation_learning * (actual - c.expected_wait)


def progress_issue(c, day, k):
    """Effort, resolution and the next step of an issue contacted today; a booked callback
    keeps the issue open until it comes (or the caller gives up on it)."""
    if c.t_ss < 0 and c.t_rep < 0 and c.t_call < 0:
        return
    effort = c.issue_effort
    resolved = False
    if c.t_ss == L.SS_RESOLVED:
        effort += 1
        resolved = True
    elif c.t_ss == L.SS_FAILED:
        effort += 2
        c.attitude = c.attitude + k.forced_channel_switch
    if c.t_rep >= 0:
        effort += 1
        if c.t_rep == L.REP_RESOLVED:
            resolved = True
        elif c.t_rep == L.REP_HANDED_OFF:  # a transfer
            effort += 1
            c.attitude = c.attitude + k.transfer_penalty
    call = c.t_call
    if call >= 0:
        if call not in (Q.CALLED_BACK, Q.CALLBACK_GAVE_UP):
            effort += 1  # (a callback is part of the call that booked it)
        if call == Q.CALLBACK:
            if c.callback_day != day:  # it comes on a later day
                c.issue_effort = effort
                c.issue_next_day = c.callback_day
                return
            call = callback_due(c)
        experience_call(c, k, call)
        if call in (Q.SERVED, Q.CALLED_BACK):
            fcr = (k.fcr_billing, k.fcr_claims, k.fcr_retention)[c.issue_silo]
            resolved = _draw(c, RESOLVE, day) < fcr
    c.issue_effort = effort
    if resolved:
        c.t_closed = L.CLOSED_RESOLVED
        c.issue_open = 0
        low = effort <= k.low_effort_max
        c.attitude = c.attitude + (k.resolved_low_effort if low else k.resolved_high_effort)
        return
    hung_up = call in (Q.ABANDONED, Q.BALKED, Q.CALLBACK_GAVE_UP)
    p_retry = k.retry_after_abandon if hung_up else k.retry_after_unresolved
    if effort < k.max_contacts and _draw(c, RETRY, day) < p_retry:
        c.issue_next_day = day + 1
    else:
        c.t_closed = L.CLOSED_UNRESOLVED
        c.issue_open = 0
        c.attitude = c.attitude + k.unresolved


def decide_churn(c, day, k):
    """Proportional hazard: products, attitude, price against rivals, unfairness, tenure,
    ties who left. The terms give the reason its odds (``departure_reason``)."""
    tenure_years = (day - c.day_joined) / 365.0
    quote = k.competitor_price_ratio * c.risk_cost * (1.0 + k.base_margin)
    # a fresh unfair change also undoes part of the bundle's stickiness (the products term)
    price = k.beta_price * math.log(c.premium / quote) \
        + (k.beta_unfair + k.products_exponent * k.unfair_bundle_release
           * math.log(c.products)) * c.unfair
    service = k.beta_attitude * (c.attitude_base - c.attitude)
    social = k.log_hr_social * c.exposure_social
    if tenure_years >= k.loyal_years:
        social = social * k.contagion_loyal_damping
    family = k.log_hr_family * c.exposure_family
    eta = -k.products_exponent * math.log(c.products) \
        - k.beta_attitude * (c.attitude - k.attitude_mean) + price \
        - k.beta_tenure * (math.log(1.0 + tenure_years) - k.log_tenure_ref) \
        + social + family
    hazard = k.h_day + (k.h_renewal if c.t_renewal == 1 else 0.0)
    # no hazard, no leaving, however large the relative hazard (0 x inf is NaN)
    p_leave = 1.0 - math.exp(-hazard * _exp(eta)) if hazard > 0.0 else 0.0
    planned = c.t_renewal == 1 and c.exit_day == day  # decided at an unfair change
    u = _draw(c, CHURN, day)
    if not planned and u >= p_leave:
        return
    c.exit_day = -1
    if k.retention_save > 0.0 and _draw(c, RETENTION, day) < k.retention_save:
        c.t_saved = 1
        c.premium = max(c.premium * (1.0 - k.retention_discount), L.MIN_PREMIUM)
        c.loading = c.loading * (1.0 - k.retention_discount)
        return
    if planned:
        reason = M.REASON_PRICE  # the price change they judged unfair
    else:  # u given u < p_leave: uniform on [0, 1) once divided by p_leave
        reason = departure_reason(((price, M.REASON_PRICE), (service, M.REASON_SERVICE),
                                   (social, M.REASON_CONTAGION), (family, M.REASON_CASCADE)),
                                  u / p_leave)
    c.active = 0
    c.day_left = day
    c.reason = reason
    c.issue_open = 0
    c.t_churn = 1


def departure_reason(terms, v):
    """The reason of a departure from its (log-hazard term, reason) pairs and v ~ U[0, 1):
    the hazard is exp(S) times what it would be without the positive terms (S their sum),
    so with probability exp(-S) the customer would have left anyway ("other"); otherwise
    each positive term takes its share of S."""
    positive = [(t, code) for t, code in terms if t > 0.0]
    s = sum(t for t, _ in positive)
    base = math.exp(-s)
    if not positive or v < base:
        return M.REASON_OTHER
    x = (v - base) / (1.0 - base) * s
    upto = 0.0
    for t, code in positive:
        upto += t
        if x < upto:
            return code
    return positive[-1][1]  # x rounded up to s


# ---------------------------------------------------------------------------------------
def spread(model):
    """Word of mouth and contagion, customer by customer in order: everyone who left today
    raises their active ties' exposure (household ties the family's, others the social
    one), and everyone whose attitude moved today by more than the threshold (``t_shock``)
    tells their active ties a share of it, dissatisfied customers more (Anderson 1998)."""
    b = model.params.behaviour
    customers = model.customers
    for c in customers[:model.n]:
        left = c.t_churn == 1
        shock = c.t_shock
        if not left and shock == 0.0:
            continue
        told = b.wom_weight * shock
        if shock < 0.0:
            told = told * b.wom_negative_multiplier
        for e in range(model.indptr[c.idx], model.indptr[c.idx + 1]):
            j = int(model.nbr[e])
            if j >= model.n or not customers[j].active:
                continue
            tie = customers[j]
            if left:
                if model.tie_family[e] == 1:
                    tie.exposure_family = tie.exposure_family + 1.0
                else:
                    tie.exposure_social = tie.exposure_social + 1.0
            if shock != 0.0:
                tie.attitude = tie.attitude + told
