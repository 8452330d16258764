"""Packaging beyond pyproject.toml: a plain (non-editable) install carries the Hydra configs.

``configs/`` lives beside the package in the repository (it is edited there, and an
editable install or a checkout reads it in place: ``sim.runs.config.CONFIG_DIR``). A wheel
or ``pip install .`` copies the whole tree into the package as ``sim/_configs/``, which
``CONFIG_DIR`` falls back to when no checkout is around, so ``cxsim-run`` works from any
directory. New files and folders below ``configs/`` are packaged without editing this file.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
PACKAGED = ("sim", "_configs")  # sim.runs.config.PACKAGED_CONFIG_DIR


class BuildPyWithConfigs(build_py):
    """``build_py``, then ``configs/`` copied into the built package (not for an editable
    install, which reads the repository's configs)."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib).joinpath(*PACKAGED)
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(HERE / "configs", target,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"))


setup(cmdclass={"build_py": BuildPyWithConfigs})
