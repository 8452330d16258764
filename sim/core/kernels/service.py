"""Service: issues opening, reps handling them, the silos' callers and their day in the queue,
the experience of a call against what was expected, and an issue's progress."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim.core import layout as L
from sim.core import queue as Q
from sim.core import rng as R
from sim.core.kernels.today import _touch


@njit(cache=True)
def _open_issue(F, I, i, day, silo, how):
    """Customer ``i``'s new issue in ``silo``, opened ``how`` (``L.ISSUE_DRAWN`` or
    ``L.ISSUE_QUERY``), contacted today."""
    _touch(F, I, i, day)
    I[L.I_ISSUE_OPEN, i] = 1
    I[L.I_ISSUE_SILO, i] = silo
    I[L.I_ISSUE_EFFORT, i] = 0
    I[L.I_ISSUE_NEXT_DAY, i] = day
    I[L.I_T_ISSUE_NEW, i] = how


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
                patience_mean, patience_mult, captive_share, callback_accept,
                callback_patience):
    """Arrival minute, handling time, patience, callback acceptance and patience waiting
    for a callback for each caller, sorted by arrival: through the day, or within
    ``opening_minutes`` of opening for a caller whose last call the closing cut off.
    Returns (order, arrival, handle, patience, accepts, waits)."""
    m = idx.shape[0]
    arrival = np.empty(m)
    handle = np.empty(m)
    patience = np.empty(m)
    accepts = np.empty(m, np.bool_)
    waits = np.empty(m)
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
        waits[k] = R.exponential(seed, R.CALLBACK, i, day, 1, callback_patience)
    order = np.argsort(arrival, kind="mergesort")
    return order, arrival[order], handle[order], patience[order], accepts[order], waits[order]


@njit(cache=True)
def _copy_draws(seed, stream, entity, day, k, handle_mean, patience_mean, patience_mult,
                captive_share, callback_accept, callback_patience):
    """One of the company's other callers: handling time, patience, callback acceptance
    and patience waiting for a callback, from draws k..k+4 of (stream, entity)."""
    handle = R.exponential(seed, stream, entity, day, k, handle_mean)
    patience = np.inf
    if R.uniform(seed, stream, entity, day, k + 1) >= captive_share:
        patience = R.exponential(seed, stream, entity, day, k + 2, patience_mean) * patience_mult
    accepts = R.uniform(seed, stream, entity, day, k + 3) < callback_accept
    waits = R.exponential(seed, stream, entity, day, k + 4, callback_patience)
    return handle, patience, accepts, waits


@njit(cache=True, inline="always")
def _fresh_entity(c, silo):
    """The entity of the ``c``-th company caller about a new issue in ``silo`` (stream
    ``COMPANY_NEW``; room for 16 silos)."""
    return c * 16 + silo


@njit(cache=True)
def _company_callers(I, idx, seed, day, day_start, open_minutes, opening_minutes, handle_mean,
                     patience_mean, patience_mult, captive_share, callback_accept,
                     callback_patience, extra, silo, new_expected):
    """The company's callers today beyond the simulated ones ``idx``: the simulated
    customers are a sample of ``population.company_size``, so each stands for ``extra`` =
    company / simulated - 1 more. Two kinds:

    - those calling about an issue opened by chance today (self-service failed or not
      tried): a Poisson stream through the day at ``extra`` x ``new_expected`` (the
      simulated customers' expected number of such callers, ``LoyaltyModel.
      _new_callers_expected``), so the company's count varies as a whole company's
      would, not as ``extra + 1`` times the sample's (stream ``COMPANY_NEW``; entity: the
      copy's number and ``silo``);
    - copies of every other simulated caller (calling again, or about a price query, or
      handed off by a rep: their number follows the sample's own history), ``extra`` of
      each (the whole part, plus one with the chance of the fraction), in the same window
      (the day, or the opening after a call the closing cut off; stream ``COMPANY``;
      entity: the caller's slot and the copy's number).

    Each has its own arrival, handling, patience and callback acceptance from the same
    distributions, patience waiting for a callback included. Copies take agents' time,
    and only that: what they live through is the sample's, in distribution. Returns
    (arrival, handle, patience, accepts, waits), unsorted."""
    m = idx.shape[0]
    whole = int(math.floor(extra))
    frac = extra - whole
    counts = np.zeros(m, np.int64)
    total = 0
    for k in range(m):
        i = idx[k]
        if I[L.I_T_ISSUE_NEW, i] == L.ISSUE_DRAWN and I[L.I_T_REP, i] == L.REP_NONE:
            continue  # (the Poisson stream stands for these)
        c = whole
        if frac > 0.0 and R.uniform(seed, R.COMPANY, i, day, 0) < frac:
            c += 1
        counts[k] = c
        total += c
    closing = day_start + open_minutes
    gap_mean = open_minutes / (extra * new_expected) if extra * new_expected > 0.0 else np.inf
    fresh = 0
    t = day_start
    while gap_mean < np.inf:
        t += R.exponential(seed, R.COMPANY_NEW, _fresh_entity(fresh, silo), day, 0, gap_mean)
        if t >= closing:
            break
        fresh += 1
    arrival = np.empty(total + fresh)
    handle = np.empty(total + fresh)
    patience = np.empty(total + fresh)
    accepts = np.empty(total + fresh, np.bool_)
    waits = np.empty(total + fresh)
    j = 0
    for k in range(m):
        i = idx[k]
        window = open_minutes
        if I[L.I_OPENING_DAY, i] == day:
            window = min(opening_minutes, open_minutes)
        for c in range(counts[k]):
            entity = ((c + 1) << 32) | i
            arrival[j] = day_start + R.uniform(seed, R.COMPANY, entity, day, 0) * window
            handle[j], patience[j], accepts[j], waits[j] = _copy_draws(
                seed, R.COMPANY, entity, day, 1, handle_mean, patience_mean, patience_mult,
                captive_share, callback_accept, callback_patience)
            j += 1
    t = day_start
    for c in range(fresh):
        entity = _fresh_entity(c, silo)
        t += R.exponential(seed, R.COMPANY_NEW, entity, day, 0, gap_mean)
        arrival[j] = t
        handle[j], patience[j], accepts[j], waits[j] = _copy_draws(
            seed, R.COMPANY_NEW, entity, day, 1, handle_mean, patience_mean, patience_mult,
            captive_share, callback_accept, callback_patience)
        j += 1
    return arrival, handle, patience, accepts, waits


@njit(cache=True)
def _silo_day(F, I, idx, seed, day, free_at, part, open_minutes, opening_minutes,
              handle_mean, patience_mean, patience_mult, captive_share, callback_accept,
              announce_mode, promised, callback_offered, callback_min_wait,
              callback_max_wait, callback_patience, extra, silo, new_expected):
    """Serve one silo's callers for one day and write each caller's outcome into their
    columns. Nobody holds past closing: a caller's patience is at most the time left until
    the line closes, so a caller still waiting then (captive ones too) is cut off, as an
    abandoned call, and may call again the next day, within ``opening_minutes`` of opening
    (``opening_day``). Agents finish the calls they started after closing, and callbacks
    keep their place. A callback is booked (``callback_day``: the business day it comes, or
    the day the caller gives up waiting for it, ``callback_gave_up``); the issue stays open
    until then (``_callback_due``). ``extra``: the company's customers per simulated one
    beyond them (0 when the simulation is the whole company), whose callers queue with
    them (``_company_callers``: ``silo``'s index and ``new_expected``, the simulated
    customers' expected callers about an issue opened by chance today). A callback given
    up on takes no agent's time (``Q._serve_fcfs``), the copies' too. Returns (backlog, offered): the backlog of the simulated callers
    (those the closing sent away, cut off or told a wait beyond it, and the callbacks not
    started by closing) and the calls the silo was offered, the company's others too."""
    day_start = day * open_minutes
    closing = day_start + open_minutes
    order, arrival, handle, patience, accepts, waits = _call_draws(
        I, idx, seed, day, day_start, open_minutes, opening_minutes, handle_mean,
        patience_mean, patience_mult, captive_share, callback_accept, callback_patience)
    m = idx.shape[0]
    closed_on = np.empty(m, np.bool_)  # their patience outlasts the line
    for k in range(m):
        closed_on[k] = patience[k] > closing - arrival[k]
    if extra > 0.0:  # the queue with the company's other callers, in arrival order
        c_arr, c_handle, c_pat, c_acc, c_waits = _company_callers(
            I, idx, seed, day, day_start, open_minutes, opening_minutes, handle_mean,
            patience_mean, patience_mult, captive_share, callback_accept, callback_patience,
            extra, silo, new_expected)
        queue_order = np.argsort(np.concatenate((arrival, c_arr)), kind="mergesort")
        q_arr = np.concatenate((arrival, c_arr))[queue_order]
        q_handle = np.concatenate((handle, c_handle))[queue_order]
        q_pat = np.concatenate((patience, c_pat))[queue_order]
        q_acc = np.concatenate((accepts, c_acc))[queue_order]
        q_waits = np.concatenate((waits, c_waits))[queue_order]
    else:
        queue_order = np.arange(m)
        q_arr, q_handle, q_pat, q_acc, q_waits = arrival, handle, patience, accepts, waits
    n_q = q_arr.shape[0]
    for k in range(n_q):  # nobody holds past closing
        left = closing - q_arr[k]
        if q_pat[k] > left:
            q_pat[k] = left
    q_outcome = np.empty(n_q, np.int8)
    q_hold = np.empty(n_q)
    q_told = np.empty(n_q)
    q_start = np.empty(n_q)
    Q._serve_fcfs(q_arr, q_handle, q_pat, q_acc, q_waits, announce_mode, promised,
                  callback_offered, callback_min_wait, callback_max_wait, free_at, part,
                  q_outcome, q_hold, q_told, q_start)
    outcome = np.empty(m, np.int8)
    hold = np.empty(m)
    told = np.empty(m)
    start = np.empty(m)
    for q in range(n_q):
        k = queue_order[q]
        if k < m:  # a simulated caller
            outcome[k], hold[k], told[k], start[k] = q_outcome[q], q_hold[q], q_told[q], \
                q_start[q]
    backlog = 0
    for k in range(m):
        i = idx[order[k]]
        I[L.I_T_CALL, i] = outcome[k]
        F[L.F_T_HOLD, i] = hold[k]
        F[L.F_T_ANNOUNCED, i] = told[k]
        if outcome[k] == Q.CALLBACK:  # booked: it comes, or they give up first
            wait = start[k] - arrival[k]
            gave_up = wait > waits[k]
            if gave_up:
                wait = waits[k]
            F[L.F_CALLBACK_WAIT, i] = wait
            F[L.F_CALLBACK_TOLD, i] = told[k]
            I[L.I_CALLBACK_DAY, i] = int(math.floor((arrival[k] + wait) / open_minutes))
            I[L.I_CALLBACK_GAVE_UP, i] = gave_up
        sent_away = closed_on[k] and (outcome[k] == Q.ABANDONED or outcome[k] == Q.BALKED)
        if sent_away:
            I[L.I_OPENING_DAY, i] = day + 1
        if start[k] > closing or sent_away:
            backlog += 1
    return backlog, n_q


@njit(cache=True)
def _experience_call(F, I, pv, i, outcome):
    """Attitude and expectation after a call, or after a booked callback came or was given
    up on (``outcome``): the wait against what was expected (what was announced, else the
    learned expectation), scaled down for a callback; a wait beyond a fixed promise (a
    hold or a callback) breaks it; a caller who hung up on hearing the wait experienced
    none. A caller who gave up on a callback has the wait's pain and its disappointment
    only: giving up before the time announced is no wait shorter than expected."""
    if outcome == Q.BALKED:
        return
    told = F[L.F_T_ANNOUNCED, i]
    weight = 1.0
    if outcome == Q.CALLED_BACK or outcome == Q.CALLBACK_GAVE_UP:
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
    elif outcome != Q.CALLBACK_GAVE_UP:
        F[L.F_ATTITUDE, i] -= pv[L.P_DISCONFIRMATION_PER_HOUR] * gap
    F[L.F_ATTITUDE, i] -= pv[L.P_WAIT_PAIN_PER_HOUR] * weight * actual / 60.0
    if pv[L.P_PROMISE] == L.PROMISE_FIXED and told >= 0.0 and actual > told:
        F[L.F_ATTITUDE, i] -= pv[L.P_BROKEN_PROMISE_PENALTY]
    F[L.F_EXPECTED_WAIT, i] += pv[L.P_EXPECTATION_LEARNING] * (actual - F[L.F_EXPECTED_WAIT, i])


@njit(cache=True)
def _callback_due(F, I, i):
    """A booked callback's day: it comes (``CALLED_BACK``) or the caller has given up
    waiting (``CALLBACK_GAVE_UP``); today's rows get its wait and promise. Returns the
    outcome."""
    F[L.F_T_CALLBACK_WAIT, i] = F[L.F_CALLBACK_WAIT, i]
    F[L.F_T_ANNOUNCED, i] = F[L.F_CALLBACK_TOLD, i]
    I[L.I_CALLBACK_DAY, i] = -1
    return Q.CALLBACK_GAVE_UP if I[L.I_CALLBACK_GAVE_UP, i] == 1 else Q.CALLED_BACK


@njit(cache=True)
def _progress_issue(F, I, pv, seed, i, day):
    """Effort, resolution and the next step of an issue contacted today. A call that
    booked a callback leaves the issue open until the callback's day (``callback_day``);
    on that day (the same one, or a later one: ``t_call`` says ``CALLED_BACK`` or
    ``CALLBACK_GAVE_UP``) the callback is experienced and may resolve it."""
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
        if call != Q.CALLED_BACK and call != Q.CALLBACK_GAVE_UP:
            effort += 1  # (a callback is part of the call that booked it)
        if call == Q.CALLBACK:
            if I[L.I_CALLBACK_DAY, i] != day:  # it comes on a later day
                I[L.I_ISSUE_EFFORT, i] = effort
                I[L.I_ISSUE_NEXT_DAY, i] = I[L.I_CALLBACK_DAY, i]
                return
            call = _callback_due(F, I, i)
        _experience_call(F, I, pv, i, call)
        if call == Q.SERVED or call == Q.CALLED_BACK:
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
    if call == Q.ABANDONED or call == Q.BALKED or call == Q.CALLBACK_GAVE_UP:
        p_retry = pv[L.P_RETRY_AFTER_ABANDON]
    if effort < pv[L.P_MAX_CONTACTS] and R.uniform(seed, R.RETRY, i, day, 0) < p_retry:
        I[L.I_ISSUE_NEXT_DAY, i] = day + 1
    else:
        I[L.I_T_CLOSED, i] = L.CLOSED_UNRESOLVED
        I[L.I_ISSUE_OPEN, i] = 0
        F[L.F_ATTITUDE, i] += pv[L.P_UNRESOLVED]
