"""Figures from result tables only (never from a live model): ``sim.report.report`` draws a study.

Colours: the Okabe-Ito palette (safe for colour-blind readers), with line styles once the
eight colours are used up. Every figure is written as PNG and PDF, its axes carry units, and
its title states the finding, computed from the data it shows.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.core.metrics import REASONS  # noqa: E402
from sim.report.stats import t_half_width  # noqa: E402

OKABE_ITO = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00",
             "#CC79A7")
LINESTYLES = ("-", "--", ":", "-.")
MARKERS = ("o", "s", "D", "^")
FORMATS = ("png", "pdf")


def save(fig, out: Path, name: str) -> list[Path]:
    """Write ``fig`` as ``out/name.png`` and ``.pdf`` and close it."""
    fig.tight_layout()
    paths = [out / f"{name}.{ext}" for ext in FORMATS]
    for path in paths:
        fig.savefig(path, dpi=150, bbox_inches="tight")  # legends below the axes included
    plt.close(fig)
    return paths


def style(k: int) -> dict:
    """Colour and line style of the k-th scenario (for lines)."""
    return {"color": OKABE_ITO[k % len(OKABE_ITO)],
            "linestyle": LINESTYLES[(k // len(OKABE_ITO)) % len(LINESTYLES)]}


def marker(k: int) -> str:
    """Marker of the k-th scenario (for points): a new shape once the colours repeat."""
    return MARKERS[(k // len(OKABE_ITO)) % len(MARKERS)]


CHARS_PER_INCH = 13  # of a 9-point title


def set_title(target, text: str) -> None:
    """A figure's finding as its title, wrapped to the width of ``target`` (an axes or a
    figure)."""
    if hasattr(target, "suptitle"):
        inches = target.get_figwidth()
    else:
        inches = target.get_position().width * target.figure.get_figwidth()
    text = textwrap.fill(text, max(40, int(inches * CHARS_PER_INCH)))
    if hasattr(target, "suptitle"):
        target.suptitle(text, fontsize=9)
    else:
        target.set_title(text, fontsize=9)


def _legend(ax, n: int) -> None:
    ax.legend(frameon=False, fontsize=7, ncol=1 if n <= 8 else 2)


def retention_curves(daily: pd.DataFrame, scenarios: Sequence[str], out: Path) -> list[Path]:
    """Customers active as a share of the start, mean per scenario with the 95% band of the
    mean across replications (seeds)."""
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    start = daily[daily.day == daily.day.min()].set_index("run")["active"]
    share = daily.assign(share=100 * daily.active / daily.run.map(start))
    stats = share.groupby(["scenario", "day"])["share"].agg(["mean", "std", "count"])
    final = {}
    for k, name in enumerate(scenarios):
        s = stats.loc[name]
        half = t_half_width(s["std"], s["count"])
        years = s.index.to_numpy() / 365
        ax.plot(years, s["mean"], label=name, linewidth=1.3, **style(k))
        ax.fill_between(years, s["mean"] - half, s["mean"] + half, alpha=0.18, linewidth=0,
                        color=style(k)["color"])
        final[name] = s["mean"].iloc[-1]
    best, worst = max(final, key=final.get), min(final, key=final.get)
    horizon = (stats.index.get_level_values("day").max() + 1) / 365
    text = (f"After {horizon:.1f} years {best} keeps {final[best]:.1f}% of its customers, "
             f"{worst} {final[worst]:.1f}%") if best != worst else \
        f"After {horizon:.1f} years {best} keeps {final[best]:.1f}% of its customers"
    ax.set(xlabel="time (years)", ylabel="customers active (% of start)")
    set_title(ax, text)
    _legend(ax, len(scenarios))
    return save(fig, out, "retention_curves")


METRIC_LABELS = {"churned": ("customers lost", 1.0, "customers"),
                 "retention_annual": ("annual retention", 100.0, "percentage points"),
                 "revenue_year1": ("year-one revenue", 1e-3, "thousands"),
                 "profit_year1": ("year-one profit", 1e-3, "thousands"),
                 "npv_profit": ("NPV of profit", 1e-3, "thousands"),
                 "future_value": ("future value of customers left", 1e-3, "thousands"),
                 "customer_equity": ("customer equity", 1e-3, "thousands")}


def paired_differences(diff: pd.DataFrame, metrics: Sequence[str], out: Path) -> list[Path]:
    """Per scenario, the mean paired difference against its reference with its 95% CI, one
    panel per metric (``METRIC_LABELS``); the title counts the scenarios that lose and gain
    NPV of profit and customer equity, of those shown. ``diff``: rows pair (scenario vs
    reference), metric, mean, ci_low, ci_high."""
    scenarios = list(dict.fromkeys(diff.pair))
    y = np.arange(len(scenarios))
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.3 * len(metrics) + 1.5,
                                                        1.2 + 0.35 * len(scenarios)),
                             sharey=True, squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        label, scale, unit = METRIC_LABELS[metric]
        d = diff[diff.metric == metric].set_index("pair").loc[scenarios]
        ax.errorbar(d["mean"] * scale, y, xerr=[(d["mean"] - d.ci_low) * scale,
                                                (d.ci_high - d["mean"]) * scale],
                    fmt="o", color=OKABE_ITO[5], capsize=3, markersize=4)
        ax.axvline(0, color="grey", linewidth=0.8)
        ax.set(xlabel=f"{label} vs reference ({unit})", yticks=y, yticklabels=scenarios)
        ax.invert_yaxis()

    def verdict(metric: str, label: str) -> str:
        d = diff[diff.metric == metric]
        return (f"{label}: {(d.ci_high < 0).sum()} of {len(d)} comparisons lose and "
                f"{(d.ci_low > 0).sum()} gain")

    shown = [verdict(m, METRIC_LABELS[m][0]) for m in ("npv_profit", "customer_equity")
             if m in metrics]
    set_title(fig, ("; ".join(shown) or verdict(metrics[0], METRIC_LABELS[metrics[0]][0]))
              + " against their reference (paired by seed, 95% CI)")
    return save(fig, out, "paired_differences")


def paired_over_time(gaps: pd.DataFrame, turning: dict[str, tuple[str, int | None]],
                     out: Path) -> list[Path]:
    """Per pair (scenario vs its reference), the paired gap by day with its 95% band across
    seeds: customers active (left) and cumulative profit since day 0 (right). ``gaps``: rows
    pair, day, metric ("customers", "cumulative_profit"), mean, ci_low, ci_high
    (``sim.report.report.gaps_over_time``); ``turning``: per pair, when its cumulative
    profit gain is gone or its loss recovered (``sim.report.report.turning_day``)."""
    names = list(dict.fromkeys(gaps.pair))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
    for ax, (metric, label, scale) in zip(axes, (
            ("customers", "customers active vs reference", 1.0),
            ("cumulative_profit", "cumulative profit vs reference (thousands)", 1e-3))):
        for k, name in enumerate(names):
            g = gaps[(gaps.pair == name) & (gaps.metric == metric)]
            years = g.day.to_numpy() / 365
            ax.plot(years, g["mean"] * scale, label=name, linewidth=1.3, **style(k))
            ax.fill_between(years, g.ci_low * scale, g.ci_high * scale, alpha=0.18,
                            linewidth=0, color=style(k)["color"])
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.set(xlabel="time (years)", ylabel=label)
    gone = {n: d for n, (kind, d) in turning.items() if kind == "gone"}
    if gone:
        first = min(gone, key=gone.get)
        text = (f"{first}: the profit gained early is gone after {gone[first] / 365:.1f} "
                f"years" + (f" ({len(gone) - 1} more pair(s) turn too)" if len(gone) > 1
                            else "") + "; paired by seed, 95% bands")
    else:
        text = "No scenario's early profit gain turns into a loss within the horizon " \
               "(paired by seed, 95% bands)"
    set_title(fig, text)
    axes[1].legend(frameon=False, fontsize=7, loc="upper center", ncol=2,
                   bbox_to_anchor=(-0.1, -0.15))
    return save(fig, out, "paired_over_time")


def revenue_vs_profit(diff: pd.DataFrame, horizon_years: float, out: Path) -> list[Path]:
    """Year-one revenue against multi-year NPV of profit, both as paired differences against
    the reference, with 95% CIs in both directions: the short-term trade-off."""
    rev = diff[diff.metric == "revenue_year1"].set_index("pair")
    npv = diff[diff.metric == "npv_profit"].set_index("pair").loc[rev.index]
    fig, ax = plt.subplots(figsize=(7, 5))
    for k, name in enumerate(rev.index):
        ax.errorbar(rev.loc[name, "mean"] / 1e3, npv.loc[name, "mean"] / 1e3,
                    xerr=[[(rev.loc[name, "mean"] - rev.loc[name, "ci_low"]) / 1e3],
                          [(rev.loc[name, "ci_high"] - rev.loc[name, "mean"]) / 1e3]],
                    yerr=[[(npv.loc[name, "mean"] - npv.loc[name, "ci_low"]) / 1e3],
                          [(npv.loc[name, "ci_high"] - npv.loc[name, "mean"]) / 1e3]],
                    fmt=marker(k), capsize=2, markersize=5, label=name,
                    color=style(k)["color"])
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.axvline(0, color="grey", linewidth=0.8)
    trade = [n for n in rev.index if rev.loc[n, "ci_low"] > 0 and npv.loc[n, "ci_high"] < 0]
    both = [n for n in rev.index if rev.loc[n, "ci_low"] > 0 and npv.loc[n, "ci_low"] > 0]
    if trade:
        text = "Short-term gain, long-term loss: " + ", ".join(trade)
    elif both:
        text = "Year-one revenue and multi-year profit both rise under " + ", ".join(both)
    else:
        text = "No scenario trades year-one revenue for multi-year profit (95% CIs)"
    ax.set(xlabel="year-one revenue vs reference (thousands)",
           ylabel=f"NPV of profit over {horizon_years:.1f} years vs reference (thousands)")
    set_title(ax, text)
    _legend(ax, len(rev))
    return save(fig, out, "revenue_vs_profit")


def heatmaps(cells: pd.DataFrame, x: str, y: str, out: Path) -> list[Path]:
    """Mean annual retention and mean NPV of profit over two swept parameters. ``cells``:
    one row per (x, y) with columns retention_annual and npv_profit (means over seeds)."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, (col, label, scale, cmap) in zip(axes, (
            ("retention_annual", "annual retention (%)", 100.0, "cividis"),
            ("npv_profit", "NPV of profit (thousands)", 1e-3, "viridis"))):
        grid = cells.pivot(index=y, columns=x, values=col) * scale
        im = ax.imshow(grid.to_numpy(), aspect="auto", cmap=cmap, origin="lower")
        ax.set(xticks=range(grid.shape[1]), xticklabels=[f"{v:g}" if isinstance(v, float)
                                                         else str(v) for v in grid.columns],
               yticks=range(grid.shape[0]), yticklabels=[f"{v:g}" if isinstance(v, float)
                                                         else str(v) for v in grid.index],
               xlabel=x, ylabel=y)
        for (i, j), v in np.ndenumerate(grid.to_numpy()):
            ax.text(j, i, f"{v:.1f}" if scale == 100 else f"{v:,.0f}", ha="center",
                    va="center", fontsize=7, color="white" if v < np.nanmean(grid) else "black")
        fig.colorbar(im, ax=ax, label=label)
    worst = cells.loc[cells.npv_profit.idxmin()]
    best = cells.loc[cells.npv_profit.idxmax()]
    set_title(fig, f"NPV of profit is highest at {x}={best[x]}, {y}={best[y]} and lowest "
                   f"at {x}={worst[x]}, {y}={worst[y]}")
    return save(fig, out, "heatmaps")


