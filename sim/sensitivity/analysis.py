"""Indices of a sample-design study: which assumptions drive an answer.

A study made by a sample-design sweeper (``sim.sensitivity.sweeper.SamplingSweeper``) has
``design.json`` (the points) and, once collected, ``runs.parquet`` (one row per run). Each run
is mapped back to its point by its parameter values (``point_of_runs``). A *target* is one
number per point: a policy's summary number (``silent_hike:customer_equity``) or a paired
difference between two policies at the same point and seed (``silent_hike-baseline:
customer_equity``: common random numbers), averaged over the seeds.

``morris_indices`` and ``sobol_indices`` wrap SALib (Morris mu*, mu, sigma with a bootstrap CI
of mu*; Sobol first-order and total indices with bootstrap CIs).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.core.params import ParamError

CONF = 0.95
TARGET = re.compile(r"^(?P<a>[A-Za-z0-9_.]+)(?:-(?P<b>[A-Za-z0-9_.]+))?:(?P<metric>\w+)$")


@dataclass(frozen=True)
class Target:
    policy: str
    reference: str | None
    metric: str

    @property
    def label(self) -> str:
        ref = f"-{self.reference}" if self.reference else ""
        return f"{self.policy}{ref}:{self.metric}"

    @property
    def text(self) -> str:
        if self.reference:
            return f"{self.metric} of {self.policy} minus {self.reference}"
        return f"{self.metric} of {self.policy}"

    @classmethod
    def parse(cls, text: str) -> "Target":
        m = TARGET.match(text.strip())
        if not m:
            raise ParamError(f"{text}: a target is policy:metric or policy-reference:metric "
                             "(e.g. silent_hike-baseline:customer_equity)")
        return cls(m["a"], m["b"], m["metric"])


def _key(value) -> object:
    if isinstance(value, (bool, np.bool_)) or isinstance(value, str):
        return str(value)
    return float(f"{float(value):.10g}")  # Hydra's float parsing may move the last digit


def point_of_runs(runs: pd.DataFrame, design: dict) -> pd.Series:
    """For each run (row of ``runs``), the index of the first design point with its values
    (NaN for a run of no point of this design, e.g. of an earlier design)."""
    names = design["names"]
    missing = [n for n in names if n not in runs.columns]
    if missing:
        raise ParamError(f"runs.parquet has no column {missing[0]}: the runs are not of this "
                         "design")
    first: dict[tuple, int] = {}
    for i, values in enumerate(design["values"]):
        first.setdefault(tuple(_key(values[n]) for n in names), i)
    keys = [tuple(_key(v) for v in row) for row in runs[names].itertuples(index=False)]
    return pd.Series([first.get(k, np.nan) for k in keys], index=runs.index, dtype=float)


def point_table(runs: pd.DataFrame, design: dict, metrics: Sequence[str]) -> pd.DataFrame:
    """One row per (design point, policy, seed) with ``metrics``; a point visited twice
    (Morris) gets the same runs."""
    names = design["names"]
    first = point_of_runs(runs, design)
    keyed = runs.assign(_first=first).dropna(subset=["_first"])
    # every point index whose values equal a first point's: duplicates share runs
    dup = {}
    seen: dict[tuple, int] = {}
    for i, values in enumerate(design["values"]):
        k = tuple(_key(values[n]) for n in names)
        dup.setdefault(seen.setdefault(k, i), []).append(i)
    rows = []
    for _, r in keyed.iterrows():
        for i in dup[int(r._first)]:
            rows.append({"point": i, "policy": r.policy, "seed": int(r.seed),
                         **{m: r[m] for m in metrics}})
    return pd.DataFrame(rows, columns=["point", "policy", "seed", *metrics])


def target_values(points: pd.DataFrame, target: Target, n_points: int) -> np.ndarray:
    """The target at every point (mean over seeds; a difference is taken seed by seed
    first). ParamError naming the missing points if any point lacks its runs."""
    def per(policy: str) -> pd.Series:
        got = points[points.policy == policy].set_index(["point", "seed"])[target.metric]
        if got.empty:
            raise ParamError(f"{target.label}: no runs of policy {policy} "
                             f"(policies: {', '.join(sorted(points.policy.unique()))})")
        return got

    if target.metric not in points.columns:
        raise ParamError(f"{target.label}: {target.metric} is not a summary number of the runs")
    a = per(target.policy)
    y = a - per(target.reference) if target.reference else a
    y = y.dropna().groupby(level="point").mean()
    missing = sorted(set(range(n_points)) - set(y.index.astype(int)))
    if missing:
        raise ParamError(f"{target.label}: {len(missing)} of {n_points} points have no "
                         f"complete paired runs (first: point {missing[0]}); run the sweep "
                         "again to finish them")
    return y.sort_index().to_numpy(float)


def morris_indices(problem: dict, X: np.ndarray, Y: np.ndarray, levels: int,
                   seed: int = 0, resamples: int = 1000) -> pd.DataFrame:
    from SALib.analyze import morris
    res = morris.analyze(problem, X, Y, num_resamples=resamples, conf_level=CONF,
                         num_levels=levels, seed=seed)
    return pd.DataFrame({"parameter": problem["names"], "mu": res["mu"],
                         "mu_star": res["mu_star"], "mu_star_conf": res["mu_star_conf"],
                         "sigma": res["sigma"]})


def sobol_indices(problem: dict, Y: np.ndarray, second_order: bool = False, seed: int = 0,
                  resamples: int = 1000) -> pd.DataFrame:
    """First-order (S1) and total (ST) indices with the half-widths of their bootstrap
    95% intervals (``S1_conf``, ``ST_conf``)."""
    from SALib.analyze import sobol
    res = sobol.analyze(problem, Y, calc_second_order=second_order, num_resamples=resamples,
                        conf_level=CONF, seed=seed)
    return pd.DataFrame({"parameter": problem["names"], "S1": res["S1"],
                         "S1_conf": res["S1_conf"], "ST": res["ST"], "ST_conf": res["ST_conf"]})


def indices(design: dict, Y: np.ndarray, seed: int = 0, resamples: int = 1000) -> pd.DataFrame:
    """The design's method's indices of ``Y`` (empty for a Latin hypercube: no indices)."""
    problem = {"num_vars": len(design["names"]), "names": design["names"],
               "bounds": design["bounds"]}
    method = design["method"]
    if method == "morris":
        return morris_indices(problem, design["X"], Y, design["settings"]["levels"], seed,
                              resamples)
    if method == "sobol":
        return sobol_indices(problem, Y, design["settings"].get("second_order", False), seed,
                             resamples)
    return pd.DataFrame({"parameter": design["names"]})


def default_targets(policies: Sequence[str], metrics: Sequence[str],
                    baseline: str = "baseline") -> list[Target]:
    """Each policy's metrics; each other policy minus the baseline; the silent hike minus
    the explained hike when both are in the study."""
    out = [Target(p, None, m) for p in policies for m in metrics]
    if baseline in policies:
        out += [Target(p, baseline, m) for p in policies if p != baseline for m in metrics]
    if "silent_hike" in policies and "explained_hike" in policies:
        out += [Target("silent_hike", "explained_hike", m) for m in metrics]
    return out
