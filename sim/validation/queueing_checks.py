"""Validation checks of the model's parts against exact theory.

The service silo simulated in isolation (``sim.validation.silo_sim.simulate_silo``, the
model's FCFS kernel) against Erlang C and Erlang A (``sim.validation.analytic``), the
abandonment identity P(abandon) = theta E[wait] on the simulated callers, and a simulated
cohort against the CLV formula. Also the Erlang A sweep across loads (``erlang_a_sweep``,
the table behind the figure) and its figure (``plot_erlang_a``), and ``SILO_SETUP``, the
report's description of the silo runs.
"""

from __future__ import annotations

import csv
import functools
import math
from pathlib import Path
from typing import Callable

import numpy as np
from numba import njit

from sim.core import rng as R
from sim.report.stats import sem
from sim.validation import analytic as A
from sim.validation.registry import CheckResult, Settings, register
from sim.validation.silo_sim import simulate_silo


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
# the report's description of the silo runs
SILO_SETUP = (
    "Silo set-up (`sim.validation.silo_sim.simulate_silo`, the model's FCFS kernel and "
    "persistent server heap): Poisson arrivals, exponential handling (mean "
    f"{HANDLE_MINUTES:g} min) and patience (mean {PATIENCE_MINUTES:g} min, or none for Erlang C), open "
    f"{OPEN_HOURS:g} business hours a day with the backlog carried over, first "
    f"{WARMUP_DAYS} days discarded.")


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


def _silo_rows(check: str, settings: Settings, cases: tuple, patience: float | None,
               reference: Callable[[float, int], dict], quantities: tuple, claim: str,
               source: str) -> list[CheckResult]:
    """One row per case and quantity: the simulated silo against ``reference(lambda, c)``;
    ``claim`` is formatted with the case's label, load, staff and the quantity's key."""
    rows = []
    for label, staff, load, weight in cases:
        lam = load * staff / HANDLE_MINUTES
        ref = reference(lam, staff)
        sim = _silo(staff, load, patience, _target_calls(settings, weight), settings.seed)
        for key, name in quantities:
            rows.append(CheckResult(
                check, claim.format(label=label, load=load, staff=staff, key=key), source,
                name, ref[key], sim[key], sim[f"{key}_se"], TOLERANCE))
    return rows


@register("erlang_c")
def check_erlang_c(settings: Settings) -> list[CheckResult]:
    """Callers who never hang up: the silo reproduces Erlang C at light and heavy load."""
    return _silo_rows(
        "erlang_c", settings, ERLANG_C_CASES, None,
        lambda lam, staff: A.erlang_c(lam, HANDLE_MINUTES, staff), _QUANTITIES[:2],
        "no abandonment, {label} load (rho={load}, c={staff}): simulated {key} = Erlang C",
        SRC_C)


@register("erlang_a")
def check_erlang_a(settings: Settings) -> list[CheckResult]:
    """Impatient callers: the silo reproduces Erlang A below, at and above capacity."""
    return _silo_rows(
        "erlang_a", settings, ERLANG_A_CASES, PATIENCE_MINUTES,
        lambda lam, staff: A.erlang_a(lam, HANDLE_MINUTES, staff, PATIENCE_MINUTES),
        _QUANTITIES, f"patience {PATIENCE_MINUTES:g} min, {{label}} (rho={{load}}, "
        "c={staff}): simulated {key} = Erlang A", SRC_A)


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
            sem(values), TOLERANCE))
    return rows


# -- the figure: the silo against Erlang A across loads ----------------------------------------
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



def _read_csv(path: Path) -> dict[str, np.ndarray]:
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {k: np.array([float(r[k]) for r in rows]) for k in rows[0]}


def plot_erlang_a(table: Path, out: Path) -> list[Path]:
    """Figure from the sweep table only: mean hold and abandonment against load, simulated
    (95% intervals) vs Erlang A (and Erlang C, which ignores abandonment)."""
    from sim.report.plotting import OKABE_ITO, save  # sets the Agg backend
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
    return save(fig, out, "erlang_a_vs_load")
