"""The kernels' parameter vector: one table from the parameters to the numbers kernels read.

The kernels read one float64 vector ``pv``, indexed by the constants ``sim.core.layout.P_*``.
Every entry is declared once, here, and its constant's name is derived from the entry's:

- ``COPIED``: parameters the kernels read as they are, under their own name
  (``policy.price_change`` is ``pv[P_PRICE_CHANGE]``); booleans as 0/1;
- ``CODED``: choices, as their position in the parameter's declared ``choices``
  (``policy.price_target="movers"`` is ``pv[P_PRICE_TARGET] == TARGET_MOVERS``; the codes are
  named in ``sim.core.layout``);
- ``DERIVED``: numbers computed from parameters once per run (decay factors, fairness
  intercepts, hazards per day), each with its formula;
- ``DAILY``: numbers the model sets every morning (``LoyaltyModel._params_for_day``).

A new policy lever that a kernel reads is one field in ``sim.core.params`` and one name in
``COPIED`` (or a line in ``DERIVED``); the kernel then reads ``pv[L.P_<NAME>]``.
Only the standard library, numpy and ``sim.core.params`` are imported here.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Callable

import numpy as np

from sim.core.params import SILO_NAMES, SimParams

# group -> fields read by the kernels as they are (kernel name: the field's own)
COPIED: dict[str, tuple[str, ...]] = {
    "population": ("annual_move_rate", "regions", "self_service_first_share",
                   "rep_first_share"),
    "market": ("annual_cost_inflation", "region_cost_sd_log", "competitor_price_ratio",
               "base_margin", "premium_per_product", "premium_sd_log"),
    "reps": ("rep_fcr",),
    "behaviour": (
        "review_call_attitude", "unfair_attitude", "unfair_full_rise",
        "unfair_exit_next_renewal", "fairness_slope", "fairness_reference_rise",
        "expected_rise", "review_fairness_shift", "price_query_prob_explained",
        "price_query_prob_unexplained", "outreach_relevant", "outreach_off_target",
        "retry_after_abandon", "retry_after_unresolved", "max_contacts", "low_effort_max",
        "expectation_learning", "disconfirmation_per_hour", "loss_aversion",
        "wait_pain_per_hour", "broken_promise_penalty", "callback_wait_weight",
        "resolved_low_effort", "resolved_high_effort", "unresolved", "forced_channel_switch",
        "transfer_penalty", "wom_threshold", "products_exponent", "beta_attitude",
        "attitude_mean", "beta_price", "beta_unfair", "unfair_bundle_release", "beta_tenure",
        "contagion_loyal_damping", "loyal_years", "attitude_sd",
        "expected_wait_minutes"),
    "policy": ("price_change", "price_walking_per_year", "price_cap", "review_call",
               "review_discount", "self_service_push", "self_service_resolution",
               "outreach_relevance", "retention_save", "retention_discount", "rep_help",
               "rep_handoff"),
}

# group -> choice fields, coded by their position in the field's declared choices
CODED: dict[str, tuple[str, ...]] = {
    "policy": ("price_target", "explanation", "routine_explanation", "promise"),
}

# a judged rise within rounding of the threshold counts as at it (not noticed): price
# walking's 2% on top of the expected trend must not be decided by the last bit
NOTICE_ROUNDING = 1e-9


def logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def _half_life(days: float) -> float:
    """Daily keep factor of a memory with this half-life."""
    return math.exp(-math.log(2.0) / days)


def _silo_cum(params: SimParams, k: int) -> float:
    shares = np.array([getattr(params.silos, s).issue_share for s in SILO_NAMES])
    return float(np.cumsum(shares / shares.sum())[k])


def _mix(shares: list, k: int) -> float:
    return float(np.cumsum(shares)[k])


# name -> formula(params, n_reps): computed once per run
DERIVED: dict[str, Callable[[SimParams, int], float]] = {
    # daily decay factors of attitude and memories
    "keep_attitude": lambda p, _: _half_life(p.behaviour.attitude_half_life_days),
    "keep_unfair": lambda p, _: _half_life(p.behaviour.unfair_half_life_days),
    "keep_social": lambda p, _: math.exp(-1.0 / p.behaviour.contagion_decay_days),
    "keep_family": lambda p, _: math.exp(-1.0 / p.behaviour.cascade_decay_days),
    # the day a price-change letter goes out, -1 for none (price_change_by=renewal)
    "letter_day": lambda p, _: (p.policy.price_change_from_day
                                if p.policy.price_change_by == "letter" else -1),
    # fairness intercepts: logit of the KKT share at the reference rise, by motive
    "fair_a_cost": lambda p, _: logit(p.behaviour.unfair_share_cost),
    "fair_a_unexplained": lambda p, _: logit(p.behaviour.unfair_share_unexplained),
    "fair_a_lock_in": lambda p, _: logit(p.behaviour.unfair_share_lock_in),
    "noticed_above": lambda p, _: p.behaviour.min_noticed_rise + NOTICE_ROUNDING,
    # cumulative issue shares of billing, claims (retention takes the rest)
    "silo_cum_billing": lambda p, _: _silo_cum(p, 0),
    "silo_cum_claims": lambda p, _: _silo_cum(p, 1),
    # first-contact resolution by silo, in SILO_NAMES order (read as P_FCR_BILLING + silo)
    **{f"fcr_{s}": (lambda p, _, s=s: getattr(p.silos, s).fcr) for s in SILO_NAMES},
    "outreach_rate": lambda p, _: 1.0 - math.exp(-p.policy.outreach_per_customer_year / 365.0),
    # baseline hazards: per ordinary day, and the extra at renewal
    "h_day": lambda p, _: (p.behaviour.base_annual_hazard
                           * (1.0 - p.behaviour.renewal_hazard_share) / 365.0),
    "h_renewal": lambda p, _: p.behaviour.base_annual_hazard * p.behaviour.renewal_hazard_share,
    "log_tenure_ref": lambda p, _: math.log(1.0 + p.population.tenure_mean_years),
    "log_hr_social": lambda p, _: math.log(p.behaviour.contagion_hazard_ratio),
    "log_hr_family": lambda p, _: math.log(p.behaviour.cascade_hazard_ratio),
    # cumulative product mixes, shares holding at most 1, 2, 3 products: of the initial
    # book, and of new customers (each read as P_<MIX1> + k)
    **{f"mix{k + 1}": (lambda p, _, k=k: _mix(p.population.product_mix, k)) for k in range(3)},
    **{f"new_mix{k + 1}": (lambda p, _, k=k: _mix(p.population.new_customer_product_mix, k))
       for k in range(3)},
    "tenure_mean_days": lambda p, _: p.population.tenure_mean_years * 365.0,
    "n_reps": lambda _, n_reps: n_reps,
}

# set by the model every morning: is a renewal price change in force today; the chance per
# product and day of a new issue (incidents and listening change it)
DAILY = ("price_change_active", "issue_rate")

# the vector's entries in order; sim.core.layout names their indices P_<NAME>
NAMES = (*(f for fields in COPIED.values() for f in fields),
         *(f for fields in CODED.values() for f in fields), *DERIVED, *DAILY)
INDEX = {name: k for k, name in enumerate(NAMES)}
if len(INDEX) != len(NAMES):
    raise ImportError("kernel parameter names repeat: "
                      f"{sorted({n for n in NAMES if NAMES.count(n) > 1})}")


def choices(group: str, name: str) -> tuple[str, ...]:
    """The declared choices of a field of ``SimParams.<group>`` (a CODED field's codes are
    their positions)."""
    schema = typing.get_type_hints(SimParams)[group]
    field = {f.name: f for f in dataclasses.fields(schema)}[name]
    return tuple(field.metadata["choices"])


def build(params: SimParams, n_reps: int) -> np.ndarray:
    """The kernels' parameter vector of ``params`` (``DAILY`` entries left at 0)."""
    pv = np.zeros(len(NAMES))
    for group, fields in COPIED.items():
        obj = getattr(params, group)
        for name in fields:
            pv[INDEX[name]] = float(getattr(obj, name))
    for group, fields in CODED.items():
        obj = getattr(params, group)
        for name in fields:
            pv[INDEX[name]] = choices(group, name).index(getattr(obj, name))
    for name, formula in DERIVED.items():
        pv[INDEX[name]] = formula(params, n_reps)
    return pv
