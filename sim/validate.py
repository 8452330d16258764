"""Validation: the model's parts agree with theory (cxsim-validate).

A registry of checks. Each check compares one simulated quantity with its published,
exact value and says whether they agree within a tolerance; ``main`` runs them all, prints a
table, writes ``<out>/report.md``, ``<out>/checks.csv``, the tables behind the figures and the
figures (PNG + PDF), and exits non-zero if any check fails.

Adding a check (e.g. calibration of the full model against the stylized facts in
MODEL-NOTES.md): write a function ``f(settings: Settings) -> list[CheckResult]`` and decorate
it with ``@register("name")``. It is then run, tabulated and reported like the others.

Pass rule (per row): |simulated - expected| <= tolerance * |expected|; and, when the
simulated value has a standard error, the check must be able to tell: 3 SE <= tolerance *
|expected|, otherwise it is reported as "underpowered" and counts as a failure (a check
too noisy to fail is not evidence).
"""

from __future__ import annotations

import argparse
import csv
import functools
import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from numba import njit

from sim import analytic as A
from sim import rng as R
from sim.silo_sim import simulate_silo


@dataclass(frozen=True)
class Settings:
    """How hard to look: ``quick`` uses smaller samples (seconds), the default full run
    larger ones (under a minute). ``seed`` is the root seed of every simulation."""
    quick: bool = False
    seed: int = 0


@dataclass(frozen=True)
class CheckResult:
    check: str        # registry name of the check that produced this row
    claim: str        # what is being claimed, in words
    source: str       # where the expected value comes from
    quantity: str     # what is compared, with its unit
    expected: float
    simulated: float
    se: float | None  # standard error of ``simulated`` (None: not a sampled quantity)
    tolerance: float  # relative: |simulated - expected| <= tolerance * |expected|

    @property
    def rel_error(self) -> float:
        return (self.simulated - self.expected) / abs(self.expected)

    @property
    def status(self) -> str:
        scale = self.tolerance * abs(self.expected)
        if not (math.isfinite(self.simulated) and math.isfinite(self.expected)):
            return "fail"
        if abs(self.simulated - self.expected) > scale:
            return "fail"
        if self.se is not None and 3.0 * self.se > scale:
            return "underpowered"
        return "pass"

    @property
    def passed(self) -> bool:
        return self.status == "pass"


CheckFn = Callable[[Settings], list[CheckResult]]
REGISTRY: dict[str, CheckFn] = {}


def register(name: str) -> Callable[[CheckFn], CheckFn]:
    """Add a check function to the registry (run in registration order)."""
    def deco(fn: CheckFn) -> CheckFn:
        if name in REGISTRY:
            raise ValueError(f"a validation check named {name!r} is already registered")
        REGISTRY[name] = fn
        return fn
    return deco


# -- the service silo against queueing theory ------------------------------------------------
# A realistic silo: 5-minute calls, callers who hang up after 10 minutes on average, open 10
# business hours a day (the backlog carries over to the next day, as in the model).
HANDLE_MINUTES = 5.0
PATIENCE_MINUTES = 10.0
OPEN_HOURS = 10.0
TOLERANCE = 0.05
WARMUP_DAYS = 2
# (label, staff, offered utilisation rho = lambda / (c mu), sample size relative to the
# base): heavy load without abandonment has the slowest-mixing queue, so it gets the most
# callers; the sizes give standard errors of about 1% or less of each quantity.
ERLANG_C_CASES = (("light", 5, 0.5, 1.0), ("heavy", 10, 0.9, 3.0))
ERLANG_A_CASES = (("below capacity", 10, 0.8, 1.0), ("at capacity", 10, 1.0, 0.7),
                  ("overload", 10, 1.3, 0.7))
SWEEP_STAFF = 10

SRC_C = "Erlang (1917): M/M/c steady state (Erlang C via the Erlang B recursion)"
SRC_A = ("Palm (1943); Garnett, Mandelbaum & Reiman (2002) MSOM 4:208: M/M/c+M, exact "
         "birth-death chain")
SRC_ID = "Little's law + exponential patience (Garnett, Mandelbaum & Reiman 2002)"
SRC_CLV = "Gupta, Lehmann & Stuart (2004) JMR 41:7: CLV = m r / (1 + i - r)"


def _target_calls(settings: Settings, weight: float) -> int:
    """Callers simulated for a queueing case of relative sample size ``weight``."""
    return int(weight * (3_000_000 if settings.quick else 15_000_000))


def _days_for(arrival_rate: float, calls: int) -> int:
    return max(2, math.ceil(calls / (arrival_rate * 60.0 * OPEN_HOURS)))


