"""Figures of ``cxsim-analyse`` (PNG and PDF, ``sim.report.plotting``'s palette and titles)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.report.plotting import OKABE_ITO, plt, save, set_title


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def morris(idx: pd.DataFrame, label: str, out: Path, name: str, top: int = 8) -> list[Path]:
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    ax.errorbar(idx.mu_star, idx.sigma, xerr=idx.mu_star_conf, fmt="o", color=OKABE_ITO[5],
                ecolor="#999999", ms=4, lw=0.8)
    hi = max(float(idx.mu_star.max()), float(idx.sigma.max()), 1e-12)
    ax.plot([0, hi], [0, hi], ":", color="#999999", lw=0.8)
    for _, r in idx.sort_values("mu_star", ascending=False).head(top).iterrows():
        ax.annotate(_short(r.parameter), (r.mu_star, r.sigma), fontsize=7,
                    xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel("mu* (mean absolute elementary effect; bars: 95% bootstrap CI)")
    ax.set_ylabel("sigma (spread: interactions, non-linearity)")
    lead = idx.sort_values("mu_star", ascending=False).iloc[0]
    set_title(ax, f"{label}: {_short(lead.parameter)} matters most (mu* {lead.mu_star:,.3g})")
    return save(fig, out, name)


def sobol(idx: pd.DataFrame, label: str, out: Path, name: str) -> list[Path]:
    idx = idx.sort_values("ST", ascending=True)
    fig, ax = plt.subplots(figsize=(6.5, 0.3 * len(idx) + 1.5))
    y = np.arange(len(idx))
    ax.barh(y - 0.2, idx.S1, 0.4, xerr=idx.S1_conf, color=OKABE_ITO[2], label="first order S1",
            error_kw={"lw": 0.8})
    ax.barh(y + 0.2, idx.ST, 0.4, xerr=idx.ST_conf, color=OKABE_ITO[6], label="total ST",
            error_kw={"lw": 0.8})
    ax.set_yticks(y, [_short(p) for p in idx.parameter], fontsize=7)
    ax.set_xlabel("Sobol index (share of variance; bars: 95% bootstrap CI)")
    ax.legend(frameon=False, fontsize=7, loc="lower right")
    lead = idx.iloc[-1]
    set_title(ax, f"{label}: {_short(lead.parameter)} explains the most variance "
                  f"(total {lead.ST:.2f})")
    return save(fig, out, name)


def prim_tradeoff(traj: pd.DataFrame, chosen: int, condition: str, out: Path,
                  name: str) -> list[Path]:
    fig, ax = plt.subplots(figsize=(6, 4.5))
    sc = ax.scatter(traj.coverage, traj.density, c=traj.res_dim, cmap="viridis", s=14)
    fig.colorbar(sc, ax=ax, label="restricted parameters")
    c = traj.loc[chosen]
    ax.scatter([c.coverage], [c.density], s=90, facecolors="none", edgecolors=OKABE_ITO[6],
               lw=1.5, label="chosen box")
    ax.set_xlabel("coverage (share of the condition's points inside the box)")
    ax.set_ylabel("density (share of the box's points meeting the condition)")
    ax.legend(frameon=False, fontsize=7)
    set_title(ax, f"PRIM peeling for '{condition}': the chosen box covers {c.coverage:.0%} "
                  f"at density {c.density:.0%}")
    return save(fig, out, name)


def prim_box(limits: pd.DataFrame, condition: str, coverage: float, density: float, out: Path,
             name: str) -> list[Path]:
    lim = limits.dropna(subset=["low"]).reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(6.5, 0.45 * max(1, len(lim)) + 1.5))
    for i, r in lim.iterrows():
        span = (r.full_high - r.full_low) or 1.0
        lo, hi = (r.low - r.full_low) / span, (r.high - r.full_low) / span
        ax.plot([0, 1], [i, i], color="#cccccc", lw=6, solid_capstyle="butt")
        ax.plot([lo, hi], [i, i], color=OKABE_ITO[5], lw=6, solid_capstyle="butt")
        ax.annotate(f"{r.low:.3g} to {r.high:.3g}", (hi, i), xytext=(4, -3),
                    textcoords="offset points", fontsize=7)
    ax.set_yticks(range(len(lim)), [_short(p) for p in lim.parameter], fontsize=7)
    ax.set_xlim(0, 1.25)
    ax.set_xlabel("position in the sampled range (grey: the whole range; blue: the box)")
    set_title(ax, f"Where '{condition}' holds: {len(lim)} assumption(s) restricted, coverage "
                  f"{coverage:.0%}, density {density:.0%}")
    return save(fig, out, name)


def pareto(trials: pd.DataFrame, objectives: list[str], out: Path, name: str) -> list[Path]:
    x, y = objectives[:2]
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    ax.scatter(trials[x], trials[y], s=12, color="#999999", label="trials")
    front = trials[trials.pareto].sort_values(x)
    ax.plot(front[x], front[y], "o-", color=OKABE_ITO[6], ms=5, lw=1, label="Pareto front")
    ax.set_xlabel(f"{x} (mean over seeds)")
    ax.set_ylabel(f"{y} (mean over seeds)")
    ax.legend(frameon=False, fontsize=7)
    set_title(ax, f"{len(front)} of {len(trials)} lever settings are Pareto-optimal in "
                  f"{x} and {y}")
    return save(fig, out, name)
