"""The report (``cxsim-report``): every figure and the tables of the tiny study
(tests/conftest.py), paired differences, figures a study cannot support skipped with a
reason; and the headline command end to end (joblib launcher)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from sim.report import report
from sim.report.stats import paired_ci
from sim.runs import study
from sim.runs.config import CONFIG_DIR
from tests.helpers import TINY


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
    dims = ["policy", "policy.staffing_factor"]
    diff = report.differences(runs, report.pairs(report.scenarios(
        runs, dims, {"policy": "baseline"}), dims))
    d = diff[diff.scenario == "understaffed staffing_factor=1"].set_index("metric")
    assert (f"- **understaffed staffing_factor=1** against baseline staffing_factor=1: "
            f"customers lost {d.loc['churned', 'mean']:+,.0f} [") in text
    assert f"NPV of profit over 0.2 years {d.loc['npv_profit', 'mean']:+,.0f} [" in text


def test_differences_pair_by_seed_against_the_matching_reference(tiny_study):
    root, runs, _ = tiny_study
    table = report.scenarios(runs, ["policy", "policy.staffing_factor"],
                             {"policy": "baseline"})
    assert list(table.index[:2]) == ["baseline staffing_factor=0.35",
                                     "baseline staffing_factor=1"]
    diff = report.differences(runs, report.pairs(table, ["policy", "policy.staffing_factor"]),
                              ["npv_profit"]).set_index("scenario")
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


def test_report_refuses_a_damaged_study_in_one_line(tiny_study, tmp_path, subprocess_env):
    """cxsim-report on a study with a damaged run: one line naming it, exit status 2, no
    traceback, and no stale tables left."""
    root, runs, _ = tiny_study
    copy = tmp_path / "staffing"
    shutil.copytree(root, copy)
    damaged = copy / sorted(runs.run_dir)[0]
    ts = damaged / "timeseries.parquet"
    size = ts.stat().st_size
    ts.write_bytes(ts.read_bytes()[:size // 2])
    result = subprocess.run([sys.executable, "-m", "sim.report.report", str(copy),
                             "--no-progress"], env=subprocess_env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 2
    assert result.stderr == (f"cxsim-report: {damaged}: timeseries.parquet: size mismatch "
                             f"({size // 2:,} bytes; the manifest says {size:,}); re-running "
                             "its sweep makes it again\n")
    assert not (copy / study.RUNS).exists() and not (copy / study.DAILY).exists()


# -- the headline command ------------------------------------------------------------------
@pytest.mark.slow
def test_headline_runs_with_joblib_and_ends_with_its_report(tmp_path, subprocess_env):
    args = [*TINY, "seed=0,1", "hydra.launcher.n_jobs=2", f"results_dir={tmp_path}/results"]
    result = subprocess.run([sys.executable, "-m", "sim.report.headline", *args], cwd=tmp_path,
                            env=subprocess_env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "results" / "headline"
    runs = pd.read_parquet(out / study.RUNS)
    experiment = yaml.safe_load((CONFIG_DIR / "experiment" / "headline.yaml").read_text())
    policies = experiment["hydra"]["sweeper"]["params"]["policy"].split(",")
    assert len(runs) == 2 * len(policies) and set(runs.seed) == {0, 1}
    assert set(runs.policy) == set(policies)
    for fig in ("paired_differences", "paired_over_time", "hold_distributions"):
        assert (out / f"{fig}.pdf").is_file(), fig
    info = json.loads((out / study.STUDY).read_text())
    assert info["experiment"] == "headline" and info["baseline"] == {"policy": "baseline"}
    assert info["comparisons"] == experiment["comparisons"]
    text = (out / "report.md").read_text()
    for scenario, reference in experiment["comparisons"]:  # each against its own reference
        assert f"- **{scenario}** against {reference}: customers lost" in text
    assert "**Warning.** Fewer than 3 replications" in text  # two seeds


def test_headline_help_prints_its_usage_and_runs_nothing(tmp_path, subprocess_env):
    result = subprocess.run([sys.executable, "-m", "sim.report.headline", "--help"],
                            cwd=tmp_path, env=subprocess_env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "cxsim-headline" in result.stdout and "cxsim-run --help" in result.stdout
    assert not result.stderr and not list(tmp_path.iterdir())


def test_headline_cfg_job_prints_the_config_with_the_overrides_and_runs_nothing(
        tmp_path, subprocess_env):
    result = subprocess.run([sys.executable, "-m", "sim.report.headline", "--cfg", "job",
                             "population.size=2000", f"results_dir={tmp_path}/results"],
                            cwd=tmp_path, env=subprocess_env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "size: 2000" in result.stdout and "study: headline" in result.stdout
    assert not (tmp_path / "results").exists()
