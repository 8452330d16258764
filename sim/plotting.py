"""Figures and tables from result files only (never from a live model).

Colours: the Okabe-Ito palette (safe for colour-blind readers). Every figure is written as
PNG and PDF; every title states the finding it shows.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

from sim.metrics import REASONS  # noqa: E402

OKABE_ITO = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00",
             "#CC79A7")


def mean_ci(values, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and the t-based confidence interval (lower, upper) of independent replications."""
    x = np.asarray(values, dtype=float)
    m = float(x.mean())
    if x.size < 2:
        return m, float("nan"), float("nan")
    half = float(stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size))
    return m, m - half, m + half


def _save(fig, out: Path, name: str) -> None:
    fig.tight_layout()
    for ext in ("png", "pdf"):
        fig.savefig(out / f"{name}.{ext}", dpi=150)
    plt.close(fig)


def _colours(policies) -> dict:
    return {p: OKABE_ITO[k % len(OKABE_ITO)] for k, p in enumerate(policies)}


def retention_curves(daily: pd.DataFrame, out: Path, policies) -> None:
    fig, ax = plt.subplots(figsize=(7, 4.2))
    colour = _colours(policies)
    final = {}
    for p in policies:
        d = daily[daily.policy == p]
        start = d[d.day == 0].set_index("seed")["active"]
        share = d.assign(share=d.active / d.seed.map(start)).pivot(
            index="day", columns="seed", values="share")
        m = share.mean(axis=1)
        n = share.shape[1]
        half = stats.t.ppf(0.975, n - 1) * share.std(axis=1, ddof=1) / np.sqrt(n)
        ax.plot(m.index / 365, 100 * m, color=colour[p], label=p)
        ax.fill_between(m.index / 365, 100 * (m - half), 100 * (m + half), color=colour[p],
                        alpha=0.2, linewidth=0)
        final[p] = m.iloc[-1]
    best, worst = max(final, key=final.get), min(final, key=final.get)
    ax.set(xlabel="years", ylabel="customers active (% of start)",
           title=f"{best} keeps the most customers, {worst} the fewest (95% bands)")
    ax.legend(frameon=False, fontsize=8)
    _save(fig, out, "retention_curves")


def paired_differences(runs: pd.DataFrame, out: Path, policies, baseline: str = "baseline"):
    """Per-seed differences against the baseline, with 95% intervals: short-term revenue
    against multi-year profit."""
    base = runs[runs.policy == baseline].set_index("seed")
    rows = []
    for p in policies:
        if p == baseline:
            continue
        r = runs[runs.policy == p].set_index("seed")
        for metric in ("revenue_year1", "npv_profit", "churned"):
            m, lo, hi = mean_ci((r[metric] - base[metric]).dropna())
            rows.append({"policy": p, "metric": metric, "mean": m, "ci_low": lo, "ci_high": hi})
    diff = pd.DataFrame(rows)
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.2), sharey=True)
    others = [p for p in policies if p != baseline]
    y = np.arange(len(others))
    for ax, metric, label in zip(axes, ("revenue_year1", "npv_profit"),
                                 ("year-one revenue", "NPV of profit, whole horizon")):
        d = diff[diff.metric == metric].set_index("policy").loc[others]
        ax.errorbar(d["mean"] / 1e3, y, xerr=[(d["mean"] - d.ci_low) / 1e3,
                                              (d.ci_high - d["mean"]) / 1e3],
                    fmt="o", color=OKABE_ITO[5], capsize=3)
        ax.axvline(0, color="grey", linewidth=0.8)
        ax.set(xlabel=f"{label} vs {baseline} (thousands)", yticks=y, yticklabels=others)
    short = diff[(diff.metric == "revenue_year1") & (diff["mean"] > 0)].policy
    long = diff[(diff.metric == "npv_profit") & (diff["mean"] < 0)].policy
    both = sorted(set(short) & set(long))
    fig.suptitle(("Short-term gain, long-term loss: " + ", ".join(both)) if both else
                 "Year-one revenue against multi-year profit, paired by seed (95% CI)")
    _save(fig, out, "paired_differences")
    return diff


