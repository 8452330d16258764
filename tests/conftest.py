"""Fixtures shared by several test files. Plain helper functions are in ``tests/helpers.py``."""

from __future__ import annotations

import os

import numba
import pytest

from sim.runs import io as sim_io
from sim.runs import study
from sim.runs.cli import run
from sim.runs.config import compose, params_from_cfg
from tests.helpers import TINY, script_env, small_params


@pytest.fixture(scope="session")
def one_run(tmp_path_factory):
    """One small silent-hike run written to a run directory, and the parameters used."""
    params = small_params("policy=silent_hike", "seed=5", "population.journey_sample=100")
    run_dir = run(params, tmp_path_factory.mktemp("run") / "r")
    return params, run_dir


@pytest.fixture(scope="session")
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


@pytest.fixture
def subprocess_env() -> dict:
    """The environment for a console script run in a subprocess (``helpers.script_env``)."""
    return script_env()


@pytest.fixture
def one_numba_thread():
    """numba on one thread during the test. Small runs go as fast as on two, and many times
    faster when other processes keep the cores busy (the parallel phases then wait for a
    descheduled thread); results do not depend on the threads (tests/core/test_model.py)."""
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    yield
    numba.set_num_threads(before)


def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (``make test`` runs two workers, ``--dist loadgroup``): the cluster
    tests share one worker, so their Ray head and submitit fixtures start once, and so do the
    browser tests and their server."""
    for item in items:
        for prefix, group in (("tests/cluster/", "cluster"), ("tests/app/test_browser", "app")):
            if item.nodeid.startswith(prefix):
                item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(scope="session", autouse=True)
def _one_numba_thread_per_xdist_worker():
    """With two xdist workers on two cores, each worker's kernels on one numba thread by
    default (a test may still ask for more: ``numba.set_num_threads``), so the workers do
    not take each other's cores."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        numba.set_num_threads(1)
    yield
