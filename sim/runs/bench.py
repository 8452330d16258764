"""cxsim-bench: how fast the model simulates customers, and how much memory it takes.

Builds and runs the default model (``SimParams()`` with the population size, horizon and
seed given) and prints ONE JSON line:

- ``customers``, ``days``, ``threads``, ``seed``: what was run (``threads``: numba threads);
- ``compile_s``: warming numba's compiled kernels on a tiny run (loading them from the
  on-disk cache, or compiling them the first time); kept out of the two timings below;
- ``build_s``: ``LoyaltyModel(params)``: population, ties, Mesa agents, and the warm start
  of ``burn_in_years`` (``--burn-in-years``; 0 by default here, so that ``build_s``
  measures the set-up alone);
- ``run_s``: ``model.run()``: every simulated day, metrics included;
- ``total_s``: build_s + run_s;
- ``customer_days_per_s``: customers * days / run_s (initial customers);
- ``peak_rss_mb``: the process's peak resident memory (``getrusage`` ru_maxrss);
- with ``--phases``: ``phases_s``, seconds spent in each phase of ``LoyaltyModel.step``
  over the timed run (``sim.core.model.SCHEDULE``: morning, reps, silos, evening, spread,
  acquire, collect);
- with ``--compare-reference``: ``reference_customers``, ``reference_days``,
  ``reference_customer_days_per_s`` (the same model with ``decisions="reference"``, the
  readable Python specification, on a smaller population), ``speedup_vs_reference`` (this
  run's rate over the reference's) and ``speedup_vs_reference_same_size`` (the kernels on
  the reference's own population and horizon, over the reference's), all measured in this
  process.

Timings are measurements of this machine at this moment; nothing here asserts them.

    cxsim-bench --customers 1000000 --days 365 --threads 2 --compare-reference
    python -m sim.runs.bench --customers 1000000 --days 365 --threads 1
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

import numba

from sim.core.model import LoyaltyModel
from sim.core.params import SimParams


def _params(customers: int, days: int, seed: int, burn_in_years: int = 0) -> SimParams:
    p = SimParams()
    p.population.size, p.horizon_days, p.seed = customers, days, seed
    # more customers than the default company: the simulation is the whole company
    p.population.company_size = max(p.population.company_size, customers)
    p.burn_in_years = burn_in_years
    return p


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, MB (ru_maxrss: KB on Linux, bytes on
    macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0


def time_phases(model: LoyaltyModel, spent: dict[str, float]) -> None:
    """Time each phase of the model's day (``model.phases``, in ``sim.core.model.SCHEDULE``
    order): each adds its seconds to ``spent[phase]``."""
    spent.update(dict.fromkeys((name for name, _ in model.phases), 0.0))

    def timed(name, phase):
        def run(day):
            t0 = time.perf_counter()
            try:
                return phase(day)
            finally:
                spent[name] += time.perf_counter() - t0
        return run

    model.phases = [(name, timed(name, phase)) for name, phase in model.phases]


def timed_run(params: SimParams, decisions: str = "kernel",
              phases: dict | None = None) -> tuple[float, float]:
    """(build seconds, run seconds) of one model; ``phases``: a dict to fill with the
    seconds spent in each phase of the step."""
    t0 = time.perf_counter()
    model = LoyaltyModel(params, decisions=decisions, warm_starts=None)  # built afresh
    t1 = time.perf_counter()
    if phases is not None:
        time_phases(model, phases)
    model.run()
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1


def warm_up(seed: int) -> float:
    """Compile (or load from numba's cache) every kernel the model calls; seconds taken."""
    t0 = time.perf_counter()
    LoyaltyModel(_params(200, 3, seed)).run()
    return time.perf_counter() - t0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="cxsim-bench", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--customers", type=int, default=1_000_000, help="initial customers")
    ap.add_argument("--days", type=int, default=365, help="simulated days")
    ap.add_argument("--threads", type=int, default=numba.config.NUMBA_NUM_THREADS,
                    help="numba threads for the parallel kernels")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--burn-in-years", type=int, default=0,
                    help="warm start before day 0, in build_s (the model's default is "
                         f"{SimParams().burn_in_years})")
    ap.add_argument("--compare-reference", action="store_true",
                    help="also time decisions='reference' and report the speedup")
    ap.add_argument("--phases", action="store_true",
                    help="also report the seconds spent in each phase of the daily step")
    ap.add_argument("--reference-customers", type=int, default=2000)
    ap.add_argument("--reference-days", type=int, default=30)
    args = ap.parse_args(argv)
    if args.customers < 1 or args.days < 1:
        ap.error("--customers and --days must be at least 1")
    if args.burn_in_years < 0:
        ap.error(f"--burn-in-years={args.burn_in_years}: must be at least 0")
    if args.reference_customers < 1 or args.reference_days < 1:
        ap.error("--reference-customers and --reference-days must be at least 1")
    if not 1 <= args.threads <= numba.config.NUMBA_NUM_THREADS:
        ap.error(f"--threads={args.threads}: must be in [1, {numba.config.NUMBA_NUM_THREADS}]"
                 " (numba's NUMBA_NUM_THREADS)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    numba.set_num_threads(args.threads)
    compile_s = warm_up(args.seed)
    phases = {} if args.phases else None
    build_s, run_s = timed_run(_params(args.customers, args.days, args.seed,
                                       args.burn_in_years), phases=phases)
    out = {
        "customers": args.customers, "days": args.days, "threads": args.threads,
        "burn_in_years": args.burn_in_years,
        "seed": args.seed, "compile_s": round(compile_s, 3), "build_s": round(build_s, 3),
        "run_s": round(run_s, 3), "total_s": round(build_s + run_s, 3),
        "customer_days_per_s": round(args.customers * args.days / run_s),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
    if phases is not None:
        out["phases_s"] = {k: round(v, 3) for k, v in phases.items()}
    if args.compare_reference:
        small = _params(args.reference_customers, args.reference_days, args.seed)
        cd = args.reference_customers * args.reference_days
        _, ref_s = timed_run(small, decisions="reference")
        _, kernel_s = timed_run(small)
        ref_rate = cd / ref_s
        out.update({
            "reference_customers": args.reference_customers,
            "reference_days": args.reference_days,
            "reference_customer_days_per_s": round(ref_rate),
            "speedup_vs_reference": round(out["customer_days_per_s"] / ref_rate, 1),
            "speedup_vs_reference_same_size": round(cd / kernel_s / ref_rate, 1),
        })
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
