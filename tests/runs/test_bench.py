"""The benchmark's output, and the fast paths of the daily step against their specifications.

Timings are never asserted: they belong to the machine, not to the code.
"""

import json

import numpy as np

from sim.runs import bench
from sim.core import kernels as K
from sim.core import layout as L
from sim.core.model import LoyaltyModel
from sim.core.params import SimParams


def make(size, days, seed=0, **policy):
    p = SimParams()
    p.population.size, p.horizon_days, p.seed = size, days, seed
    for key, value in policy.items():
        setattr(p.policy, key, value)
    return p


def test_bench_prints_one_json_line(capsys):
    assert bench.main(["--customers", "300", "--days", "4", "--threads", "1",
                       "--compare-reference", "--reference-customers", "60",
                       "--reference-days", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    out = json.loads(lines[0])
    assert set(out) == {
        "customers", "days", "threads", "seed", "compile_s", "build_s", "run_s", "total_s",
        "customer_days_per_s", "peak_rss_mb", "reference_customers", "reference_days",
        "reference_customer_days_per_s", "speedup_vs_reference",
        "speedup_vs_reference_same_size"}
    assert (out["customers"], out["days"], out["threads"]) == (300, 4, 1)
    assert (out["reference_customers"], out["reference_days"]) == (60, 2)
    for key in ("build_s", "run_s", "customer_days_per_s", "peak_rss_mb",
                "reference_customer_days_per_s"):
        assert out[key] > 0, key


def test_bench_without_reference_has_no_speedup(capsys):
    bench.main(["--customers", "100", "--days", "2", "--threads", "1"])
    out = json.loads(capsys.readouterr().out)
    assert "speedup_vs_reference" not in out and out["customers"] == 100


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