def holds(daily: pd.DataFrame, out: Path, policies) -> None:
    fig, ax = plt.subplots(figsize=(7, 4.2))
    colour = _colours(policies)
    worst = None
    for p in policies:
        d = daily[daily.policy == p].groupby("day")["hold_minutes_max"].mean()
        ax.plot(d.index / 365, d.values / 60, color=colour[p], label=p, linewidth=1)
        if worst is None or d.max() > worst[1]:
            worst = (p, d.max())
    ax.axhline(2, color="grey", linestyle="--", linewidth=0.8)
    ax.text(0.01, 2, " 2-hour promise", va="bottom", fontsize=8, color="grey")
    ax.set(xlabel="years", ylabel="longest hold of the day (hours, mean over seeds)",
           title=f"Holds run longest under {worst[0]} ({worst[1] / 60:.0f} h at worst)")
    ax.legend(frameon=False, fontsize=8)
    _save(fig, out, "holds")


def churn_by_reason(runs: pd.DataFrame, out: Path, policies) -> None:
    fig, ax = plt.subplots(figsize=(7, 4.2))
    means = runs.groupby("policy")[[f"churned_{r}" for r in REASONS]].mean().loc[list(policies)]
    left = np.zeros(len(policies))
    for k, r in enumerate(REASONS):
        ax.barh(list(policies), means[f"churned_{r}"], left=left, color=OKABE_ITO[k + 1], label=r)
        left += means[f"churned_{r}"].to_numpy()
    top = means.sum(axis=1).idxmax()
    ax.set(xlabel="customers lost over the horizon (mean over seeds)",
           title=f"{top} loses the most customers; reasons by colour")
    ax.legend(frameon=False, fontsize=8, ncol=len(REASONS))
    _save(fig, out, "churn_by_reason")


def headline_report(out: Path) -> None:
    out = Path(out)
    runs = pd.read_parquet(out / "runs.parquet")
    daily = pd.read_parquet(out / "daily.parquet")
    policies = list(dict.fromkeys(runs.policy))
    retention_curves(daily, out, policies)
    diff = paired_differences(runs, out, policies)
    holds(daily, out, policies)
    churn_by_reason(runs, out, policies)
    lines = ["# Headline study", "",
             f"{runs.seed.nunique()} paired replications per policy, "
             f"{int(runs.customers_start.iloc[0]):,} customers, {int(runs.days.iloc[0])} days. "
             "Mean [95% CI] across replications.", "",
             "| policy | annual retention | churned | year-one revenue | NPV of profit | "
             "mean hold (min) | longest hold (min) | abandonment | NPS |",
             "|---|---|---|---|---|---|---|---|---|"]
    for p in policies:
        r = runs[runs.policy == p]
        cells = []
        for col, fmt in (("retention_annual", "{:.3f}"), ("churned", "{:,.0f}"),
                         ("revenue_year1", "{:,.0f}"), ("npv_profit", "{:,.0f}"),
                         ("hold_minutes_mean", "{:.1f}"), ("hold_minutes_max", "{:.0f}"),
                         ("abandonment_rate", "{:.3f}"), ("nps_mean", "{:.1f}")):
            m, lo, hi = mean_ci(r[col])
            cells.append(f"{fmt.format(m)} [{fmt.format(lo)}, {fmt.format(hi)}]")
        lines.append(f"| {p} | " + " | ".join(cells) + " |")
    lines += ["", "## Paired differences against the baseline (same seeds)", "",
              "| policy | metric | mean | 95% CI |", "|---|---|---|---|"]
    for row in diff.itertuples():
        lines.append(f"| {row.policy} | {row.metric} | {row.mean:,.0f} | "
                     f"[{row.ci_low:,.0f}, {row.ci_high:,.0f}] |")
    lines += ["", "## Figures", ""] + [f"![{n}]({n}.png)" for n in (
        "retention_curves", "paired_differences", "holds", "churn_by_reason")]
    (out / "report.md").write_text("\n".join(lines) + "\n")
