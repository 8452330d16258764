"""Studies: workers and threads, the study tables' schema (``sim.runs.study.collect``), runs
of other model code left out, every experiment composing, and sweeps that resume after a
kill."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sim.core.params import SimParams
from sim.runs import io as sim_io
from sim.report import report
from sim.runs import study
from sim.runs.cli import check
from sim.runs.config import compose, compose_jobs, experiment_files
from sim.core.metrics import DAILY_COLUMNS, REASONS
from tests.helpers import cxsim_run


def snapshot(run_dir: Path) -> dict[str, tuple[int, bytes]]:
    """Every file of a run directory (Hydra's record included): mtime and content."""
    return {str(p.relative_to(run_dir)): (p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted(run_dir.rglob("*")) if p.is_file()}


def test_threads_per_worker_never_oversubscribe_the_cores():
    assert study.threads_per_worker(1, cores=2) == 2       # basic launcher: one job at a time
    assert study.threads_per_worker(-1, cores=2) == 1      # joblib: a worker per core
    assert study.threads_per_worker(2, cores=2) == 1
    assert study.threads_per_worker(2, cores=8) == 4
    assert study.threads_per_worker(16, cores=8) == 1


# -- the tiny study's tables (tests/conftest.py) -------------------------------------------
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


def test_lists_are_lists_and_edited_policies_say_so(tiny_study):
    root, _, _ = tiny_study
    schema = pq.read_schema(root / study.RUNS)
    for name in ("population.product_mix", "population.new_customer_product_mix"):
        assert pa.types.is_list(schema.field(name).type), schema.field(name)
    table = pd.read_parquet(root / study.RUNS)
    mix = SimParams().population.product_mix
    assert all(list(cell) == mix for cell in table["population.product_mix"])
    # each policy file's own staffing (baseline 1, understaffed 0.35) is not an edit
    for _, row in table.iterrows():
        edited = row["policy.staffing_factor"] != {"baseline": 1.0, "understaffed": 0.35}[row.policy]
        assert row.policy_edited == edited
        assert list(row.policy_edits) == (["staffing_factor"] if edited else [])


def test_a_swept_list_is_a_swept_parameter():
    params = pd.DataFrame({"policy.name": ["baseline"] * 3, "seed": [0, 1, 2],
                           "population.product_mix": [[0.5, 0.5], [0.5, 0.5], [0.9, 0.1]],
                           "population.new_customer_product_mix": [[1.0, 0.0]] * 3})
    assert study.swept_parameters(params) == ["population.product_mix"]


def test_daily_table_schema(tiny_study):
    root, runs, _ = tiny_study
    daily = pd.read_parquet(root / study.DAILY)
    assert list(daily.columns) == ["run", "scenario", "policy", "seed", *DAILY_COLUMNS]
    assert len(daily) == 8 * 60
    assert (daily.groupby("run").day.apply(list) == [list(range(60))] * 8).all()
    first = runs.set_index("run")
    joined = daily.groupby("run").churned.sum()
    assert (joined == first.loc[joined.index, "churned"]).all()


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


def test_a_study_with_a_damaged_run_is_not_collected_and_keeps_no_stale_table(tiny_study,
                                                                               tmp_path):
    """A damaged run stops collection with one line naming it; the tables of the earlier
    collection are removed, so nothing stale looks current."""
    root, runs, _ = tiny_study
    copy = tmp_path / "staffing"
    shutil.copytree(root, copy)
    assert (copy / study.RUNS).is_file() and (copy / study.DAILY).is_file()
    first, second = (copy / d for d in sorted(runs.run_dir)[:2])
    (first / sim_io.TIMESERIES).write_bytes(b"")
    with pytest.raises(study.StudyDamaged) as err:
        study.collect(copy, progress=False)
    size = sim_io.read_manifest(first)["files"][sim_io.TIMESERIES]["bytes"]
    assert str(err.value) == (f"{first}: timeseries.parquet: size mismatch (0 bytes; the "
                              f"manifest says {size:,}); re-running its sweep makes it again")
    assert not (copy / study.RUNS).exists() and not (copy / study.DAILY).exists()
    (second / sim_io.SUMMARY).unlink()
    with pytest.raises(study.StudyDamaged, match=r"\(and 1 more damaged run\(s\)\)"):
        study.collect(copy, progress=False)
    (copy / study.STUDY).write_text('{"experiment": ')
    with pytest.raises(study.StudyDamaged, match=rf"^{copy / study.STUDY}: unreadable \("):
        study.read_study_info(copy)


# -- experiments ---------------------------------------------------------------------------
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
    # a search (hydra/sweeper=cxsim_optuna) makes its jobs as it goes, from one policy
    search = cfgs[0].hydra.sweeper._target_.endswith("OptunaSweeper")
    assert len(cfgs) == int(np.prod(sizes)) >= (1 if search else 2)
    assert {c.study for c in cfgs} == {name} and {c.seed for c in cfgs} == {0}
    assert all(c.hydra.launcher._target_.endswith("JoblibLauncher") for c in cfgs)


def test_experiment_mistakes_stop_with_one_line(capsys):
    with pytest.raises(SystemExit):
        check(["-m", "experiment=premium_hike", "policy.price_change=-5"])
    assert capsys.readouterr().err == \
        "cxsim-run: policy.price_change=-5: must be in (-1, 100]\n"
    with pytest.raises(SystemExit):
        check(["-m", "experiment=premium_hik"])
    assert capsys.readouterr().err == "cxsim-run: experiment=premium_hik: no such " \
        "experiment config; allowed: " + ", ".join(EXPERIMENTS) + "\n"


# -- sweeps on the command line ------------------------------------------------------------
SWEEP = ["-m", "policy=baseline,silent_hike", "seed=0,1", "population.size=300",
         "horizon_days=120", "study=resume", "hydra/launcher=basic"]


def test_a_killed_sweep_resumes(tmp_path, subprocess_env):
    """Kill a sweep as soon as its first run is complete, fake a half-written run as well,
    then run the same command again: finished runs untouched, the rest completed, and a
    half-written run never collected."""
    study_dir = tmp_path / "results" / "resume"
    proc = subprocess.Popen([sys.executable, "-m", "sim.runs.cli", *SWEEP], cwd=tmp_path,
                            env=subprocess_env,
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
    progress = [line for line in again.stderr.splitlines() if " runs" in line]  # basic launcher
    assert progress[0] == "cxsim-run: a sweep of 4 runs" + \
        (f" ({len(finished)} already complete)" if finished else "")
    assert any(line.startswith("cxsim-run: 4 of 4 runs, done in ") for line in progress)
    for d, files in finished.items():
        assert snapshot(d) == files  # untouched, Hydra's .hydra/ record included
    complete = sim_io.complete_runs(study_dir)
    assert len(complete) == 4 and half in complete
    runs = pd.read_parquet(study_dir / study.RUNS)  # collected at the end of the multirun
    assert sorted(runs.run) == sorted(d.name for d in complete)
    assert sorted(zip(runs.policy, runs.seed)) == [(p, s) for p in ("baseline", "silent_hike")
                                                  for s in range(2)]
    assert len(pd.read_parquet(study_dir / study.DAILY)) == 4 * 120


DAMAGED_SWEEP = ["-m", "policy=baseline", "seed=0,1,2,3,4,5", "population.size=300",
                 "horizon_days=60", "burn_in_years=0", "study=damaged",
                 "hydra/launcher=basic"]


def _line_of(err: str, run_dir: Path) -> str:
    """The one line of ``err`` that says what is wrong in ``run_dir``."""
    lines = [line for line in err.splitlines() if f"{run_dir.name}: " in line]
    assert len(lines) == 1, err
    return lines[0]


def test_damaged_runs_are_named_and_made_again_and_a_failed_collection_exits_1(tmp_path):
    """Damage finished runs (each file case, another run's file, an earlier cxsim's
    manifest), re-run the sweep: each is named in one line and made again, byte for byte
    the same. Then damage a run outside the next sweep: that sweep's collection fails with
    one line, exit status 1, and no runs.parquet left."""
    first = cxsim_run(*DAMAGED_SWEEP, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    study_dir = tmp_path / "results" / "damaged"
    by_seed = {sim_io.read_manifest(d)["seed"]: d for d in sim_io.complete_runs(study_dir)}
    assert sorted(by_seed) == list(range(6))
    before = {d: sim_io.read_manifest(d)["files"] for d in by_seed.values()}
    collected = pd.read_parquet(study_dir / study.RUNS)

    def cut(path: Path) -> None:
        path.write_bytes(path.read_bytes()[:100])

    cut(by_seed[0] / sim_io.TIMESERIES)
    (by_seed[1] / sim_io.TIMESERIES).write_bytes(b"")
    cut(by_seed[2] / sim_io.SUMMARY)
    shutil.copy(by_seed[5] / sim_io.TIMESERIES, by_seed[3] / sim_io.TIMESERIES)
    (by_seed[4] / sim_io.JOURNEYS).unlink()
    manifest = sim_io.read_manifest(by_seed[5])
    sim_io.write_json(by_seed[5] / sim_io.MANIFEST, {**manifest, "files": list(sim_io.RUN_FILES)})
    expected = {0: "timeseries.parquet: size mismatch (100 bytes; the manifest says ",
                1: "timeseries.parquet: size mismatch (0 bytes; the manifest says ",
                2: "summary.json: size mismatch (100 bytes; the manifest says ",
                3: "timeseries.parquet: ",
                4: "journeys.parquet: missing; running it again",
                5: "manifest.json: no checksums of the result files (written by an earlier "
                   "cxsim); running it again"}

    again = cxsim_run(*DAMAGED_SWEEP, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "skipped" not in again.stderr and "Traceback" not in again.stderr
    for seed, text in expected.items():
        line = _line_of(again.stderr, by_seed[seed])
        assert line.startswith(f"cxsim-run: {by_seed[seed]}: {text}")
        assert line.endswith("; running it again")
    assert f"it is run {by_seed[5].name}'s file; running it again" in again.stderr
    for d, files in before.items():
        assert sim_io.read_manifest(d)["files"] == files  # made again, byte for byte
        assert (d / ".hydra" / "config.yaml").is_file()
        assert not [p for p in d.iterdir() if p.name.endswith(".tmp")]
    pd.testing.assert_frame_equal(pd.read_parquet(study_dir / study.RUNS), collected)

    cut(by_seed[0] / sim_io.SUMMARY)
    other = cxsim_run(*[a if not a.startswith("seed=") else "seed=6" for a in DAMAGED_SWEEP],
                      cwd=tmp_path)
    assert other.returncode == 1
    size = before[by_seed[0]][sim_io.SUMMARY]["bytes"]
    rel = by_seed[0].relative_to(tmp_path)  # the sweep's directory is relative
    assert other.stderr.splitlines()[-1] == (
        f"cxsim-run: study results/damaged not collected: {rel}: summary.json: size mismatch "
        f"(100 bytes; the manifest says {size:,}); re-running its sweep makes it again")
    assert "Traceback" not in other.stderr and "Warning" not in other.stderr
    assert len(other.stderr.splitlines()) == 2  # "wrote" the new run, then the one line
    assert not (study_dir / study.RUNS).exists() and not (study_dir / study.DAILY).exists()
