"""Calibration checks: the full model, at its default parameters, against the published
findings in MODEL-NOTES.md.

Annual retention overall and by products (J.D. Power), the share judging a rise unfair by
its motive (Kahneman, Knetsch & Thaler), staying after a service issue by its outcome
(Gartner), contagion of defection along social ties (Nitzan & Libai), the renewal price
semi-elasticity (second-hand), price walking's loyalty penalty (FCA) and the silent hike of
the seed story. The measurements are ``sim.validation.calibration``'s; this module holds
the claims, sources, sizes and tolerances, and what the report says about each known open
target (``ELASTICITY_OPEN``, ``SILENT_HIKE_OPEN``).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from sim.core.params import BehaviourParams
from sim.report.stats import sem
from sim.validation import calibration as C
from sim.validation import queueing_checks  # noqa: F401  (registered first: report order)
from sim.validation.registry import CheckResult, Settings, register


# Sizes: the base runs (default parameters, 3 years) serve retention, products, service
# outcomes and contagion, and are the baseline half of the silent-hike pairs.
CALIB_YEARS = 3
CALIB_REPLICATES = {True: 3, False: 6}        # quick, full
CALIB_SIZE = {True: 20_000, False: 30_000}
FAIRNESS_SIZE = 40_000                        # 60 days: about 6,500 renewals per motive
ELASTICITY_SIZE = {True: 80_000, False: 200_000}
ELASTICITY_RISE = 0.10
WALKING_SIZE = {True: 3_000, False: 10_000}
ISSUE_WINDOW_DAYS = 90                        # hazard after an issue closes: one attitude half-life
CONTAGION_WINDOW_DAYS = 181

SRC_JDP = "J.D. Power insurance shopping/retention studies [S] (MODEL-NOTES)"
SRC_KKT = "Kahneman, Knetsch & Thaler (1986) AER 76:728 [S]"
SRC_GARTNER = "Gartner customer effort survey, 6,000+ customers [S] (MODEL-NOTES)"
SRC_NL = "Nitzan & Libai (2011) JM 75(6):24, 1M mobile subscribers [S]"
SRC_FCA = "FCA general insurance pricing practices study (2020) [S]"
SRC_ELAST = "UK renewal demand models, second-hand [S?] (MODEL-NOTES: verify before quoting)"
SRC_STORY = "Seed 001 story; MODEL-NOTES calibration target (the Complex's trade-off)"


@functools.lru_cache(maxsize=4)
def _calib_runs(quick: bool, seed: int) -> tuple:
    """Paired replicate runs (baseline with every initial customer's journey, silent hike)."""
    size = CALIB_SIZE[quick]
    pairs = []
    for r in range(CALIB_REPLICATES[quick]):
        s = C.replicate_seed(seed, r)
        base = C.run(C.make_params(size, CALIB_YEARS * 365, s, journeys=True))
        hike = C.run(C.make_params(size, CALIB_YEARS * 365, s, policy="silent_hike"))
        pairs.append((base, hike))
    return tuple(pairs)


def _base_models(settings: Settings) -> list:
    return [b for b, _ in _calib_runs(settings.quick, settings.seed)]


def _runs_note(settings: Settings) -> str:
    return (f"{CALIB_REPLICATES[settings.quick]} replicate runs of "
            f"{CALIB_SIZE[settings.quick]:,} customers x {CALIB_YEARS} years, default "
            "parameters, policy baseline")


@register("retention")
def check_retention(settings: Settings) -> list[CheckResult]:
    """Baseline annual retention about 90%; bundles about 95%, single products about 83%."""
    ends = [C.Ends.of(m) for m in _base_models(settings)]
    note = (f"{_runs_note(settings)}. Annual retention = exp(-365 x departures / "
            "customer-days), customers who joined during the run included; SE clustered by "
            "household. Band: +-2 points around each published figure (J.D. Power reports "
            "rounded shares; US auto retention is quoted as 'about 90%').")
    rows = []
    for label, expected, mask in (
            ("all customers", 0.90, lambda e: slice(None)),
            ("single product", 0.83, lambda e: e.products == 1),
            ("bundles (2+ products)", 0.95, lambda e: e.products >= 2)):
        r, se, n = C.annual_retention(ends, mask)
        rows.append(CheckResult(
            "retention", f"annual retention, {label}, default parameters ({n:,} departures)",
            SRC_JDP, f"retention/yr, {label}", expected, r, se, 0.02 / expected, note=note))
    return rows


KKT_SHOVEL_RISE = 20.0 / 15.0 - 1.0


@register("fairness")
def check_fairness(settings: Settings) -> list[CheckResult]:
    """KKT: share judging a rise unfair, cost-explained < unexplained < exploiting lock-in."""
    rise = BehaviourParams().fairness_reference_rise
    seed = C.replicate_seed(settings.seed, 100)
    shares = {m: C.unfair_share(FAIRNESS_SIZE, seed, rise, m) for m in ("cost", "none", "lock_in")}
    note = (f"Renewals in the first 60 days of {FAIRNESS_SIZE:,} customers, every renewal "
            f"raised {rise:.0%} beyond the rise customers expect (behaviour.expected_rise; "
            "the judged rise d at which the fairness form logistic(a_m + b ln(d / d_ref)) is "
            "anchored to KKT), no cost trend and no moves so each customer sees exactly that "
            "rise; share = judged unfair / noticed rises (journeys); binomial SE. Bands: "
            "KKT's ranges (cost pass-through 21-25%, market/demand 71-82%, lock-in 91% "
            "+-3 points). The shovel row checks the size slope b, set from that vignette.")
    rows = []
    for motive, label, expected, tol in (("cost", "cost explained", 0.23, 0.02 / 0.23),
                                         ("none", "unexplained", 0.765, 0.055 / 0.765),
                                         ("lock_in", "exploiting lock-in", 0.91, 0.03 / 0.91)):
        share, se, n = shares[motive]
        rows.append(CheckResult(
            "fairness", f"share judging a {rise:.0%} renewal rise unfair, {label} ({n:,} "
            "renewals)", SRC_KKT, f"P(unfair), {label}", expected, share, se, tol, note=note))
    shovel, se_shovel, n_shovel = C.unfair_share(FAIRNESS_SIZE, seed, KKT_SHOVEL_RISE, "none")
    rows.append(CheckResult(
        "fairness", f"KKT's snow-shovel vignette ($15 -> $20, +{KKT_SHOVEL_RISE:.0%}, demand "
        f"driven: 82% unfair) as an unexplained rise ({n_shovel:,} renewals)", SRC_KKT,
        "P(unfair), +33%", 0.82, shovel, se_shovel, 0.055 / 0.82, note=note))
    (c, sc, _), (u, su, _), (k, sk, _) = shares["cost"], shares["none"], shares["lock_in"]
    rows.append(CheckResult(
        "fairness", "KKT ordering: unexplained judged unfair more often than cost-explained",
        SRC_KKT, "P(unfair) unexpl.", c, u, math.hypot(sc, su), 0.0, rule="above"))
    rows.append(CheckResult(
        "fairness", "KKT ordering: exploiting lock-in judged unfair more often than unexplained",
        SRC_KKT, "P(unfair) lock-in", u, k, math.hypot(su, sk), 0.0, rule="above"))
    return rows


GARTNER_STAY = {"low-effort resolved": 0.61, "high-effort resolved": 0.37, "unresolved": 0.27}


@register("service_outcomes")
def check_service_outcomes(settings: Settings) -> list[CheckResult]:
    """Stay-or-go after a service issue: low effort > high effort > unresolved (Gartner)."""
    g = C.issue_outcome_hazards(_base_models(settings), ISSUE_WINDOW_DAYS)
    hr, se_log = g["hazard_ratio"], g["se_log_hr"]
    anchor = GARTNER_STAY["low-effort resolved"]
    note = (f"{_runs_note(settings)}; every initial customer's journey. Gartner's shares are "
            "stated intent to stay, not retention (27% staying would be 73% churn). Mapping: "
            "the model's hazard of leaving in the "
            f"{ISSUE_WINDOW_DAYS} days after an issue closes (customer-days belong to the "
            "most recent closure), indirectly standardised by products, loyalty and renewal "
            "day, as a ratio HR to the low-effort resolved group; the low-effort group's 61% "
            "is taken as a survival probability, so under proportional hazards a group with "
            "ratio HR states P(stay) = 0.61^HR (Gartner's 37% and 27% mean HR = 2.0 and 2.7). "
            f"Closures: {', '.join(f'{k} {int(n):,}' for k, n in zip(C.OUTCOMES, g['closures']))}"
            f"; departures in the window: "
            f"{', '.join(f'{int(n):,}' for n in g['observed'])}; HR = "
            f"{', '.join(f'{x:.2f}' for x in hr)}. SE from Poisson counts.")
    rows = []
    for k, label in ((1, "high-effort resolved"), (2, "unresolved")):
        stay = anchor ** hr[k]
        se = abs(math.log(anchor)) * stay * hr[k] * se_log[k]
        rows.append(CheckResult(
            "service_outcomes", f"P(stay) after an issue, {label}, mapped from the model's "
            f"hazard ratio to low-effort resolved (HR {hr[k]:.2f})", SRC_GARTNER,
            f"P(stay), {label}", GARTNER_STAY[label], stay, se, 0.2, note=note))
    rows.append(CheckResult(
        "service_outcomes", "ordering: high-effort resolved customers leave more than "
        "low-effort resolved ones", SRC_GARTNER, "HR high/low effort", 1.0, hr[1],
        hr[1] * se_log[1], 0.0, rule="above"))
    obs = g["observed"]
    rows.append(CheckResult(
        "service_outcomes", "ordering: unresolved customers leave more than high-effort "
        "resolved ones", SRC_GARTNER, "HR unresolved/high", hr[1], hr[2],
        hr[2] * math.sqrt(1.0 / obs[1] + 1.0 / obs[2]), 0.0, rule="above"))
    return rows


@register("contagion")
def check_contagion(settings: Settings) -> list[CheckResult]:
    """A social tie's defection raises the hazard about 1.8x, decaying over about a month."""
    loyal_years = BehaviourParams().loyal_years
    obs, exp_, days, _ = C.contagion_tallies(_base_models(settings), CONTAGION_WINDOW_DAYS,
                                             loyal_years)
    o, x = obs.sum(axis=0), exp_.sum(axis=0)
    fit = C.fit_decaying_ratio(o, x, days)
    late, late_se = C.ratio_in_band(o, x, days, 61, CONTAGION_WINDOW_DAYS - 1)
    young = C.fit_decaying_ratio(obs[0], exp_[0], days)
    loyal = C.fit_decaying_ratio(obs[1], exp_[1], days)
    note = (f"{_runs_note(settings)}. Customer-days are classed by the days since the most "
            "recent departure of a social (non-household) tie; departures observed against "
            "those expected from customer-days with no such departure in the last "
            f"{CONTAGION_WINDOW_DAYS - 1} days (standardised by products, loyalty and renewal "
            "day). Poisson maximum likelihood of HR(t) = exp(beta exp(-t/tau)): the "
            "instantaneous ratio exp(beta) over all customers, as Nitzan & Libai estimate it "
            f"(fitted tau = {fit['tau_days']:.0f} days, SE {fit['se_tau_days']:.0f}); "
            f"customers before {loyal_years:g} years of tenure {young['hazard_ratio']:.2f} "
            f"(SE {young['se_hazard_ratio']:.2f}), loyal ones {loyal['hazard_ratio']:.2f} "
            f"(SE {loyal['se_hazard_ratio']:.2f}); {int(fit['departures']):,} departures "
            "within the window. Word of mouth from the same departing tie is part of what is "
            "measured, as it is in the field data.")
    return [
        CheckResult("contagion", "a social tie's defection raises the defection hazard by "
                    "about 80% (instantaneous ratio, all customers)", SRC_NL,
                    "hazard ratio at t=0", 1.8, fit["hazard_ratio"], fit["se_hazard_ratio"],
                    0.2, note=note),
        CheckResult("contagion", "the effect decays over about a month: 2-6 months after the "
                    "tie's departure the hazard ratio is back within 15% of 1", SRC_NL,
                    "HR, days 61-180", 1.0, late, late_se, 0.15, note=note),
    ]


# What the report says about each open target; README.md, "Known limitations", has the
# measurements behind them and what was tried.
ELASTICITY_OPEN = (
    "Steeper than the band. The price term alone gives about -1.0 (4 x 60,000 customers, "
    "with beta_unfair, unfair_attitude and the billing queries at 0); a 10% rise also "
    "exceeds the expected cost trend, so it is judged unfair by about 12% (cost-explained) "
    "or 59% (unexplained) of customers, each adding beta_unfair and an attitude hit, and "
    "prompts billing queries (10% / 35%); with beta_unfair 0 the unexplained response is "
    "still about -6.4. The band is second-hand [S?] and was not used to change defaults. "
    "behaviour.unfair_full_rise (off by default) flattens the response to -3.1 / -8.5 at 0.2 "
    "and -2.5 / -6.6 at 0.3 (+60% stays about -4.6; 15,000 customers) but takes the silent "
    "hike's year-one revenue rise to about zero (-0.02% at 0.2). See the README, \"Known "
    "limitations\".")


@register("renewal_elasticity")
def check_renewal_elasticity(settings: Settings) -> list[CheckResult]:
    """Renewal price semi-elasticity about -1.5 to -3 (second-hand)."""
    size = ELASTICITY_SIZE[settings.quick]
    seed = C.replicate_seed(settings.seed, 200)
    rows = []
    for explanation, label in (("cost", "cost-explained"),
                               ("none", "unexplained (a plain renewal notice)")):
        e = C.renewal_semi_elasticity(size, seed, ELASTICITY_RISE, explanation)
        note = (f"{size:,} customers, single-product customers renewing in the first 60 days "
                f"({e['customers']:,}), paired runs with and without an extra "
                f"{ELASTICITY_RISE:.0%} at that renewal ({label}); P(renew) = still a "
                f"customer 30 days after renewal ({e['renew_base']:.3f} -> "
                f"{e['renew_rise']:.3f}); semi-elasticity = change in logit P(renew) / "
                "ln(1 + rise), the coefficient UK renewal demand models report [S?]. SE from "
                "the paired customers.")
        rows.append(CheckResult(
            "renewal_elasticity", f"renewal price semi-elasticity (logit P(renew) per log "
            f"price), {label} +{ELASTICITY_RISE:.0%} rise; published about -1.5 to -3, "
            "second-hand", SRC_ELAST, f"semi-elasticity, {explanation}", -2.25,
            e["semi_elasticity"], e["se"], 0.75 / 2.25, open_target=ELASTICITY_OPEN, note=note))
    return rows


@register("price_walking")
def check_price_walking(settings: Settings) -> list[CheckResult]:
    """Price walking: long-tenure customers pay margins tens of points above new ones."""
    size = WALKING_SIZE[settings.quick]
    w = C.loyalty_penalty(size, C.replicate_seed(settings.seed, 300))
    note = (f"Policy price_walking (+{w['walking_per_year']:.1%} per year of tenure at each "
            f"renewal) for 10 years, {size:,} customers; margin over risk cost (premium / risk "
            f"cost - 1) of active customers with 10+ years of tenure ({w['long']:,}: "
            f"{w['long_margin']:.1%}) minus those in their first year ({w['new']:,}: "
            f"{w['new_margin']:.1%}). Expected: the FCA's gap for 10+ year customers, motor "
            "+21pp to home +31-39pp; band 21-39pp.")
    return [CheckResult(
        "price_walking", "price walking: 10+ year customers' margin exceeds new customers' by "
        "tens of points", SRC_FCA, "margin gap, pp", 30.0, w["gap_pp"], w["se"], 0.3,
        note=note)]


SILENT_HIKE_OPEN = (
    "Amended target (MODEL-NOTES): against no hike the model reports where the silent hike "
    "stops paying instead of assuming a direction; under the defaults it pays over three "
    "years. The hike lands on the ~6% of customers who move each year, and +60% on one "
    "product is pure margin kept by every hiked customer who stays: it loses money only if "
    "most of the hiked leave because of it. Prospects kept away by news of unfair changes "
    "(population.acquisition_reputation), a stronger answer to an unfair rise "
    "(behaviour.beta_unfair) and a delayed exit (behaviour.unfair_exit_next_renewal) were "
    "measured; see the README, \"Known limitations\".")
YEAR_ONE_OPEN = (
    "Within noise of zero since the warm start (in the drawn population's warm-up it was "
    "+0.09%, 30,000 customers x 6 seeds): in a settled population the hiked movers who "
    "leave in year one take about as much revenue as the stayers' rises add. Not tuned to a "
    "direction; see the README, \"Known limitations\".")


@register("silent_hike")
def check_silent_hike(settings: Settings) -> list[CheckResult]:
    """A silent hike raises year-one revenue and lowers multi-year profit (the story)."""
    pairs = [C.silent_hike_pair(b, h) for b, h in _calib_runs(settings.quick, settings.seed)]
    rev, npv = C.silent_hike_changes(pairs)
    k = len(pairs)

    def se(x: np.ndarray) -> float | None:
        return sem(x) if k > 1 else None

    tot = {key: sum(p[key] for p in pairs) for key in
           ("customers", "hiked", "hiked_left_base", "hiked_left_hike", "extra_left")}
    per_stayer = np.mean([p["extra_premium_per_stayer"] for p in pairs])
    margin = np.mean([p["margin_per_hiked_customer"] for p in pairs])
    note = (f"{_runs_note(settings)} and policy silent_hike, paired by seed; changes in % of "
            f"the baseline, SE across the {k} pairs. Anatomy (all pairs): {tot['hiked']:,} of "
            f"{tot['customers']:,} customers hiked (movers renewing in year one); by the end "
            f"{tot['hiked_left_hike']:,} of them had left against {tot['hiked_left_base']:,} "
            f"in the baseline ({tot['extra_left']:,} extra leavers, "
            f"{tot['extra_left'] / max(tot['hiked'], 1):.0%} of the hiked); each hiked "
            f"customer who stayed pays {per_stayer:,.0f} a year more; a hiked customer's "
            f"margin before the hike is {margin:,.0f} a year, so the hike pays unless about "
            f"{per_stayer / (per_stayer + margin):.0%} of the hiked leave because of it "
            "(extra premium / (extra premium + margin), ignoring timing); new customers "
            "arrive at the same rate in both runs (acquisition_reputation 0, the default). "
            "3-year NPV of profit at the default 8% discount rate.")
    return [
        CheckResult("silent_hike", "a silent +60% hike on movers raises year-one revenue",
                    SRC_STORY, "year-1 revenue, % chg", 0.0, float(rev.mean()), se(rev), 0.0,
                    rule="above", open_target=YEAR_ONE_OPEN, note=note),
        CheckResult("silent_hike", "... and its 3-year NPV of profit against no hike "
                    "(reported: where it stops paying)", SRC_STORY,
                    "3-yr NPV profit, % chg", 0.0, float(npv.mean()), se(npv), 0.0,
                    rule="below", open_target=SILENT_HIKE_OPEN, note=note),
    ]


@functools.lru_cache(maxsize=2)
def _hike_alternatives(quick: bool, seed: int) -> dict[str, tuple]:
    """The same +60% rise on movers explained (policy explained_hike) and reviewed by the
    rep (hike_with_review), on the seeds of the silent-hike pairs (``_calib_runs``)."""
    size = CALIB_SIZE[quick]
    return {policy: tuple(C.run(C.make_params(size, CALIB_YEARS * 365,
                                              C.replicate_seed(seed, r), policy=policy))
                          for r in range(CALIB_REPLICATES[quick]))
            for policy in ("explained_hike", "hike_with_review")}


@register("silent_hike_alternatives")
def check_silent_hike_alternatives(settings: Settings) -> list[CheckResult]:
    """Against the same rise explained, and reviewed by the rep, the silent hike loses
    customers, NPV of profit over the horizon and customer equity (the amended target)."""
    silent = [h.summary() for _, h in _calib_runs(settings.quick, settings.seed)]
    rows = []
    for policy, label in (("explained_hike", "explained"), ("hike_with_review", "reviewed "
                                                             "by the rep")):
        other = [m.summary() for m in _hike_alternatives(settings.quick, settings.seed)[policy]]
        note = (f"{CALIB_REPLICATES[settings.quick]} pairs of runs of "
                f"{CALIB_SIZE[settings.quick]:,} customers x {CALIB_YEARS} years, policies "
                f"silent_hike and {policy}, paired by seed; SE across the pairs. The same "
                "+60% on movers renewing in year one. Customer equity: NPV of profit plus "
                "the discounted future margin of the customers left at the end (Gupta, "
                "Lehmann & Stuart 2004).")
        for key, what, quantity, rule in (
                ("churned", "loses customers", "extra customers lost", "above"),
                ("npv_profit", "loses NPV of profit over the horizon", "NPV of profit chg",
                 "below"),
                ("customer_equity", "loses customer equity", "customer equity chg", "below")):
            d = np.array([a[key] - b[key] for a, b in zip(silent, other)])
            rows.append(CheckResult(
                "silent_hike_alternatives", f"against the same rise {label}, the silent hike "
                f"{what}", SRC_STORY, f"vs {policy}: {quantity}", 0.0, float(d.mean()),
                sem(d) if d.size > 1 else None, 0.0, rule=rule, note=note))
    return rows


# -- the warm start and the callback queue ---------------------------------------------------
SRC_CREDIBLE = "cxsim's credibility targets (issue 'Credible answers'): no warm-up transient"
WARM_WINDOW_DAYS = 90
WARM_TOLERANCE = {"mean attitude": 0.05, "annualised retention": 0.005, "NPS": 5.0}


def _windows(model, lo: int, hi: int) -> dict[str, float]:
    """Mean attitude, annualised retention and NPS over days [lo, hi) of a run."""
    ts = model.timeseries()
    days = slice(lo, hi)
    exposure_years = ts["active"][days].sum() / 365.0
    return {"mean attitude": float(ts["attitude_mean"][days].mean()),
            "annualised retention": math.exp(-ts["churned"][days].sum() / exposure_years),
            "NPS": float(ts["nps"][days].mean())}


WARM_QUICK_OPEN = (
    "Quick samples cannot hold retention to 0.5 points: departures in a 90-day window of "
    "3 x 20,000 customers give an SE of about 0.2 points, so the row is underpowered here "
    "by its own rule (3 SE above the tolerance); the full run (6 x 30,000) holds it.")


@register("warm_start")
def check_warm_start(settings: Settings) -> list[CheckResult]:
    """The baseline's first 90 days agree with its third year (the warm start,
    ``SimParams.burn_in_years``, puts day 0 in the model's own steady state)."""
    models = _base_models(settings)
    first = [_windows(m, 0, WARM_WINDOW_DAYS) for m in models]
    third = [_windows(m, 2 * 365, 3 * 365) for m in models]
    years = models[0].params.burn_in_years
    note = (f"{_runs_note(settings)}, after a warm start of {years} years (burn_in_years). "
            f"First {WARM_WINDOW_DAYS} days against days 730-1094; SE of the paired "
            "difference across replicates. Tolerances (absolute): attitude 0.05, retention "
            "0.5 points, NPS 5.")
    rows = []
    for quantity, tol in WARM_TOLERANCE.items():
        a = np.array([f[quantity] for f in first])
        b = np.array([t[quantity] for t in third])
        rows.append(CheckResult(
            "warm_start", f"{quantity} in the first {WARM_WINDOW_DAYS} days equals the third "
            "year's", SRC_CREDIBLE, f"{quantity}, days 0-89", float(b.mean()), float(a.mean()),
            sem(a - b) if len(a) > 1 else None, tol / abs(float(b.mean())), note=note,
            open_target=WARM_QUICK_OPEN if settings.quick and quantity == "annualised "
            "retention" else ""))
    return rows


CALLBACK_SIZE = {True: 10_000, False: 20_000}
CALLBACK_STAFFING = 0.2   # a fifth of the default staff: sustained overload
CALLBACK_DAYS = 365


@register("callbacks")
def check_callbacks(settings: Settings) -> list[CheckResult]:
    """Under sustained overload with honest waits and callbacks (policy honest_wait, staff
    cut to a fifth), callbacks are kept: none waits longer than the offered cap, and the
    callback backlog does not grow over the year."""
    size, runs = CALLBACK_SIZE[settings.quick], []
    for r in range(CALIB_REPLICATES[settings.quick]):
        p = C.make_params(size, CALLBACK_DAYS, C.replicate_seed(settings.seed, r),
                          policy="honest_wait", journeys=True,
                          **{"policy.staffing_factor": CALLBACK_STAFFING})
        runs.append(C.run(p))
    cap = runs[0].params.policy.callback_max_wait_minutes
    longest = max(float(np.max(j["value"][j["event"] == "callback"], initial=0.0))
                  for j in (m.journeys() for m in runs))
    waiting = [m.timeseries()["callbacks_waiting"] for m in runs]
    first = np.array([w[:90].mean() for w in waiting])
    last = np.array([w[-90:].mean() for w in waiting])
    note = (f"{len(runs)} runs of {size:,} customers x {CALLBACK_DAYS} days, policy "
            f"honest_wait with staffing_factor {CALLBACK_STAFFING}; callbacks offered up to "
            f"{cap:g} business minutes ahead (policy.callback_max_wait_minutes). Customers "
            "waiting for a callback at the end of the day, mean over the first and the last "
            "90 days; SE across runs.")
    return [
        CheckResult("callbacks", "no booked callback waits longer than the offered cap",
                    SRC_CREDIBLE, "longest callback wait, business min", cap, longest, None,
                    0.0, rule="at_most", note=note),
        CheckResult("callbacks", "the callback backlog does not grow under overload",
                    SRC_CREDIBLE, "waiting for a callback, last 90 days", float(first.mean()),
                    float(last.mean()), sem(last - first) if len(runs) > 1 else None, 0.25,
                    note=note),
    ]


# -- convergence: the headline's answers at its default size against 4x that size ----------
# The incident of the seed story (8 times the issues for 5 days from day 20) on top of the
# staff cut and the broken 2-hour promise; configs/policy/understaffed.yaml names it.
INCIDENT = {"policy.incident_day": 20, "policy.incident_issue_multiplier": 8,
            "policy.incident_days": 5}
CONVERGENCE_SCENARIOS = {"baseline": ("baseline", {}), "understaffed": ("understaffed", {}),
                         "honest_wait": ("honest_wait", {}),
                         "incident": ("understaffed", INCIDENT)}
CONVERGENCE_FACTOR = 4
CONVERGENCE_SEEDS = {True: 2, False: 6}
CONVERGENCE_MARGIN = 0.10  # answers within 10% of the larger run's agree (assumption)
HOLD_FLOOR = 0.5  # minutes: mean holds this close agree (no caller notices less); assumption


def headline_size() -> int:
    """The headline experiment's default population (configs/experiment/headline.yaml)."""
    return int(C.compose(["experiment=headline"]).population.size)


def _answers(size: int, seeds: int, root: int) -> dict[str, dict[str, np.ndarray]]:
    """Per scenario, per seed: customers lost and NPV of profit per 10,000 customers and
    the mean hold (minutes) over 3 years."""
    out: dict[str, dict[str, list[float]]] = {}
    for name, (policy, overrides) in CONVERGENCE_SCENARIOS.items():
        rows = out.setdefault(name, {"churned": [], "npv_profit": [], "hold": []})
        for r in range(seeds):
            p = C.make_params(size, CALIB_YEARS * 365, C.replicate_seed(root, 400 + r),
                              policy=policy, **overrides)
            s = C.run(p).summary()
            rows["churned"].append(s["churned"] * 10_000 / size)
            rows["npv_profit"].append(s["npv_profit"] * 10_000 / size)
            rows["hold"].append(s["hold_minutes_mean"])
    return {k: {m: np.array(v) for m, v in d.items()} for k, d in out.items()}


@register("convergence")
def check_convergence(settings: Settings) -> list[CheckResult]:
    """The headline's answers per 10,000 customers at its default size agree with those at
    4x that size: the baseline's customers lost, NPV of profit and mean hold; each other
    scenario's paired difference from the baseline (customers lost, NPV) and its hold."""
    size, k = headline_size(), CONVERGENCE_SEEDS[settings.quick]
    company = int(C.compose([]).population.company_size)
    small = _answers(size, k, settings.seed)
    large = _answers(CONVERGENCE_FACTOR * size, k, settings.seed)
    note = (f"Policies baseline, understaffed, honest_wait and understaffed with the "
            f"incident ({', '.join(f'{a}={b}' for a, b in INCIDENT.items())}), {k} seeds x "
            f"{CALIB_YEARS} years at the headline's default {size:,} customers "
            f"(configs/experiment/headline.yaml) and at {CONVERGENCE_FACTOR * size:,}, "
            f"both samples of a company of {company:,} customers (population.company_size); "
            "counts and money per 10,000 customers, differences paired by seed within a "
            "size; SE of the difference between the sizes from the spread across seeds. "
            f"Agreement: within the 95% interval or within {CONVERGENCE_MARGIN:.0%} (mean "
            f"holds: or within {HOLD_FLOOR:g} min).")
    rows = []

    def row(scenario: str, what: str, quantity: str, a: np.ndarray, b: np.ndarray,
            hold: bool = False) -> None:
        rows.append(CheckResult(
            "convergence", f"{scenario}: {what} at {size:,} customers equals the answer at "
            f"{CONVERGENCE_FACTOR * size:,}", SRC_CREDIBLE, f"{scenario}: {quantity}",
            float(b.mean()), float(a.mean()), math.hypot(sem(a), sem(b)), CONVERGENCE_MARGIN,
            rule="agree", note=note, abs_tolerance=HOLD_FLOOR if hold else 0.0))

    base_s, base_l = small["baseline"], large["baseline"]
    row("baseline", "customers lost per 10,000", "lost /10k", base_s["churned"],
        base_l["churned"])
    row("baseline", "NPV of profit per 10,000", "NPV /10k", base_s["npv_profit"],
        base_l["npv_profit"])
    row("baseline", "mean hold", "mean hold, min", base_s["hold"], base_l["hold"], hold=True)
    for name in CONVERGENCE_SCENARIOS:
        if name == "baseline":
            continue
        s, l = small[name], large[name]
        row(name, "extra customers lost per 10,000 against the baseline", "extra lost /10k",
            s["churned"] - base_s["churned"], l["churned"] - base_l["churned"])
        row(name, "NPV of profit per 10,000 against the baseline", "NPV chg /10k",
            s["npv_profit"] - base_s["npv_profit"], l["npv_profit"] - base_l["npv_profit"])
        row(name, "mean hold", "mean hold, min", s["hold"], l["hold"], hold=True)
    return rows
