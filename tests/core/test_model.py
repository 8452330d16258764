"""The model as a whole: reproducibility (seeds, threads, common random numbers), the
invariants of every day, the Mesa agents, parameter errors and the journeys log."""

import math

import numba
import numpy as np
import pytest

from sim.core import layout as L
from sim.core import metrics as M
from sim.core.model import Customer, LoyaltyModel, SalesRep, ServiceSilo
from sim.core.params import ParamError
from tests.helpers import busy_policy, make


# -- reproducibility -----------------------------------------------------------------------
def test_same_seed_same_results_other_seed_differs():
    a = LoyaltyModel(make(seed=5, **busy_policy())).run().timeseries()
    b = LoyaltyModel(make(seed=5, **busy_policy())).run().timeseries()
    c = LoyaltyModel(make(seed=6, **busy_policy())).run().timeseries()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not all(np.array_equal(a[k], c[k]) for k in a)


def test_one_and_two_threads_identical():
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = LoyaltyModel(make(size=3000, days=90, **busy_policy())).run()
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = LoyaltyModel(make(size=3000, days=90, **busy_policy())).run()
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(one.F, two.F) and np.array_equal(one.I, two.I)
    ta, tb = one.timeseries(), two.timeseries()
    assert all(np.array_equal(ta[k], tb[k]) for k in ta)


def test_common_random_numbers_pair_scenarios():
    """Two policies with one seed: customers the policy does not touch keep their luck."""
    base = LoyaltyModel(make(size=500, days=5, seed=3)).run()
    other = LoyaltyModel(make(size=500, days=5, seed=3, outreach_per_customer_year=0.0,
                              price_walking_per_year=0.1)).run()
    # initial traits are identical
    for row in (L.F_RISK_COST, L.F_ATTITUDE_BASE):
        assert np.array_equal(base.F[row, :500], other.F[row, :500])


# -- invariants ----------------------------------------------------------------------------
@pytest.mark.parametrize("burn_in_years", [0, 1])
def test_invariants_every_day(burn_in_years):
    """Customers and products are conserved every day (from day 0's active customers,
    after a warm start too), shares stay shares, nothing is NaN or infinite."""
    model = LoyaltyModel(make(size=2000, days=200, seed=4, burn_in_years=burn_in_years,
                              **busy_policy()))
    start = model.I[L.I_ACTIVE, :model.n] == 1
    assert model.customers_start == start.sum()
    initial_products = int(model.I[L.I_PRODUCTS, :model.n][start].sum())
    acquired = acquired_products = 0
    churned = lost = 0
    for _ in range(200):
        before = model.n
        model.step()
        row = model.recorder.rows[-1]
        acquired += row["acquired"]
        acquired_products += int(model.I[L.I_PRODUCTS, before:model.n].sum())
        churned += row["churned"]
        lost += row["products_lost"]
        assert row["active"] + churned == model.customers_start + acquired
        assert row["active_products"] + lost == initial_products + acquired_products
        assert sum(row[f"churned_{r}"] for r in M.REASONS) == row["churned"]
        assert row["backlog"] >= 0 and row["hold_minutes_mean"] >= 0
        assert 0.0 <= row["abandonment_rate"] <= 1.0
        for value in row.values():
            assert math.isfinite(value)
        active = model.I[L.I_ACTIVE, :model.n] == 1
        assert np.all(np.isfinite(model.F[:, :model.n][:, active]))
        for silo in model.silos:
            assert np.all(silo.free_at >= 0)
    assert churned > 0 and acquired > 0


def test_a_run_that_lost_every_customer_in_its_warm_start_still_summarises():
    """No customer on day 0 and nobody joining (issue 18's fuzzing): the summary's shares
    of customers are NaN, as retention without exposure is, instead of a division by
    zero after the run."""
    params = make(size=500, days=60, burn_in_years=1, rep_new_sales_per_year=0.0)
    params.behaviour.base_annual_hazard = 50.0
    params.behaviour.products_exponent = 0.0  # multi-product customers as likely to leave
    params.population.acquisition_per_year = 0.0
    summary = LoyaltyModel(params).run().summary()
    assert summary["customers_start"] == 0 and summary["acquired"] == 0
    assert math.isnan(summary["churn_share"]) and math.isnan(summary["retention_annual"])


def test_new_customers_make_no_contacts_on_the_day_they_join():
    params = make(size=2000, days=40, seed=2)
    b = params.behaviour  # no issues, no price queries: any contact is a miscount
    b.issues_per_product_year = b.price_query_prob_explained = b.price_query_prob_unexplained = 0.0
    params.population.acquisition_per_year = 2.0
    ts = LoyaltyModel(params).run().timeseries()
    assert ts["acquired"].sum() > 100
    for channel in M.CHANNELS:
        assert ts[f"contacts_{channel}"].sum() == 0, channel


# -- agents, parameters, journeys ----------------------------------------------------------
def test_agents_are_registered_views():
    model = LoyaltyModel(make(size=50, days=3))
    customers = model.agents_by_type[Customer]
    assert len(customers) == 50
    assert len(model.agents_by_type[ServiceSilo]) == 3
    assert len(model.agents_by_type[SalesRep]) == model.n_reps
    c = model.customers[7]
    c.attitude = 1.25
    assert model.F[L.F_ATTITUDE, 7] == 1.25
    assert c.products == model.I[L.I_PRODUCTS, 7]
    model.run()
    assert len(model.agents_by_type[Customer]) == model.n


def test_bad_parameters_name_key_value_and_range():
    p = make()
    p.policy.price_change = -1.5
    with pytest.raises(ParamError, match=r"policy\.price_change=-1\.5: must be in \(-1, 100\]"):
        LoyaltyModel(p)


def test_price_letter_needs_every_customer():
    params = make(price_change_by="letter", price_target="movers")
    with pytest.raises(ParamError, match="price_target"):
        LoyaltyModel(params)


def test_journeys_log_sampled_customers():
    model = LoyaltyModel(make(size=400, days=120, seed=2, **busy_policy())).run()
    j = model.journeys()
    assert set(j) == {"customer", "day", "event", "value"}
    assert len(j["event"]) > 0 and set(j["event"]) <= set(M.EVENTS)
    assert j["customer"].max() < model.params.population.size
    left = j["customer"][j["event"] == "churned"]
    assert np.all(model.I[L.I_ACTIVE, left] == 0)


def test_a_finished_model_is_freed():
    """Nothing keeps a model alive once its caller lets go of it (Mesa 3.3's agent-id
    counters did: a sweep worker grew by every run it made)."""
    import gc
    import weakref
    model = LoyaltyModel(make(size=300, days=5))
    model.run()
    gone = weakref.ref(model)
    del model
    gc.collect()
    assert gone() is None
