"""Studies: confidence intervals against known answers, sweeps that resume after a kill,
the study tables' schema, the report's figures, every experiment composing, and the
headline command end to end (joblib launcher)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from sim.runs import io as sim_io
from sim.report import report
from sim.runs import study
from sim.runs.cli import check, run
from sim.runs.config import compose, compose_jobs, experiment_files, params_from_cfg
from sim.core.metrics import DAILY_COLUMNS, REASONS
from sim.report.stats import mean_ci, paired_ci, t_half_width

REPO = Path(__file__).resolve().parents[2]
TINY = ["population.size=300", "horizon_days=60", "population.journey_sample=50"]


def env() -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join([str(REPO), e.get("PYTHONPATH", "")])
    return e


def snapshot(run_dir: Path) -> dict[str, tuple[int, bytes]]:
    """Every file of a run directory (Hydra's record included): mtime and content."""
    return {str(p.relative_to(run_dir)): (p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted(run_dir.rglob("*")) if p.is_file()}


# -- confidence intervals ---------------------------------------------------------------------
def test_t_interval_of_a_hand_computed_case():
    # 1..5: mean 3, sd sqrt(2.5); t(0.975, 4) = 2.7764451051977987
    m, lo, hi = mean_ci([1, 2, 3, 4, 5])
    half = 2.7764451051977987 * np.sqrt(2.5) / np.sqrt(5)
    assert m == 3 and lo == pytest.approx(3 - half, rel=1e-12)
    assert hi == pytest.approx(3 + half, rel=1e-12)


@pytest.mark.parametrize("n,level", [(2, 0.95), (7, 0.95), (30, 0.9), (200, 0.99)])
def test_t_interval_equals_scipy(n, level):
    x = np.random.default_rng(n).normal(10.0, 3.0, n)
    m, lo, hi = mean_ci(x, level)
    ref = scipy_stats.t.interval(level, n - 1, loc=x.mean(), scale=scipy_stats.sem(x))
    assert (lo, hi) == pytest.approx(ref, rel=1e-12)


def test_t_interval_covers_the_true_mean_95_percent_of_the_time():
    rng = np.random.default_rng(1)
    samples = rng.normal(5.0, 2.0, (4000, 5))
    half = t_half_width(samples.std(axis=1, ddof=1), 5)
    covered = np.abs(samples.mean(axis=1) - 5.0) <= half
    assert covered.mean() == pytest.approx(0.95, abs=0.012)  # 3.5 standard errors


def test_paired_interval_is_the_interval_of_the_differences():
    a, b = np.array([10.0, 12.0, 9.0, 14.0]), np.array([8.0, 11.0, 8.5, 11.0])
    assert paired_ci(a, b) == mean_ci(a - b)
    # common random numbers: a constant shift is known exactly, with no width
    assert paired_ci(b + 3.0, b) == (3.0, 3.0, 3.0)
    with pytest.raises(ValueError, match="shape"):
        paired_ci(a, b[:3])


def test_one_value_has_no_interval():
    m, lo, hi = mean_ci([4.0])
    assert m == 4.0 and np.isnan(lo) and np.isnan(hi)


def test_threads_per_worker_never_oversubscribe_the_cores():
    assert study.threads_per_worker(1, cores=2) == 2       # basic launcher: one job at a time
    assert study.threads_per_worker(-1, cores=2) == 1      # joblib: a worker per core
    assert study.threads_per_worker(2, cores=2) == 1
    assert study.threads_per_worker(2, cores=8) == 4
    assert study.threads_per_worker(16, cores=8) == 1


# -- a tiny study written directly (no Hydra) ---------------------------------------------------
@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory):
    """Two policies x two staffing levels x two seeds: enough for every figure (paired seeds,
    two swept parameters, a fixed promise, churn and journeys)."""
    root = tmp_path_factory.mktemp("study") / "staffing"
    for policy in ("baseline", "understaffed"):
        for staffing in (0.35, 1.0):
            for seed in (0, 1):
                params = params_from_cfg(compose([*TINY, f"policy={policy}", f"seed={seed}",
                                                  f"policy.staffing_factor={staffing}"]))
                run(params, root / policy / sim_io.config_hash(params))
    study.write_study_info(root, "tiny", "does it work?", {"policy": "baseline"})
    runs, daily = study.collect(root, progress=False)
    return root, runs, daily


def test_runs_table_schema(tiny_study):
    root, runs, _ = tiny_study
    table = pd.read_parquet(root / study.RUNS)  # plain pandas, no cxsim
    assert list(table.columns[:5]) == list(study.ID_COLUMNS)
    assert len(table) == 8 and table.run.is_unique
    assert {"policy.staffing_factor", "policy.promise", "population.size",
            "retention_annual", "npv_profit", "revenue_year1", "churned",
            *(f"churned_{r}" for r in REASONS),
            *(f"retention_annual_{k}_products" for k in "1234")} <= set(table.columns)
    assert table.seed.dtype == np.int64 and table.npv_profit.dtype == np.float64
    assert sorted(table.policy.unique()) == ["baseline", "understaffed"]
    # swept: the staffing factor; the promise only follows the policy's name
    assert study.read_swept(root) == ["policy.staffing_factor"]
    assert set(table.scenario) == {f"{p} staffing_factor={s}" for p in ("baseline",
                                   "understaffed") for s in ("0.35", "1")}
    for row in table.itertuples():
        assert sim_io.is_complete(root / row.run_dir)
        assert sim_io.read_manifest(root / row.run_dir)["config_hash"] == row.run
        assert sim_io.read_summary(root / row.run_dir)["npv_profit"] == row.npv_profit


def test_daily_table_schema(tiny_study):
    root, runs, _ = tiny_study
    daily = pd.read_parquet(root / study.DAILY)
    assert list(daily.columns) == ["run", "scenario", "policy", "seed", *DAILY_COLUMNS]
    assert len(daily) == 8 * 60
    assert (daily.groupby("run").day.apply(list) == [list(range(60))] * 8).all()
    first = runs.set_index("run")
    joined = daily.groupby("run").churned.sum()
    assert (joined == first.loc[joined.index, "churned"]).all()


def test_report_writes_every_figure_and_the_tables(tiny_study):
    root, runs, _ = tiny_study
    path = report.report(root, progress=False)
    text = path.read_text()
    for name, title, _ in report.FIGURES:
        for ext in ("png", "pdf"):
            assert (root / f"{name}.{ext}").stat().st_size > 1000, name
        assert f"![{name}]({name}.png)" in text
    assert "Not drawn" not in text
    assert "**Question.** Does it work?" in text
    for scenario in runs.scenario.unique():
        assert f"| {scenario} |" in text
    # paired against the baseline policy at the same staffing, seed by seed
    assert "| understaffed staffing_factor=0.35 | baseline staffing_factor=0.35 | churned | 2 |" \
        in text
    # the answer in one sentence per scenario, from the same paired differences
    diff = report.differences(runs, report.scenarios(
        runs, ["policy", "policy.staffing_factor"], {"policy": "baseline"}))
    d = diff[diff.scenario == "understaffed staffing_factor=1"].set_index("metric")
    assert (f"- **understaffed staffing_factor=1** against baseline staffing_factor=1: "
            f"customers lost {d.loc['churned', 'mean']:+,.0f} [") in text
    assert f"NPV of profit over 0.2 years {d.loc['npv_profit', 'mean']:+,.0f} [" in text


def test_runs_of_other_model_code_are_left_out(tiny_study, tmp_path, capsys):
    """A study re-run after the model's code changed keeps its old run directories (their
    names include the code's fingerprint); collection keeps only the newest code's runs and
    says how many it left out."""
    root, runs, _ = tiny_study
    copy = tmp_path / "staffing"
    shutil.copytree(root, copy)
    old = sorted((copy / "baseline").iterdir())[0]
    stale = old.with_name("stale")
    shutil.copytree(old, stale)
    manifest = sim_io.read_manifest(stale)
    manifest.update(model_code="0" * 12, finished_utc="2000-01-01T00:00:00+00:00")
    manifest["params"]["policy"]["staffing_factor"] = 0.5  # would be a scenario of its own
    sim_io.write_json(stale / sim_io.MANIFEST, manifest)
    collected, _ = study.collect(copy, progress=False)
    assert len(collected) == len(runs) and set(collected.run) == set(runs.run)
    assert "left out 1 run(s) made by other versions of the model's code" in \
        capsys.readouterr().err
    assert study.read_study_info(copy)["runs_left_out"] == 1
    assert "Left out: 1 run(s)" in report.report(copy, progress=False).read_text()


def test_differences_pair_by_seed_against_the_matching_reference(tiny_study):
    root, runs, _ = tiny_study
    table = report.scenarios(runs, ["policy", "policy.staffing_factor"],
                             {"policy": "baseline"})
    assert list(table.index[:2]) == ["baseline staffing_factor=0.35",
                                     "baseline staffing_factor=1"]
    diff = report.differences(runs, table, ["npv_profit"]).set_index("scenario")
    row = diff.loc["understaffed staffing_factor=1"]
    a = runs[runs.scenario == "understaffed staffing_factor=1"].set_index("seed").npv_profit
    b = runs[runs.scenario == "baseline staffing_factor=1"].set_index("seed").npv_profit
    assert (row["mean"], row.ci_low, row.ci_high) == paired_ci(a.loc[[0, 1]], b.loc[[0, 1]])


def test_figures_a_study_cannot_support_are_skipped_with_a_reason(tiny_study, tmp_path):
    root, runs, _ = tiny_study
    one = tmp_path / "one"
    for row in runs[runs.policy == "understaffed"].itertuples():
        shutil.copytree(root / row.run_dir, one / row.run_dir)
    (one / "heatmaps.png").write_bytes(b"stale")
    assert report.main([str(one), "--no-progress"]) == 0
    text = (one / "report.md").read_text()
    assert "Not drawn: needs two swept parameters; this study sweeps " \
           "policy.staffing_factor" in text
    assert "Not drawn: no scenario has a reference scenario" in text  # no baseline policy
    assert not (one / "heatmaps.png").exists() and not (one / "paired_differences.png").exists()
    assert (one / "retention_curves.png").exists()


def test_report_of_a_directory_without_runs_says_so(tmp_path, capsys):
    assert report.main([str(tmp_path), "--no-progress"]) == 2
    assert "no complete run" in capsys.readouterr().err


# -- experiments ------------------------------------------------------------------------------
EXPERIMENTS = sorted(experiment_files())


def test_the_required_experiments_exist():
    assert {"premium_hike", "hold_times", "silos", "self_service", "cx_core_vs_complex",
            "headline"} <= set(EXPERIMENTS)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_composes_states_its_question_and_sweeps(name):
    path = experiment_files()[name]
    assert path.read_text().startswith(f"# @package _global_\n# {name}: ")
    assert "?" in study.experiment_question(path)
    # one seed: the experiment's own sweep minus replications (fast); the command line wins
    cfgs = compose_jobs([f"experiment={name}", "seed=0"], multirun=True)
    swept = dict(compose([f"experiment={name}"], return_hydra_config=True)
                 .hydra.sweeper.params)
    sizes = [len(str(v).split(",")) for k, v in swept.items() if k != "seed"]
    assert len(cfgs) == int(np.prod(sizes)) >= 2
    assert {c.study for c in cfgs} == {name} and {c.seed for c in cfgs} == {0}
    assert all(c.hydra.launcher._target_.endswith("JoblibLauncher") for c in cfgs)


def test_experiment_mistakes_stop_with_one_line(capsys):
    with pytest.raises(SystemExit):
        check(["-m", "experiment=premium_hike", "policy.price_change=-5"])
    assert capsys.readouterr().err == \
        "cxsim-run: policy.price_change=-5: must be in [-1, 100]\n"
    with pytest.raises(SystemExit):
        check(["-m", "experiment=premium_hik"])
    assert capsys.readouterr().err == "cxsim-run: experiment=premium_hik: no such " \
        "experiment config; allowed: " + ", ".join(EXPERIMENTS) + "\n"


# -- sweeps on the command line -----------------------------------------------------------------
SWEEP = ["-m", "policy=baseline,silent_hike", "seed=0,1", "population.size=300",
         "horizon_days=120", "study=resume", "hydra/launcher=basic"]


def cxsim_run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim.runs.cli", *args], cwd=cwd, env=env(),
                          capture_output=True, text=True, timeout=300)


