"""Calibration measurements: the full model, run with its default parameters, measured the
way the published studies measured people (MODEL-NOTES.md, "Calibration targets").

Every function here runs ``LoyaltyModel`` and reads only its public outputs: ``summary()``,
``journeys()`` (with every initial customer sampled), the ties (``indptr``, ``nbr``,
``tie_family``, ``household``) and, read-only, the state arrays ``F`` and ``I`` at the end
of the run (joining and leaving days, products, premium, risk cost, loading). The claims,
sources and tolerances live in ``sim.validation.calibration_checks`` (the checks);
``experiments/calibration.py`` runs them at full size and sweeps the tunable parameters.

Runs use one numba thread: results are bit-identical on any thread count (the tests hold
the kernels to that), and on a shared machine one thread is much faster for many short
parallel regions. Replicate seeds derive from the one root seed (``replicate_seed``); two
policies run with the same replicate seed are paired (common random numbers).
"""

from __future__ import annotations

import contextlib
import functools
import math
from dataclasses import dataclass

import numba
import numpy as np
from numba import njit
from omegaconf import DictConfig

from sim.core import layout as L
from sim.runs.config import compose, params_from_cfg
from sim.runs.warm import STORE as WARM_STARTS
from sim.core.kernel_params import logit
from sim.core.model import LoyaltyModel
from sim.core.params import SimParams
from sim.report.stats import sem

YEAR = 365


# -- running ------------------------------------------------------------------------------
@contextlib.contextmanager
def one_thread():
    """Run numba kernels on one thread inside the block (results do not depend on it)."""
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(before)


def replicate_seed(root: int, replicate: int) -> int:
    """The seed of replicate ``replicate`` under root seed ``root`` (distinct, reproducible)."""
    state = np.random.SeedSequence([int(root), int(replicate)]).generate_state(2, np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1]))


def _override(key: str, value) -> str:
    """A ``key=value`` override as on the command line."""
    if isinstance(value, bool):
        return f"{key}={str(value).lower()}"
    if isinstance(value, str):
        return f"{key}={value!r}"
    return f"{key}={value}"


@functools.lru_cache(maxsize=256)
def _composed(args: tuple[str, ...]) -> DictConfig:
    return compose(list(args))


def make_params(size: int, days: int, seed: int, policy: str | None = None,
                journeys: bool = False, **overrides) -> SimParams:
    """The parameters ``cxsim-run`` would compose (and validate) with population size,
    horizon and seed set; ``policy`` names a ``configs/policy`` file; ``overrides`` are
    ``"group.key": value`` pairs. Replicates differ only by seed, a plain top-level
    integer: their config is composed once and the seed set on a copy."""
    args = [_override("population.size", size), _override("horizon_days", days),
            _override("population.journey_sample", size if journeys else 0)]
    company = int(_composed(()).population.company_size)
    if size > company:  # a check on more customers than the company simulates all of it
        args.append(_override("population.company_size", size))
    if policy is not None:
        args.append(f"policy={policy}")
    args += [_override(key, value) for key, value in overrides.items()]
    cfg = _composed(tuple(args)).copy()
    cfg.seed = seed
    return params_from_cfg(cfg)


def run(params: SimParams) -> LoyaltyModel:
    with one_thread():
        return LoyaltyModel(params, warm_starts=WARM_STARTS).run()


@dataclass
class Ends:
    """Per-customer facts at the end of a run (slots [0, n)), copied from the model."""
    joined: np.ndarray     # first active day (>= 0)
    last: np.ndarray       # last active day (the day of leaving, or horizon - 1)
    left: np.ndarray       # bool: left during the run
    products: np.ndarray
    tenure_at_start: np.ndarray  # days of tenure on day 0 (0 for customers who joined later)
    premium: np.ndarray
    risk_cost: np.ndarray
    loading: np.ndarray
    household: np.ndarray
    renewal_doy: np.ndarray
    horizon: int

    @classmethod
    def of(cls, model: LoyaltyModel) -> "Ends":
        """Customers who left before day 0 (in the warm start) have no exposure: their
        ``last`` is -1 and ``left`` False."""
        n, I, F = model.n, model.I, model.F
        day_joined = I[L.I_DAY_JOINED, :n].astype(np.int64)
        day_left = I[L.I_DAY_LEFT, :n].astype(np.int64)
        horizon = model.params.horizon_days
        gone = (I[L.I_ACTIVE, :n] == 0) & (day_left < 0)  # left in the warm start
        left = day_left >= 0
        last = np.where(left, day_left, np.where(gone, -1, horizon - 1))
        return cls(np.maximum(day_joined, 0), last, left,
                   I[L.I_PRODUCTS, :n].astype(np.int64), np.maximum(-day_joined, 0),
                   F[L.F_PREMIUM, :n].copy(), F[L.F_RISK_COST, :n].copy(),
                   F[L.F_LOADING, :n].copy(), model.household[:n].copy(),
                   I[L.I_RENEWAL_DOY, :n].astype(np.int64), horizon)

    def take(self, idx: np.ndarray) -> "Ends":
        """The customer slots ``idx`` (e.g. the journey sample), in that order."""
        return Ends(**{f: (v[idx] if isinstance(v, np.ndarray) else v)
                       for f, v in vars(self).items()})

    @property
    def exposure_days(self) -> np.ndarray:
        return np.maximum(self.last - self.joined + 1, 0).astype(float)