@functools.lru_cache(maxsize=64)
def _silo(staff: int, load: float, patience: float | None, calls: int, seed: int) -> dict:
    """Simulate (cached: the Erlang A and the identity checks share their runs)."""
    lam = load * staff / HANDLE_MINUTES
    return simulate_silo(lam, HANDLE_MINUTES, staff, patience, days=_days_for(lam, calls),
                         open_hours=OPEN_HOURS, seed=seed, warmup_days=WARMUP_DAYS)


_QUANTITIES = (("p_wait", "P(wait > 0)"), ("mean_wait", "mean hold, min"),
               ("p_abandon", "P(abandon)"))


@register("erlang_c")
def check_erlang_c(settings: Settings) -> list[CheckResult]:
    """Callers who never hang up: the silo reproduces Erlang C at light and heavy load."""
    rows = []
    for label, staff, load, weight in ERLANG_C_CASES:
        lam = load * staff / HANDLE_MINUTES
        ref = A.erlang_c(lam, HANDLE_MINUTES, staff)
        sim = _silo(staff, load, None, _target_calls(settings, weight), settings.seed)
        for key, name in _QUANTITIES[:2]:
            rows.append(CheckResult(
                "erlang_c", f"no abandonment, {label} load (rho={load}, c={staff}): "
                f"simulated {key} = Erlang C", SRC_C, name, ref[key], sim[key],
                sim[f"{key}_se"], TOLERANCE))
    return rows


@register("erlang_a")
def check_erlang_a(settings: Settings) -> list[CheckResult]:
    """Impatient callers: the silo reproduces Erlang A below, at and above capacity."""
    rows = []
    for label, staff, load, weight in ERLANG_A_CASES:
        lam = load * staff / HANDLE_MINUTES
        ref = A.erlang_a(lam, HANDLE_MINUTES, staff, PATIENCE_MINUTES)
        calls = _target_calls(settings, weight)
        sim = _silo(staff, load, PATIENCE_MINUTES, calls, settings.seed)
        for key, name in _QUANTITIES:
            rows.append(CheckResult(
                "erlang_a", f"patience {PATIENCE_MINUTES:g} min, {label} (rho={load}, "
                f"c={staff}): simulated {key} = Erlang A", SRC_A, name, ref[key], sim[key],
                sim[f"{key}_se"], TOLERANCE))
    return rows


@register("abandonment_identity")
def check_abandonment_identity(settings: Settings) -> list[CheckResult]:
    """P(abandon) = theta E[wait], measured on the simulated callers themselves. The SE
    given is that of P(abandon) alone: conservative, since both sides are estimated from
    the same callers and their errors largely cancel."""
    theta = 1.0 / PATIENCE_MINUTES
    rows = []
    for label, staff, load, weight in ERLANG_A_CASES:
        calls = _target_calls(settings, weight)
        sim = _silo(staff, load, PATIENCE_MINUTES, calls, settings.seed)
        rows.append(CheckResult(
            "abandonment_identity", f"{label} (rho={load}): simulated share abandoned = "
            f"theta x simulated mean hold (theta = 1/{PATIENCE_MINUTES:g} per min)", SRC_ID,
            "P(abandon)", theta * sim["mean_wait"], sim["p_abandon"], sim["p_abandon_se"],
            TOLERANCE))
    return rows


# -- loyalty economics ----------------------------------------------------------------------
CLV_CASES = ((100.0, 0.8, 0.10), (50.0, 0.9, 0.12))  # (margin $/period, retention, discount)


@njit(cache=True)
def _cohort_values(seed, customers, margin, retention, discount, max_periods):
    """Discounted margins of each customer of a cohort, shape (customers,): in each period
    t = 1, 2, ... the customer stays with probability ``retention`` (stream CHURN, keyed by
    customer and period, as the model keys its daily churn draw) and, if they stay, pays
    ``margin`` at the end of the period, discounted by (1 + discount)^-t."""
    out = np.zeros(customers)
    factor = 1.0 / (1.0 + discount)
    for i in range(customers):
        value = 0.0
        d = 1.0
        for t in range(1, max_periods + 1):
            if R.uniform(seed, R.CHURN, i, t, 0) >= retention:
                break
            d *= factor
            value += margin * d
        out[i] = value
    return out


@register("clv")
def check_clv(settings: Settings) -> list[CheckResult]:
    """A simulated cohort with constant margin and retention is worth m r / (1 + i - r)."""
    customers = 200_000 if settings.quick else 2_000_000
    rows = []
    for m, r, i in CLV_CASES:
        # r^max_periods < 1e-30: the truncation is far below the sampling error
        max_periods = int(math.ceil(-30.0 * math.log(10.0) / math.log(r)))
        values = _cohort_values(settings.seed, customers, m, r, i, max_periods)
        rows.append(CheckResult(
            "clv", f"cohort with margin {m:g}/period, retention {r:g}, discount {i:g}: "
            "mean discounted margin = CLV formula", SRC_CLV, "CLV, $",
            A.clv(m, r, i), float(values.mean()),
            float(values.std(ddof=1) / math.sqrt(customers)), TOLERANCE))
    return rows


