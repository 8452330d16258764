"""Typed parameters of a cxsim run.

Every number the model uses lives here, with its allowed range and a comment that names its
source ([S] published, [S?] second-hand, see ../shared/MODEL-NOTES.md) or says "assumption".
These dataclasses are also the Hydra structured-config schemas (``sim.runs.config`` registers
them), so a typo or an out-of-range value fails before any run starts.

Only the standard library is imported here: kernels, the model and the command line all
read these objects.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any


def p(default: Any, lo: float | None = None, hi: float | None = None,
      choices: tuple | None = None, lo_open: bool = False, hi_open: bool = False,
      **kw: Any) -> Any:
    """A dataclass field with its allowed range or allowed choices. The range includes its
    bounds, unless ``lo_open`` / ``hi_open`` leave that bound out (a value that must stay
    above -1 is ``p(0.0, -1.0, 100.0, lo_open=True)``, allowed: (-1, 100])."""
    meta = {"lo": lo, "hi": hi, "choices": choices, "lo_open": lo_open, "hi_open": hi_open}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=meta, **kw)
    return field(default=default, metadata=meta, **kw)


# ----------------------------------------------------------------------------------------
@dataclass
class PopulationParams:
    size: int = p(10_000, 1, 50_000_000)            # customers (households) at the start
    # customers the company's contact centre serves: the simulated customers (size) are a
    # sample of them. The silos are staffed and queue for this many customers, the other
    # callers being copies of the sampled ones (sim.core.kernels.service._company_callers),
    # so a policy's answer per 10,000 customers does not change with the size chosen for
    # compute, while queue pooling (a bigger centre answers faster at the same staff per
    # customer) is set here, by the company, and measured (cxsim-validate convergence). A
    # mid-size insurer's direct book; assumption.
    company_size: int = p(100_000, 1, 50_000_000)
    # share of customers holding 1, 2, 3, 4 products (the multi-product "platinum" customer
    # holds several cars, a house, an apartment: seed 001). Assumption.
    product_mix: list = p([0.50, 0.28, 0.14, 0.08])
    # share of new customers holding 1, 2, 3, 4 products when they join. Chosen so that the
    # book's mix (product_mix) is stationary: a tier's share of the inflow is its share of
    # the book times its churn hazard (measured with the defaults: 0.174, 0.060, 0.035,
    # 0.026 a year for 1-4 products), so the book, and with it the annual retention, does
    # not drift over the years (with product_mix for new customers too, singles fell from
    # 50% to 40% of the book in four years). Most new customers start with one product.
    # Assumption (cxsim-validate's warm_start check measures the drift).
    new_customer_product_mix: list = p([0.78, 0.15, 0.05, 0.02])
    tenure_mean_years: float = p(6.0, 0.0, 50.0)    # mean tenure at start, exponential; assumption
    regions: int = p(10, 1, 1000)                   # regions; moving region changes risk cost; assumption
    annual_move_rate: float = p(0.06, 0.0, 1.0)     # share moving region per year; assumption
    ties_mean: float = p(6.0, 0.0, 100.0)           # mean social ties per customer; assumption
    # customers insured as separate policies within one extended family; a family member's
    # departure drives the cascade reason (Brockett et al. 2008). Mean size: assumption.
    household_size_mean: float = p(1.5, 1.0, 20.0)
    tie_locality: float = p(0.8, 0.0, 1.0)          # share of ties within the own region; assumption
    rep_book_size: int = p(1500, 1, 1_000_000)      # customers per sales rep; assumption
    # share of customers who take issues to their rep first (seed 000: customers take service
    # issues to their sales rep before or instead of the service organisation). Assumption.
    rep_first_share: float = p(0.25, 0.0, 1.0)
    # share of customers who try self-service first without any push. Gartner 2019 [S]:
    # 70% try self-service somewhere in the journey; first-choice share is an assumption.
    self_service_first_share: float = p(0.35, 0.0, 1.0)
    acquisition_per_year: float = p(0.10, 0.0, 5.0)  # new customers per year / initial size; assumption
    # prospects hear of unfair treatment (dissatisfied customers tell more, Anderson 1998
    # [S]; Campbell 1999 [S]: reputation colours how a price is read): new customers (market
    # inflow and reps' sales) arrive at their usual rate x exp(-acquisition_reputation x R),
    # R = the price changes judged unfair per active customer, summed over days and fading
    # with reputation_half_life_days. No published magnitude: 0 (off) by default; swept in
    # configs/experiment/silent_hike_reputation.yaml. Assumption.
    acquisition_reputation: float = p(0.0, 0.0, 10_000.0)
    reputation_half_life_days: float = p(180.0, 1.0, 1e6)  # assumption
    journey_sample: int = p(200, 0, 1_000_000)       # customers whose events are logged


@dataclass
class MarketParams:
    premium_per_product: float = p(1000.0, 1.0, 1e7)  # mean annual premium per product (currency); assumption
    premium_sd_log: float = p(0.35, 0.0, 3.0)         # dispersion of risk cost across customers; assumption
    base_margin: float = p(0.25, -0.9, 10.0)          # premium = risk cost x (1 + margin); assumption
    # competitors' quote relative to risk cost x (1 + base margin); <1 means cheaper rivals.
    competitor_price_ratio: float = p(1.0, 0.1, 10.0)  # assumption
    annual_cost_inflation: float = p(0.03, -0.5, 1.0)  # claims-cost trend passed on at renewal; assumption
    region_cost_sd_log: float = p(0.15, 0.0, 2.0)      # risk-cost change on moving region (lognormal sd); assumption
    discount_rate_annual: float = p(0.08, 0.0, 1.0)    # for NPV of profit; assumption


@dataclass
class SiloParams:
    """One service silo (a phone queue). Staff scale with the population."""
    staff_per_10k: float = p(1.5, 0.0, 10_000.0)   # agents on duty per 10,000 customers; assumption
    open_hours: float = p(10.0, 0.5, 24.0)         # hours open per day; assumption
    handle_minutes: float = p(8.0, 0.1, 600.0)     # mean handling time (exponential); assumption
    fcr: float = p(0.70, 0.0, 1.0)                 # first-contact resolution; assumption
    # share of all issues that belong to this silo (normalised across silos); assumption
    issue_share: float = p(0.33, 0.0, 1.0)


@dataclass
class SilosParams:
    billing: SiloParams = field(default_factory=lambda: SiloParams(issue_share=0.40))
    claims: SiloParams = field(default_factory=lambda: SiloParams(
        issue_share=0.35, handle_minutes=12.0, fcr=0.60))
    retention: SiloParams = field(default_factory=lambda: SiloParams(
        issue_share=0.25, handle_minutes=10.0, fcr=0.75, staff_per_10k=1.0))


SILO_NAMES = ("billing", "claims", "retention")


@dataclass
class RepParams:
    hours_per_day: float = p(7.5, 0.0, 24.0)         # working hours; assumption
    minutes_per_issue: float = p(20.0, 1.0, 600.0)   # a rep's time for one service issue; assumption
    rep_fcr: float = p(0.80, 0.0, 1.0)              # a rep who helps resolves this share; assumption
    cost_per_day: float = p(300.0, 0.0, 1e6)        # fully loaded rep cost per day; assumption
    outreach_minutes: float = p(10.0, 0.0, 600.0)   # rep time per outreach contact; assumption


@dataclass
class BehaviourParams:
    # --- service issues -------------------------------------------------------------
    issues_per_product_year: float = p(1.5, 0.0, 365.0)   # assumption
    # probability of a billing query right after a price rise, by explanation; assumption
    price_query_prob_explained: float = p(0.10, 0.0, 1.0)
    price_query_prob_unexplained: float = p(0.35, 0.0, 1.0)
    patience_minutes_mean: float = p(30.0, 0.0, 100_000.0)  # mean caller patience (exponential); assumption
    # share of issues a caller must get fixed (a reservation, a claim): they hold however
    # long it takes. An 8-hour hold needs captive callers or callbacks (MODEL-NOTES). Assumption.
    captive_share: float = p(0.30, 0.0, 1.0)
    # announcing queue position roughly halves abandonment (Munichor & Rafaeli 2007) [S];
    # implemented as a patience multiplier. Magnitude: assumption.
    position_patience_multiplier: float = p(2.0, 1.0, 100.0)
    retry_after_abandon: float = p(0.85, 0.0, 1.0)          # call back next day after abandoning; assumption
    # nobody holds past closing: callers still holding are cut off, and those who call again
    # the next day do so within this many minutes of opening (the backlog is at the front
    # of the next day's queue). Assumption.
    retry_at_opening_minutes: float = p(30.0, 0.0, 1440.0)
    retry_after_unresolved: float = p(0.80, 0.0, 1.0)       # contact again when not resolved; assumption
    max_contacts: int = p(4, 1, 50)                         # give up after this many contacts; assumption
    low_effort_max: int = p(1, 1, 50)                       # contacts+switches+transfers counted as low effort; assumption
    callback_accept: float = p(0.8, 0.0, 1.0)               # share accepting an offered callback; assumption
    callback_min_wait_minutes: float = p(15.0, 0.0, 100_000.0)  # callbacks offered above this announced wait; assumption
    # mean patience of a caller waiting for a booked callback (exponential, business
    # minutes): one who would wait longer gives up then, and may call again. Assumption.
    callback_patience_minutes: float = p(720.0, 1.0, 100_000.0)
    # --- experience against expectation (Oliver 1980 [S]) --------------------------------
    expected_wait_minutes: float = p(10.0, 0.0, 10_000.0)  # initial expected hold; assumption
    expectation_learning: float = p(0.3, 0.0, 1.0)          # weight of the latest hold in the expectation; assumption
    disconfirmation_per_hour: float = p(0.06, 0.0, 10.0)    # attitude per hour of wait beyond expectation; assumption
    loss_aversion: float = p(2.0, 1.0, 10.0)                # losses weigh about twice gains [A]
    wait_pain_per_hour: float = p(0.03, 0.0, 10.0)          # attitude per hour held, whatever was expected; assumption
    # a promised wait raises satisfaction only if met (Kumar, Kalwani & Dada 1997 [S]); delay
    # hurts more when the provider seems in control (Taylor 1994 [S]). Magnitude: assumption.
    broken_promise_penalty: float = p(0.25, 0.0, 10.0)
    callback_wait_weight: float = p(0.2, 0.0, 1.0)          # a callback delay hurts this much of a hold; assumption
    # attitude change when an issue closes, by outcome, calibrated to Gartner's stay-or-go
    # 61/37/27 (low-effort resolved / high-effort resolved / unresolved) [S]: read as
    # survival, 37% and 27% against 61% mean hazard ratios of about 2.0 and 2.65 to the
    # low-effort group; -0.55 and -0.95 give that over the 90 days after the issue closes
    # (cxsim-validate, check service_outcomes; -0.15 and -0.30 gave only 1.2 and 1.4).
    # The low-effort value and the mapping: assumption.
    resolved_low_effort: float = p(0.05, -10.0, 10.0)
    resolved_high_effort: float = p(-0.55, -10.0, 10.0)
    unresolved: float = p(-0.95, -10.0, 10.0)
    # forced from self-service to the phone adds disloyalty (Dixon et al. 2010 [S]); assumption
    forced_channel_switch: float = p(-0.03, -10.0, 10.0)
    transfer_penalty: float = p(-0.03, -10.0, 10.0)         # each hand-off; assumption
    outreach_relevant: float = p(0.03, -10.0, 10.0)         # a relevant outreach contact; assumption
    outreach_off_target: float = p(-0.05, -10.0, 10.0)      # an off-the-mark call or email; assumption
    review_call_attitude: float = p(0.10, -10.0, 10.0)      # a rep's pre-renewal review call; assumption
    # --- attitude -----------------------------------------------------------------------
    attitude_mean: float = p(0.3, -5.0, 5.0)                # initial attitude, normal; assumption
    attitude_sd: float = p(0.3, 0.0, 5.0)                   # assumption
    attitude_half_life_days: float = p(90.0, 1.0, 1e6)     # drift back to own baseline; assumption
    # --- price fairness (dual entitlement; Kahneman, Knetsch & Thaler 1986 [S]) ---------
    # P(unfair | judged rise d, motive m) = logistic(a_m + b*ln(d / fairness_reference_rise)),
    # a_m set so that a judged rise of fairness_reference_rise is judged unfair by the KKT
    # shares: cost pass-through 21-25%, market/demand driven 71-82%, exploiting lock-in 91%
    # [S]. Unlike MODEL-NOTES' ln(1 + d), ln(d) makes small rises fair.
    unfair_share_cost: float = p(0.23, 0.001, 0.999)
    unfair_share_unexplained: float = p(0.76, 0.001, 0.999)
    unfair_share_lock_in: float = p(0.91, 0.001, 0.999)
    fairness_reference_rise: float = p(0.20, 0.001, 10.0)  # rise at which the KKT shares hold; assumption
    # b, from KKT's snow shovel (+33%, demand-driven: 82% unfair [S]) against the 76% at
    # the 20% anchor: (logit 0.82 - logit 0.76) / ln(0.333 / 0.2) = 0.71. Motive, not
    # size, drives the judgment.
    fairness_slope: float = p(0.71, 0.0, 100.0)
    # the reference transaction includes the usual cost trend (dual entitlement: passing on
    # costs is fair, KKT 1986 [S]): a rise is judged by how far it exceeds this expected
    # rise, (1 + rise) / (1 + expected_rise) - 1. Its size: assumption.
    expected_rise: float = p(0.03, -0.5, 10.0)
    min_noticed_rise: float = p(0.02, 0.0, 10.0)            # judged rises up to this are not noticed; assumption
    # a rep's review before renewal earns benefit of the doubt (Campbell 1999 [S]): the
    # fairness intercept falls by this much (log-odds). Assumption.
    review_fairness_shift: float = p(1.0, 0.0, 20.0)
    # the repelling effect of a rise fades after about 12 months (Brockett et al. 2008 [S]);
    # half-life of the memory of an unfair change: assumption.
    unfair_half_life_days: float = p(120.0, 1.0, 1e6)
    # attitude change on judging a price change unfair (told to ties as word of mouth);
    # assumption
    unfair_attitude: float = p(-0.4, -10.0, 10.0)
    # if > 0, an unfair judgment weighs with the money at stake: the judgment follows the
    # motive (KKT), but its consequences (the unfair memory behind beta_unfair and the
    # bundle release, and unfair_attitude) scale with the judged rise, d / unfair_full_rise,
    # up to their full size at this rise. 0 (the default): full size for any noticed rise.
    # Assumption; experiments/calibration.py measures the trade-off (0.2 brings the renewal
    # semi-elasticity near the second-hand band and takes the silent hike's year-one
    # revenue rise to about zero).
    unfair_full_rise: float = p(0.0, 0.0, 10.0)
    # share of customers judging a price change unfair who decide then to leave at their
    # next renewal (they have paid or committed for the year and switch when it ends):
    # a delayed exit, on top of the hazard. No source: 0 (off) by default; even at 1 the
    # silent hike still adds to three-year profit (experiments/calibration.py). Assumption.
    unfair_exit_next_renewal: float = p(0.0, 0.0, 1.0)
    # --- churn hazard (proportional hazards, one linear predictor) ----------------------
    # annual retention about 90%; single products about 83%, bundles about 95% (J.D. Power
    # [S]). The service experience, contagion and cascades multiply this baseline; the
    # baseline and the products exponent are fitted together so that the default
    # configuration reproduces the three retention figures (cxsim-validate, check
    # retention). The exponent is above the ln(0.276)/ln(2) = 1.86 that the hazard ratio
    # of bundles to single products alone would give, because multi-product customers have
    # more service issues (issues per product). Refitted after the ties stopped pointing at
    # slots not yet taken (more of a customer's ties are customers): 0.105 / 2.2 then gave
    # 90.5% / 85.1% / 95.9%, 0.113 / 2.3 give 90.2% / 84.2% / 95.9% (cxsim-validate --quick:
    # 3 x 20,000 customers x 3 years after the warm start).
    base_annual_hazard: float = p(0.113, 0.0, 50.0)
    products_exponent: float = p(2.3, 0.0, 10.0)            # hazard x products^-k; fitted, see above
    renewal_hazard_share: float = p(0.7, 0.0, 1.0)          # share of the annual hazard falling at renewal; assumption
    beta_attitude: float = p(1.2, 0.0, 20.0)                # log-hazard per unit of attitude below its mean; assumption
    # log-hazard per log price gap to rivals; assumption. Alone (no judgment, no billing
    # query) it gives a renewal semi-elasticity of about -1.0 (4 x 60,000 customers, with
    # beta_unfair, unfair_attitude and the query probabilities at 0), a little flatter than
    # the second-hand band of -1.5 to -3 [S?]; cxsim-validate's renewal_elasticity check
    # measures the whole response.
    beta_price: float = p(1.0, 0.0, 20.0)
    beta_unfair: float = p(1.0, 0.0, 20.0)                  # log-hazard with a fresh unfair price change; assumption
    # share of a bundle's stickiness (the products term) that a fresh unfair price change
    # undoes: the loyal "platinum" customer of seed 001 switched every policy after one
    # silent hike, and one cancellation predicts the whole household leaving (Brockett et
    # al. 2008 [S]). Counted in the price reason; decays with the unfair memory. Assumption.
    unfair_bundle_release: float = p(0.5, 0.0, 1.0)
    beta_tenure: float = p(0.15, 0.0, 5.0)                  # log-hazard reduction per ln(1+tenure years); assumption
    # a defecting neighbour raises the hazard about 80%, decaying over about a month, weaker
    # for loyal customers (Nitzan & Libai 2011 [S]). The 80% is their average over all
    # customers; here the ratio applies before loyal_years and is damped after, so 2.0 for
    # the not-yet-loyal makes the all-customer instantaneous ratio about 1.8 (measured by
    # cxsim-validate, check contagion, which includes the word of mouth of the departing
    # tie; 1.8 here gave about 1.7 over all customers, 2.1 about 1.9).
    contagion_hazard_ratio: float = p(2.0, 1.0, 100.0)
    contagion_decay_days: float = p(30.0, 0.1, 10_000.0)
    contagion_loyal_damping: float = p(0.5, 0.0, 1.0)       # share of the effect left for tenure >= loyal_years; assumption
    loyal_years: float = p(5.0, 0.0, 100.0)                 # assumption
    # a household member's departure: one cancellation predicts the whole household leaving
    # (Brockett et al. 2008 [S]); the size of the effect is an assumption.
    cascade_hazard_ratio: float = p(8.0, 1.0, 1000.0)
    cascade_decay_days: float = p(30.0, 0.1, 10_000.0)
    # word of mouth: a share of each tie's attitude shock reaches neighbours; dissatisfied
    # customers tell more (Anderson 1998 [S]). Magnitudes: assumption.
    wom_weight: float = p(0.08, 0.0, 1.0)
    wom_negative_multiplier: float = p(2.0, 1.0, 20.0)
    wom_threshold: float = p(0.1, 0.0, 10.0)                # smaller shocks are not talked about; assumption
    # --- NPS (reported only, never fed back into behaviour: Keiningham et al. 2007 [S]) ---
    nps_promoter_attitude: float = p(0.5, -10.0, 10.0)      # assumption
    nps_detractor_attitude: float = p(0.0, -10.0, 10.0)     # assumption


@dataclass
class CostParams:
    # live contact about $8.01 vs about $0.10 self-service (Gartner [S]); live cost here is the
    # staff cost (hours x rate), so it emerges from staffing; at default load about $8/contact.
    staff_cost_per_hour: float = p(30.0, 0.0, 1e5)           # assumption
    self_service_cost: float = p(0.10, 0.0, 1e4)             # Gartner [S]
    acquisition_cost: float = p(150.0, 0.0, 1e6)             # per new customer; assumption
    listening_cost_per_customer_year: float = p(2.0, 0.0, 1e4)  # voice-of-customer programme; assumption


@dataclass
class PolicyParams:
    """The company's policy: one object the model reads."""
    name: str = "baseline"
    # --- pricing ------------------------------------------------------------------------
    # extra rise at renewal for targeted customers (0.6 = +60%), a cut when negative. Above
    # -1: a 100% cut would make a single-product customer's cover free, and a zero loading
    # stays zero at every later renewal (a free policy is not an insurance product; it
    # crashed the renewal's premium ratio). A policy lever, no source.
    price_change: float = p(0.0, -1.0, 100.0, lo_open=True)
    price_target: str = p("movers", choices=("all", "movers", "none"))
    price_change_from_day: int = p(0, 0, 100_000)  # renewals from this day on ...
    price_change_days: int = p(365, 0, 100_000)    # ... for this many days (one renewal cycle)
    # renewal: each targeted customer's rise comes with their renewal in that window;
    # letter: one letter on price_change_from_day raises every customer's premium at once
    # (mid-term), so their judgments and billing queries arrive together: the price change
    # that floods the lines
    price_change_by: str = p("renewal", choices=("renewal", "letter"))
    # how the targeted customers' renewal change is explained (with the policy's price change)
    explanation: str = p("none", choices=("none", "cost", "lock_in"))
    # how every other renewal change (cost trend, price walking) is explained: the yearly
    # letter. Today's company sends only the bill.
    routine_explanation: str = p("none", choices=("none", "cost", "lock_in"))
    review_call: bool = False                      # rep calls before renewal to review the cover
    review_discount: float = p(0.10, 0.0, 1.0)     # rise removed by adjusting cover in a review; assumption
    price_walking_per_year: float = p(0.0, 0.0, 1.0)  # extra renewal uplift per year of tenure
    # largest rise at one renewal (100: no cap; 0: a price freeze; negative: every renewal
    # cuts the premium at least this much). Above -1: a cap of -1 would set every premium
    # to zero at its next renewal (not an insurance product; it crashed the renewal's
    # premium ratio). A policy lever, no source.
    price_cap: float = p(100.0, -1.0, 100.0, lo_open=True)
    # --- service ------------------------------------------------------------------------
    staffing_factor: float = p(1.0, 0.0, 100.0)    # multiplies every silo's staff
    staffing_from_day: int = p(0, 0, 100_000)      # staffing_factor applies from this day
    promise: str = p("none", choices=("none", "fixed", "honest"))
    promised_wait_minutes: float = p(120.0, 0.0, 100_000.0)
    callback: bool = False
    # callbacks are offered only while the company can keep them: when the call-back comes
    # within this many business minutes (one business day); past that, callers hold or,
    # told the wait, hang up. Without it the callback queue under overload never clears.
    # Assumption.
    callback_max_wait_minutes: float = p(600.0, 0.0, 100_000.0)
    announce_position: bool = False
    self_service_push: float = p(0.0, 0.0, 1.0)    # target share of contacts deflected to self-service
    # share of issues fully resolved in self-service: about 9% (Gartner 2019 [S])
    self_service_resolution: float = p(0.09, 0.0, 1.0)
    incident_day: int = p(-1, -1, 100_000)         # a day when an incident floods the lines (-1: none)
    incident_issue_multiplier: float = p(1.0, 1.0, 1000.0)
    incident_days: int = p(3, 1, 10_000)
    # --- sales reps -----------------------------------------------------------------------
    rep_help: float = p(0.55, 0.0, 1.0)            # a rep who receives a service issue helps ...
    rep_handoff: float = p(0.35, 0.0, 1.0)         # ... or hands it off (the rest is ignored)
    rep_service_hours: float = p(2.0, 0.0, 24.0)   # hours a day a rep gives to service issues
    rep_new_sales_per_year: float = p(2.0, 0.0, 1e4)  # customers a rep wins per year
    outreach_per_customer_year: float = p(0.0, 0.0, 365.0)  # outreach contacts per customer per year
    outreach_relevance: float = p(0.5, 0.0, 1.0)   # probability a contact is relevant
    # --- retention and listening ------------------------------------------------------------
    retention_save: float = p(0.0, 0.0, 1.0)       # share of leavers saved by a retention offer
    # price cut given to a saved customer (of their premium, from then on). Below 1: a 100%
    # cut makes the saved customer's cover free for good, no retention offer (it crashed
    # their next renewal's premium ratio). A policy lever, no source.
    retention_discount: float = p(0.15, 0.0, 1.0, hi_open=True)
    listening: bool = False                        # voice-of-customer programme fixing root causes
    listening_delay_days: int = p(90, 0, 100_000)  # days before fixes take effect; assumption
    listening_issue_reduction: float = p(0.25, 0.0, 1.0)  # issue rate cut once fixes land; assumption


