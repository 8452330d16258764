"""Fixtures of the cluster launchers' tests: the cluster environment's python, a Ray head on
127.0.0.1 that is always stopped, and the joblib launcher's runs that every launcher must
reproduce bit for bit.

The launchers' plugins live in their own virtual environment (``make setup-cluster``:
``.venv-cluster`` with the extras ray and slurm), whose python is ``CXSIM_CLUSTER_PYTHON``
(set by ``make test``) or ``.venv-cluster/bin/python``. Without it the tests are skipped,
except in CI (``CI`` set), where they fail: CI must run them.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.cluster.helpers import (DESIGN, RAY_ENV, RUNS, free_port, run_files,
                                   session_pids, sweep)
from tests.helpers import REPO


@pytest.fixture(scope="session")
def cluster_python() -> Path:
    """The python of the environment with the cluster launchers' plugins."""
    given = os.environ.get("CXSIM_CLUSTER_PYTHON") or REPO / ".venv-cluster/bin/python"
    path = Path(os.path.abspath(given))  # not resolved: a venv's python is a symlink
    if not path.is_file():
        message = f"no cluster environment at {path}: make setup-cluster"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def reference(tmp_path_factory):
    """The sweep run by the joblib launcher in the core environment (joblib 1.6): the study
    directory and its run files (``run_files``)."""
    root = tmp_path_factory.mktemp("joblib")
    done = sweep(sys.executable, root, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2")
    assert done.returncode == 0, done.stderr
    study_dir = root / "results" / "cluster"
    return study_dir, run_files(study_dir)


def _stop(pids_of, proc: subprocess.Popen | None, timeout: float = 8) -> list[int]:
    """SIGTERM then SIGKILL every process ``pids_of()`` names (and ``proc``), by id; the ids
    still alive afterwards (none, normally)."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10)):
        pids = set(pids_of()) | ({proc.pid} if proc and proc.poll() is None else set())
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.time() + wait
        while time.time() < deadline and (pids_of() or proc and proc.poll() is None):
            time.sleep(0.2)
        if proc:
            try:
                proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
    return pids_of()


@pytest.fixture(scope="module")
def ray_head(cluster_python):
    """A Ray head on 127.0.0.1 with 2 CPUs, no dashboard, its ports free ones: yields
    ``{"address", "session", "log"}``; every process of its session is stopped afterwards
    (by id, never ``ray stop``, which stops every Ray on the machine), whatever happened."""
    temp_dir = Path(tempfile.mkdtemp(prefix="cxray-", dir="/tmp"))  # short: socket paths
    port = free_port()
    log = temp_dir / "head.log"
    ray = cluster_python.parent / "ray"
    cmd = [str(ray), "start", "--head", "--block", "--node-ip-address=127.0.0.1",
           f"--port={port}", "--num-cpus=2", "--include-dashboard=false",
           "--disable-usage-stats", f"--temp-dir={temp_dir}",
           f"--ray-client-server-port={free_port()}",
           f"--dashboard-agent-listen-port={free_port()}"]
    proc = None
    try:
        with open(log, "w") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                    env={**os.environ, **RAY_ENV}, start_new_session=True,
                                    cwd=temp_dir)
        deadline = time.time() + 120
        while "Ray runtime started" not in log.read_text():
            if proc.poll() is not None or time.time() > deadline:
                pytest.fail(f"the Ray head did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield {"address": f"127.0.0.1:{port}", "session": proc.pid, "log": log}
    finally:
        left = _stop(lambda: session_pids(proc.pid) if proc else [], proc)
        shutil.rmtree(temp_dir, ignore_errors=True)
        assert not left, f"Ray processes still running after the head was stopped: {left}"


@pytest.fixture
def stopped_afterwards():
    """Register the Popen of a sweep (started in its own session): every process of that
    session is stopped at the end of the test, by id."""
    procs: list[subprocess.Popen] = []
    yield procs.append
    left = []
    for proc in procs:
        left += _stop(lambda: session_pids(proc.pid), proc)
    assert not left, f"processes of a sweep still running: {left}"




@pytest.fixture(scope="session")
def design_reference(tmp_path_factory):
    """The design sweep run by the joblib launcher in the core environment: its run files."""
    root = tmp_path_factory.mktemp("joblib_design")
    done = sweep(sys.executable, root, *DESIGN, "hydra/launcher=joblib",
                 "hydra.launcher.n_jobs=2")
    assert done.returncode == 0, done.stderr
    files = run_files(root / "results" / "cluster")
    assert len(files) == 2 * RUNS + 1
    return files