# -- retention ----------------------------------------------------------------------------
def annual_retention(ends: list[Ends], mask_of=lambda e: slice(None)) -> tuple[float, float, int]:
    """Annual retention exp(-365 D / E) over the customers selected by ``mask_of`` in the
    runs ``ends`` (pooled), its standard error clustered by household (a household's
    members leave together: Brockett et al. 2008), and the number of departures.

    Exposure counts every day a customer starts as a customer, including the day they
    leave; ``LoyaltyModel.summary`` counts days ended as a customer, so its rate is higher
    by about one day in a few hundred, far below the tolerances."""
    deaths, expo, clusters = [], [], []
    offset = 0
    for e in ends:
        m = mask_of(e)
        deaths.append(e.left[m].astype(float))
        expo.append(e.exposure_days[m])
        clusters.append(e.household[m] + offset)
        offset += int(e.household.max()) + 1
    d, x, h = np.concatenate(deaths), np.concatenate(expo), np.concatenate(clusters)
    rate = d.sum() / x.sum()
    _, inverse = np.unique(h, return_inverse=True)
    resid = np.bincount(inverse, weights=d - rate * x)
    se_rate = math.sqrt(float(np.sum(resid ** 2))) / x.sum()
    r = math.exp(-YEAR * rate)
    return r, r * YEAR * se_rate, int(d.sum())


# -- hazards by time since an event (service issues, a tie's departure) ---------------------
@njit(cache=True)
def _tally(joined, last, left, products, loyal_day, raw_joined, renewal_doy, ev_start, ev_cust,
           ev_day, ev_cat, window, ncat, expo, deaths):
    """Customer-days and departures by (category of the most recent event at most
    ``window - 1`` days ago, days since it, products - 1, loyal, renewal day), into ``expo``
    and ``deaths`` of shape (ncat + 1, window, 4, 2, 2); days with no event in the window go
    to category ``ncat``, days-since 0. Events of customer i are
    ev_*[ev_start[i]:ev_start[i+1]], sorted by day; an event on day d counts from day d on
    (a departure on the same day counts in it). ``loyal_day[i]``: first day customer i
    counts as loyal. Renewal days (the kernel's rule) carry most of the annual hazard, so
    they are a stratum of their own."""
    for i in range(joined.shape[0]):
        k = ev_start[i]
        stop = ev_start[i + 1]
        cat = ncat
        since0 = 0
        p = products[i] - 1
        for d in range(joined[i], last[i] + 1):
            while k < stop and ev_day[k] <= d:
                cat = ev_cat[k]
                since0 = ev_day[k]
                k += 1
            c, s = cat, d - since0
            if c == ncat or s >= window:
                c, s = ncat, 0
            loyal = 1 if d >= loyal_day[i] else 0
            renewal = 1 if (d % YEAR == renewal_doy[i] and raw_joined[i] < d) else 0
            expo[c, s, p, loyal, renewal] += 1.0
            if left[i] and d == last[i]:
                deaths[c, s, p, loyal, renewal] += 1.0


def tally_since_events(e: Ends, customers: np.ndarray, days: np.ndarray, cats: np.ndarray,
                       ncat: int, window: int, loyal_years: float = 1e9
                       ) -> tuple[np.ndarray, np.ndarray]:
    """``_tally`` over every customer of ``e`` for the events (customers, days, cats)."""
    order = np.lexsort((days, customers))
    customers, days, cats = customers[order], days[order], cats[order]
    start = np.searchsorted(customers, np.arange(e.joined.size + 1))
    raw_joined = e.joined - e.tenure_at_start
    loyal_day = raw_joined + int(loyal_years * YEAR)
    expo = np.zeros((ncat + 1, window, 4, 2, 2))
    deaths = np.zeros_like(expo)
    _tally(e.joined, e.last, e.left, e.products, loyal_day.astype(np.int64),
           raw_joined.astype(np.int64), e.renewal_doy, start.astype(np.int64),
           customers.astype(np.int64), days.astype(np.int64), cats.astype(np.int64), window,
           ncat, expo, deaths)
    return expo, deaths