@dataclass
class SimParams:
    population: PopulationParams = field(default_factory=PopulationParams)
    market: MarketParams = field(default_factory=MarketParams)
    silos: SilosParams = field(default_factory=SilosParams)
    reps: RepParams = field(default_factory=RepParams)
    behaviour: BehaviourParams = field(default_factory=BehaviourParams)
    costs: CostParams = field(default_factory=CostParams)
    policy: PolicyParams = field(default_factory=PolicyParams)
    horizon_days: int = p(3 * 365, 1, 100 * 365)
    # warm start: whole years simulated before day 0 under the baseline policy (every
    # PolicyParams default) on draws of their own, nothing recorded, so that day 0 starts
    # from the model's own steady state rather than from the drawn initial population
    # (attitudes, memories, tenure and product mix settle). Policies start on day 0; every
    # policy run with the same seed starts from the same state. Whole years keep each
    # customer's renewal day. 10 (assumption): measured on the baseline (cxsim-validate,
    # 30,000 customers x 6 seeds), the first 90 days against the third year: mean attitude
    # -0.11 / -0.10, annualised retention 90.3% / 90.4%, NPS -43 / -42 (without a warm
    # start +0.12 / -0.29, 93.1% / 89.4%, -17 / -63 on 20,000 x 4; after 5 years retention
    # still drifted by half a point, as tenure and attitudes settle slowly: mean tenure of
    # the book 6.0 years drawn, 7.2 after 3, 9.4 after 10). cxsim-validate's warm_start
    # check holds the default to it.
    burn_in_years: int = p(10, 0, 50)
    seed: int = p(0, 0, 2**63 - 1)