def test_a_killed_sweep_resumes(tmp_path):
    """Kill a sweep as soon as its first run is complete, fake a half-written run as well,
    then run the same command again: finished runs untouched, the rest completed, and a
    half-written run never collected."""
    study_dir = tmp_path / "results" / "resume"
    proc = subprocess.Popen([sys.executable, "-m", "sim.runs.cli", *SWEEP], cwd=tmp_path, env=env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while not sim_io.complete_runs(tmp_path) and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = sim_io.complete_runs(study_dir)
    assert 1 <= len(done) < 4
    half = done[-1]  # a run caught while being rewritten: results there, no manifest
    (half / sim_io.MANIFEST).unlink()
    (half / sim_io.TIMESERIES).write_bytes(b"half a file")
    finished = {d: snapshot(d) for d in done[:-1]}
    if finished:
        runs, _ = study.collect(study_dir, progress=False)
        assert half.name not in set(runs.run) and len(runs) == len(finished)

    again = cxsim_run(*SWEEP, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stderr.count("skipped") == len(finished)
    for d, files in finished.items():
        assert snapshot(d) == files  # untouched, Hydra's .hydra/ record included
    complete = sim_io.complete_runs(study_dir)
    assert len(complete) == 4 and half in complete
    runs = pd.read_parquet(study_dir / study.RUNS)  # collected at the end of the multirun
    assert sorted(runs.run) == sorted(d.name for d in complete)
    assert sorted(zip(runs.policy, runs.seed)) == [(p, s) for p in ("baseline", "silent_hike")
                                                  for s in range(2)]
    assert len(pd.read_parquet(study_dir / study.DAILY)) == 4 * 120


@pytest.mark.slow
def test_headline_runs_with_joblib_and_ends_with_its_report(tmp_path):
    args = [*TINY, "seed=0,1", "hydra.launcher.n_jobs=2", f"results_dir={tmp_path}/results"]
    result = subprocess.run([sys.executable, "-m", "sim.report.headline", *args], cwd=tmp_path,
                            env=env(), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "results" / "headline"
    runs = pd.read_parquet(out / study.RUNS)
    assert len(runs) == 12 and set(runs.seed) == {0, 1}
    assert (out / "report.md").is_file() and (out / "paired_differences.pdf").is_file()
    info = json.loads((out / study.STUDY).read_text())
    assert info["experiment"] == "headline" and info["baseline"] == {"policy": "baseline"}