def hold_distributions(holds: dict[str, pd.DataFrame], promises: dict[str, float | None],
                       out: Path) -> list[Path]:
    """Share of held calls waiting longer than t, pooled over seeds, per scenario; a dashed
    line at each fixed promise. ``holds[scenario]``: columns minutes, calls."""
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for k, (name, h) in enumerate(holds.items()):
        h = h.groupby("minutes")["calls"].sum().sort_index()
        total = h.sum()
        survival = 1 - h.cumsum() / total  # P(hold > minute)
        ax.step(h.index / 60, 100 * survival, where="post", label=name, linewidth=1.2,
                **style(k))
        promise = promises.get(name)
        if promise is not None:
            ax.axvline(promise / 60, linewidth=0.8, **{**style(k), "linestyle": "--"})
    ax.set(xlabel="time on hold (hours)", ylabel="held calls waiting longer (%)",
           yscale="log")
    set_title(ax, hold_finding(holds, promises))
    _legend(ax, len(holds))
    return save(fig, out, "hold_distributions")


def hold_finding(holds: dict[str, pd.DataFrame], promises: dict[str, float | None]) -> str:
    """The title of ``hold_distributions``: the scenario whose held calls most often wait
    beyond its fixed promise, or else the one with the longest 90th-percentile hold."""
    beyond = {}
    for name, h in holds.items():
        h = h.groupby("minutes")["calls"].sum().sort_index()
        promise = promises.get(name)
        if promise is not None:
            beyond[name] = (100 * h[h.index > promise].sum() / h.sum(), promise)
    if beyond:
        name = max(beyond, key=lambda n: beyond[n][0])
        text = (f"{name}: {beyond[name][0]:.2g}% of held calls wait beyond the promised "
                 f"{beyond[name][1]:.0f} minutes (dashed)")
    else:
        p90 = {n: float(h.minutes[np.searchsorted(np.cumsum(h.calls), 0.9 * h.calls.sum())])
               for n, h in ((n, h.groupby("minutes", as_index=False)["calls"].sum())
                            for n, h in holds.items())}
        name = max(p90, key=p90.get)
        text = f"Longest holds under {name}: 1 call in 10 waits {p90[name]:.0f} minutes or more"
    return text


