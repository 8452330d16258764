"""The kernel against its specifications: whole runs against the plain-Python reference
(``sim.core.reference``), bit for bit, and the daily step's fast paths (stamped customers,
two-pass day totals, callers by silo, the churn screen) against the exact rules."""

import dataclasses

import numpy as np
import pytest

from sim.core import kernels as K
from sim.core import layout as L
from sim.core import metrics as M
from sim.core.model import LoyaltyModel
from sim.core.params import ParamError, PolicyParams
from tests.helpers import busy_policy, make


# -- kernel against the reference implementation -------------------------------------------
# (policy, behaviour, what must also happen: daily columns with a positive total), each a
# small run: 300 customers, 150 days. Between them the cases set every policy lever to a
# value of its own (test_every_policy_lever_is_set_by_a_reference_case), where it changes
# the run (test_every_policy_lever_changes_its_reference_case). At 300 customers each silo
# has one agent and a day's few calls hardly queue: the cases about waits flood the lines.
REFERENCE_CASES = [
    # every mechanism at once; an incident long and large enough for 30-minute promises
    # to be broken and callers to hang up; listening fixes half the issues from day 20
    (dict(busy_policy(), incident_issue_multiplier=100.0, incident_days=4,
          promised_wait_minutes=30.0, review_discount=0.3, retention_discount=0.3,
          self_service_resolution=0.3, listening_issue_reduction=0.5),
     {}, ("broken_promises", "abandoned", "contacts_self_service")),
    # staff cut from day 30, when an incident floods the lines: honest waits, callbacks and
    # queue positions; movers' explained rises capped, renewals from day 20 to 79 only, then
    # routine changes (price walking) explained as lock-in; capped rises: unfair judgments
    # of partial weight
    (dict(staffing_factor=0.3, staffing_from_day=30, promise="honest", callback=True,
          announce_position=True, incident_day=30, incident_issue_multiplier=100.0,
          price_change=0.3, price_target="movers", explanation="cost", price_cap=0.15,
          price_change_from_day=20, price_change_days=60, price_walking_per_year=0.05,
          routine_explanation="lock_in", rep_help=0.1, rep_handoff=0.2,
          callback_max_wait_minutes=300.0),
     {"unfair_full_rise": 0.2, "callback_patience_minutes": 200.0},
     ("callbacks", "abandoned", "callbacks_waiting")),
    # after a year's warm start: exits planned at the letter, taken at renewals; reps with
    # little time for service who sell more
    (dict(price_change=0.6, price_target="all", price_change_by="letter",
          price_change_from_day=40, review_call=True, staffing_factor=0.5, promise="fixed",
          rep_service_hours=0.5, rep_new_sales_per_year=6.0),
     {"unfair_exit_next_renewal": 0.5, "burn_in_years": 1}, ()),
]
CASE_IDS = ["busy", "honest_waits", "letter"]
LEVERS = [f.name for f in dataclasses.fields(PolicyParams) if f.name != "name"]


def reference_params(policy: dict, behaviour: dict):
    """A case's parameters: ``behaviour`` sets BehaviourParams fields, and the warm start
    (``burn_in_years``)."""
    params = make(size=300, days=150, seed=11, **policy)
    for key, value in behaviour.items():
        setattr(params if key == "burn_in_years" else params.behaviour, key, value)
    params.silos.billing.staff_per_10k = 60.0  # a few agents even at 300 customers
    return params


@pytest.mark.parametrize("policy, behaviour, happens", REFERENCE_CASES, ids=CASE_IDS)
def test_kernel_equals_reference(policy, behaviour, happens):
    params = reference_params(policy, behaviour)
    fast = LoyaltyModel(params).run()
    slow = LoyaltyModel(params, decisions="reference").run()
    assert np.array_equal(fast.F, slow.F)
    assert np.array_equal(fast.I, slow.I)
    a, b = fast.timeseries(), slow.timeseries()
    for col in M.DAILY_COLUMNS:
        assert np.array_equal(a[col], b[col]), col
    # the check is not vacuous: the mechanisms really happened
    ts = a
    assert ts["churned"].sum() > 0 and ts["calls"].sum() > 0 and ts["price_rises"].sum() > 0
    assert ts["contacts_rep"].sum() > 0 and ts["acquired"].sum() > 0
    for col in happens:
        assert ts[col].sum() > 0, col


