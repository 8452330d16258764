"""Each scenario against its own reference (an experiment's ``comparisons``), the paired gaps
over time and when a gain is gone, and what a study must be to be averaged: one size and one
horizon per scenario, intervals of shares inside [0, 1], counts in words that agree."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.report import report
from sim.runs.cli import check


def _table(policies):
    return pd.DataFrame({"policy": policies}, index=policies).assign(
        reference="baseline", is_reference=[p == "baseline" for p in policies])


def test_comparisons_pair_each_scenario_with_its_own_reference():
    table = _table(["baseline", "silent", "explained", "reviewed"])
    assert report.pairs(table, ["policy"]) == [
        ("silent", "baseline"), ("explained", "baseline"), ("reviewed", "baseline")]
    chosen = [["silent", "explained"], ["silent", "reviewed"], ["silent", "baseline"]]
    assert report.pairs(table, ["policy"], chosen) == [
        ("silent", "explained"), ("silent", "reviewed"), ("silent", "baseline")]
    assert report.pairs(table, ["policy"], [["silent", "nosuchpolicy"]]) == []


def _daily(gap_by_day: np.ndarray, seeds=(0, 1, 2), noise=1.0) -> pd.DataFrame:
    """Two scenarios whose daily profit differs by ``gap_by_day`` (plus seed noise)."""
    rows = []
    rng = np.random.default_rng(0)
    for seed in seeds:
        for day, gap in enumerate(gap_by_day):
            base = 100.0 + rng.normal()
            rows.append(("b", seed, day, 1000, base))
            rows.append(("a", seed, day, 990, base + gap + noise * rng.normal()))
    return pd.DataFrame(rows, columns=["scenario", "seed", "day", "active", "profit"])


def test_gaps_over_time_are_paired_by_seed_and_find_when_a_gain_is_gone():
    days = 400
    gap = np.where(np.arange(days) < 100, 10.0, -10.0)  # gains early, loses later
    gaps = report.gaps_over_time(_daily(gap), [("a", "b")])
    cum = gaps[gaps.metric == "cumulative_profit"].set_index("day")
    customers = gaps[gaps.metric == "customers"].set_index("day")
    assert (customers["mean"] == -10).all() and (customers.n == 3).all()
    assert cum.loc[99, "ci_low"] > 0 and cum.loc[days - 1, "ci_high"] < 0
    kind, day = report.turning_day(gaps, "a vs b")
    assert kind == "gone" and 195 <= day <= 205  # cumulative gain 1000 is gone near day 200
    kind, day = report.turning_day(report.gaps_over_time(_daily(-gap), [("a", "b")]), "a vs b")
    assert kind == "recovered" and 195 <= day <= 205
    # a gain that only wobbles around zero before turning is no gain: no turning day
    flat = report.gaps_over_time(_daily(np.r_[np.zeros(100), -np.ones(300)], noise=5.0),
                                 [("a", "b")])
    assert report.turning_day(flat, "a vs b") == ("none", None)


def test_a_scenario_with_runs_of_two_sizes_or_horizons_is_refused():
    runs = pd.DataFrame({"scenario": ["a", "a", "b"], "population.size": [1000, 4000, 1000],
                         "days": [365, 365, 365]})
    with pytest.raises(report.StudyMixed, match="scenario a has runs of different population "
                                                "sizes: 1,000, 4,000"):
        report.check_comparable(runs)
    runs["population.size"] = 1000
    runs["days"] = [365, 730, 365]
    with pytest.raises(report.StudyMixed, match="horizons"):
        report.check_comparable(runs)
    runs["days"] = 365
    report.check_comparable(runs)


def test_a_share_interval_stays_in_zero_to_one_and_counts_read_as_words():
    cell = report._cell([0.99, 0.999, 0.90], "{:.3f}", share=True)
    low, high = (float(x) for x in cell.split("[")[1].rstrip("]").split(", "))
    assert 0.0 <= low and high == 1.0
    unclipped = report._cell([0.99, 0.999, 0.90], "{:.3f}")
    assert float(unclipped.split(", ")[1].rstrip("]")) > 1.0  # what the cut prevents
    assert report._span(pd.Series([1, 1]), "replication") == "1 replication"
    assert report._span(pd.Series([3, 5]), "replication") == "3 to 5 replications"
    assert report._years(1) == "1 year" and report._years(2.5) == "2.5 years"


@pytest.mark.parametrize("value", ["[[silent_hike]]", "[[silent_hike,baseline,cx_core]]"])
def test_a_comparison_that_is_not_a_pair_stops_before_any_run(value, capsys, tmp_path):
    with pytest.raises(SystemExit) as stop:
        check([f"comparisons={value}", f"results_dir={tmp_path}"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "comparisons" in err and "pairs of policy names" in err
