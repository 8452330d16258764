"""Sweeps through hydra-submitit-launcher's local executor (``hydra/launcher=
cxsim_submitit_local``, the Slurm launcher's twin): the joblib launcher's runs bit for bit,
as many numba threads as ``cpus_per_task``, and a resume after the driver and its jobs were
killed. The Slurm config composes with its documented settings."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from sim.runs import io as sim_io
from tests.cluster.helpers import (DESIGN, RUNS, run_files, start_sweep, sweep, sweep_env,
                                   wait_for_runs)

pytestmark = pytest.mark.slow
LOCAL = ["hydra/launcher=cxsim_submitit_local"]


def test_a_submitit_sweep_makes_the_joblib_runs(cluster_python, reference, tmp_path):
    done = sweep(cluster_python, tmp_path, *LOCAL, "hydra.launcher.cpus_per_task=2")
    assert done.returncode == 0, done.stderr
    study_dir = tmp_path / "results" / "cluster"
    assert run_files(study_dir) == reference[1]
    assert {sim_io.read_manifest(d)["numba_threads"]
            for d in sim_io.complete_runs(study_dir)} == {2}
    assert done.stderr.count("cxsim-run: collected") == 1


def test_a_submitit_sweep_resumes_after_its_driver_is_killed(cluster_python, reference,
                                                             tmp_path, stopped_afterwards):
    study_dir = tmp_path / "results" / "cluster"
    proc = start_sweep(cluster_python, tmp_path, *LOCAL)
    stopped_afterwards(proc)
    assert wait_for_runs(study_dir, proc, at_least=1) >= 1
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and the job processes it started
    proc.wait()
    first = {d: sim_io.read_manifest(d)["finished_utc"] for d in sim_io.complete_runs(study_dir)}
    assert 1 <= len(first) < RUNS and not (study_dir / "runs.parquet").exists()
    again = sweep(cluster_python, tmp_path, *LOCAL)
    assert again.returncode == 0, again.stderr
    for d, finished in first.items():
        assert sim_io.read_manifest(d)["finished_utc"] == finished  # skipped, untouched
    assert run_files(study_dir) == reference[1]


def test_the_slurm_config_composes_with_its_settings(cluster_python, tmp_path):
    """``--cfg hydra`` prints the launcher as the sweep would use it (no Slurm here)."""
    args = ["hydra/launcher=cxsim_slurm", "hydra.launcher.partition=compute",
            "hydra.launcher.cpus_per_task=4", "--cfg", "hydra", "--package", "hydra.launcher"]
    done = subprocess.run([str(cluster_python), "-m", "sim.runs.cli", *args], cwd=tmp_path,
                          env=sweep_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "SlurmLauncher" in done.stdout and "partition: compute" in done.stdout
    assert "cpus_per_task: 4" in done.stdout and "timeout_min: 60" in done.stdout


def test_a_design_sweep_of_jobs_of_several_runs_makes_the_joblib_runs(cluster_python,
                                                                      design_reference,
                                                                      tmp_path):
    done = sweep(cluster_python, tmp_path, *DESIGN, *LOCAL)
    assert done.returncode == 0, done.stderr
    assert run_files(tmp_path / "results" / "cluster") == design_reference
