"""Sweeps on a Ray cluster through hydra-ray-launcher (``hydra/launcher=cxsim_ray``): a real
Ray head on 127.0.0.1, given by address, makes the joblib launcher's runs bit for bit, with
as many numba threads as cores per task, listens on nothing but the loopback address, and a
sweep resumes after its driver or one of its workers was killed."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from sim.runs import io as sim_io
from tests.cluster.helpers import (DESIGN, RUNS, listeners_of, process_titles, run_files,
                                   session_pids, start_sweep, sweep, sweep_args, sweep_env,
                                   wait_for_runs)

pytestmark = pytest.mark.slow


def ray_launcher(head, cpus: int = 1) -> list[str]:
    return ["hydra/launcher=cxsim_ray", f"hydra.launcher.ray.init.address={head['address']}",
            f"hydra.launcher.ray.remote.num_cpus={cpus}"]


def threads_of(study_dir) -> set[int]:
    return {sim_io.read_manifest(d)["numba_threads"] for d in sim_io.complete_runs(study_dir)}


def test_a_sweep_on_a_ray_head_makes_the_joblib_runs_on_loopback_only(
        ray_head, cluster_python, reference, tmp_path, stopped_afterwards):
    ref_dir, ref = reference
    proc = start_sweep(cluster_python, tmp_path, *ray_launcher(ray_head, cpus=1))
    stopped_afterwards(proc)
    sockets = {}
    while proc.poll() is None:  # look at the sockets while the sweep runs
        pids = set(session_pids(ray_head["session"])) | set(session_pids(proc.pid))
        sockets.update(listeners_of(pids))
        try:
            proc.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            pass
    log = (tmp_path / "sweep.log").read_text()
    assert proc.returncode == 0, log
    assert len(sockets) >= 3  # the GCS, the raylet, the driver, ... were seen
    bad = sorted(s for s, loopback in sockets.items() if not loopback)
    assert not bad, f"Ray listens beyond 127.0.0.1: {bad}"
    study_dir = tmp_path / "results" / "cluster"
    got = run_files(study_dir)
    assert len(got) == RUNS + 1 and set(got[""]) == {"runs.parquet", "daily.parquet",
                                                     "study.json"}
    assert got == ref  # every run's files and the study's tables, byte for byte
    assert threads_of(study_dir) == {1}  # num_cpus=1: one numba thread per task
    assert log.count("cxsim-run: collected") == 1  # once, at the end, by the driver


def test_each_ray_task_uses_as_many_numba_threads_as_cores(ray_head, cluster_python,
                                                           reference, tmp_path):
    done = sweep(cluster_python, tmp_path, *ray_launcher(ray_head, cpus=2))
    assert done.returncode == 0, done.stderr
    study_dir = tmp_path / "results" / "cluster"
    assert threads_of(study_dir) == {2}  # never all of the node's (2 here) unless asked
    assert run_files(study_dir) == reference[1]


def test_a_ray_sweep_resumes_after_its_driver_is_killed(ray_head, cluster_python, reference,
                                                        tmp_path, stopped_afterwards):
    study_dir = tmp_path / "results" / "cluster"
    proc = start_sweep(cluster_python, tmp_path, *ray_launcher(ray_head))
    stopped_afterwards(proc)
    assert wait_for_runs(study_dir, proc, at_least=1) >= 1
    os.killpg(proc.pid, signal.SIGKILL)  # the driver (and anything it started)
    proc.wait()
    first = {d: sim_io.read_manifest(d)["finished_utc"] for d in sim_io.complete_runs(study_dir)}
    assert 1 <= len(first) < RUNS and not (study_dir / "runs.parquet").exists()

    again = sweep(cluster_python, tmp_path, *ray_launcher(ray_head))
    assert again.returncode == 0, again.stderr
    skipped = again.stdout.count("is complete; skipped") + again.stderr.count(
        "is complete; skipped")
    # Ray's tasks of the killed driver may still finish runs after its death is noticed
    assert skipped >= len(first)
    for d, finished in first.items():  # untouched
        assert sim_io.read_manifest(d)["finished_utc"] == finished
    assert run_files(study_dir) == reference[1]


def test_a_ray_sweep_survives_a_killed_worker(ray_head, cluster_python, reference, tmp_path,
                                             stopped_afterwards):
    """A worker process killed in the middle of a run: Ray runs the task again (its
    retries) and the sweep ends with the same runs."""
    study_dir = tmp_path / "results" / "cluster"
    proc = start_sweep(cluster_python, tmp_path, *ray_launcher(ray_head))
    stopped_afterwards(proc)
    victim = None
    while victim is None and proc.poll() is None:
        titles = process_titles(session_pids(ray_head["session"]))
        busy = [pid for pid, title in titles.items() if title.startswith("ray::_run_job")]
        victim = busy[0] if busy else None
    assert victim is not None, (tmp_path / "sweep.log").read_text()
    os.kill(victim, signal.SIGKILL)
    proc.wait(timeout=400)
    log = (tmp_path / "sweep.log").read_text()
    assert proc.returncode == 0, log
    assert "_run_job" in log and ("died" in log or "killed" in log)  # Ray saw it go
    assert run_files(study_dir) == reference[1]
    assert json.loads((study_dir / "study.json").read_text())["runs_left_out"] == 0


def test_a_relative_results_dir_on_a_ray_cluster_stops_before_any_run(ray_head,
                                                                     cluster_python,
                                                                     tmp_path):
    args = [a for a in sweep_args(tmp_path, *ray_launcher(ray_head))
            if not a.startswith("results_dir=")]
    done = subprocess.run([str(cluster_python), "-m", "sim.runs.cli", *args], cwd=tmp_path,
                          env=sweep_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr == ("cxsim-run: results_dir=results: must be an absolute path on a "
                           "Ray cluster (its workers do not run in this directory; give a "
                           "directory they share, e.g. results_dir=$PWD/results)\n")
    assert not (tmp_path / "results").exists()


def _with_temp_dir(temp_dir: str) -> list[int]:
    """Processes whose command line names ``temp_dir`` (the Ray a sweep started)."""
    return [pid for pid, title in process_titles(
        [int(p) for p in os.listdir("/proc") if p.isdigit()]).items() if temp_dir in title]


def test_a_sweep_on_a_ray_it_starts_itself_stays_on_loopback_and_stops_it(
        cluster_python, reference, tmp_path, stopped_afterwards):
    temp_dir = tempfile.mkdtemp(prefix="cxray-", dir="/tmp")
    try:
        proc = start_sweep(cluster_python, tmp_path, "hydra/launcher=cxsim_ray_local",
                           f"+hydra.launcher.ray.init._temp_dir={temp_dir}")
        stopped_afterwards(proc)
        sockets = {}
        while proc.poll() is None:
            sockets.update(listeners_of(set(_with_temp_dir(temp_dir))
                                        | set(session_pids(proc.pid))))
            time.sleep(0.3)
        assert proc.returncode == 0, (tmp_path / "sweep.log").read_text()
        assert sockets and all(sockets.values()), sockets
        assert run_files(tmp_path / "results" / "cluster") == reference[1]
        deadline = time.time() + 20
        while _with_temp_dir(temp_dir) and time.time() < deadline:
            time.sleep(0.2)
        assert not _with_temp_dir(temp_dir), "the sweep left its Ray running"
    finally:
        for pid in _with_temp_dir(temp_dir):
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(temp_dir, ignore_errors=True)


def test_a_design_sweep_of_jobs_of_several_runs_on_ray_makes_the_joblib_runs(
        ray_head, cluster_python, design_reference, tmp_path):
    done = sweep(cluster_python, tmp_path, *DESIGN, *ray_launcher(ray_head))
    assert done.returncode == 0, done.stderr
    assert run_files(tmp_path / "results" / "cluster") == design_reference
