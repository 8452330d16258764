"""The population: a customer joining (traits drawn from their slot's own streams), and the
social and household ties between customers."""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from sim.core import layout as L
from sim.core import rng as R
from sim.core.kernels.today import _reset_today


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
    # the book's product mix for the initial customers, the inflow's for those who join
    mix = L.P_MIX1 if initial else L.P_NEW_MIX1
    products = 1
    if u > pv[mix]:
        products = 2
    if u > pv[mix + 1]:
        products = 3
    if u > pv[mix + 2]:
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
    I[L.I_CALLBACK_DAY, i] = -1
    I[L.I_CALLBACK_GAVE_UP, i] = 0
    F[L.F_CALLBACK_WAIT, i] = 0.0
    F[L.F_CALLBACK_TOLD, i] = -1.0
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


@njit(cache=True)
def _build_ties(seed, slots, book, region, ties_mean, locality, household_mean, regions):
    """Social ties (random, mostly within region) and household ties (consecutive slots
    grouped into households). Returns CSR (indptr, nbr, family), undirected, sorted.

    The book's customers (slots below ``book``) propose ties to anyone in the book; a
    customer who joins later (slot i) to anyone in a slot up to theirs, the book and those
    who joined before them. So the ties among the first m slots are the same for any
    number of slots from m up: a run's network does not depend on how many slots its
    policy needs for the customers it wins (and the warm start, which only fills the
    first slots, is the same under every policy)."""
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
    # region r's slots up to slot i: the first seen[r] of by_region's region-r part
    seen = np.zeros(regions, np.int64)
    for i in range(min(book, slots)):
        seen[region[i]] += 1
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
        if i >= book:
            seen[region[i]] += 1
        reach = max(book, i + 1)  # slots this customer's ties can reach
        for k in range(n_prop[i]):
            if R.uniform(seed, R.NETWORK, i, 2, 2 * k) < locality:
                r = region[i]
                j = by_region[counts[r] + int(R.uniform(seed, R.NETWORK, i, 3, 2 * k) * seen[r])]
            else:
                j = int(R.uniform(seed, R.NETWORK, i, 3, 2 * k + 1) * reach)
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