# At the ends of the declared ranges (issue 18), where a float runs out: relative hazards
# beyond the largest float (a 10-hour hold with beta_attitude, loss_aversion and
# disconfirmation_per_hour at their tops: exp(eta) is inf, which Python's math.exp raises
# on), saved at once every day by a discount that takes the premium to its floor
# (layout.MIN_PREMIUM) within weeks; no hazard besides renewals (h = 0 while exp(eta) is
# inf: 0 x inf was NaN and the customer left); fairness judgments whose logistic overflows
# (a judged rise of 0.1% against a reference of 1000% at a slope of 100).
EXTREME_CASES = {
    "premium_floor": (dict(staffing_factor=0.0, retention_save=1.0, retention_discount=0.999999),
                      {"beta_price": 0.0, "beta_attitude": 20.0, "loss_aversion": 10.0,
                       "disconfirmation_per_hour": 10.0, "base_annual_hazard": 50.0}),
    "renewal_hazard_only": (dict(staffing_factor=0.0),
                            {"beta_attitude": 20.0, "loss_aversion": 10.0,
                             "disconfirmation_per_hour": 10.0, "renewal_hazard_share": 1.0}),
    "steep_fairness": (dict(price_walking_per_year=0.001),
                       {"fairness_slope": 100.0, "min_noticed_rise": 0.0,
                        "fairness_reference_rise": 10.0}),
}


@pytest.mark.parametrize("case", list(EXTREME_CASES))
def test_kernel_equals_reference_where_floats_run_out(case):
    policy, behaviour = EXTREME_CASES[case]
    params = reference_params(policy, behaviour)
    fast = LoyaltyModel(params).run()
    slow = LoyaltyModel(params, decisions="reference").run()
    assert np.array_equal(fast.F, slow.F) and np.array_equal(fast.I, slow.I)
    a, b = fast.timeseries(), slow.timeseries()
    for col in M.DAILY_COLUMNS:
        assert np.array_equal(a[col], b[col]), col
    F, I, n = fast.F, fast.I, fast.n
    active = I[L.I_ACTIVE, :n] == 1
    assert np.all(np.isfinite(F[:, :n][:, active])) and np.all(F[L.F_PREMIUM, :n] > 0.0)
    # the ends were reached
    worst = params.behaviour.beta_attitude * (params.behaviour.attitude_mean - F[L.F_ATTITUDE, :n])
    if case == "premium_floor":
        assert np.any(F[L.F_PREMIUM, :n][active] == L.MIN_PREMIUM)
    if case == "renewal_hazard_only":
        assert worst.max() > 1000.0  # exp(eta) far beyond the largest float
        left = np.flatnonzero(I[L.I_ACTIVE, :n] == 0)
        assert left.size > 0
        assert np.all(I[L.I_DAY_LEFT, left] % 365 == I[L.I_RENEWAL_DOY, left])  # only at renewals
    if case == "steep_fairness":
        assert a["price_rises"].sum() > 0


def test_reference_exp_and_logistic_give_the_kernels_values_beyond_the_largest_float():
    from sim.core import reference
    assert reference._exp(800.0) == np.inf and reference._exp(-800.0) == 0.0
    for x in (-800.0, -710.0, -709.0, -3.0, 0.0, 3.0, 800.0):
        assert reference._logistic(x) == K._logistic(x), x


def test_every_policy_lever_is_set_by_a_reference_case():
    """Every field of PolicyParams but its name takes a value other than its default in
    some case of the kernel-vs-reference check (and the cases name no other field: make()
    would set a misspelt one without complaint)."""
    default = PolicyParams()
    for policy, _, _ in REFERENCE_CASES:
        assert set(policy) <= set(LEVERS), set(policy) - set(LEVERS)
    unset = [lever for lever in LEVERS
             if all(policy.get(lever, getattr(default, lever)) == getattr(default, lever)
                    for policy, _, _ in REFERENCE_CASES)]
    assert not unset, f"no kernel-vs-reference case sets {unset}"


