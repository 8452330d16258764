"""Customer equity in the run's summary and the study's tables: NPV of profit over the horizon
plus the discounted CLV of the customers active at the end (Gupta, Lehmann & Stuart 2004),
and profit by year (``sim.core.recorder.Recorder.summary``, ``sim.report.report``)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.core import layout as L
from sim.core import recorder as R
from sim.core.model import LoyaltyModel
from sim.core.params import SimParams
from sim.report import report
from sim.runs import io as sim_io
from sim.runs import study
from sim.runs.cli import run
from sim.runs.config import compose, params_from_cfg
from sim.validation.analytic import clv

DAYS = 120


def small(size: int = 600, days: int = DAYS, seed: int = 0, **market) -> LoyaltyModel:
    params = SimParams()
    params.burn_in_years = 0
    params.population.size = size
    params.population.journey_sample = 0
    params.horizon_days = days
    params.seed = seed
    for key, value in market.items():
        setattr(params.market, key, value)
    return LoyaltyModel(params).run()


@pytest.fixture(scope="module")
def finished() -> LoyaltyModel:
    return small()


def active_slots(model: LoyaltyModel) -> np.ndarray:
    return np.flatnonzero(model.I[L.I_ACTIVE, :model.n] == 1)


def force_margin(model: LoyaltyModel, margin: float) -> np.ndarray:
    """Every active customer's premium set to their risk cost + ``margin``."""
    idx = active_slots(model)
    model.F[L.F_PREMIUM, idx] = model.F[L.F_RISK_COST, idx] + margin
    return idx


# -- the formula ------------------------------------------------------------------------------
def test_future_value_of_a_hand_computed_case():
    # margins 100 and 200 a year, retention 0.9 and 0.8, 10% a year, two years out:
    # 100 x 0.9 / 0.2 = 450, 200 x 0.8 / 0.3 = 533.33..., discounted by 1.1^2 = 1.21
    expected = (450.0 + 1600.0 / 3.0) / 1.21
    assert R.future_value([100.0, 200.0], [0.9, 0.8], 0.1, 2.0) == pytest.approx(expected,
                                                                                 rel=1e-12)
    # the model's CLV reference, customer by customer
    assert R.future_value([100.0, 200.0], [0.9, 0.8], 0.1, 2.0) == pytest.approx(
        (clv(100.0, 0.9, 0.1) + clv(200.0, 0.8, 0.1)) / 1.1 ** 2, rel=1e-12)
    # one retention for everyone; a loss-making customer counts against the value
    assert R.future_value([300.0, -50.0], 0.9, 0.08, 0.0) == pytest.approx(
        clv(250.0, 0.9, 0.08), rel=1e-12)
    assert R.future_value([], [], 0.08, 3.0) == 0.0  # no customer, no value (not NaN)


def test_last_year_retention_reads_only_the_last_365_days():
    days = np.zeros((400, 8))
    days[:35, 0] = 50.0        # a bad first month for single-product customers ...
    days[:, 4] = 100.0         # ... 100 of them every day
    days[-365:, 0][:10] = 1.0  # 10 leave within the last year
    days[:, 5] = 40.0          # 40 two-product customers, none leaving
    by_tier, overall = R.last_year_retention(list(days))
    assert by_tier[0] == pytest.approx(math.exp(-10 / 100), rel=1e-12)
    assert by_tier[1] == 1.0
    assert np.isnan(by_tier[2]) and np.isnan(by_tier[3])  # no customer-day: no estimate
    assert overall == pytest.approx(math.exp(-10 / 140), rel=1e-12)
    # a run shorter than a year: all its days
    by_tier, _ = R.last_year_retention(list(days[:100]))
    assert by_tier[0] == pytest.approx(math.exp(-35 * 50 / 100 / (100 / 365)), rel=1e-12)


def test_profit_by_year_has_one_key_per_whole_year():
    assert R.profit_by_year(np.arange(800), np.ones(800)) == {"profit_year1": 365.0,
                                                              "profit_year2": 365.0}
    assert R.profit_by_year(np.arange(1095), np.arange(1095.0)) == {
        f"profit_year{y + 1}": float(np.arange(365 * y, 365 * (y + 1)).sum()) for y in range(3)}
    assert R.profit_by_year(np.arange(200), np.full(200, 2.0)) == {"profit_year1": 400.0}


# -- the summary ------------------------------------------------------------------------------
def test_customer_equity_is_npv_plus_future_value(finished):
    s = finished.summary()
    assert s["customer_equity"] == pytest.approx(s["npv_profit"] + s["future_value"],
                                                 rel=1e-12)
    assert s["future_value"] > 0
    idx = active_slots(finished)
    assert idx.size == s["customers_end"]
    assert s["margin_active_end"] == pytest.approx(
        (finished.F[L.F_PREMIUM, idx] - finished.F[L.F_RISK_COST, idx]).sum(), rel=1e-12)
    # a run shorter than a year: its last year is the whole run
    assert s["retention_annual_last_year_by_products"] == s["retention_annual_by_products"]
    assert s["retention_annual_last_year"] == pytest.approx(s["retention_annual"], rel=1e-12)
    # and its only year of profit is all of it
    assert s["profit_year1"] == s["profit"] and "profit_year2" not in s


