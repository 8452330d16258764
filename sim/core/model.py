"""The Mesa model: customers, service silos and sales reps, one step per simulated day.

``LoyaltyModel.step`` runs the phases of ``SCHEDULE`` in order: the morning (prices,
outreach, new issues, channel choice), reps act, silos serve, customers decide, word of
mouth and contagion travel along ties, new customers arrive, the day's metrics are
collected (``sim.core.recorder``). The agents are in ``sim.core.agents``.

Customers' state lives in the arrays ``model.F`` and ``model.I`` (rows named in
``sim.core.layout``). With ``decisions="kernel"`` (default) the numba kernels decide for
every customer at once; with ``decisions="reference"`` the slow, readable
``sim.core.reference`` does the same customer by customer, through the agents. The two give
bit-identical results.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable

import mesa
import numpy as np

from sim.core import kernel_params
from sim.core import kernels as K
from sim.core import layout as L
from sim.core import reference
from sim.core import rng as R
from sim.core import warm
from sim.core.agents import Customer, SalesRep, ServiceSilo, _make_customers
from sim.core.params import SILO_NAMES, PolicyParams, SimParams, validate
from sim.core.recorder import Recorder

# The phases of one day, in order: (name, method of LoyaltyModel, what happens). The
# benchmark's per-phase timing reads this order (``LoyaltyModel.phases``).
SCHEDULE = (
    ("morning", "_morning", "prices and outreach, issues arise, channels chosen"),
    ("reps", "_reps_act", "sales reps handle the issues brought to them"),
    ("silos", "_silos_serve", "the service silos' queues serve today's callers"),
    ("evening", "_customers_decide", "customers live with today's service; stay or go"),
    ("spread", "_word_of_mouth", "departures and attitude shocks travel along ties"),
    ("acquire", "_acquire", "new customers join"),
    ("collect", "_collect", "the day's metrics and journeys are recorded"),
)


def _spare(expected: float) -> int:
    """Slots for a Poisson number of joiners with mean ``expected``: six standard
    deviations over it (joiners past them are refused and counted, never silently lost)."""
    return int(expected + 6.0 * math.sqrt(expected) + 10)


# ---------------------------------------------------------------------------------------
class LoyaltyModel(mesa.Model):
    """Customers, service silos and sales reps under one company policy.

    ``params``: a ``SimParams`` (validated here). ``decisions``: "kernel" or "reference".
    ``warm_starts``: where the warm start is looked up and kept (``sim.core.warm``: the
    process's memory by default; None simulates it afresh and keeps nothing).
    """

    def __init__(self, params: SimParams | None = None, decisions: str = "kernel",
                 warm_starts: warm.WarmStarts | None = warm.MEMORY) -> None:
        params = validate(params if params is not None else SimParams())
        if decisions not in ("kernel", "reference"):
            raise ValueError(f"decisions={decisions!r}: must be 'kernel' or 'reference'")
        super().__init__(rng=params.seed)  # Mesa's own generators are never used for decisions
        self.params, self.decisions = params, decisions
        self.seed = int(params.seed)  # the root seed: traits, ties and the recorded days
        self.day = 0
        pop = params.population
        self.n_initial = pop.size
        self.company_size = pop.company_size  # the silos' customers (a sample of them here)
        self.n_reps = max(1, math.ceil(pop.size / pop.rep_book_size))
        # the warm start runs under the baseline policy on draws of its own (_burn_in)
        self.burn_in_days = 365 * params.burn_in_years
        self.burning_in = self.burn_in_days > 0
        self.policy = PolicyParams() if self.burning_in else params.policy
        self.day_seed = R.burn_in_seed(self.seed) if self.burning_in else self.seed
        self.pv = kernel_params.build(
            dataclasses.replace(params, policy=self.policy), self.n_reps)
        # slots: the book, then those who join in the warm start (at most burn_in_slots
        # in all, whatever the policy), then those who join in the run
        self.burn_in_slots = pop.size + _spare(
            self._acquire_rate(PolicyParams()) * self.burn_in_days) if self.burning_in else pop.size
        self.capacity = self.burn_in_slots + _spare(
            self._acquire_rate(params.policy) * params.horizon_days)
        self.slot_limit = self.burn_in_slots if self.burning_in else self.capacity
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
            self.seed, self.capacity, pop.size, self.I[L.I_REGION].astype(np.int64),
            pop.ties_mean,
            pop.tie_locality, pop.household_size_mean, pop.regions)
        self.customers: list[Customer] = _make_customers(self, 0, self.n)
        self.silos = [ServiceSilo(self, k, s) for k, s in enumerate(SILO_NAMES)]
        self.new_callers_expected = np.zeros(len(self.silos))  # set every morning
        self.reps = [SalesRep(self, r) for r in range(self.n_reps)]
        self.rep_minutes_left = np.zeros(self.n_reps)
        self.acquisitions_refused = 0
        self.reputation = 0.0  # R: unfair judgements per active customer, fading
        self._keep_reputation = math.exp(-math.log(2.0) / pop.reputation_half_life_days)
        self.acquired_today = 0
        self.recorder = Recorder(self)
        # the day's phases as bound methods, in SCHEDULE order
        self.phases: list[tuple[str, Callable[[int], None]]] = [
            (name, getattr(self, method)) for name, method, _ in SCHEDULE]
        if self.burning_in:
            self._warm_start(warm_starts)
        self.n_start = self.n  # slots in use on day 0 (the book; later joiners come after)
        self.customers_start = int(np.count_nonzero(self.I[L.I_ACTIVE, :self.n]))
        self.journey_idx = self.recorder.sample_journeys()  # the book's first customers

    def _acquire_rate(self, policy: PolicyParams) -> float:
        """New customers a day: the market's inflow and the reps' new sales."""
        pop = self.params.population
        return (pop.acquisition_per_year * pop.size
                + self.n_reps * policy.rep_new_sales_per_year) / 365.0

    def _warm_start(self, store: warm.WarmStarts | None) -> None:
        """The warm start (``SimParams.burn_in_years``): the days before day 0 under the
        baseline policy, with the burn-in's own draws and nothing recorded, in the first
        ``burn_in_slots`` slots (the same for every policy); restored from ``store`` when a
        run with the same parameters but policy and horizon simulated it. Then every stored
        day (joined, left, planned exits, next contacts, day stamps, the silos' agents'
        next-free times) is shifted so that the last burn-in day is day -1, and the run's
        own policy and draws take over from day 0."""
        key = warm.key(self.params, self.decisions) if store is not None else ""
        state = store.get(key) if store is not None else None
        if state is None:
            while self.day < self.burn_in_days:
                self.step()
            if store is not None:
                store.put(key, self._warm_state())
        else:
            self._restore(state)
        self._end_burn_in()

    def _warm_state(self) -> dict[str, np.ndarray]:
        """What the warm start leaves (before the shift to day 0), as arrays."""
        n = self.n
        state = {"F": self.F[:, :n].copy(), "I": self.I[:, :n].copy(),
                 "scalars": np.array([n, self.t_day, self.acquisitions_refused,
                                      self.acquired_today], np.int64),
                 "reputation": np.array([self.reputation])}
        for silo in self.silos:
            state[f"silo{silo.index}_free_at"] = silo.free_at.copy()
            state[f"silo{silo.index}_part"] = silo.part.copy()
            state[f"silo{silo.index}_scalars"] = np.array([silo.staff, silo.backlog])
        return state

    def _restore(self, state: dict[str, np.ndarray]) -> None:
        """The model as its own warm start would leave it (``_warm_state``)."""
        n, self.t_day, self.acquisitions_refused, self.acquired_today = (
            int(v) for v in state["scalars"])
        self.F[:, :n] = state["F"]
        self.I[:, :n] = state["I"]
        self.reputation = float(state["reputation"][0])
        self.customers.extend(_make_customers(self, self.n, n))
        self.n, self.day = n, self.burn_in_days
        for silo in self.silos:
            silo.free_at = state[f"silo{silo.index}_free_at"].copy()
            silo.part = state[f"silo{silo.index}_part"].copy()
            staff, backlog = state[f"silo{silo.index}_scalars"]
            silo.staff, silo.backlog = float(staff), int(backlog)

    def _end_burn_in(self) -> None:
        shift = self.burn_in_days
        I = self.I
        I[L.I_DAY_JOINED] -= shift
        I[L.I_DAY_LEFT] = np.where(I[L.I_ACTIVE] == 0, I[L.I_DAY_LEFT] - shift, -1)
        for row in (L.I_EXIT_DAY, L.I_OPENING_DAY, L.I_ISSUE_NEXT_DAY,  # -1: none
                    L.I_CALLBACK_DAY):
            I[row] = np.where(I[row] >= shift, I[row] - shift, -1)
        I[L.I_TODAY] -= shift
        for silo in self.silos:  # (inf, an agent never on duty, stays inf)
            silo.free_at -= shift * silo.open_minutes
            silo.part[0] -= shift * silo.open_minutes
        self.day, self.t_day = 0, self.t_day - shift
        self.burning_in = False
        self.slot_limit = self.capacity
        self.policy, self.day_seed = self.params.policy, self.seed
        self.pv = kernel_params.build(self.params, self.n_reps)

    # -- the schedule ----------------------------------------------------------------------
    def step(self) -> None:
        """One simulated day: the phases of ``SCHEDULE``, in order."""
        for _, phase in self.phases:
            phase(self.day)
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
        pol, b = self.policy, self.params.behaviour
        start = pol.price_change_from_day
        self.pv[L.P_PRICE_CHANGE_ACTIVE] = float(pol.price_change_by == "renewal"
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
        copies = self.company_size > self.n_initial  # the silos serve more than the sample
        if self.decisions == "kernel":
            self._touched, self._deferred, at_risk = K._morning(
                self.F, self.I, self.pv, self.day_seed, day, self.n, self._buf, copies)
        else:
            at_risk = np.zeros((5, 3), np.int64)
            for c in self.customers:
                risk = reference.morning(c, day)
                if copies and risk is not None and 1 <= risk[0] <= 4:
                    at_risk[risk] += 1
            self._touched = np.arange(self.n)  # the reference stamps everyone
            self._deferred = np.flatnonzero(self.I[L.I_T_ACTION, :self.n] != 0)
        self.new_callers_expected = self._new_callers_expected(at_risk)

    def _new_callers_expected(self, at_risk: np.ndarray) -> np.ndarray:
        """Today's expected number of simulated customers calling each silo about an issue
        opened by chance today (``ServiceSilo.serve``: the company's other such callers
        come in proportion to it, not to the sample's count), from ``at_risk``: those who
        could have had one, by products held and channel preference (``K._morning``). Their
        first contact is a call unless self-service resolves it (preferred, or pushed
        there); a customer preferring a rep calls only when the rep hands the issue off,
        and those calls are copied as they come (``_company_callers``)."""
        pv = self.pv
        calls_if_issue = np.zeros(3)
        fail = 1.0 - pv[L.P_SELF_SERVICE_RESOLUTION]
        calls_if_issue[L.PREF_SELF_SERVICE] = fail
        push = pv[L.P_SELF_SERVICE_PUSH]
        calls_if_issue[L.PREF_PHONE] = push * fail + (1.0 - push)
        calls = 0.0
        for products in range(1, 5):
            p_issue = 1.0 - math.exp(-(pv[L.P_ISSUE_RATE] * products))
            for pref in (L.PREF_SELF_SERVICE, L.PREF_PHONE):
                calls += at_risk[products, pref] * p_issue * calls_if_issue[pref]
        share = np.zeros(len(self.silos))
        share[L.SILO_BILLING] = pv[L.P_SILO_CUM_BILLING]
        share[L.SILO_CLAIMS] = pv[L.P_SILO_CUM_CLAIMS] - pv[L.P_SILO_CUM_BILLING]
        share[L.SILO_RETENTION] = 1.0 - pv[L.P_SILO_CUM_CLAIMS]
        return calls * share

    def _reps_act(self, day: int) -> None:
        self.rep_minutes_left[:] = self.policy.rep_service_hours * 60.0
        K._reps(self.F, self.I, self.pv, self.day_seed, day, self._deferred,
                self.rep_minutes_left, self.params.reps.minutes_per_issue)

    def _silos_serve(self, day: int) -> None:
        start, idx = K._callers_by_silo(self.I, self._deferred, len(self.silos))
        for k, silo in enumerate(self.silos):
            silo.serve(day, idx[start[k]:start[k + 1]])

    def _customers_decide(self, day: int) -> None:
        if self.decisions == "kernel":
            K._evening(self.F, self.I, self.pv, self.day_seed, day, self._deferred)
        else:
            for c in self.customers:
                reference.evening(c, day)

    def _word_of_mouth(self, day: int) -> None:
        b = self.params.behaviour
        if self.decisions == "kernel":
            K._spread(self.F, self.I, self._touched, self.n, self.indptr, self.nbr,
                      self.tie_family, b.wom_weight, b.wom_negative_multiplier)
        else:
            reference.spread(self)

    def _acquire(self, day: int) -> None:
        """New customers join at the end of the day (market inflow and reps' new sales),
        fewer as news of unfair price changes spreads (``acquisition_reputation``)."""
        rate = self._acquire_rate(self.policy)
        sensitivity = self.params.population.acquisition_reputation
        if sensitivity > 0.0:
            unfair = np.count_nonzero(self.I[L.I_T_UNFAIR, self._touched] == 1)
            rows = self.recorder.rows
            active = rows[-1]["active"] if rows else self.n_initial
            self.reputation = self.reputation * self._keep_reputation + unfair / max(active, 1)
            rate *= math.exp(-sensitivity * self.reputation)
        wanted = R.poisson(self.day_seed, R.ACQUIRE, 0, day, 0, rate)
        count = min(wanted, self.slot_limit - self.n)
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
        self.recorder.collect(day)

    # -- results -----------------------------------------------------------------------------
    def timeseries(self) -> dict[str, np.ndarray]:
        """One array per daily metric (``sim.core.metrics.DAILY_COLUMNS``), one per day."""
        return self.recorder.timeseries()

    def journeys(self) -> dict[str, np.ndarray]:
        """The sampled customers' events: columns customer, day, event, value."""
        return self.recorder.journeys()

    def hold_distribution(self) -> np.ndarray:
        """Calls that held, by whole minutes on hold (last bin: a week or more)."""
        return self.recorder.hold_distribution()

    def summary(self) -> dict:
        """Retention, churn by reason, revenue, profit, NPV, holds, ... (``Recorder.summary``)."""
        return self.recorder.summary()