def _outcome(params):
    model = LoyaltyModel(params).run()
    return model.F[:, :model.n], model.I[:, :model.n], model.timeseries()


def _same(a, b) -> bool:
    (fa, ia, ta), (fb, ib, tb) = a, b
    return np.array_equal(fa, fb) and np.array_equal(ia, ib) and all(
        np.array_equal(ta[col], tb[col]) for col in ta)


@pytest.mark.usefixtures("one_numba_thread")  # 37 small runs
def test_every_policy_lever_changes_its_reference_case():
    """Each lever, set back to its default in a case that sets it, changes that case's run
    (the kernel's): the kernel-vs-reference check sees every lever at work."""
    default = PolicyParams()
    runs = [_outcome(reference_params(policy, behaviour))
            for policy, behaviour, _ in REFERENCE_CASES]
    idle = []
    for lever in LEVERS:
        off = getattr(default, lever)
        for (policy, behaviour, _), run in zip(REFERENCE_CASES, runs):
            if policy.get(lever, off) == off:
                continue
            try:
                other = _outcome(reference_params({**policy, lever: off}, behaviour))
            except ParamError:  # a letter needs price_target=all
                continue
            if not _same(run, other):
                break
        else:
            idle.append(lever)
    assert not idle, f"set back to their defaults, {idle} change no reference case"


def test_reset_today_writes_the_layouts_nothing_values():
    """The kernel's "nothing happened" values of today's rows are the ones the Customer
    view reads for a stale customer (layout.T_NOTHING)."""
    from sim.core import kernels as K
    F, I = np.full((L.NF, 1), 7.0), np.full((L.NI, 1), 7, np.int32)
    K._reset_today(F, I, 0)
    for matrix, fields in ((F, L.F_FIELDS), (I, L.I_FIELDS)):
        for row, name in enumerate(fields):
            expected = L.T_NOTHING.get(name, 0) if name.startswith("t_") else 7
            assert matrix[row, 0] == expected, name


# -- the fast paths of the daily step against their specifications -------------------------
def busy_model(days=120):
    """A model in a rough state: hikes judged unfair, long holds, contagion."""
    params = make(3000, 400, 5, price_change=0.8, price_target="all", explanation="none",
                  staffing_factor=0.3, promise="fixed", retention_save=0.3,
                  incident_day=5, incident_issue_multiplier=5.0)
    model = LoyaltyModel(params)
    for _ in range(days):
        model.step()
    return model


def test_daily_totals_two_passes_equal_the_specification():
    """The model's day totals (today's events from the stamped customers, then the state)
    equal one pass over every customer with every today's row settled."""
    model = busy_model(60)
    b = model.params.behaviour
    spec, fast = np.zeros(M.N_COUNTS), np.zeros(M.N_COUNTS)
    K._today_counts(model.I, model._touched, fast)
    K._state_sums(model.F, model.I, model.n, b.nps_promoter_attitude,
                  b.nps_detractor_attitude, fast)
    assert model._touched.size < model.n // 2  # most customers were left alone
    model.settle()
    K._day_sums(model.F, model.I, model.n, b.nps_promoter_attitude,
                b.nps_detractor_attitude, spec)
    assert np.array_equal(spec.view(np.int64), fast.view(np.int64))
    assert spec[0] > 0 or spec[7] > 0  # not an empty day