# -- running, reporting ----------------------------------------------------------------------
def run_checks(settings: Settings, names: list[str] | None = None) -> list[CheckResult]:
    """Run the registered checks (all, or those named) in registration order."""
    unknown = set(names or ()) - set(REGISTRY)
    if unknown:
        raise ValueError(f"unknown validation checks {sorted(unknown)}; known: "
                         f"{list(REGISTRY)}")
    rows: list[CheckResult] = []
    for name, fn in REGISTRY.items():
        if names is None or name in names:
            rows.extend(fn(settings))
    return rows


def erlang_a_sweep(settings: Settings) -> list[dict]:
    """Simulated vs Erlang A (and Erlang C, which ignores abandonment) across loads: the
    table behind the figure."""
    loads = np.round(np.arange(0.5, 1.51, 0.2 if settings.quick else 0.1), 2)
    calls = 1_000_000 if settings.quick else 5_000_000
    rows = []
    for load in loads:
        load = float(load)
        lam = load * SWEEP_STAFF / HANDLE_MINUTES
        ref = A.erlang_a(lam, HANDLE_MINUTES, SWEEP_STAFF, PATIENCE_MINUTES)
        try:
            ref_c = A.erlang_c(lam, HANDLE_MINUTES, SWEEP_STAFF)["mean_wait"]
        except ValueError:  # no steady state without abandonment
            ref_c = math.nan
        sim = _silo(SWEEP_STAFF, load, PATIENCE_MINUTES, calls, settings.seed)
        rows.append({
            "load": load, "staff": SWEEP_STAFF, "handle_minutes": HANDLE_MINUTES,
            "patience_minutes": PATIENCE_MINUTES, "arrival_per_min": lam,
            "erlang_a_mean_wait": ref["mean_wait"], "erlang_a_p_abandon": ref["p_abandon"],
            "erlang_c_mean_wait": ref_c, "sim_mean_wait": sim["mean_wait"],
            "sim_mean_wait_se": sim["mean_wait_se"], "sim_p_abandon": sim["p_abandon"],
            "sim_p_abandon_se": sim["p_abandon_se"], "calls": sim["calls"],
            "seed": settings.seed})
    return rows


def _write_csv(rows: list[dict], path: Path) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _read_csv(path: Path) -> dict[str, np.ndarray]:
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {k: np.array([float(r[k]) for r in rows]) for k in rows[0]}


def plot_erlang_a(table: Path, out: Path) -> list[Path]:
    """Figure from the sweep table only: mean hold and abandonment against load, simulated
    (95% intervals) vs Erlang A (and Erlang C, which ignores abandonment)."""
    from sim.plotting import OKABE_ITO  # sets the Agg backend
    import matplotlib.pyplot as plt

    t = _read_csv(table)
    worst = max(np.max(np.abs(t["sim_mean_wait"] / t["erlang_a_mean_wait"] - 1)),
                np.max(np.abs(t["sim_p_abandon"] / t["erlang_a_p_abandon"] - 1)))
    grid = np.linspace(t["load"].min(), t["load"].max(), 200)
    staff, h, pat = int(t["staff"][0]), t["handle_minutes"][0], t["patience_minutes"][0]
    curve = [A.erlang_a(x * staff / h, h, staff, pat) for x in grid]
    below = grid[grid < 0.97]
    curve_c = [A.erlang_c(x * staff / h, h, staff)["mean_wait"] for x in below]

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    ax = axes[0]
    ax.plot(grid, [c["mean_wait"] for c in curve], color=OKABE_ITO[5], label="Erlang A (exact)")
    ax.plot(below, curve_c, color=OKABE_ITO[0], linestyle="--",
            label="Erlang C (no hang-ups; unbounded at rho >= 1)")
    ax.errorbar(t["load"], t["sim_mean_wait"], yerr=1.96 * t["sim_mean_wait_se"], fmt="o",
                color=OKABE_ITO[6], markersize=5, capsize=3, label="simulated silo (95% CI)")
    ax.set_xlabel("offered load rho = arrivals / capacity (dimensionless)")
    ax.set_ylabel("mean time on hold, all callers (minutes)")
    ax.set_ylim(0, 1.4 * max(t["sim_mean_wait"].max(), curve[-1]["mean_wait"]))
    ax.legend(frameon=False, loc="upper left", fontsize=9)
    ax = axes[1]
    ax.plot(grid, [100 * c["p_abandon"] for c in curve], color=OKABE_ITO[5],
            label="Erlang A (exact)")
    ax.errorbar(t["load"], 100 * t["sim_p_abandon"], yerr=196 * t["sim_p_abandon_se"],
                fmt="o", color=OKABE_ITO[6], markersize=5, capsize=3,
                label="simulated silo (95% CI)")
    ax.set_xlabel("offered load rho = arrivals / capacity (dimensionless)")
    ax.set_ylabel("callers who hang up (% of calls)")
    ax.legend(frameon=False, loc="upper left", fontsize=9)
    fig.suptitle(f"The simulated silo matches Erlang A within {100 * worst:.1f}% from "
                 f"rho = {t['load'].min():g} to {t['load'].max():g} (c = {staff}, handling "
                 f"{h:g} min, patience {pat:g} min)", fontsize=11)
    fig.tight_layout()
    paths = []
    for ext in ("png", "pdf"):
        path = out / f"erlang_a_vs_load.{ext}"
        fig.savefig(path, dpi=150)
        paths.append(path)
    plt.close(fig)
    return paths


