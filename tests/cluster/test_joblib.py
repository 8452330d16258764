"""The joblib launcher in the cluster environment, where the ray extra holds joblib at 1.5
(hydra-ray-launcher pins cloudpickle<3): the same runs as with joblib 1.6 in the core
environment, byte for byte."""

from __future__ import annotations

import subprocess

import pytest

from tests.cluster.helpers import run_files, sweep

pytestmark = pytest.mark.slow


def test_the_joblib_launcher_works_beside_the_ray_extra(cluster_python, reference, tmp_path):
    versions = subprocess.run([str(cluster_python), "-c",
                               "import joblib, cloudpickle; print(joblib.__version__, "
                               "cloudpickle.__version__)"],
                              capture_output=True, text=True, check=True).stdout.split()
    assert int(versions[1].split(".")[0]) < 3, versions  # what hydra-ray-launcher needs
    done = sweep(cluster_python, tmp_path, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2")
    assert done.returncode == 0, done.stderr
    assert run_files(tmp_path / "results" / "cluster") == reference[1]