def test_stamped_customers_are_everyone_with_an_event_today():
    """After a step, the customers the morning stamped are exactly those whose settled
    today's rows say something happened (besides joining today)."""
    model = busy_model(40)
    n = model.n
    touched = np.zeros(n, bool)
    touched[model._touched] = True
    model.settle()
    I, F = model.I[:, :n], model.F[:, :n]
    nothing = ((I[L.I_T_ACTION] == 0) & (I[L.I_T_ISSUE_NEW] == 0) & (I[L.I_T_SS] == -1)
               & (I[L.I_T_REP] == -1) & (I[L.I_T_CALL] == -1) & (I[L.I_T_CLOSED] == 0)
               & (I[L.I_T_RENEWAL] == 0) & (I[L.I_T_UNFAIR] == -1)
               & (I[L.I_T_OUTREACH] == -1) & (I[L.I_T_CHURN] == 0) & (I[L.I_T_SAVED] == 0)
               & (F[L.F_T_SHOCK] == 0.0) & (F[L.F_T_HOLD] == 0.0)
               & (F[L.F_T_PRICE_CHANGE] == 0.0) & (F[L.F_T_ANNOUNCED] == -1.0))
    assert not np.any(~touched & ~nothing)
    assert np.all(np.diff(model._touched) > 0)  # in customer order
    assert np.all(np.isin(model._deferred, model._touched))


def test_callers_of_all_silos_at_once_equal_callers_per_silo():
    model = busy_model(30)
    model._morning(model.day)
    model._reps_act(model.day)
    start, idx = K._callers_by_silo(model.I, model._deferred, 3)
    for s in range(3):
        assert np.array_equal(idx[start[s]:start[s + 1]],
                              K._callers(model.I, model.n, s, model.day))
    assert idx.size > 0


def test_churn_screen_only_passes_customers_the_exact_rule_keeps():
    """Every customer the screen lets through would have stayed by ``_churn`` itself; and
    the screen does its job for most of them."""
    model = busy_model(150)
    seed, pv = model.seed, model.pv
    eta_max, p_max = K._screen_constants(pv)
    passed = stays_exact = left = 0
    for day in range(model.day, model.day + 3):
        F, I = model.F.copy(), model.I.copy()  # _churn reads and writes column i only
        renewal = I[L.I_RENEWAL_DOY, :model.n] == day % 365
        for i in np.flatnonzero(I[L.I_ACTIVE, :model.n] == 1):
            screened = K._churn_screen(F, I, pv, seed, i, day, eta_max, p_max, renewal[i])
            stayed = not K._churn(F, I, pv, seed, i, day, renewal[i])
            stays_exact += stayed
            left += not stayed
            if screened:
                passed += 1
                assert stayed, (i, day)
    assert passed > 0.85 * stays_exact  # (0.90 of them under the busy policy's draws)
    assert left > 0  # the exact rule had work to do


def test_departure_reason_is_the_share_of_the_hazard_each_term_caused():
    """A departure with positive log-hazard terms t is "other" with probability exp(-S)
    (S = sum of t: the customer would have left anyway) and each term's with probability
    (1 - exp(-S)) t / S; the kernel's draw equals the reference's for every v."""
    from sim.core.kernels.churn import _reason
    from sim.core.reference import departure_reason
    codes = (M.REASON_PRICE, M.REASON_SERVICE, M.REASON_CONTAGION, M.REASON_CASCADE)
    v = (np.arange(20_000) + 0.5) / 20_000  # evenly over [0, 1)
    rng = np.random.default_rng(7)
    for terms in ((0.5, 0.2, 0.0, 0.0), (-1.0, 0.7, 0.0, 1.3), (0.0, 0.0, 0.0, 0.0),
                  (0.0, 0.0, 0.0, 2e-9), *rng.normal(0.0, 1.0, (5, 4))):
        got = np.array([_reason(*terms, x) for x in v])
        assert np.array_equal(got, [departure_reason(tuple(zip(terms, codes)), x) for x in v])
        positive = np.maximum(terms, 0.0)
        s = positive.sum()
        expected = {M.REASON_OTHER: np.exp(-s)} | {
            c: (1.0 - np.exp(-s)) * t / s for c, t in zip(codes, positive) if s > 0}
        for code, share in expected.items():
            assert abs((got == code).mean() - share) <= 1e-4, (terms, code)
        assert set(got) <= set(expected)
