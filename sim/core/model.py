"""The Mesa model: customers, service silos and sales reps, one step per simulated day.

``LoyaltyModel.step`` reads like the schedule: the morning (prices, outreach, new issues,
channel choice), reps act, silos serve, customers decide, word of mouth and contagion travel
along ties, new customers arrive, the day's metrics are collected.

Customers' state lives in the arrays ``model.F`` and ``model.I`` (rows named in
``sim.core.layout``); a ``Customer`` agent is a thin named view of one column. With
``decisions="kernel"`` (default) the numba kernels decide for every customer at once; with
``decisions="reference"`` the slow, readable ``sim.core.reference`` does the same customer by
customer, through the agents. The two give bit-identical results.
"""

from __future__ import annotations

import gc
import itertools
import math
from typing import Callable

import mesa
import numpy as np

from sim.core import kernels as K
from sim.core import layout as L
from sim.core import metrics as M
from sim.core import queue as Q
from sim.core import rng as R
from sim.core.params import SILO_NAMES, SimParams, validate

HOLD_HIST_MAX_MINUTES = 7 * 24 * 60  # hold-time histogram: 1-minute bins up to a week


# ---------------------------------------------------------------------------------------
class Customer(mesa.Agent):
    """One customer (a household holding 1-4 products): a named view of column ``idx``.

    Every name in ``sim.core.layout.F_FIELDS`` and ``I_FIELDS`` is an attribute that reads and
    writes the model's arrays, e.g. ``customer.attitude`` or ``customer.products``.
    """

    def __init__(self, model: "LoyaltyModel", idx: int) -> None:
        super().__init__(model)
        self.idx = idx


def _field(matrix: str, row: int, cast: type) -> property:
    def get(self):
        return cast(getattr(self.model, matrix)[row, self.idx])

    def set(self, value):
        getattr(self.model, matrix)[row, self.idx] = value

    return property(get, set)


def _today_field(matrix: str, row: int, cast: type, nothing: float) -> property:
    """A today's row: reads "nothing happened" (``nothing``) while the customer's stamp
    is stale; a write first brings the customer's today's rows to the model's day."""
    def get(self):
        m = self.model
        if m.I[L.I_TODAY, self.idx] != m.t_day:
            return cast(nothing)
        return cast(getattr(m, matrix)[row, self.idx])

    def set(self, value):
        m = self.model
        if m.I[L.I_TODAY, self.idx] != m.t_day:
            K._settle_idx(m.F, m.I, np.array([self.idx]), m.t_day)
        getattr(m, matrix)[row, self.idx] = value

    return property(get, set)


def _make_customers(model: "LoyaltyModel", start: int, stop: int) -> list[Customer]:
    """Customer agents for slots [start, stop), registered with the model as
    ``Customer(model, i)`` would register each (same unique_ids, same agent sets), but in
    bulk: a million one by one through ``Agent.__init__`` takes seconds."""
    if stop <= start:
        return []
    first = Customer(model, start)  # creates the Customer agent set if needed
    try:
        by_type = model._agents_by_type[Customer]._agents
        every = model._all_agents._agents
        registry = model._agents
        ids = itertools.islice(mesa.Agent._ids[model], stop - start - 1)
    except (AttributeError, KeyError):  # another Mesa: the documented way
        return [first] + [Customer(model, i) for i in range(start + 1, stop)]
    gc_was_enabled = gc.isenabled()
    gc.disable()  # a million new objects would trigger full collections for nothing
    try:
        new = object.__new__
        out = [first]
        for i, uid in zip(range(start + 1, stop), ids):
            c = new(Customer)
            c.model, c.unique_id, c.pos, c.idx = model, uid, None, i
            out.append(c)
        rest = dict.fromkeys(out[1:])
        registry.update(rest)
        by_type.update(rest)
        every.update(rest)
    finally:
        if gc_was_enabled:
            gc.enable()
    return out


for _matrix, _fields, _cast in (("F", L.F_FIELDS, float), ("I", L.I_FIELDS, int)):
    for _row, _name in enumerate(_fields):
        setattr(Customer, _name, _today_field(_matrix, _row, _cast, L.T_NOTHING.get(_name, 0))
                if _name.startswith("t_") else _field(_matrix, _row, _cast))


