"""Plain helpers used by several test files: ``from tests.helpers import make``.

Fixtures shared by several files are in ``tests/conftest.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sim.core.params import SimParams
from sim.runs.config import CONFIG_DIR, compose, params_from_cfg

REPO = Path(__file__).resolve().parents[1]
POLICIES = sorted(p.stem for p in (CONFIG_DIR / "policy").glob("*.yaml"))
SMALL = ["population.size=400", "horizon_days=40"]
TINY = ["population.size=300", "horizon_days=60", "population.journey_sample=50"]


def make(size=400, days=60, seed=0, burn_in_years=0, **policy) -> SimParams:
    """Default parameters with population size, horizon, seed and policy values set. No
    warm start unless asked (a mechanism is tested from the drawn population; the warm
    start has tests of its own)."""
    p = SimParams()
    p.population.size, p.horizon_days, p.seed = size, days, seed
    p.burn_in_years = burn_in_years
    for key, value in policy.items():
        setattr(p.policy, key, value)
    return p


def busy_policy() -> dict:
    """Every mechanism switched on at once, so the reference check covers them all."""
    return dict(price_change=0.6, price_target="all", explanation="none", review_call=True,
                price_walking_per_year=0.05, staffing_factor=0.3, promise="fixed",
                outreach_per_customer_year=6.0, outreach_relevance=0.3, retention_save=0.3,
                self_service_push=0.5, incident_day=10, incident_issue_multiplier=5.0,
                listening=True, listening_delay_days=20)


def small_params(*overrides: str) -> SimParams:
    """The parameters ``cxsim-run`` composes for a small run (SMALL) with overrides."""
    return params_from_cfg(compose([*SMALL, *overrides]))


def script_env() -> dict:
    """The environment for a console script in a subprocess: this checkout's ``sim`` first
    on the path, and no HYDRA_FULL_ERROR (the scripts' one-line errors are tested)."""
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    return env


def cxsim_run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``cxsim-run`` with these arguments in a subprocess, its output captured."""
    return subprocess.run([sys.executable, "-m", "sim.runs.cli", *args], cwd=cwd,
                          env=script_env(), capture_output=True, text=True, timeout=300)