def churn_by_reason(means: pd.DataFrame, out: Path) -> list[Path]:
    """Customers lost over the horizon by reason, mean over seeds, per scenario.
    ``means``: index scenario, columns ``churned_<reason>``."""
    fig, ax = plt.subplots(figsize=(7.5, 1.4 + 0.35 * len(means)))
    left = np.zeros(len(means))
    for k, r in enumerate(REASONS):
        ax.barh(means.index, means[f"churned_{r}"], left=left, color=OKABE_ITO[k + 1], label=r)
        left += means[f"churned_{r}"].to_numpy()
    ax.invert_yaxis()
    ax.set(xlabel="customers lost over the horizon (mean over seeds)")
    set_title(ax, churn_finding(means))
    ax.legend(frameon=False, fontsize=7, ncol=len(REASONS), loc="upper center",
              bbox_to_anchor=(0.5, -0.18))  # below the axis label, clear of the bars
    return save(fig, out, "churn_by_reason")


def churn_finding(means: pd.DataFrame) -> str:
    """The title of ``churn_by_reason``: the scenario that loses the most, and its main
    reason."""
    top = means.sum(axis=1).idxmax()
    reason = means.loc[top].idxmax().removeprefix("churned_")
    return f"{top} loses the most customers ({means.loc[top].sum():,.0f}), mostly for {reason}"


def journey_timeline(events: pd.DataFrame, story: str, out: Path) -> list[Path]:
    """The events of a few sampled customers of one run on a time line, the story's
    customer first. ``events``: columns label (one per customer, in order), day, event."""
    labels = list(dict.fromkeys(events.label))
    kinds = list(dict.fromkeys(events.event))
    fig, ax = plt.subplots(figsize=(8, 1.4 + 0.45 * len(labels)))
    markers = "os^vD<>phP*X"
    for k, kind in enumerate(kinds):
        e = events[events.event == kind]
        ax.scatter(e.day / 365, e.label.map(labels.index), label=kind, s=28,
                   marker="X" if kind == "churned" else markers[k % len(markers)],
                   color=OKABE_ITO[k % len(OKABE_ITO)], zorder=3)
    ax.set(yticks=range(len(labels)), yticklabels=labels, xlabel="time (years)")
    ax.invert_yaxis()
    ax.grid(axis="y", color="0.9")
    set_title(ax, story)
    ax.legend(frameon=False, fontsize=7, ncol=min(len(kinds), 5), loc="upper center",
              bbox_to_anchor=(0.5, -0.25 if len(labels) > 3 else -0.45))
    return save(fig, out, "journey_timeline")
