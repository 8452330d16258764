"""The sample-design sweeper plugin: found by Hydra, its points, seeds and pairing, a sweep
killed and resumed, and cxsim-analyse on what it made."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from types import SimpleNamespace

import pandas as pd
import pytest

from sim.runs import io as sim_io
from sim.runs.study import RUNS
from sim.sensitivity import cli as analyse
from sim.sensitivity.sampling import DESIGN, n_points
from sim.sensitivity.sweeper import BATCH_KEYS, SamplingSweeper, design_id
from tests.helpers import cxsim_run

SPACE = {"behaviour.beta_unfair": [0.0, 3.0], "market.base_margin": [0.1, 0.4],
         "behaviour.max_contacts": [2, 6]}


def test_hydra_finds_the_sweepers_in_its_plugin_namespace():
    from hydra.core.plugins import Plugins
    from hydra.plugins.sweeper import Sweeper
    names = {f"{c.__module__}.{c.__name__}" for c in Plugins.instance().discover(Sweeper)}
    assert {"hydra_plugins.cxsim_sweepers.SamplingSweeper",
            "hydra_plugins.cxsim_sweepers.OptunaSweeper"} <= names


def expanded(sw: SamplingSweeper, jobs: list[list[str]]) -> list[dict]:
    """Each run of the jobs as {key: value text}: a job of several runs
    (``design_points``) as one dict per point, its values as ``Space.overrides`` writes them."""
    from sim.sensitivity.space import override
    runs = []
    for job in jobs:
        d = dict(o.split("=", 1) for o in job)
        if "design_points" not in d:
            runs.append(d)
            continue
        assert d["design_id"] == design_id(sw.design)
        assert d["hydra.sweep.subdir"].startswith(".jobs/")
        base = {k: v for k, v in d.items() if k not in BATCH_KEYS}
        for i in map(int, d["design_points"].strip("[]").split(",")):
            values = sw.design.values[i]
            runs.append({**base, **dict(override(k, v).split("=", 1)
                                        for k, v in values.items())})
    return runs


@pytest.mark.parametrize("runs_per_job", [1, 4])
@pytest.mark.parametrize("method, n", [("lhs", 5), ("morris", 3), ("sobol", 4)])
def test_every_point_runs_under_every_policy_on_the_same_seeds(method, n, runs_per_job):
    sw = SamplingSweeper(method=method, n=n, seed=1, space=SPACE, runs_per_job=runs_per_job,
                         params={"policy": "baseline,silent_hike", "seed": "range(3)"})
    sw.hydra_context = SimpleNamespace(config_loader=None)
    jobs = sw.jobs(["population.size=300"])
    points = len(sw.design.values)
    assert points == n_points(method, n, 3)
    distinct = {tuple(sorted(v.items())) for v in sw.design.values}
    runs = expanded(sw, jobs)
    assert len(runs) == len(distinct) * 2 * 3  # a point visited twice runs once
    if runs_per_job > 1:  # a job per chunk of points and policy and seed
        assert len(jobs) == -(-len(distinct) // runs_per_job) * 2 * 3
    by_point: dict = {}
    for d in runs:
        assert d["population.size"] == "300"
        point = tuple(d[k] for k in SPACE)
        by_point.setdefault(point, set()).add((d["policy"], d["seed"]))
        assert d["behaviour.max_contacts"].isdigit()  # integers stay integers
    assert len(by_point) == len(distinct)
    assert all(runs == {(p, str(s)) for p in ("baseline", "silent_hike") for s in range(3)}
               for runs in by_point.values())


SWEEP = ["-m", "hydra/sweeper=cxsim_morris", "uncertainty=silent_hike", "hydra.sweeper.n=2",
         "policy=baseline,silent_hike", "seed=0", "population.size=300", "horizon_days=60",
         "burn_in_years=0", "population.journey_sample=20", "study=sens",
         "hydra/launcher=basic", "hydra.sweeper.seed=3"]


@pytest.mark.slow
def test_a_killed_design_sweep_resumes_pairs_and_is_analysed(tmp_path, subprocess_env):
    """Kill a Morris sweep once a few runs are complete; the same command skips them and
    makes the rest; every point then has both policies on the same seed, and cxsim-analyse
    writes indices for every target, PRIM's boxes and its report section."""
    study = tmp_path / "results" / "sens"
    (tmp_path / "configs" / "uncertainty").mkdir(parents=True)
    (tmp_path / "configs" / "uncertainty" / "two.yaml").write_text(
        "# @package hydra.sweeper.space\nbehaviour.beta_unfair: [0.0, 3.0]\n"
        "market.base_margin: [0.1, 0.4]\n")
    small = ["-m", "-cd", str(tmp_path / "configs"), "uncertainty=two",
             *[o for o in SWEEP[1:] if not o.startswith("uncertainty=")]]
    proc = subprocess.Popen([sys.executable, "-m", "sim.runs.cli", *small], cwd=tmp_path,
                            env=subprocess_env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 240
    while len(sim_io.complete_runs(tmp_path)) < 3 and time.time() < deadline:
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = sim_io.complete_runs(study)
    assert 3 <= len(done) < 12
    before = {d: (d / sim_io.MANIFEST).stat().st_mtime_ns for d in done}

    again = cxsim_run(*small, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stderr.count("is complete; skipped") == len(done)
    assert all((d / sim_io.MANIFEST).stat().st_mtime_ns == t for d, t in before.items())
    design = json.loads((study / DESIGN).read_text())
    points = {tuple(v.values()) for v in design["values"]}
    assert len(design["values"]) == 2 * 3
    runs = pd.read_parquet(study / RUNS)
    assert len(runs) == 2 * len(points)
    pairs = runs.groupby(["behaviour.beta_unfair", "market.base_margin"]).apply(
        lambda g: sorted(zip(g.policy, g.seed)), include_groups=False)
    assert len(pairs) == len(points)
    assert all(p == [("baseline", 0), ("silent_hike", 0)] for p in pairs)

    assert analyse.main([str(study), "--resamples", "50",
                         "--condition", "silent_hike-baseline:customer_equity<1e12"]) == 0
    table = pd.read_parquet(study / analyse.SENSITIVITY)
    targets = set(table.target)
    assert "silent_hike-baseline:customer_equity" in targets and "baseline:profit_year1" in targets
    assert len(table) == len(targets) * 2 and table.mu_star.notna().all()
    assert (table.mu_star >= 0).all() and (table.mu_star >= table.mu.abs() - 1e-9).all()
    report = (study / "report.md").read_text()
    assert "## Sensitivity: morris design of 2 assumptions, 6 points" in report
    assert "Scenario discovery (PRIM)" in report and (study / analyse.PRIM).is_file()
    # a condition on a policy the study lacks: one line, exit status 2
    assert analyse.main([str(study), "--condition", "cx_core:customer_equity<0"]) == 2


def test_the_fast_loader_gives_the_config_hydra_composes():
    from hydra.core.global_hydra import GlobalHydra
    from hydra.types import RunMode
    from omegaconf import OmegaConf

    from sim.runs.config import _initialized
    from sim.sensitivity.sweeper import FastSweepLoader
    with _initialized():
        loader = GlobalHydra.instance().config_loader()
        master = loader.load_configuration("config", ["hydra/sweeper=cxsim_morris",
                                                      "uncertainty=silent_hike"],
                                           run_mode=RunMode.MULTIRUN)
        fast = FastSweepLoader(loader, [*SPACE, "policy.explanation"], "t")
        for i, (beta, contacts, expl) in enumerate([(0.5, 3, "cost"), (2.75, 5, "none")]):
            job = ["policy=silent_hike", f"seed={i}", "population.size=300",
                   f"behaviour.beta_unfair={beta!r}", f"behaviour.max_contacts={contacts}",
                   f"policy.explanation={expl}"]
            got, want = fast.load_sweep_config(master, job), loader.load_sweep_config(master, job)
            assert OmegaConf.to_container(got) == OmegaConf.to_container(want)
            # the run's directory: the same config hash
            assert got.hydra.sweep.subdir == want.hydra.sweep.subdir
            assert got.hydra.sweep.subdir.startswith("silent_hike/")


def test_jobs_of_several_runs_make_the_runs_of_a_job_per_run(tmp_path):
    """``runs_per_job`` changes how runs are handed to the launcher, nothing they make: the
    same run directories, byte for byte the same results, each run's record of its point; the
    sweep's progress counts those directories (``SamplingSweeper.run_dirs``); a run made by
    one is complete for the other."""
    common = ["-m", "hydra/sweeper=cxsim_lhs", "uncertainty=silent_hike", "hydra.sweeper.n=3",
              "policy=baseline,silent_hike", "seed=0", "population.size=300",
              "horizon_days=20", "burn_in_years=0", "population.journey_sample=20",
              "hydra/launcher=basic", "progress=false"]
    made = {}
    for per_job in (1, 4):
        out = cxsim_run(*common, f"hydra.sweeper.runs_per_job={per_job}",
                        f"results_dir={tmp_path / str(per_job)}", "study=s", cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        assert "a sweep of 6 runs" in out.stderr
        study = tmp_path / str(per_job) / "s"
        made[per_job] = {d.relative_to(study): d for d in sim_io.complete_runs(study)}
    assert set(made[1]) == set(made[4]) and len(made[1]) == 6
    for rel, d in made[1].items():
        for name in (sim_io.TIMESERIES, sim_io.JOURNEYS, sim_io.SUMMARY):
            assert (d / name).read_bytes() == (made[4][rel] / name).read_bytes(), (rel, name)
    # Hydra's record: of each run when it is a job, of each job of several runs otherwise
    assert all((d / ".hydra" / "overrides.yaml").is_file() for d in made[1].values())
    assert not any((d / ".hydra").exists() for d in made[4].values())
    assert len(list((tmp_path / "4" / "s" / ".jobs").glob("*/.hydra/overrides.yaml"))) == 2
    # the batched sweep again: every run complete, skipped
    again = cxsim_run(*common, "hydra.sweeper.runs_per_job=4",
                      f"results_dir={tmp_path / '4'}", "study=s", cwd=tmp_path)
    assert again.returncode == 0 and again.stderr.count("is complete; skipped") == 6


def test_a_job_of_several_runs_refuses_a_design_it_was_not_made_from(tmp_path):
    from sim.core.params import ParamError
    from sim.sensitivity.sampling import write_design
    from sim.sensitivity.sweeper import job_points
    sw = SamplingSweeper(method="lhs", n=2, seed=1, space=SPACE, runs_per_job=2,
                         params={"policy": "baseline"})
    sw.hydra_context = SimpleNamespace(config_loader=None)
    sw.jobs([])
    other = SamplingSweeper.make_design({"space": SPACE, "method": "lhs", "n": 2, "seed": 2})
    write_design(tmp_path / DESIGN, other)
    from sim.runs.config import compose
    cfg = compose(["population.size=300"])
    cfg.design_points, cfg.design_id = [0, 1], design_id(sw.design)
    with pytest.raises(ParamError, match="holds another design"):
        list(job_points(cfg, tmp_path))
    write_design(tmp_path / DESIGN, sw.design)
    got = [(i, p.behaviour.beta_unfair, p.behaviour.max_contacts)
           for i, p in job_points(cfg, tmp_path)]
    assert got == [(i, sw.design.values[i]["behaviour.beta_unfair"],
                    sw.design.values[i]["behaviour.max_contacts"]) for i in (0, 1)]


def test_design_points_on_the_command_line_are_refused(tmp_path):
    out = cxsim_run("design_points=[0]", "population.size=300", cwd=tmp_path)
    assert out.returncode == 2
    assert "design_points=[0]: set by the sample-design sweepers only" in out.stderr