def standardised(expo: np.ndarray, deaths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Observed and expected departures per (category, days-since) cell, the expected ones
    from the reference category's (no recent event) rates by products and loyalty: indirect
    standardisation by products, loyalty and renewal day, so that who tends to have events
    (multi-product customers have more issues and leave less; a price rise at renewal
    prompts a billing query on the day most departures happen) does not masquerade as the
    event's effect."""
    ref = len(expo) - 1
    rates = deaths[ref, 0] / np.maximum(expo[ref, 0], 1.0)  # (products, loyal, renewal)
    return deaths.sum(axis=(2, 3, 4)), (expo * rates).sum(axis=(2, 3, 4))


# -- service issues: Gartner's stay-or-go ---------------------------------------------------
OUTCOMES = ("low-effort resolved", "high-effort resolved", "unresolved")


def issue_outcome_hazards(models: list[LoyaltyModel], window: int) -> dict:
    """Hazard ratio of leaving in the ``window`` days after an issue closes, by outcome
    (low-effort resolved / high-effort resolved / unresolved), relative to low-effort
    resolved, standardised by products and loyalty. Customer-days after a closure belong to
    the most recent closure. Pooled over the runs. Returns observed, expected, the hazard
    ratios and the SE of their logarithms."""
    obs = np.zeros(4)
    exp_ = np.zeros(4)
    closures = np.zeros(3)
    for m in models:
        e = Ends.of(m)
        j = m.journeys()
        low_max = m.params.behaviour.low_effort_max
        ev = j["event"]
        closed = (ev == "resolved") | (ev == "unresolved")
        cust, day, effort = j["customer"][closed], j["day"][closed], j["value"][closed]
        cat = np.where(ev[closed] == "unresolved", 2, np.where(effort <= low_max, 0, 1))
        closures += np.bincount(cat, minlength=3)
        # the sampled customers, renumbered 0..k-1 in slot order (journey_idx is sorted)
        expo, deaths = tally_since_events(e.take(m.journey_idx),
                                          np.searchsorted(m.journey_idx, cust), day, cat, 3,
                                          window)
        o, x = standardised(expo, deaths)
        obs += o.sum(axis=1)
        exp_ += x.sum(axis=1)
    smr = obs / exp_
    hr = smr[:3] / smr[0]
    se_log = np.sqrt(1.0 / np.maximum(obs[:3], 1.0) + 1.0 / max(obs[0], 1.0))
    se_log[0] = 0.0
    return {"observed": obs[:3], "expected": exp_[:3], "hazard_ratio": hr,
            "se_log_hr": se_log, "closures": closures}


# -- contagion: a tie's departure --------------------------------------------------------------
def contagion_tallies(models: list[LoyaltyModel], window: int, loyal_years: float
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Observed and expected departures by days since the most recent departure of a social
    (non-household) tie (1 .. window-1), separately for customers not yet loyal and loyal
    (tenure >= loyal_years), expected from the rates of customer-days with no such departure
    in the window, by products and renewal day. The tie's departure on day d reaches the
    customer from day d + 1 (word of mouth travels in the evening, after the day's
    decisions)."""
    obs = np.zeros((2, window))
    exp_ = np.zeros((2, window))
    for m in models:
        e = Ends.of(m)
        leavers = np.flatnonzero(e.left)
        cust, day = [], []
        for j in leavers:
            lo, hi = m.indptr[j], m.indptr[j + 1]
            nb = m.nbr[lo:hi]
            social = (m.tie_family[lo:hi] == 0) & (nb < e.joined.size)
            cust.append(nb[social])
            day.append(np.full(int(social.sum()), e.last[j] + 1))
        cust = np.concatenate(cust) if cust else np.zeros(0, np.int64)
        day = np.concatenate(day) if day else np.zeros(0, np.int64)
        expo, deaths = tally_since_events(e, cust, day, np.zeros(cust.size, np.int64), 1,
                                          window, loyal_years)
        for loyal in (0, 1):
            o, x = standardised(expo[:, :, :, loyal:loyal + 1], deaths[:, :, :, loyal:loyal + 1])
            obs[loyal] += o[0]
            exp_[loyal] += x[0]
    days = np.arange(window, dtype=float)
    return obs, exp_, days, np.array([0, 1])


def fit_decaying_ratio(obs: np.ndarray, exp_: np.ndarray, days: np.ndarray,
                       taus: np.ndarray = np.arange(3.0, 181.0, 1.0)) -> dict:
    """Poisson maximum likelihood of HR(t) = exp(beta exp(-t / tau)), t days since the
    tie's departure: the instantaneous hazard ratio exp(beta) and the decay time tau (grid,
    beta profiled by Newton steps). Standard errors from the curvature of the log likelihood
    (beta at fixed tau; tau from the profile)."""
    use = (days >= 1) & (exp_ > 0)
    o, x, t = obs[use], exp_[use], days[use]

    def profile(tau: float) -> tuple[float, float, float]:
        w = np.exp(-t / tau)
        beta = 0.5
        for _ in range(50):
            mu = x * np.exp(beta * w)
            grad = np.sum(w * (o - mu))
            info = np.sum(w * w * mu)
            step = grad / info
            beta += step
            if abs(step) < 1e-12:
                break
        mu = x * np.exp(beta * w)
        return float(np.sum(o * np.log(mu) - mu)), beta, float(np.sum(w * w * mu))

    ll = np.array([profile(tau)[0] for tau in taus])
    k = int(np.argmax(ll))
    tau = float(taus[k])
    _, beta, info = profile(tau)
    if 0 < k < len(taus) - 1:
        h = float(taus[k + 1] - taus[k])
        curv = (ll[k + 1] - 2 * ll[k] + ll[k - 1]) / h ** 2
        se_tau = math.sqrt(-1.0 / curv) if curv < 0 else math.inf
    else:
        se_tau = math.inf
    return {"hazard_ratio": math.exp(beta), "se_hazard_ratio": math.exp(beta) / math.sqrt(info),
            "tau_days": tau, "se_tau_days": se_tau, "departures": float(o.sum())}


def ratio_in_band(obs: np.ndarray, exp_: np.ndarray, days: np.ndarray, lo: int, hi: int
                  ) -> tuple[float, float]:
    """Standardised hazard ratio over days [lo, hi] since the event, and its SE."""
    band = (days >= lo) & (days <= hi)
    o, x = float(obs[band].sum()), float(exp_[band].sum())
    ratio = o / x
    return ratio, ratio / math.sqrt(max(o, 1.0))


# -- price fairness ----------------------------------------------------------------------------
def unfair_share(size: int, seed: int, rise: float, explanation: str, days: int = 60,
                 **overrides) -> tuple[float, float, int]:
    """Share of customers judging a renewal rise unfair, by motive, when the rise exceeds
    what they expect (``behaviour.expected_rise``) by ``rise``, isolated: no cost trend and
    no moves, so every renewing customer sees exactly that rise (on a single product or on
    one of several). Binomial SE and the count."""
    p = make_params(size, days, seed, journeys=True,
                    **{"burn_in_years": 0,  # a judgment does not depend on the state
                       "market.annual_cost_inflation": 0.0,
                       "population.annual_move_rate": 0.0,
                       "policy.price_target": "all",
                       "policy.explanation": explanation, **overrides})
    p.policy.price_change = (1.0 + rise) * (1.0 + p.behaviour.expected_rise) - 1.0
    j = run(p).journeys()
    judged = int(np.sum(j["event"] == "price_change"))
    unfair = int(np.sum(j["event"] == "judged_unfair"))
    share = unfair / judged
    return share, math.sqrt(share * (1 - share) / judged), judged


# -- renewal price response --------------------------------------------------------------------
def renewal_semi_elasticity(size: int, seed: int, rise: float, explanation: str,
                            renew_days: int = 60, after_days: int = 30, **overrides) -> dict:
    """d logit P(renew) / d ln(price), measured on single-product customers whose renewal
    falls in the first ``renew_days`` days: P(renew) = share still a customer
    ``after_days`` days after renewal, with and without an extra ``rise`` at that renewal
    (paired runs, same seed), among the book's customers on day 0. The logit-of-renewal coefficient on log price is what UK
    renewal demand models report as the price semi-elasticity [S?]. ``overrides`` as in
    ``make_params``."""
    horizon = renew_days + after_days
    left_day = {}
    for label, change in (("base", 0.0), ("rise", rise)):
        p = make_params(size, horizon, seed, **{"policy.price_change": change,
                                                 "policy.price_target": "all",
                                                 "policy.explanation": explanation,
                                                 **overrides})
        m = run(p)
        n0 = m.n_start  # the book on day 0 (the same slots in both runs)
        doy = m.I[L.I_RENEWAL_DOY, :n0].astype(np.int64)
        sel = (m.I[L.I_PRODUCTS, :n0] == 1) & (doy < renew_days) \
            & (m.I[L.I_DAY_JOINED, :n0] < 0) \
            & ((m.I[L.I_ACTIVE, :n0] == 1) | (m.I[L.I_DAY_LEFT, :n0] >= 0))  # there on day 0
        left_day[label] = m.I[L.I_DAY_LEFT, :n0].astype(np.int64)
    # customers still there on their renewal day in both runs (a neighbour's departure in
    # the other run can make a few leave earlier)
    for d in left_day.values():
        sel &= ~((d >= 0) & (d < doy))
    out = {k: ((d >= 0) & (d < doy + after_days))[sel] for k, d in left_day.items()}
    a, b = out["base"].astype(float), out["rise"].astype(float)
    p0, p1 = 1 - a.mean(), 1 - b.mean()
    n = a.size
    eps = (logit(p1) - logit(p0)) / math.log(1 + rise)
    # paired: SE of the difference in leaving shares, carried through the logit slope
    se_diff = sem(b - a)
    slope = 1.0 / (0.5 * (p0 * (1 - p0) + p1 * (1 - p1)))
    return {"semi_elasticity": eps, "se": slope * se_diff / math.log(1 + rise),
            "renew_base": p0, "renew_rise": p1, "customers": n}


# -- price walking -----------------------------------------------------------------------------
def loyalty_penalty(size: int, seed: int, years: int = 10, long_years: float = 10.0,
                    **overrides) -> dict:
    """Under policy ``price_walking`` for ``years`` years: margin over risk cost
    (premium / risk cost - 1) of customers with at least ``long_years`` of tenure against
    customers in their first year, in percentage points (the FCA's comparison), with SE.
    ``overrides`` as in ``make_params``."""
    p = make_params(size, years * YEAR, seed, policy="price_walking", **overrides)
    m = run(p)
    e = Ends.of(m)
    active = ~e.left & (e.last >= 0)  # (not those who left in the warm start)
    tenure = (e.horizon - e.joined + e.tenure_at_start) / YEAR
    margin = e.premium / e.risk_cost - 1.0
    long_, new = active & (tenure >= long_years), active & (tenure < 1.0)
    gap = 100 * (margin[long_].mean() - margin[new].mean())
    se = 100 * math.sqrt(margin[long_].var(ddof=1) / long_.sum()
                         + margin[new].var(ddof=1) / new.sum())
    return {"gap_pp": gap, "se": se, "long_margin": float(margin[long_].mean()),
            "new_margin": float(margin[new].mean()), "long": int(long_.sum()),
            "new": int(new.sum()), "walking_per_year": m.params.policy.price_walking_per_year}


# -- the silent hike -----------------------------------------------------------------------------
def silent_hike_pair(base: LoyaltyModel, hike: LoyaltyModel) -> dict:
    """One paired comparison (same seed): year-one revenue and NPV of profit, and the
    anatomy of the difference: who was hiked, how many more of them left, what they paid
    and what each lost customer's margin was."""
    sb, sh = base.summary(), hike.summary()
    eb, eh = Ends.of(base), Ends.of(hike)
    n = min(eb.joined.size, eh.joined.size)
    hiked = eh.loading[:n] > 1.0 + 1e-9
    extra_left = int(eh.left[:n][hiked].sum()) - int(eb.left[:n][hiked].sum())
    margin_base = (eb.premium - eb.risk_cost)[:n]
    stayed = hiked & ~eh.left[:n]
    extra_premium = eh.premium[:n] - eb.premium[:n]
    return {
        "revenue_year1_change": sh["revenue_year1"] - sb["revenue_year1"],
        "revenue_year1_base": sb["revenue_year1"],
        "npv_change": sh["npv_profit"] - sb["npv_profit"], "npv_base": sb["npv_profit"],
        "customers": int(n), "hiked": int(hiked.sum()),
        "hiked_left_base": int(eb.left[:n][hiked].sum()),
        "hiked_left_hike": int(eh.left[:n][hiked].sum()), "extra_left": extra_left,
        "extra_premium_per_stayer": float(np.mean(extra_premium[stayed]))
        if stayed.any() else 0.0,
        "margin_per_hiked_customer": float(np.mean(margin_base[hiked])) if hiked.any() else 0.0,
        "acquired_base": sb["acquired"], "acquired_hike": sh["acquired"],
    }


def silent_hike_changes(pairs: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """Year-one revenue and three-year NPV of profit changes, in % of the baseline, one per
    ``silent_hike_pair``."""
    rev = np.array([100 * p["revenue_year1_change"] / p["revenue_year1_base"] for p in pairs])
    npv = np.array([100 * p["npv_change"] / p["npv_base"] for p in pairs])
    return rev, npv