class ServiceSilo(mesa.Agent):
    """A phone queue (billing, claims, retention): staff, handling, first-contact resolution
    and what callers are told. Its agents' next-free times (a min-heap, business minutes)
    carry their work from one day to the next; callers still holding at closing are cut
    off (``sim.core.kernels._silo_day``)."""

    def __init__(self, model: "LoyaltyModel", index: int, name: str) -> None:
        super().__init__(model)
        self.index, self.name = index, name
        self.cfg = getattr(model.params.silos, name)
        self.open_minutes = 60.0 * self.cfg.open_hours
        self.staff = 0
        self.free_at = np.zeros(0)
        self.backlog = 0
        self.served_idx = np.zeros(0, np.int64)

    def staff_for(self, day: int) -> int:
        pol = self.model.params.policy
        factor = pol.staffing_factor if day >= pol.staffing_from_day else 1.0
        return max(1, round(self.cfg.staff_per_10k * self.model.n_initial / 10_000 * factor))

    def serve(self, day: int, callers: np.ndarray | None = None) -> None:
        """Serve today's callers (``callers``: their indices in customer order; found
        here if not given)."""
        staff = self.staff_for(day)
        if staff != self.staff:
            self.free_at = Q.resize_servers(self.free_at, staff, day * self.open_minutes)
            self.staff = staff
        m = self.model
        pol, b = m.params.policy, m.params.behaviour
        self.served_idx = K._callers(m.I, m.n, self.index, day) if callers is None else callers
        mode = {"none": Q.ANNOUNCE_NONE, "fixed": Q.ANNOUNCE_FIXED,
                "honest": Q.ANNOUNCE_HONEST}[pol.promise]
        self.backlog = K._silo_day(
            m.F, m.I, self.served_idx, m.seed, day, self.free_at, self.open_minutes,
            b.retry_at_opening_minutes, self.cfg.handle_minutes, b.patience_minutes_mean,
            b.position_patience_multiplier if pol.announce_position else 1.0,
            b.captive_share, b.callback_accept, mode, pol.promised_wait_minutes,
            pol.callback, b.callback_min_wait_minutes)

    def cost_today(self) -> float:
        return self.staff * self.cfg.open_hours * self.model.params.costs.staff_cost_per_hour


