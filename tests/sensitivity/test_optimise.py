"""The policy search (``hydra/sweeper=cxsim_optuna``): optuna's SQLite study resumes after a
kill, the trials' runs are cxsim runs (skipped when complete), and cxsim-run returns the
run's objective."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState

from sim.runs import io as sim_io
from sim.runs.cli import run_objective
from sim.sensitivity import cli as analyse
from sim.sensitivity.sweeper import OPTUNA_DB, open_study
from tests.helpers import cxsim_run


def test_trials_left_running_by_a_killed_process_are_asked_again(tmp_path):
    storage = f"sqlite:///{tmp_path / 'o.db'}"
    study, requeued = open_study(storage, "s", ["maximize", "maximize"], "nsga2", 0)
    assert requeued == 0
    done = study.ask()
    done.suggest_float("policy.price_change", 0.0, 0.8)
    study.tell(done, [1.0, 2.0])
    lost = study.ask()  # the process dies before telling it
    x = lost.suggest_float("policy.price_change", 0.0, 0.8)
    del study

    again, requeued = open_study(storage, "s", ["maximize", "maximize"], "nsga2", 0)
    assert requeued == 1
    states = [t.state for t in again.get_trials(deepcopy=False)]
    assert states == [TrialState.COMPLETE, TrialState.FAIL, TrialState.WAITING]
    trial = again.ask()
    assert trial.suggest_float("policy.price_change", 0.0, 0.8) == x  # the same levers
    assert again.get_trials(deepcopy=False)[0].values == [1.0, 2.0]  # kept


def test_a_run_returns_its_objective(one_run):
    _, run_dir = one_run
    summary = sim_io.read_summary(run_dir)
    assert run_objective(run_dir, []) is None
    assert run_objective(run_dir, ["profit_year1"]) == pytest.approx(summary["profit_year1"])
    assert run_objective(run_dir, ["profit_year1", "customer_equity"]) == pytest.approx(
        [summary["profit_year1"], summary["customer_equity"]])
    with pytest.raises(SystemExit):
        run_objective(run_dir, ["profit_yaer1"])


SEARCH = ["-m", "experiment=optimise_policy", "hydra.sweeper.n_trials=2",
          "population.size=300", "horizon_days=60", "burn_in_years=0",
          "population.journey_sample=20", "hydra/launcher=basic", "study=search"]


@pytest.mark.slow
def test_a_killed_search_resumes_from_its_sqlite_study(tmp_path, subprocess_env):
    study_dir = tmp_path / "results" / "search"
    proc = subprocess.Popen([sys.executable, "-m", "sim.runs.cli", *SEARCH], cwd=tmp_path,
                            env=subprocess_env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 240
    while not sim_io.complete_runs(tmp_path) and time.time() < deadline:
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = sim_io.complete_runs(study_dir)
    assert 1 <= len(done) < 4  # two trials x two seeds in the first batch
    storage = f"sqlite:///{study_dir / OPTUNA_DB}"
    killed = optuna.load_study(study_name="search", storage=storage).get_trials()
    assert [t.state for t in killed] == [TrialState.RUNNING] * 2
    levers = sorted(tuple(sorted(t.params.items())) for t in killed)

    again = cxsim_run(*SEARCH, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "2 trial(s) left running by an earlier sweep asked again" in again.stderr
    assert again.stderr.count("is complete; skipped") == len(done)
    trials = optuna.load_study(study_name="search", storage=storage).get_trials()
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert len(complete) == 2
    assert sorted(tuple(sorted(t.params.items())) for t in complete) == levers
    for t in complete:  # each objective: the mean over the two seeds' runs
        per_seed = t.user_attrs["per_seed"]
        assert len(per_seed) == 2
        assert t.values == pytest.approx([sum(v[i] for v in per_seed) / 2 for i in range(2)])
    assert len(sim_io.complete_runs(study_dir)) == 4

    assert analyse.main([str(study_dir)]) == 0
    front = pd.read_parquet(study_dir / analyse.PARETO)
    assert 1 <= len(front) <= 2 and "lever.policy.price_change" in front.columns
    assert "## Policy search: 2 complete trials" in (study_dir / "report.md").read_text()
