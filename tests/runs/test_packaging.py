"""A plain install (``pip install .``, not editable) carries the configs: ``cxsim-run``
works from any directory (issue 13). A checkout or an editable install reads the
repository's ``configs/`` in place."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from sim.runs import config as sim_config
from sim.runs import io as sim_io
from tests.helpers import REPO

SOURCES = ("pyproject.toml", "setup.py", "README.md", "sim", "configs")


def test_a_checkout_reads_the_repositorys_configs():
    assert sim_config.CONFIG_DIR == REPO / "configs"
    assert not sim_config.PACKAGED_CONFIG_DIR.exists()  # never in the checkout


@pytest.mark.slow
def test_a_plain_install_runs_from_any_directory(tmp_path):
    """Build and install a copy of the sources (not the checkout itself: the build writes
    build/ and *.egg-info beside them) into a new virtual environment with ``--no-deps``;
    the dependencies come from this environment's site-packages through a ``.pth`` file."""
    src = tmp_path / "src"
    src.mkdir()
    for name in SOURCES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, src / name,
                            ignore=shutil.ignore_patterns("__pycache__", "_configs"))
        else:
            shutil.copy2(source, src / name)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "HYDRA_FULL_ERROR", "VIRTUAL_ENV")}
    installed = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps",
                                "--disable-pip-version-check", str(src)],
                               env=env, capture_output=True, text=True, timeout=600)
    assert installed.returncode == 0, installed.stderr
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; "
                                "print(sysconfig.get_paths()['purelib'])"],
                               env=env, capture_output=True, text=True, check=True).stdout.strip())
    (site / "_cxsim_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    shutil.rmtree(src)  # nothing of the sources left to read

    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    # the kernels as plain Python: compiling them afresh for the new install's paths would
    # take about a minute and a half; the installed files are what this test is about
    env["NUMBA_DISABLE_JIT"] = "1"
    where = subprocess.run([str(python), "-c", "import sim.runs.config as c; print(c.CONFIG_DIR)"],
                           cwd=cwd, env=env, capture_output=True, text=True, check=True)
    assert Path(where.stdout.strip()) == site / "sim" / "_configs"
    script = venv / "bin" / "cxsim-run"
    result = subprocess.run([str(script), "policy=silent_hike", "population.size=300",
                             "horizon_days=20", "burn_in_years=0"],
                            cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    [run_dir] = (cwd / "results" / "runs" / "silent_hike").iterdir()
    assert sim_io.is_complete(run_dir)
    assert sim_io.read_summary(run_dir)["policy"] == "silent_hike"
    listed = subprocess.run([str(script), "--policies"], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert "silent_hike" in listed.stdout and "understaffed" in listed.stdout
