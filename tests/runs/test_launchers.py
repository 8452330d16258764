"""The cluster launchers' settings in the core environment (issue 15): the numba threads of
a sweep's job by launcher, and a launcher whose plugin is an optional extra that is not
installed, refused in one line before anything runs. The launchers themselves run in
tests/cluster (slow)."""

from __future__ import annotations

import importlib.util

import pytest

from sim.runs import study
from sim.runs.cli import check
from sim.runs.config import CONFIG_DIR, LAUNCHER_EXTRAS


def test_a_job_gets_the_threads_its_launcher_reserves_for_it():
    ray = {"_target_": "hydra_plugins.hydra_ray_launcher.ray_launcher.RayLauncher"}
    assert study.launcher_threads({**ray, "ray": {"init": {}, "remote": {"num_cpus": 3}}},
                                  cores=8) == 3
    assert study.launcher_threads({**ray, "ray": {"init": {}, "remote": {}}}, cores=8) == 1
    assert study.launcher_threads({**ray, "ray": {"remote": {"num_cpus": 0.5}}}) == 1
    assert study.launcher_threads({"cpus_per_task": 4, "tasks_per_node": 1}, cores=2) == 4
    assert study.launcher_threads({"cpus_per_task": None}, cores=8) == 1  # Slurm's one core
    assert study.launcher_threads({"n_jobs": -1}, cores=8) == 1           # joblib
    assert study.launcher_threads({"n_jobs": 2}, cores=8) == 4
    assert study.launcher_threads({}, cores=8) == 8                       # basic: one at a time


def test_set_worker_threads_never_exceeds_numbas_limit():
    import numba
    before = numba.get_num_threads()
    try:
        limit = numba.config.NUMBA_NUM_THREADS
        assert study.set_worker_threads({"cpus_per_task": limit + 5}) == limit
        assert study.set_worker_threads({"cpus_per_task": 1}) == numba.get_num_threads() == 1
    finally:
        numba.set_num_threads(before)


def test_the_project_ships_a_config_for_each_cluster_launcher():
    shipped = {p.stem for p in (CONFIG_DIR / "hydra" / "launcher").glob("*.yaml")}
    assert shipped == {"cxsim_ray", "cxsim_ray_local", "cxsim_slurm", "cxsim_submitit_local"}
    assert shipped <= set(LAUNCHER_EXTRAS)


@pytest.mark.parametrize("launcher", sorted(LAUNCHER_EXTRAS))
def test_a_launcher_without_its_extra_stops_with_one_line(launcher, capsys, tmp_path,
                                                          monkeypatch):
    module, plugin, extra = LAUNCHER_EXTRAS[launcher]
    if importlib.util.find_spec(module) is not None:
        pytest.skip(f"{plugin} is installed here")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stop:
        check(["-m", f"hydra/launcher={launcher}", "seed=0,1"])
    assert stop.value.code == 2
    assert capsys.readouterr().err == (
        f"cxsim-run: hydra/launcher={launcher}: needs {plugin}, which is not installed; "
        f"install it with pip install -e \".[{extra}]\"\n")
    assert not (tmp_path / "results").exists()