class SalesRep(mesa.Agent):
    """A sales rep with a book of customers (those whose ``rep`` is this index) and a
    limited number of minutes a day for service issues; helps, hands off or ignores as the
    policy's incentives say (``policy.rep_help``, ``policy.rep_handoff``)."""

    def __init__(self, model: "LoyaltyModel", index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def minutes_left(self) -> float:
        return float(self.model.rep_minutes_left[self.index])

    @property
    def book(self) -> np.ndarray:
        m = self.model
        return np.flatnonzero((m.I[L.I_REP, :m.n] == self.index) & (m.I[L.I_ACTIVE, :m.n] == 1))


# ---------------------------------------------------------------------------------------
def logit(p: float) -> float:
    return math.log(p / (1.0 - p))


NOTICE_ROUNDING = 1e-9  # judged rises are compared with min_noticed_rise to this tolerance


def kernel_params(params: SimParams, n_reps: int) -> np.ndarray:
    """The kernels' parameter vector (day-independent part; see ``_params_for_day``)."""
    b, mk, pol, pop = params.behaviour, params.market, params.policy, params.population
    pv = np.zeros(L.NPV)

    def put(name: str, value: float) -> None:
        pv[getattr(L, "P_" + name.upper())] = value

    put("keep_attitude", math.exp(-math.log(2.0) / b.attitude_half_life_days))
    put("keep_unfair", math.exp(-math.log(2.0) / b.unfair_half_life_days))
    put("keep_social", math.exp(-1.0 / b.contagion_decay_days))
    put("keep_family", math.exp(-1.0 / b.cascade_decay_days))
    put("inflation", mk.annual_cost_inflation)
    put("move_rate", pop.annual_move_rate)
    put("region_cost_sd", mk.region_cost_sd_log)
    put("regions", pop.regions)
    put("hike", pol.price_change)
    put("letter_day", pol.price_change_from_day if pol.price_change_by == "letter" else -1)
    put("hike_target", {"all": 0, "movers": 1, "none": 2}[pol.price_target])
    put("walking", pol.price_walking_per_year)
    put("cap", pol.price_cap)
    put("review", float(pol.review_call))
    put("review_discount", pol.review_discount)
    put("review_attitude", b.review_call_attitude)
    motive = {"none": 0, "cost": 1, "lock_in": 2}
    put("explanation", motive[pol.explanation])
    put("routine_explanation", motive[pol.routine_explanation])
    put("unfair_attitude", b.unfair_attitude)
    put("unfair_full_rise", b.unfair_full_rise)
    put("exit_next", b.unfair_exit_next_renewal)
    put("fair_a_cost", logit(b.unfair_share_cost))
    put("fair_a_unexplained", logit(b.unfair_share_unexplained))
    put("fair_a_lock_in", logit(b.unfair_share_lock_in))
    put("fair_slope", b.fairness_slope)
    put("fair_ref", b.fairness_reference_rise)
    put("expected_rise", b.expected_rise)
    # a judged rise within rounding of the threshold counts as at it (not noticed): price
    # walking's 2% on top of the expected trend must not be decided by the last bit
    put("min_noticed", b.min_noticed_rise + NOTICE_ROUNDING)
    put("review_shift", b.review_fairness_shift)
    put("query_explained", b.price_query_prob_explained)
    put("query_unexplained", b.price_query_prob_unexplained)
    shares = np.array([getattr(params.silos, s).issue_share for s in SILO_NAMES])
    cum = np.cumsum(shares / shares.sum())
    put("silo_cum0", cum[0])
    put("silo_cum1", cum[1])
    put("ss_push", pol.self_service_push)
    put("ss_resolution", pol.self_service_resolution)
    put("outreach_rate", 1.0 - math.exp(-pol.outreach_per_customer_year / 365.0))
    put("outreach_relevance", pol.outreach_relevance)
    put("outreach_relevant", b.outreach_relevant)
    put("outreach_off_target", b.outreach_off_target)
    for k, s in enumerate(SILO_NAMES):
        put(f"fcr{k}", getattr(params.silos, s).fcr)
    put("retry_abandon", b.retry_after_abandon)
    put("retry_unresolved", b.retry_after_unresolved)
    put("max_contacts", b.max_contacts)
    put("low_effort_max", b.low_effort_max)
    put("learning", b.expectation_learning)
    put("disconfirmation", b.disconfirmation_per_hour)
    put("loss_aversion", b.loss_aversion)
    put("wait_pain", b.wait_pain_per_hour)
    put("broken_promise", b.broken_promise_penalty)
    put("callback_weight", b.callback_wait_weight)
    put("resolved_low", b.resolved_low_effort)
    put("resolved_high", b.resolved_high_effort)
    put("unresolved", b.unresolved)
    put("forced_switch", b.forced_channel_switch)
    put("transfer", b.transfer_penalty)
    put("promise_fixed", float(pol.promise == "fixed"))
    put("wom_threshold", b.wom_threshold)
    put("h_day", b.base_annual_hazard * (1.0 - b.renewal_hazard_share) / 365.0)
    put("h_renewal", b.base_annual_hazard * b.renewal_hazard_share)
    put("products_exponent", b.products_exponent)
    put("beta_attitude", b.beta_attitude)
    put("attitude_mean", b.attitude_mean)
    put("beta_price", b.beta_price)
    put("competitor_ratio", mk.competitor_price_ratio)
    put("base_margin", mk.base_margin)
    put("beta_unfair", b.beta_unfair)
    put("unfair_bundle_release", b.unfair_bundle_release)
    put("beta_tenure", b.beta_tenure)
    put("log_tenure_ref", math.log(1.0 + pop.tenure_mean_years))
    put("log_hr_social", math.log(b.contagion_hazard_ratio))
    put("loyal_damping", b.contagion_loyal_damping)
    put("loyal_years", b.loyal_years)
    put("log_hr_family", math.log(b.cascade_hazard_ratio))
    put("reason_min", b.reason_min_log_hazard)
    put("retention_save", pol.retention_save)
    put("retention_discount", pol.retention_discount)
    put("rep_help", pol.rep_help)
    put("rep_handoff", pol.rep_handoff)
    put("rep_fcr", params.reps.rep_fcr)
    mix = np.cumsum(pop.product_mix)
    put("mix1", mix[0])
    put("mix2", mix[1])
    put("mix3", mix[2])
    put("premium_per_product", mk.premium_per_product)
    put("premium_sd", mk.premium_sd_log)
    put("tenure_mean_days", pop.tenure_mean_years * 365.0)
    put("ss_first", pop.self_service_first_share)
    put("rep_first", pop.rep_first_share)
    put("attitude_sd", b.attitude_sd)
    put("expected_wait0", b.expected_wait_minutes)
    put("n_reps", n_reps)
    return pv


# ---------------------------------------------------------------------------------------
class LoyaltyModel(mesa.Model):
    """Customers, service silos and sales reps under one company policy.

    ``params``: a ``SimParams`` (validated here). ``decisions``: "kernel" or "reference".
    """

    def __init__(self, params: SimParams | None = None, decisions: str = "kernel") -> None:
        params = validate(params if params is not None else SimParams())
        if decisions not in ("kernel", "reference"):
            raise ValueError(f"decisions={decisions!r}: must be 'kernel' or 'reference'")
        super().__init__(rng=params.seed)  # Mesa's own generators are never used for decisions
        self.params, self.decisions = params, decisions
        self.seed = int(params.seed)
        self.day = 0
        pop = params.population
        self.n_initial = pop.size
        self.n_reps = max(1, math.ceil(pop.size / pop.rep_book_size))
        self.pv = kernel_params(params, self.n_reps)
        self.acquire_per_day = (pop.acquisition_per_year * pop.size
                                + self.n_reps * params.policy.rep_new_sales_per_year) / 365.0
        expected = self.acquire_per_day * params.horizon_days
        self.capacity = pop.size + int(expected + 6.0 * math.sqrt(expected) + 10)
        self.F = np.zeros((L.NF, self.capacity))
        self.I = np.zeros((L.NI, self.capacity), np.int32)
        K._init_customers(self.F, self.I, self.pv, self.seed, 0, self.capacity, 0, True)
        self.I[L.I_ACTIVE, pop.size:] = 0
        self.n = pop.size  # slots in use
        self.t_day = -1  # the day today's rows describe (where a customer's stamp says so)
        self._buf = np.empty(self.capacity, np.int32)  # scratch for the morning's lists
        self._touched = np.zeros(0, np.int64)   # customers stamped today, in order
        self._deferred = np.zeros(0, np.int64)  # those whose evening waits for reps/silos
        self.indptr, self.nbr, self.tie_family, self.household = K._build_ties(
            self.seed, self.capacity, self.I[L.I_REGION].astype(np.int64), pop.ties_mean,
            pop.tie_locality, pop.household_size_mean, pop.regions)
        self.customers: list[Customer] = _make_customers(self, 0, self.n)
        self.silos = [ServiceSilo(self, k, s) for k, s in enumerate(SILO_NAMES)]
        self.reps = [SalesRep(self, r) for r in range(self.n_reps)]
        self.rep_minutes_left = np.zeros(self.n_reps)
        self.acquisitions_refused = 0
        self.reputation = 0.0  # R: unfair judgements per active customer, fading
        self._keep_reputation = math.exp(-math.log(2.0) / pop.reputation_half_life_days)
        self._sums = np.zeros(K.N_DAY_SUMS)
        self._tier_exposure = np.zeros(4)  # customer-days by products held
        self._tier_churn = np.zeros(4)
        self._hold_hist = np.zeros(HOLD_HIST_MAX_MINUTES + 1, np.int64)
        self._hold_sum = 0.0
        self._rows: list[dict] = []
        n_sample = min(pop.journey_sample, pop.size)
        self.journey_idx = np.arange(n_sample)
        self._journey: list[tuple] = []

    # -- the schedule ----------------------------------------------------------------------
    def step(self) -> None:
        day = self.day
        self._morning(day)            # prices and outreach, issues arise, channels chosen
        self._reps_act(day)
        self._silos_serve(day)
        self._customers_decide(day)
        self._word_of_mouth()
        self._acquire(day)
        self._collect(day)
        self.day += 1

    def run(self, progress: Callable[[int, int], None] | None = None) -> "LoyaltyModel":
        total = self.params.horizon_days
        while self.day < total:
            self.step()
            if progress is not None:
                progress(self.day, total)
        self.settle()
        return self

    def settle(self) -> None:
        """Bring every customer's today's rows to the current day (``t_day``): a customer
        nothing happened to still holds the rows of an earlier day, read as "nothing
        happened" (``sim.core.layout``). Changes no result; afterwards ``F`` and ``I`` read as
        the reference's mornings leave them."""
        K._settle(self.F, self.I, self.n, self.t_day)

    # -- phases ----------------------------------------------------------------------------
    def _params_for_day(self, day: int) -> None:
        pol, b = self.params.policy, self.params.behaviour
        start = pol.price_change_from_day
        self.pv[L.P_HIKE_ACTIVE] = float(pol.price_change_by == "renewal"
                                         and start <= day < start + pol.price_change_days)
        rate = b.issues_per_product_year / 365.0
        if pol.incident_day >= 0 and pol.incident_day <= day < pol.incident_day + pol.incident_days:
            rate *= pol.incident_issue_multiplier
        if pol.listening and day >= pol.listening_delay_days:
            rate *= 1.0 - pol.listening_issue_reduction
        self.pv[L.P_ISSUE_RATE] = rate

    def _morning(self, day: int) -> None:
        """The kernel also settles here the evening of every customer whose evening waits
        for no rep or silo (it depends on nothing else): ``K._morning``."""
        self._params_for_day(day)
        self.t_day = day
        if self.decisions == "kernel":
            self._touched, self._deferred = K._morning(
                self.F, self.I, self.pv, self.seed, day, self.n, self._buf)
        else:
            from sim.core import reference
            for c in self.customers:
                reference.morning(c, day)
            self._touched = np.arange(self.n)  # the reference stamps everyone
            self._deferred = np.flatnonzero(self.I[L.I_T_ACTION, :self.n] != 0)

    def _reps_act(self, day: int) -> None:
        self.rep_minutes_left[:] = self.params.policy.rep_service_hours * 60.0
        K._reps(self.F, self.I, self.pv, self.seed, day, self._deferred,
                self.rep_minutes_left, self.params.reps.minutes_per_issue)

    def _silos_serve(self, day: int) -> None:
        start, idx = K._callers_by_silo(self.I, self._deferred, len(self.silos))
        for k, silo in enumerate(self.silos):
            silo.serve(day, idx[start[k]:start[k + 1]])

    def _customers_decide(self, day: int) -> None:
        if self.decisions == "kernel":
            K._evening(self.F, self.I, self.pv, self.seed, day, self._deferred)
        else:
            from sim.core import reference
            for c in self.customers:
                reference.evening(c, day)

    def _word_of_mouth(self) -> None:
        b = self.params.behaviour
        K._spread(self.F, self.I, self._touched, self.n, self.indptr, self.nbr,
                  self.tie_family, b.wom_weight, b.wom_negative_multiplier)

    def _acquire(self, day: int) -> None:
        """New customers join at the end of the day (market inflow and reps' new sales),
        fewer as news of unfair price changes spreads (``acquisition_reputation``)."""
        rate = self.acquire_per_day
        sensitivity = self.params.population.acquisition_reputation
        if sensitivity > 0.0:
            unfair = np.count_nonzero(self.I[L.I_T_UNFAIR, self._touched] == 1)
            active = self._rows[-1]["active"] if self._rows else self.n_initial
            self.reputation = self.reputation * self._keep_reputation + unfair / max(active, 1)
            rate *= math.exp(-sensitivity * self.reputation)
        wanted = R.poisson(self.seed, R.ACQUIRE, 0, day, 0, rate)
        count = min(wanted, self.capacity - self.n)
        self.acquisitions_refused += wanted - count
        self.acquired_today = count
        if count == 0:
            return
        start, stop = self.n, self.n + count
        K._init_few(self.F, self.I, self.pv, self.seed, start, stop, day + 1, False)
        self.I[L.I_T_ACQUIRED, start:stop] = 1
        self.n = stop
        self.customers.extend(_make_customers(self, start, stop))

    # -- metrics -----------------------------------------------------------------------------
    def _collect(self, day: int) -> None:
        b, costs = self.params.behaviour, self.params.costs
        s = self._sums
        K._today_counts(self.I, self._touched, s)  # = K._day_sums, in two faster passes
        K._state_sums(self.F, self.I, self.n, b.nps_promoter_attitude, b.nps_detractor_attitude, s)
        self._tier_churn += s[24:28]
        self._tier_exposure += s[28:32]
        served = np.concatenate([silo.served_idx for silo in self.silos])
        calls = served.size
        backlog = sum(silo.backlog for silo in self.silos)
        h, abandoned, callbacks, broken = K._calls_today(
            self.F, self.I, served, self.params.policy.promise == "fixed", self._hold_hist,
            HOLD_HIST_MAX_MINUTES)
        held = h.size
        self._hold_sum += float(h.sum())
        active = s[14]
        revenue = s[16] / 365.0
        claims = s[17] / 365.0
        service = sum(silo.cost_today() for silo in self.silos) \
            + s[7] * costs.self_service_cost \
            + self.n_reps * self.params.reps.cost_per_day \
            + self.acquired_today * costs.acquisition_cost
        if self.params.policy.listening:
            service += active * costs.listening_cost_per_customer_year / 365.0
        row = {
            "day": day, "active": int(active), "active_products": int(s[15]),
            "acquired": self.acquired_today, "churned": int(s[0]),
            **{f"churned_{r}": int(s[1 + k]) for k, r in enumerate(M.REASONS)},
            "products_lost": int(s[6]),
            "revenue": revenue, "cost_claims": claims, "cost_service": service,
            "cost": claims + service, "profit": revenue - claims - service,
            "contacts_self_service": int(s[7]), "contacts_phone": calls,
            "contacts_rep": int(s[8]), "calls": calls, "abandoned": abandoned,
            "abandonment_rate": abandoned / calls if calls else 0.0,
            "callbacks": callbacks,
            "hold_minutes_mean": float(h.mean()) if held else 0.0,
            "hold_minutes_p90": float(np.quantile(h, 0.9)) if held else 0.0,
            "hold_minutes_max": float(h.max()) if held else 0.0,
            "broken_promises": broken, "backlog": backlog,
            "issues_opened": int(s[9]), "issues_resolved": int(s[10]),
            "issues_unresolved": int(s[11]), "renewals": int(s[12]),
            "price_rises": int(s[13]),
            "unfair_share": s[18] / active if active else 0.0,
            "attitude_mean": s[19] / active if active else 0.0,
            "nps": 100.0 * (s[20] - s[21]) / active if active else 0.0,
        }
        self._rows.append(row)
        self._log_journeys(day)

    def _log_journeys(self, day: int) -> None:
        idx = self.journey_idx
        if idx.size == 0:
            return
        K._settle_idx(self.F, self.I, idx, day)  # their today's rows, read as they stand
        F, I = self.F[:, idx], self.I[:, idx]
        fixed = self.params.policy.promise == "fixed"
        call, hold, told = I[L.I_T_CALL], F[L.F_T_HOLD], F[L.F_T_ANNOUNCED]
        held = (call == Q.SERVED) | (call == Q.ABANDONED)
        events = (
            ("price_change", (I[L.I_T_RENEWAL] == 1) & (F[L.F_T_PRICE_CHANGE] != 0),
             F[L.F_T_PRICE_CHANGE]),
            ("judged_unfair", I[L.I_T_UNFAIR] == 1, F[L.F_T_PRICE_CHANGE]),
            ("issue", I[L.I_T_ISSUE_NEW] == 1, I[L.I_ISSUE_SILO]),
            ("self_service", I[L.I_T_SS] >= 0, I[L.I_T_SS]),
            ("rep_contact", I[L.I_T_REP] >= 0, np.maximum(I[L.I_T_REP] - 1, 0)),
            ("transfer", I[L.I_T_REP] == 2, I[L.I_ISSUE_EFFORT]),
            ("call", call == Q.SERVED, hold),
            ("abandoned", (call == Q.ABANDONED) | (call == Q.BALKED), hold),
            ("callback", call == Q.CALLBACK, F[L.F_T_CALLBACK_WAIT]),
            ("promise_broken", held & (hold > told) & fixed, hold - told),
            ("resolved", I[L.I_T_CLOSED] == 1, I[L.I_ISSUE_EFFORT]),
            ("unresolved", I[L.I_T_CLOSED] == 2, I[L.I_ISSUE_EFFORT]),
            ("outreach", I[L.I_T_OUTREACH] >= 0, I[L.I_T_OUTREACH]),
            ("churned", I[L.I_T_CHURN] == 1, I[L.I_REASON]),
            ("saved", I[L.I_T_SAVED] == 1,
             np.full(idx.size, self.params.policy.retention_discount)),
        )
        for name, mask, value in events:
            hit = np.flatnonzero(mask)
            if hit.size:
                self._journey.append((idx[hit], day, name, np.asarray(value, float)[hit]))

    # -- results -----------------------------------------------------------------------------
    def timeseries(self) -> dict[str, np.ndarray]:
        """One array per daily metric (``sim.core.metrics.DAILY_COLUMNS``), one entry per day."""
        out = {}
        for col in M.DAILY_COLUMNS:
            values = [r[col] for r in self._rows]
            out[col] = np.asarray(values, dtype=np.int64 if isinstance(
                values[0] if values else 0, (int, np.integer)) else np.float64)
        return out

    def journeys(self) -> dict[str, np.ndarray]:
        """The sampled customers' events: columns customer, day, event, value."""
        if not self._journey:
            return {"customer": np.zeros(0, np.int64), "day": np.zeros(0, np.int32),
                    "event": np.zeros(0, dtype=object), "value": np.zeros(0)}
        cust = np.concatenate([e[0] for e in self._journey]).astype(np.int64)
        day = np.concatenate([np.full(e[0].size, e[1], np.int32) for e in self._journey])
        event = np.concatenate([np.full(e[0].size, e[2], dtype=object) for e in self._journey])
        value = np.concatenate([e[3] for e in self._journey])
        order = np.lexsort((cust, day))
        return {"customer": cust[order], "day": day[order], "event": event[order],
                "value": value[order]}

    def hold_distribution(self) -> np.ndarray:
        """Calls that held, by whole minutes on hold (last bin: a week or more)."""
        return self._hold_hist.copy()

    def summary(self) -> dict:
        ts = self.timeseries()
        days = len(self._rows)
        disc = (1.0 + self.params.market.discount_rate_annual) ** (-ts["day"] / 365.0)
        exposure_years = ts["active"].sum() / 365.0
        churned = int(ts["churned"].sum())
        held = int(self._hold_hist.sum())
        year1 = ts["day"] < 365

        def annual_retention(churn: float, exposure_days: float) -> float:
            return math.exp(-churn / (exposure_days / 365.0)) if exposure_days > 0 else float("nan")

        def hold_quantile(q: float) -> float:
            if held == 0:
                return 0.0
            return float(np.searchsorted(np.cumsum(self._hold_hist), q * held))

        calls = int(ts["calls"].sum())
        return {
            "policy": self.params.policy.name, "seed": self.seed, "days": days,
            "customers_start": self.n_initial,
            "customers_end": int(ts["active"][-1]) if days else self.n_initial,
            "acquired": int(ts["acquired"].sum()),
            "acquisitions_refused": int(self.acquisitions_refused),
            "churned": churned,
            "churn_share": churned / (self.n_initial + int(ts["acquired"].sum())),
            "retention_annual": math.exp(-churned / exposure_years) if exposure_years else float("nan"),
            "churn_annualised": 1.0 - math.exp(-churned / exposure_years) if exposure_years else float("nan"),
            "retention_annual_by_products": {
                str(p + 1): annual_retention(self._tier_churn[p], self._tier_exposure[p])
                for p in range(4)},
            "churn_by_reason": {r: int(ts[f"churned_{r}"].sum()) for r in M.REASONS},
            "products_lost": int(ts["products_lost"].sum()),
            "revenue": float(ts["revenue"].sum()),
            "revenue_year1": float(ts["revenue"][year1].sum()),
            "cost": float(ts["cost"].sum()),
            "profit": float(ts["profit"].sum()),
            "profit_year1": float(ts["profit"][year1].sum()),
            "npv_profit": float((ts["profit"] * disc).sum()),
            "calls": calls,
            "hold_minutes_mean": self._hold_sum / held if held else 0.0,
            "hold_minutes_p90": hold_quantile(0.9),
            "hold_minutes_max": float(ts["hold_minutes_max"].max()) if days else 0.0,
            "abandonment_rate": float(ts["abandoned"].sum() / calls) if calls else 0.0,
            "broken_promises": int(ts["broken_promises"].sum()),
            "unfair_share_end": float(ts["unfair_share"][-1]) if days else 0.0,
            "attitude_mean_end": float(ts["attitude_mean"][-1]) if days else 0.0,
            "nps_mean": float(ts["nps"].mean()) if days else 0.0,
        }