def test_future_value_on_known_margins_by_hand():
    model = small(size=400, days=90, seed=3)
    idx = force_margin(model, 300.0)
    s = model.summary()
    ts = model.timeseries()
    service = (ts["cost_service"] - ts["acquired"] * model.params.costs.acquisition_cost).sum() \
        / (ts["active"].sum() / 365.0)
    assert s["service_cost_per_customer_year"] == pytest.approx(service, rel=1e-12)
    assert s["margin_active_end"] == pytest.approx(300.0 * idx.size, rel=1e-12)
    i = model.params.market.discount_rate_annual
    expected = 0.0
    for products in model.I[L.I_PRODUCTS, idx]:
        r = s["retention_annual_last_year_by_products"][str(products)]
        expected += clv(300.0 - service, r, i)
    expected *= (1.0 + i) ** (-90 / 365)
    assert s["future_value"] == pytest.approx(expected, rel=1e-10)
    assert s["customer_equity"] == pytest.approx(s["npv_profit"] + expected, rel=1e-10)


def test_no_active_customer_means_no_future_value():
    model = small(size=300, days=30, seed=1)
    model.I[L.I_ACTIVE, :model.n] = 0
    s = model.summary()
    assert s["future_value"] == 0.0 and s["margin_active_end"] == 0.0
    assert s["customer_equity"] == s["npv_profit"]


def test_keeping_more_customers_at_equal_margin_is_worth_more():
    """The same seed against cheaper rivals, who take more customers: at the same margin for
    every customer still there, the leakier book has fewer customers and a lower retention,
    so a lower future value; without the margins forced, too."""
    kept, leaky = small(size=1500, days=180), small(size=1500, days=180,
                                                      competitor_price_ratio=0.8)
    assert leaky.summary()["customers_end"] < kept.summary()["customers_end"]
    assert leaky.summary()["future_value"] < kept.summary()["future_value"]
    force_margin(kept, 300.0)
    force_margin(leaky, 300.0)
    sk, sl = kept.summary(), leaky.summary()
    assert sl["retention_annual_last_year"] < sk["retention_annual_last_year"]
    assert sl["future_value"] < sk["future_value"]
    # the same margin per customer: the value follows the customers kept and their retention
    assert sl["margin_active_end"] / sl["customers_end"] == pytest.approx(300.0)
    assert sk["margin_active_end"] / sk["customers_end"] == pytest.approx(300.0)


# -- the study's tables and the report --------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory):
    root = tmp_path_factory.mktemp("equity") / "hike"
    for policy in ("baseline", "silent_hike"):
        for seed in (0, 1):
            params = params_from_cfg(compose(
                ["population.size=300", "horizon_days=60", "burn_in_years=0",
                 "population.journey_sample=30", f"policy={policy}", f"seed={seed}"]))
            run(params, root / policy / sim_io.config_hash(params))
    study.write_study_info(root, "hike", "does the hike pay?", {"policy": "baseline"})
    runs, _ = study.collect(root, progress=False)
    return root, runs


def test_runs_table_has_customer_equity_as_numbers(tiny_study):
    root, runs = tiny_study
    table = pd.read_parquet(root / study.RUNS)
    for col in ("customer_equity", "future_value", "margin_active_end",
                "service_cost_per_customer_year", "profit_year1", "retention_annual_last_year",
                *(f"retention_annual_last_year_{k}_products" for k in "1234")):
        assert table[col].dtype == np.float64, col
    assert np.allclose(table.customer_equity, table.npv_profit + table.future_value,
                       rtol=1e-12, atol=0)
    for row in table.itertuples():
        assert sim_io.read_summary(root / row.run_dir)["customer_equity"] == row.customer_equity


def test_report_shows_customer_equity_and_its_paired_differences(tiny_study):
    root, runs = tiny_study
    text = report.report(root, progress=False).read_text()
    header = next(line for line in text.splitlines() if line.startswith("| scenario | annual"))
    assert "| year-one profit |" in header
    assert header.index("NPV of profit") < header.index("customer equity")
    assert "| silent_hike | baseline | customer_equity | 2 |" in text
    assert "| silent_hike | baseline | future_value | 2 |" in text
    table = report.scenarios(runs, ["policy"], {"policy": "baseline"})
    d = report.differences(runs, report.pairs(table, ["policy"])).set_index("metric")
    assert f"customer equity {d.loc['customer_equity', 'mean']:+,.0f} [" in text
    assert (root / "paired_differences.png").stat().st_size > 1000


def test_report_lists_the_profit_of_every_year():
    runs = pd.DataFrame({"profit_year3": [1.0], "profit_year1": [1.0], "profit_year2": [1.0],
                         "profit_year": [0.0]})
    assert report.profit_years(runs.columns) == ["profit_year1", "profit_year2",
                                                 "profit_year3"]
    headings = [h for _, h, _ in report.table_columns(runs)]
    at = headings.index("year-one revenue")
    assert headings[at + 1:at + 4] == ["year-one profit", "year-two profit",
                                       "year-three profit"]
    metrics = report.diff_metrics(runs)
    assert metrics.index("profit_year1") + 1 == metrics.index("profit_year2")
    assert "customer_equity" in metrics
    rows = [("churned", 40.0), ("revenue_year1", 5e3), ("profit_year1", 9e3),
            ("profit_year2", -2e3), ("profit_year3", -4e3), ("npv_profit", 2.5e3),
            ("future_value", -6e3), ("customer_equity", -3.5e3)]
    diff = pd.DataFrame([{"scenario": "hike", "reference": "baseline", "metric": m, "n": 1,
                          "mean": v, "ci_low": np.nan, "ci_high": np.nan} for m, v in rows])
    (line,) = report.answers(diff, 3)
    assert ("profit +9,000; profit in year two -2,000, year three -4,000; NPV of profit "
            "over 3 years +2,500; customer equity -3,500 (of which the customers left at "
            "the end -6,000).") in line
