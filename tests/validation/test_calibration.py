"""The calibration measurements (sim.validation.calibration) measure what they say they measure."""

import math

import numpy as np
import pytest

from sim.validation import calibration as C


@pytest.fixture(scope="module")
def small_run():
    return C.run(C.make_params(3000, 400, seed=5, journeys=True))


def test_retention_from_arrays_agrees_with_the_models_summary(small_run):
    s = small_run.summary()
    e = C.Ends.of(small_run)
    r, se, n = C.annual_retention([e])
    assert n == s["churned"]
    # exposure counts the leaving day too (see annual_retention): about 1 day in 300 more
    assert r == pytest.approx(s["retention_annual"], abs=2e-3)
    assert 0 < se < 0.02
    for p in range(1, 5):
        rp, _, _ = C.annual_retention([e], lambda e, p=p: e.products == p)
        assert rp == pytest.approx(s["retention_annual_by_products"][str(p)], abs=3e-3)


def test_household_clustering_widens_the_standard_error():
    e = C.Ends(joined=np.zeros(4, np.int64), last=np.array([9, 9, 99, 99]),
               left=np.array([True, True, False, False]), products=np.ones(4, np.int64),
               tenure_at_start=np.zeros(4, np.int64), premium=np.ones(4), risk_cost=np.ones(4),
               loading=np.ones(4), household=np.array([0, 1, 2, 3]),
               renewal_doy=np.zeros(4, np.int64), horizon=100)
    together = C.Ends(**{**vars(e), "household": np.array([0, 0, 1, 1])})
    r1, se1, n = C.annual_retention([e])
    r2, se2, _ = C.annual_retention([together])
    assert n == 2 and r1 == r2 == pytest.approx(math.exp(-365 * 2 / 220))
    assert se2 > se1  # both leavers in one household: less independent information


def test_tally_classes_customer_days_by_the_most_recent_event():
    # customer 0: days 0..9, leaves on day 9; events on day 2 (cat 0) and day 6 (cat 1)
    # customer 1: days 3..9, stays; no events
    e = C.Ends(joined=np.array([0, 3]), last=np.array([9, 9]), left=np.array([True, False]),
               products=np.array([1, 2]), tenure_at_start=np.array([0, 0]),
               premium=np.ones(2), risk_cost=np.ones(2), loading=np.ones(2),
               household=np.array([0, 1]), renewal_doy=np.array([200, 200]), horizon=10)
    expo, deaths = C.tally_since_events(e, np.array([0, 0]), np.array([6, 2]),
                                        np.array([1, 0]), ncat=2, window=5)
    assert expo.sum() == 10 + 7
    # customer 0: days 0-1 no event; 2-5 cat 0 (since 0..3); 6-9 cat 1 (since 0..3)
    assert expo[2, 0, 0].sum() == 2 and expo[2, 0, 1].sum() == 7
    assert [expo[0, s, 0].sum() for s in range(5)] == [1, 1, 1, 1, 0]
    assert [expo[1, s, 0].sum() for s in range(5)] == [1, 1, 1, 1, 0]
    assert deaths.sum() == 1 and deaths[1, 3, 0].sum() == 1
    # a window too short to reach day 9: the departure falls in "no recent event"
    expo, deaths = C.tally_since_events(e, np.array([0]), np.array([2]), np.array([0]),
                                        ncat=1, window=3)
    assert deaths[1, 0].sum() == 1 and expo[0].sum() == 3


def test_decaying_ratio_fit_recovers_known_values():
    days = np.arange(181, dtype=float)
    x = np.full(days.size, 2000.0)
    obs = x * np.exp(math.log(1.8) * np.exp(-days / 30.0))
    fit = C.fit_decaying_ratio(obs, x, days)
    assert fit["hazard_ratio"] == pytest.approx(1.8, rel=1e-3)
    assert fit["tau_days"] == pytest.approx(30.0, abs=1.0)
    assert C.ratio_in_band(obs, x, days, 1, 1)[0] == pytest.approx(1.8 ** math.exp(-1 / 30))


def test_unfair_shares_follow_the_kkt_ordering():
    shares = [C.unfair_share(6000, 1, 0.2, m)[0] for m in ("cost", "none", "lock_in")]
    assert shares[0] < shares[1] < shares[2]
    assert abs(shares[1] - 0.76) < 0.06  # anchored at the reference rise


def test_renewal_response_is_steeper_without_explanation():
    cost = C.renewal_semi_elasticity(20_000, 2, 0.1, "cost")
    none = C.renewal_semi_elasticity(20_000, 2, 0.1, "none")
    assert cost["semi_elasticity"] < 0 and cost["renew_rise"] < cost["renew_base"]
    assert none["semi_elasticity"] < cost["semi_elasticity"] - 3 * none["se"]


def test_silent_hike_anatomy_is_paired():
    seed = C.replicate_seed(0, 0)
    base = C.run(C.make_params(3000, 365, seed))
    hike = C.run(C.make_params(3000, 365, seed, policy="silent_hike"))
    a = C.silent_hike_pair(base, hike)
    assert a["hiked"] > 50  # about 6% move each year
    assert a["hiked_left_hike"] > a["hiked_left_base"]  # the hike repels
    assert a["acquired_base"] == a["acquired_hike"]  # acquisition is exogenous
    assert a["extra_premium_per_stayer"] > 0  # (the revenue's direction: cxsim-validate)


def test_replicate_seeds_are_distinct_and_reproducible():
    seeds = [C.replicate_seed(0, r) for r in range(5)] + [C.replicate_seed(1, 0)]
    assert len(set(seeds)) == 6 and seeds[0] == C.replicate_seed(0, 0)
    assert all(0 <= s < 2**63 for s in seeds)


def test_calibration_script_sweeps_the_answer_to_an_unfair_rise():
    """experiments/calibration.py's price-response rows: a stronger answer to an unfair rise
    (beta_unfair) steepens the response to +60% and costs the silent hike year-one revenue
    and profit; weighing unfairness by the rise (unfair_full_rise) flattens the response
    to +10%."""
    import importlib.util
    from pathlib import Path
    path = Path(__file__).parents[2] / "experiments" / "calibration.py"
    spec = importlib.util.spec_from_file_location("calibration_script", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert "behaviour.beta_unfair" in dict(script.SWEEPS)
    weak, strong = (script.sweep_row("behaviour.beta_unfair", v, 3000, 1, 0) for v in (0.0, 4.0))
    assert strong["semi_elasticity_hike_none"] < weak["semi_elasticity_hike_none"] < 0
    assert strong["hike_revenue_year1_pct"] < weak["hike_revenue_year1_pct"]
    assert strong["hike_npv_3y_pct"] < weak["hike_npv_3y_pct"]
    assert strong["hiked_extra_left_share"] > weak["hiked_extra_left_share"]
    full, weighed = (script.sweep_row("behaviour.unfair_full_rise", v, 3000, 1, 0)
                     for v in (0.0, 0.2))
    for expl in ("cost", "none"):
        key = f"semi_elasticity_{expl}"
        assert full[key] < weighed[key] < 0, key
