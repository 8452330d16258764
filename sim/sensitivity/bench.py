"""Sweep benchmark: the overhead per run of a sample-design sweep on top of the simulation.

    python -m sim.sensitivity.bench --customers 10000 --days 1095 --trajectories 10

1. One run in this process (numba on every core), after a small run that compiles: its
   customer-days per second.
2. The Morris screen of ``configs/uncertainty/silent_hike.yaml`` (20 assumptions; 10
   trajectories: 210 points) under the baseline and the silent hike, as ``cxsim-run -m``
   with the joblib launcher (one worker per core, one numba thread each) into a fresh
   results directory, collection included.

Prints one JSON line: the sweep's wall time and runs, the simulation's own time per run
(``wall_seconds`` of the manifests: building and running the model), the overhead per run
(wall time x workers / runs - simulation time per run: composing, process start, Hydra's
bookkeeping, writing and collecting results), and both customer-days per second.
``--burn-in-years`` 0 by default: the warm start multiplies every run's simulated years.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sim.runs import io as sim_io


def single_run(customers: int, days: int, burn_in: int) -> dict:
    from sim.runs.cli import run
    from sim.runs.config import compose, params_from_cfg
    with tempfile.TemporaryDirectory() as tmp:
        small = params_from_cfg(compose(["population.size=300", "horizon_days=20",
                                         "burn_in_years=0"]))
        run(small, Path(tmp) / "compile")
        params = params_from_cfg(compose([f"population.size={customers}",
                                          f"horizon_days={days}",
                                          f"burn_in_years={burn_in}", "policy=silent_hike"]))
        started = time.perf_counter()
        run(params, Path(tmp) / "one")
        wall = time.perf_counter() - started
    return {"single_run_s": wall, "single_customer_days_per_s": customers * days / wall}


def sweep(customers: int, days: int, burn_in: int, trajectories: int, workers: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "sim.runs.cli", "-m", "experiment=sensitivity_silent_hike",
               "policy=baseline,silent_hike", "seed=0", f"population.size={customers}",
               f"horizon_days={days}", f"burn_in_years={burn_in}",
               f"hydra.sweeper.n={trajectories}", f"hydra.launcher.n_jobs={workers}",
               f"results_dir={tmp}", "study=bench"]
        started = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - started
        if proc.returncode:
            raise SystemExit(f"sweep failed: {proc.stderr[-2000:]}")
        found, _ = sim_io.scan_runs(Path(tmp) / "bench")
        sims = [m["wall_seconds"] for _, m in found]
    runs = len(sims)
    sim_s = sum(sims) / runs
    return {"sweep_wall_s": wall, "runs": runs, "workers": workers,
            "simulation_s_per_run": sim_s, "overhead_s_per_run": wall * workers / runs - sim_s,
            "sweep_customer_days_per_s": runs * customers * days / wall}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.sensitivity.bench",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=1095)
    ap.add_argument("--burn-in-years", type=int, default=0)
    ap.add_argument("--trajectories", type=int, default=10)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args(argv)
    out = {"customers": args.customers, "days": args.days, "burn_in_years": args.burn_in_years,
           **single_run(args.customers, args.days, args.burn_in_years),
           **sweep(args.customers, args.days, args.burn_in_years, args.trajectories,
                   args.workers)}
    out["sweep_share_of_single"] = out["sweep_customer_days_per_s"] / \
        out["single_customer_days_per_s"]
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
