"""The kernel against its specifications: whole runs against the plain-Python reference
(``sim.core.reference``), bit for bit, and the daily step's fast paths (stamped customers,
two-pass day totals, callers by silo, the churn screen) against the exact rules."""

import numpy as np
import pytest

from sim.core import kernels as K
from sim.core import layout as L
from sim.core import metrics as M
from sim.core.model import LoyaltyModel
from tests.helpers import busy_policy, make


# -- kernel against the reference implementation -------------------------------------------
@pytest.mark.parametrize("policy, behaviour", [
    (busy_policy(), {}),
    (dict(staffing_factor=0.3, promise="honest", callback=True, announce_position=True,
          price_change=0.3, price_target="movers", explanation="cost", price_cap=0.15,
          rep_help=0.1, rep_handoff=0.2),
     {"unfair_full_rise": 0.2}),  # capped rises: unfair judgments of partial weight
    (dict(price_change=0.6, price_target="all", price_change_by="letter",
          price_change_from_day=40, review_call=True, staffing_factor=0.5, promise="fixed"),
     {"unfair_exit_next_renewal": 0.5}),  # exits planned at the letter, taken at renewals
])
def test_kernel_equals_reference(policy, behaviour):
    params = make(size=300, days=150, seed=11, **policy)
    for key, value in behaviour.items():
        setattr(params.behaviour, key, value)
    params.silos.billing.staff_per_10k = 60.0  # a few agents even at 300 customers
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
    spec, fast = np.zeros(K.N_DAY_SUMS), np.zeros(K.N_DAY_SUMS)
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
    assert passed > 0.9 * stays_exact
    assert left > 0  # the exact rule had work to do