def _fmt(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:.4g}"


def format_table(rows: list[CheckResult]) -> str:
    head = f"{'check':<21} {'quantity':<16} {'expected':>10} {'simulated':>10} {'SE':>9} " \
           f"{'rel.err':>8} {'tol':>5}  result"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r.check:<21} {r.quantity:<16} {_fmt(r.expected):>10} "
                     f"{_fmt(r.simulated):>10} {_fmt(r.se):>9} {100 * r.rel_error:>+7.2f}% "
                     f"{100 * r.tolerance:>4.0f}%  {r.status.upper()}")
    return "\n".join(lines)


def write_report(rows: list[CheckResult], out: Path, settings: Settings, seconds: float,
                 figures: list[Path]) -> Path:
    failed = [r for r in rows if not r.passed]
    lines = [
        "# Validation: the model's parts agree with theory",
        "",
        f"**{len(rows) - len(failed)} of {len(rows)} checks pass.** "
        f"Mode: {'quick' if settings.quick else 'full'}, root seed {settings.seed}, "
        f"{seconds:.1f} s.",
        "",
        "Pass rule: |simulated - expected| <= tolerance x |expected|, and a check must be "
        "able to fail: 3 SE <= tolerance x |expected| (otherwise *underpowered*, counted as a "
        "failure). SE: batch means over days for the silo (30 groups of consecutive days), "
        "independent customers for the cohort.",
        "",
        f"Silo set-up (`sim.silo_sim.simulate_silo`, the model's FCFS kernel and persistent "
        f"server heap): Poisson arrivals, exponential handling (mean {HANDLE_MINUTES:g} min) "
        f"and patience (mean {PATIENCE_MINUTES:g} min, or none for Erlang C), open "
        f"{OPEN_HOURS:g} business hours a day with the backlog carried over, first "
        f"{WARMUP_DAYS} days discarded.",
        "",
        "| # | claim | source | quantity | expected | simulated | SE | rel. error | "
        "tolerance | result |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for k, r in enumerate(rows, 1):
        lines.append(f"| {k} | {r.claim} | {r.source} | {r.quantity} | {_fmt(r.expected)} | "
                     f"{_fmt(r.simulated)} | {_fmt(r.se)} | {100 * r.rel_error:+.2f}% | "
                     f"{100 * r.tolerance:.0f}% | {r.status} |")
    lines += ["", "## Figures", ""]
    for path in figures:
        if path.suffix == ".png":
            lines.append(f"![{path.stem}]({path.name})")
    lines += ["", "Tables: `checks.csv` (the rows above), `erlang_a_sweep.csv` (the figure).",
              ""]
    report = out / "report.md"
    report.write_text("\n".join(lines))
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="results/validation", type=Path)
    ap.add_argument("--quick", action="store_true", help="smaller samples (seconds)")
    ap.add_argument("--seed", default=0, type=int, help="root seed of every simulation")
    ap.add_argument("--only", nargs="+", metavar="CHECK", choices=list(REGISTRY),
                    help=f"run only these checks (of {', '.join(REGISTRY)})")
    args = ap.parse_args(None if argv is None else [str(a) for a in argv])
    if args.seed < 0:
        print(f"cxsim-validate: --seed must be >= 0, got {args.seed}", file=sys.stderr)
        return 2
    settings = Settings(quick=args.quick, seed=args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    rows = run_checks(settings, args.only)
    _write_csv([{**asdict(r), "rel_error": r.rel_error, "status": r.status} for r in rows],
               args.out / "checks.csv")
    sweep = args.out / "erlang_a_sweep.csv"
    _write_csv(erlang_a_sweep(settings), sweep)
    figures = plot_erlang_a(sweep, args.out)
    report = write_report(rows, args.out, settings, time.time() - started, figures)
    print(format_table(rows))
    failed = sum(not r.passed for r in rows)
    print(f"\n{len(rows) - failed}/{len(rows)} checks pass; wrote {report} and "
          f"{', '.join(p.name for p in figures)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