# ----------------------------------------------------------------------------------------
class ParamError(ValueError):
    """A parameter value outside what is allowed; the message names key, value and range."""


def _fmt(x: Any) -> str:
    return repr(x) if isinstance(x, str) else f"{x:g}" if isinstance(x, float) else str(x)


def range_text(meta: Any) -> str | None:
    """A field's allowed range as the one-line errors state it: "in [0, 1]", "in (-1, 100]"
    (a round bracket: that bound itself is not allowed), ">= 0", "> 0"; None without one."""
    lo, hi = meta.get("lo"), meta.get("hi")
    lo_open, hi_open = meta.get("lo_open", False), meta.get("hi_open", False)
    if lo is not None and hi is not None:
        return f"in {'(' if lo_open else '['}{_fmt(lo)}, {_fmt(hi)}{')' if hi_open else ']'}"
    if lo is not None:
        return f"{'>' if lo_open else '>='} {_fmt(lo)}"
    if hi is not None:
        return f"{'<' if hi_open else '<='} {_fmt(hi)}"
    return None


def in_range(value: float, meta: Any) -> bool:
    """Whether ``value`` lies in a field's declared range (``p``'s lo, hi and open bounds)."""
    lo, hi = meta.get("lo"), meta.get("hi")
    if lo is not None and (value <= lo if meta.get("lo_open", False) else value < lo):
        return False
    if hi is not None and (value >= hi if meta.get("hi_open", False) else value > hi):
        return False
    return True


