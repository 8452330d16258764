"""The stay-or-go decision: a proportional hazard whose terms give the reason its odds, and
the screen that settles a quiet customer's churn draw without computing the hazard."""

from __future__ import annotations

import math

from numba import njit

from sim.core import layout as L
from sim.core import metrics as M
from sim.core import rng as R
from sim.core.kernels.today import _touch


@njit(cache=True, inline="always")
def _reason(price, service, social, family, v):
    """A departure's reason from its log-hazard terms and ``v``, uniform on [0, 1): "other"
    with probability exp(-S), S the sum of the positive terms (the share of the hazard the
    customer would have had without them); otherwise a term with probability
    (1 - exp(-S)) t / S, its share of S (the log-hazard is additive). A term's share of the
    departures is thus the share of the departures it caused. Assumption: the split of the
    excess hazard in proportion to the terms."""
    t0, t1, t2, t3 = max(price, 0.0), max(service, 0.0), max(social, 0.0), max(family, 0.0)
    s = t0 + t1 + t2 + t3
    base = math.exp(-s)
    if s <= 0.0 or v < base:
        return M.REASON_OTHER
    x = (v - base) / (1.0 - base) * s  # uniform on [0, s)
    if x < t0:
        return M.REASON_PRICE
    if x < t0 + t1:
        return M.REASON_SERVICE
    if x < t0 + t1 + t2:
        return M.REASON_CONTAGION
    return M.REASON_CASCADE if t3 > 0.0 else (M.REASON_CONTAGION if t2 > 0.0 else
                                               M.REASON_SERVICE if t1 > 0.0 else
                                               M.REASON_PRICE)


@njit(cache=True)
def _churn(F, I, pv, seed, i, day, renewal):
    """The stay-or-go decision: a proportional hazard whose terms give the reason its odds
    (``_reason``; ``renewal``: today is the customer's renewal). Returns True if the
    customer left or was saved (today's rows written)."""
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
    # (h = 0: no hazard, however large exp(eta), which may overflow to inf: 0 x inf is NaN)
    p_leave = 1.0 - math.exp(-h * math.exp(eta)) if h > 0.0 else 0.0
    planned = renewal and I[L.I_EXIT_DAY, i] == day  # decided at an unfair change
    u = R.uniform(seed, R.CHURN, i, day, 0)
    if not planned and u >= p_leave:
        return False
    _touch(F, I, i, day)
    I[L.I_EXIT_DAY, i] = -1
    if pv[L.P_RETENTION_SAVE] > 0.0 and \
            R.uniform(seed, R.RETENTION, i, day, 0) < pv[L.P_RETENTION_SAVE]:
        I[L.I_T_SAVED, i] = 1
        F[L.F_PREMIUM, i] = max(F[L.F_PREMIUM, i] * (1.0 - pv[L.P_RETENTION_DISCOUNT]),
                                L.MIN_PREMIUM)
        F[L.F_LOADING, i] *= 1.0 - pv[L.P_RETENTION_DISCOUNT]
        return True
    if planned:
        reason = M.REASON_PRICE  # the price change they judged unfair
    else:  # given u < p_leave, u / p_leave is uniform on [0, 1) and drawn for nothing else
        reason = _reason(price, service, social, family, u / p_leave)
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
