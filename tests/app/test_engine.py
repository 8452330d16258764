"""The what-if app's engine without the page: the configs it composes, its error lines (those
of cxsim-run), its paired numbers against direct model runs, and save as policy."""

from __future__ import annotations

import numpy as np
import pytest

from sim.app import engine as E
from sim.core.model import LoyaltyModel
from sim.report.stats import paired_ci
from sim.runs import cli
from sim.runs.config import compose, compose_jobs, params_from_cfg

RUN = {"population.size": "400", "horizon_days": "60", "burn_in_years": "0", "seed": "4"}


def what_if(**levers) -> E.WhatIf:
    return E.WhatIf(policy="silent_hike", levers=levers, run=dict(RUN), seeds="2")


def cxsim_run_line(capsys, overrides: list[str]) -> str:
    """The one line cxsim-run prints for ``overrides`` (its own check, before any run)."""
    with pytest.raises(SystemExit) as exit_:
        cli.check(overrides)
    assert exit_.value.code == 2
    return capsys.readouterr().err.strip().removeprefix(f"{cli.PROG}: ")


@pytest.mark.parametrize("levers", [{"price_change": "-2"}, {"price_change": "abc"},
                                    {"promise": "maybe"}, {"rep_help": "0.9"},
                                    {"callback": "2"}, {"incident_days": "1.5"}])
def test_bad_levers_get_cxsim_runs_line(capsys, levers):
    w = what_if(**levers)
    with pytest.raises(E.AppError) as err:
        w.compose()
    overrides = ["policy=silent_hike", *(f"policy.{k}={v}" for k, v in levers.items()),
                 *(f"{k}={v}" for k, v in RUN.items())]
    assert str(err.value) == cxsim_run_line(capsys, overrides)


def test_bad_run_settings_get_cxsim_runs_line(capsys):
    w = what_if()
    w.run["population.size"] = "-1"
    with pytest.raises(E.AppError) as err:
        w.compose()
    assert str(err.value) == cxsim_run_line(capsys, ["population.size=-1"])
    w = what_if()
    w.seeds = "0"
    with pytest.raises(E.AppError, match=r"^seeds=0: must be an integer in \[1, 50\]"):
        w.compose()


def test_composes_what_cxsim_run_composes():
    scenario, baseline = what_if(price_change="0.3", staffing_factor="0.5").compose()
    assert [p.seed for p in scenario] == [p.seed for p in baseline] == [4, 5]
    for s, b in zip(scenario, baseline):
        over = [f"{k}={v}" for k, v in RUN.items() if k != "seed"] + [f"seed={s.seed}"]
        assert s == params_from_cfg(compose(["policy=silent_hike", "policy.price_change=0.3",
                                             "policy.staffing_factor=0.5", *over]))
        assert b == params_from_cfg(compose(over))  # policy=baseline, the same seed


@pytest.mark.slow
def test_numbers_are_paired_differences_of_direct_runs():
    w = what_if(price_change="0.3")
    result = E.evaluate(w)
    scenario, baseline = w.compose()
    direct_s = [LoyaltyModel(p).run().summary() for p in scenario]
    direct_b = [LoyaltyModel(p).run().summary() for p in baseline]
    for key in ("customers_end", "profit_year1", "customer_equity", "churned"):
        row = result.numbers.loc[key]
        gap, low, high = paired_ci([s[key] for s in direct_s], [b[key] for b in direct_b])
        assert row.gap == pytest.approx(gap, rel=1e-12, abs=1e-9)
        assert (row.ci_low, row.ci_high) == pytest.approx((low, high), rel=1e-12, abs=1e-9)
        assert row[E.WHAT_IF] == pytest.approx(np.mean([s[key] for s in direct_s]))
    names = [f.name for f in result.figures]
    assert names[:2] == ["gaps", "profit_equity"] and "journey" in names
    assert all(f.png.startswith(b"\x89PNG") and f.title for f in result.figures)


def test_save_as_policy_writes_a_policy_cxsim_run_uses(tmp_path, monkeypatch):
    monkeypatch.setenv("CXSIM_APP_CONFIG_DIR", str(tmp_path))
    w = what_if(price_change="0.25", callback="true", promise="fixed")
    path = E.save_policy(w, "hike_quarter")
    assert path == tmp_path / "policy" / "hike_quarter.yaml"
    saved = params_from_cfg(compose_jobs(["policy=hike_quarter", "burn_in_years=0"],
                                         config_dir=str(tmp_path))[0])
    expected = w.compose()[0][0].policy
    assert saved.policy.name == "hike_quarter"
    assert {**vars(saved.policy), "name": None} == {**vars(expected), "name": None}
    assert "hike_quarter" in E.policy_names()
    with pytest.raises(E.AppError, match="exists"):
        E.save_policy(w, "hike_quarter")
    with pytest.raises(E.AppError, match="exists"):
        E.save_policy(w, "baseline")  # never over a shipped policy
    with pytest.raises(E.AppError, match=r"^policy\.name='\.\./x': must be"):
        E.save_policy(w, "../x")
    with pytest.raises(E.AppError, match=r"policy\.price_change=-3"):
        E.save_policy(what_if(price_change="-3"), "bad_one")
    assert not (tmp_path / "policy" / "bad_one.yaml").exists()