def check_value(key: str, value: Any, f: dataclasses.Field) -> None:
    meta = f.metadata
    if meta.get("choices") is not None and value not in meta["choices"]:
        raise ParamError(f"{key}={_fmt(value)}: must be one of {', '.join(meta['choices'])}")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise ParamError(f"{key}={_fmt(value)}: must be a finite number")
    if not in_range(value, meta):
        raise ParamError(f"{key}={_fmt(value)}: must be {range_text(meta)}")


def validate(params: SimParams, prefix: str = "") -> SimParams:
    """Check every range and choice, then the rules that tie several values together.

    Raises ParamError with one line naming the full key, the value and what is allowed.
    """
    _validate_obj(params, prefix)
    pop, pol = params.population, params.policy
    for name in ("product_mix", "new_customer_product_mix"):
        mix = list(getattr(pop, name))
        if len(mix) != 4 or any((not isinstance(x, (int, float))) or x < 0 for x in mix) \
                or not math.isclose(sum(mix), 1.0, abs_tol=1e-6):
            raise ParamError(f"{prefix}population.{name}={mix}: must be 4 shares >= 0 "
                             "(customers holding 1, 2, 3, 4 products) summing to 1")
    if pop.company_size < pop.size:
        raise ParamError(f"{prefix}population.company_size={pop.company_size}: must be >= "
                         f"population.size={pop.size} (the simulated customers are a sample "
                         "of the company's)")
    if pol.price_change_by == "letter" and pol.price_target != "all":
        raise ParamError(f"{prefix}policy.price_target={pol.price_target!r}: a price change "
                         "by letter (policy.price_change_by=letter) goes to every customer; "
                         "use price_target=all")
    if pol.rep_help + pol.rep_handoff > 1.0 + 1e-12:
        raise ParamError(f"{prefix}policy.rep_help + policy.rep_handoff = "
                         f"{pol.rep_help + pol.rep_handoff:g}: must be <= 1")
    b = params.behaviour
    if not b.unfair_share_cost <= b.unfair_share_unexplained <= b.unfair_share_lock_in:
        raise ParamError(f"{prefix}behaviour.unfair_share_*: must follow the KKT ordering "
                         "cost <= unexplained <= lock_in")
    if sum(getattr(params.silos, s).issue_share for s in SILO_NAMES) <= 0:
        raise ParamError(f"{prefix}silos.*.issue_share: at least one must be > 0")
    return params


def _validate_obj(obj: Any, prefix: str) -> None:
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        key = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(value):
            _validate_obj(value, key + ".")
        else:
            check_value(key, value, f)


def from_dict(d: dict, cls: type = SimParams, prefix: str = "") -> Any:
    """Build parameters from a nested dict, refusing unknown keys."""
    names = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for k, v in d.items():
        if k not in names:
            raise ParamError(f"{prefix}{k}: unknown key; allowed: {', '.join(sorted(names))}")
        sub = getattr(cls, "__dataclass_fields__")[k]
        default = sub.default_factory() if sub.default_factory is not dataclasses.MISSING \
            else sub.default
        if dataclasses.is_dataclass(default) and isinstance(v, dict):
            base = dataclasses.asdict(default)
            base.update(v)
            kwargs[k] = from_dict(base, type(default), f"{prefix}{k}.")
        else:
            kwargs[k] = v
    return cls(**kwargs)


def to_dict(params: Any) -> dict:
    return dataclasses.asdict(params)
